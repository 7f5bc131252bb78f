"""Summary metrics: pure functions of :class:`Results` (no IO)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from .model.backhaul import BH_NAMES
from .results import Results

__all__ = ["days_to_share", "mean_new_villages_per_day", "summarise"]

MILESTONES = (0.25, 0.5, 0.75)


def days_to_share(results: Results, share: float) -> int | None:
    """First day (0-based) at whose end coverage reaches *share* of the population, or None."""
    hit = np.flatnonzero(results.daily["coverage_share"] >= share)
    return int(hit[0]) if len(hit) else None


def mean_new_villages_per_day(
    results: Results, first_day: int = 0, last_day: int | None = None
) -> float:
    """Mean of ``new_villages_covered`` over days first_day..last_day (inclusive)."""
    series = results.daily["new_villages_covered"]
    last = len(series) - 1 if last_day is None else last_day
    window = series[first_day : last + 1]
    return float(window.mean()) if len(window) else 0.0


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def summarise(results: Results) -> dict[str, Any]:
    """Totals at the horizon, rates, milestones and per-operator figures (JSON-ready)."""
    d = results.daily
    sc = results.scenario
    sites = results.sites
    people_reached = int(d["people_covered"][-1]) - results.initial_people_covered
    capex = float(d["capex_cumulative_usd"][-1])
    milestones: dict[str, Any] = {}
    for share in MILESTONES:
        day = days_to_share(results, share)
        milestones[f"{int(share * 100)}pct"] = {
            "day": day,
            "date": None if day is None else (sc.start_date + timedelta(days=day)).isoformat(),
        }
    operators = []
    for i, name in enumerate(results.operators):
        mine = sites.operator == i
        rows = results.ledger.operator == i
        on_air = mine & np.isfinite(sites.on_air_day)
        operators.append(
            {
                "name": name,
                "build_crews": results.crews[i],
                "sites_claimed": int(mine.sum()),
                "sites_built": int((mine & np.isfinite(sites.built_day)).sum()),
                "sites_on_air": int(on_air.sum()),
                "upgrades_on_air": int((on_air & sites.upgrade).sum()),
                "backhaul_on_air": {
                    BH_NAMES[k]: int((on_air & (sites.backhaul == k)).sum())
                    for k in range(1, len(BH_NAMES))
                },
                "people_newly_covered": int(sites.people_new[mine].sum()),
                "capex_usd": _r(
                    -results.ledger.amount[rows & (results.ledger.category == "capex")].sum()
                ),
                "cash_end_usd": _r(results.ledger.amount[rows].sum()),
            }
        )
    return {
        "scenario": sc.name,
        "seed": sc.seed,
        "start_date": sc.start_date.isoformat(),
        "end_date": sc.end_date.isoformat() if sc.end_date else None,
        "horizon_days": results.horizon_days,
        "villages": len(results.world),
        "population": results.total_population,
        "initial": {
            "villages_covered": results.initial_villages_covered,
            "people_covered": results.initial_people_covered,
        },
        "final": {
            "sites_built": int(d["sites_built"][-1]),
            "sites_on_air": int(d["sites_on_air"][-1]),
            "villages_covered": int(d["villages_covered"][-1]),
            "people_covered": int(d["people_covered"][-1]),
            "coverage_share": _r(d["coverage_share"][-1], 6),
            "capex_cumulative_usd": _r(capex),
            "cash_usd": _r(d["cash_usd"][-1]),
        },
        "people_reached": people_reached,
        "mean_new_villages_per_day": _r(mean_new_villages_per_day(results), 4),
        "capex_per_person_reached_usd": _r(capex / people_reached) if people_reached else None,
        "days_to_coverage": milestones,
        "operators": operators,
    }
