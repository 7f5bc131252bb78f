"""The assumptions table: every parameter of the resolved scenario, with a note that explains
it.

A note is the comment the user wrote beside the key in the scenario file
(``scenario.source.yaml``, a verbatim copy kept by ``run``; see
:mod:`rollout_sim.scenario.comments`) and, where there is none, the field's description in the
JSON Schema (:class:`~rollout_sim.scenario.describe.SchemaDescriber`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

from ...fileio import JsonObject
from ...scenario.comments import SourceComments
from ...scenario.describe import SchemaDescriber
from ...scenario.paths import PathKey, format_path
from ..view import Assumption, AssumptionGroup

__all__ = ["assumptions", "flatten", "scenario_value"]

#: Scalar lists longer than this are shown abbreviated (e.g. a siting list of village ids).
_LIST_ABBREVIATE = 12
_LIST_SHOWN = 6


def flatten(value: Any, prefix: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Leaves of a scenario: scalars, and lists of scalars as one value."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from flatten(sub, (*prefix, str(key)))
    elif isinstance(value, list) and any(isinstance(x, dict | list) for x in value):
        for i, sub in enumerate(value):
            yield from flatten(sub, (*prefix, i))
    else:
        yield prefix, value


def scenario_value(v: Any) -> str:
    """A scenario value as the assumptions table shows it (long lists abbreviated)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if float(v).is_integer():
            return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:.0f}"
        return repr(v)
    if isinstance(v, list):
        shown = [scenario_value(x) for x in v[: _LIST_SHOWN if len(v) > _LIST_ABBREVIATE else None]]
        if len(v) > _LIST_ABBREVIATE:
            return f"[{', '.join(shown)}, … {len(v) - _LIST_SHOWN} more] ({len(v)} items)"
        return f"[{', '.join(shown)}]"
    if isinstance(v, dict):
        return "{}" if not v else str(v)
    return str(v).strip()


def assumptions(
    scenario: JsonObject, source: SourceComments | None, describer: SchemaDescriber
) -> list[AssumptionGroup]:
    """The rows of the resolved *scenario*, grouped by top-level key, each with its note: the
    comment of *source* (the scenario file), else the schema's description."""
    groups: dict[str, list[Assumption]] = {}
    for path, value in flatten(scenario):
        if not path:
            continue
        if path == ("horizon_years",) and value is None and scenario.get("end_date"):
            continue  # resolved into end_date (a null beside the file's comment would puzzle)
        note = source.lookup(path) if source is not None else None
        if not note and path == ("end_date",) and source is not None:
            given = source.lookup(("horizon_years",))  # the horizon the file gave in years
            note = f"from horizon_years: {given}" if given else None
        origin: Literal["file", "schema", "none"] = "file"
        if not note:
            note = describer.describe(path, scenario)
            origin = "schema" if note else "none"
        row = Assumption(format_path(path), scenario_value(value), note or "", origin)
        # Top-level scalars (name, seed, dates) share one group rather than one each.
        group = str(path[0]) if len(path) > 1 else "scenario"
        groups.setdefault(group, []).append(row)
    return [AssumptionGroup(name, tuple(rows)) for name, rows in groups.items()]
