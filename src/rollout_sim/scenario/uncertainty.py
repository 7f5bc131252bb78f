"""The ``uncertainties:`` block: scenario values that are not known, as distributions.

Each item names a scalar of the scenario by its key path (as ``--set`` writes it:
``operators.0.build_crews``, ``maintenance.failures.mtbf_days.jungle``) and a distribution.
``run --reps`` and ``compare`` draw one value per replication (a Latin hypercube, the same
draws for every policy); ``sensitivity`` asks which of them move the outcomes. The schema
checks the *form* of each item; whether its path exists and its values fit the field's own
bounds is checked against the whole scenario (:func:`~rollout_sim.scenario.bounded.resolve_scalar`).

Normal and log-normal distributions are truncated to the field's bounds (a share stays within
0..1, a count above 0) and, if given, to ``low`` and ``high``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from .types import Bool, NotBool, StrictModel, check_triangular

__all__ = [
    "LogNormalUncertainty",
    "NormalUncertainty",
    "TriangularUncertainty",
    "Uncertainty",
    "UniformUncertainty",
]


#: A value of a scenario field: within ±1e15, as calibration bounds are.
Number = Annotated[float, Field(ge=-1e15, le=1e15), NotBool]
Positive = Annotated[float, Field(gt=0, le=1e15), NotBool]


def _check_order(low: float | None, high: float | None) -> None:
    """The rule of a range, and of truncation bounds where both are given: low < high."""
    if low is not None and high is not None and not low < high:
        raise ValueError("need low < high")


class _Item(StrictModel):
    path: Annotated[str, Field(min_length=1, max_length=300)]
    """Key path of the uncertain scenario value, as for --set (e.g. operators.0.build_crews,
    operators.ipt.revenue.arpu_usd_month)."""

    integer: Bool = False
    """Draw whole numbers (crews, sites); the field may require it."""

    source: Annotated[str, Field(max_length=300)] = ""
    """Where the range comes from: a section of docs/sources.md, or 'assumption' (shown in tables
    and the report)."""


class UniformUncertainty(_Item):
    """Every value between ``low`` and ``high`` equally likely (with ``integer``: every whole
    number from low to high)."""

    distribution: Literal["uniform"]
    low: Number
    """Lowest value."""

    high: Number
    """Highest value (above low)."""

    @model_validator(mode="after")
    def _ordered(self) -> UniformUncertainty:
        _check_order(self.low, self.high)
        return self


class TriangularUncertainty(_Item):
    """Triangular between ``low`` and ``high``, most likely at ``mode``."""

    distribution: Literal["triangular"]
    low: Number
    """Lowest value."""

    mode: Number
    """Most likely value (from low to high)."""

    high: Number
    """Highest value (above low)."""

    @model_validator(mode="after")
    def _ordered(self) -> TriangularUncertainty:
        check_triangular(self.low, self.mode, self.high)
        return self


class _Truncated(_Item):
    low: Number | None = None
    """Truncate below here (besides field bounds)."""

    high: Number | None = None
    """Truncate above here (besides field bounds)."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.low, self.high)
        return self


class NormalUncertainty(_Truncated):
    """Normal of ``mean`` and standard deviation ``sd``, truncated to the field's bounds."""

    distribution: Literal["normal"]
    mean: Number
    """Mean (before truncation)."""

    sd: Positive
    """Standard deviation (before truncation, above 0)."""


class LogNormalUncertainty(_Truncated):
    """Log-normal with this ``median`` and ``sigma`` (the standard deviation of the value's
    logarithm: 0.4 ≈ ×/÷ 1.5 at one sigma), truncated to the field's bounds."""

    distribution: Literal["lognormal"]
    median: Positive
    """Median value (above 0)."""

    sigma: Annotated[float, Field(gt=0, le=10), NotBool]
    """Standard deviation of the value's natural logarithm, above 0 and at most 10."""


Uncertainty = Annotated[
    UniformUncertainty | TriangularUncertainty | NormalUncertainty | LogNormalUncertainty,
    Field(discriminator="distribution"),
]
