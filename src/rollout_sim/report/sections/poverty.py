"""The poverty section (id ``impact``): a run's welfare and poverty figures by parameter set,
and the estimates of replications and comparisons by policy (docs/impact.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...outcomes import format_long, long_unit_of, show_long, title_of
from ...summaries import ComparisonSummary, ReplicationsSummary, RunSummary, Spread
from ..folder import Summary
from ..view import Cell, Table, table

__all__ = ["impact_on", "run_impact_table", "sets_impact_table"]

#: A run's figures (``summary.json``'s ``impact``), in the order the table shows them.
_RUN_ROWS = (
    "people_out_of_poverty_at_horizon",
    "people_out_of_extreme_poverty_at_horizon",
    "people_out_of_poverty_person_years",
    "people_out_of_extreme_poverty_person_years",
    "added_consumption_usd_per_day_at_horizon",
    "added_consumption_usd_total",
    "people_out_of_poverty_per_million_public_usd",
)
#: What replications estimate, each as ``people_out_of_<what>_<set>``.
_SET_WHATS = ("poverty", "extreme_poverty", "poverty_per_million_public_usd")

_CAPTION = (
    "Low, central and high: the three parameter sets of docs/impact.md (studies from Nigeria, "
    "Tanzania and Senegal, applied with the places' poverty rates). Only villages that gained "
    "coverage count, and only while in service."
)


def impact_on(scenario: Mapping[str, Any], summary: Summary | None) -> bool:
    """Whether the folder has poverty estimates: the scenario turned them on, or it holds
    them (a run's ``impact``, replications' ``people_out_of_poverty_*`` metrics)."""
    if isinstance(summary, RunSummary) and summary.impact is not None:
        return True
    names: list[str] = []
    if isinstance(summary, ReplicationsSummary):
        names = list(summary.metrics)
    elif isinstance(summary, ComparisonSummary):
        names = [n for metrics in summary.metrics.values() for n in metrics]
    found = any(n.startswith("people_out_of_poverty") for n in names)
    return bool((scenario.get("impact") or {}).get("enabled")) or found


def run_impact_table(impact: Mapping[str, Mapping[str, float | None]]) -> Table:
    """summary.json's ``impact``: one row per measure, one column per parameter set."""
    sets = list(impact)
    extra = sorted({k for n in sets for k in impact[n] if k not in _RUN_ROWS})
    rows: list[list[str | Cell]] = [
        [title_of(key), *(Cell(show_long(key, impact[n].get(key)), num=True) for n in sets)]
        for key in _RUN_ROWS
        if any(key in impact[n] for n in sets)
    ]
    rows += [
        [
            k.replace("_", " "),
            *(Cell(format_long(impact[n].get(k), "number"), num=True) for n in sets),
        ]
        for k in extra
    ]
    return table(["Measure", *(Cell(n, num=True) for n in sets)], rows, caption=_CAPTION)


def sets_impact_table(by_policy: Mapping[str, Mapping[str, Spread]]) -> Table | None:
    """Replications' impact metrics: one row per policy, the central estimate with the mean
    low and high estimates below it."""
    whats = [
        w for w in _SET_WHATS if any(f"people_out_of_{w}_central" in m for m in by_policy.values())
    ]
    if not whats:
        return None
    rows: list[list[str | Cell]] = []
    for policy, metrics in by_policy.items():
        cells = []
        for w in whats:
            unit = long_unit_of(f"people_out_of_{w}_central")
            central, low, high = (
                spread.mean if (spread := metrics.get(f"people_out_of_{w}_{k}")) else None
                for k in ("central", "low", "high")
            )
            sub = ""
            if low is not None and high is not None:
                sub = f"{format_long(low, unit)} – {format_long(high, unit)}"
            cells.append(Cell(format_long(central, unit), num=True, sub=sub))
        rows.append([policy, *cells])
    return table(
        ["Policy", *(Cell(title_of(f"people_out_of_{w}"), num=True) for w in whats)],
        rows,
        caption="At the horizon, mean across replications of the central estimate; below "
        "it, the means of the low and high estimates. " + _CAPTION,
    )
