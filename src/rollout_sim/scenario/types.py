"""Typed, bounded building blocks shared by every part of the scenario schema.

Every number a scenario gives reaches the model, which divides by it, schedules events after it,
allocates arrays of it or adds it to money: a value the schema accepts must be one the model can
run with. So each kind of quantity has one type here, with bounds chosen to be physically
meaningful (and documented in ``docs/defaults.md``) rather than just "positive":

* money is at most :data:`MAX_USD` (a trillion US$): amounts stay exact to the cent in float64
  sums (beyond about 1e13 US$ the cents of a ledger row are lost to rounding);
* durations that the model schedules or divides by are at least :data:`MIN_DAYS` and at most
  :data:`MAX_DAYS` (the longest horizon);
* distances are at most :data:`MAX_KM` (half the Earth's circumference);
* dates lie within :data:`MIN_DATE` .. :data:`MAX_DATE`, so no date arithmetic overflows.

Whole numbers and booleans are strict: YAML ``true`` is not a count and the text ``"no"`` is
not a boolean (lax pydantic would read them as 1 and True). Floats still take whole numbers and
numeric text, because YAML 1.1 reads ``1e6`` (no decimal point) as text, but not booleans.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import itertools
import sys
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, PydanticUndefined

__all__ = [
    "MAX_COUNT",
    "MAX_DATE",
    "MAX_DAYS",
    "MAX_HORIZON_YEARS",
    "MAX_KM",
    "MAX_POPULATION",
    "MAX_SEED",
    "MAX_START_DATE",
    "MAX_USD",
    "MAX_VILLAGES",
    "MIN_DATE",
    "MIN_DAYS",
    "Bool",
    "Date",
    "Days",
    "Int",
    "Km",
    "NonNegDays",
    "NotBool",
    "PosKm",
    "PosUsd",
    "Share",
    "StartDate",
    "StrictModel",
    "Usd",
    "check_exactly_one",
    "check_triangular",
]

#: Largest amount of money anywhere in a scenario, US$ (a trillion: more than any telecom
#: programme, and small enough that cents survive float64 sums of many such amounts).
MAX_USD: Final = 1e12
#: Longest horizon, years; also caps every duration (:data:`MAX_DAYS`).
MAX_HORIZON_YEARS: Final = 100
#: Longest duration, days: the longest horizon.
MAX_DAYS: Final = 36_525.0
#: Shortest duration the model schedules or divides by, days (about a minute and a half).
MIN_DAYS: Final = 1e-3
#: Longest distance, km: half the Earth's circumference.
MAX_KM: Final = 20_000.0
#: Most villages in a world (ten times Peru's 94,922 places; about 4 GB of memory).
MAX_VILLAGES: Final = 1_000_000
#: Most people in one village (as in village files).
MAX_POPULATION: Final = 1_000_000_000
#: Largest count of crews, regions, places or similar (an upper bound that keeps memory small).
MAX_COUNT: Final = 100_000
#: Largest seed (numpy seeds are any non-negative integer; this keeps them a 64-bit integer).
MAX_SEED: Final = 2**63 - 1
#: Dates the tool handles: wide enough for any history or plan, narrow enough that a start date
#: plus the longest horizon is still a valid date.
MIN_DATE: Final = dt.date(1900, 1, 1)
MAX_START_DATE: Final = dt.date(2200, 12, 31)
MAX_DATE: Final = dt.date(2300, 12, 31)


def _not_bool(value: Any) -> Any:
    # pydantic's float reads True as 1.0: a boolean where a number belongs is a mistake.
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a valid number, not a boolean")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"expected a date from {MIN_DATE} to {MAX_DATE}")
    return value


def _start_in_range(value: dt.date) -> dt.date:
    # A later start would run the longest horizon past the last date the tool handles.
    if not MIN_DATE <= value <= MAX_START_DATE:
        raise ValueError(f"expected a start date from {MIN_DATE} to {MAX_START_DATE}")
    return value


#: A whole number: YAML integers only (not booleans, not 4.0, not "4").
Int = StrictInt
#: true or false: YAML booleans only (not 1, not "no").
Bool = StrictBool
#: Refuses booleans where a number belongs; put it *after* the ``Field`` bounds in an
#: ``Annotated[float, Field(...), NotBool]`` (validators placed before the bounds would turn
#: them into non-standard ``ge``/``le`` keywords of the JSON Schema, which editors ignore).
#: Whole numbers and numeric text are still taken; finiteness comes from
#: :class:`StrictModel`'s ``allow_inf_nan=False``.
NotBool = BeforeValidator(_not_bool)
#: A calendar date within :data:`MIN_DATE` .. :data:`MAX_DATE`.
Date = Annotated[dt.date, AfterValidator(_date_in_range)]
#: The first simulated day: :data:`MIN_DATE` .. :data:`MAX_START_DATE`.
StartDate = Annotated[dt.date, AfterValidator(_start_in_range)]

#: Money, US$: 0 .. :data:`MAX_USD`.
Usd = Annotated[float, Field(ge=0, le=MAX_USD), NotBool]
#: Money that must be positive, US$.
PosUsd = Annotated[float, Field(gt=0, le=MAX_USD), NotBool]
#: A share or probability, 0 .. 1.
Share = Annotated[float, Field(ge=0, le=1), NotBool]
#: A duration the model schedules or divides by: :data:`MIN_DAYS` .. :data:`MAX_DAYS`.
Days = Annotated[float, Field(ge=MIN_DAYS, le=MAX_DAYS), NotBool]
#: A duration that may be zero: 0 .. :data:`MAX_DAYS`.
NonNegDays = Annotated[float, Field(ge=0, le=MAX_DAYS), NotBool]
#: A distance, km: 0 .. :data:`MAX_KM`.
Km = Annotated[float, Field(ge=0, le=MAX_KM), NotBool]
#: A distance that must be positive, km.
PosKm = Annotated[float, Field(gt=0, le=MAX_KM), NotBool]


def check_exactly_one(**given: Any) -> None:
    """Exactly one of the options *given* (by name) is set, i.e. not None."""
    if sum(value is not None for value in given.values()) != 1:
        *first, last = given
        raise ValueError(f"give exactly one of {', '.join(first)} or {last}")


def check_triangular(
    low: float, mode: float, high: float, names: tuple[str, str, str] = ("low", "mode", "high")
) -> None:
    """The rule of every triangular distribution: low <= mode <= high, and low < high (the error
    calls the three by *names*)."""
    if not (low <= mode <= high and low < high):
        lo, mo, hi = names
        raise ValueError(f"need {lo} <= {mo} <= {hi} and {lo} < {hi}")


@functools.cache
def _field_docstrings(path: str) -> dict[str, dict[str, str]]:
    """Field name → the docstring written under it, folded to one line, per class (by qualified
    name) of the module at *path*.

    pydantic's own ``use_attribute_docstrings`` finds the source of each class anew (~2 ms a
    class, a tenth of a second for the scenario's sixty at every start of the command line) and
    keeps the docstrings' line breaks; this reads each module once and folds as it goes.
    """
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}  # no source (a frozen install): fields go without descriptions
    out: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                docs = {
                    field.target.id: " ".join(doc.value.value.split())
                    for field, doc in itertools.pairwise(node.body)
                    if isinstance(field, ast.AnnAssign)
                    and isinstance(field.target, ast.Name)
                    and isinstance(doc, ast.Expr)
                    and isinstance(doc.value, ast.Constant)
                    and isinstance(doc.value.value, str)
                }
                out[prefix + node.name] = docs
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, f"{prefix}{node.name}.<locals>.")

    visit(tree.body, "")
    return out


class StrictModel(BaseModel):
    """Base of every part of the scenario: an unknown key is an error (a misspelt option must
    not be silently ignored), defaults are validated like given values, and NaN or infinity is
    refused everywhere (the model cannot schedule or sum them).

    A field's description (in the JSON Schema, editors, the report and error messages) is the
    docstring written under the field, on one line; an explicit ``Field(description=...)``
    wins.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs before pydantic collects the fields (``__pydantic_init_subclass__`` runs after
        # the schema is built, too late): each documented field's default becomes a Field
        # carrying the description.
        super().__init_subclass__(**kwargs)
        source = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if source is None:
            return
        for name, doc in _field_docstrings(source).get(cls.__qualname__, {}).items():
            current = cls.__dict__.get(name, PydanticUndefined)
            if isinstance(current, FieldInfo):
                if current.description is None:
                    setattr(cls, name, FieldInfo.merge_field_infos(current, description=doc))
            else:
                setattr(cls, name, Field(current, description=doc))
