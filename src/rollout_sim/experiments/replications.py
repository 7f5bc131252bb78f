"""Replications of one scenario under one policy: seeds, per-run metrics, kept series.

Replication k uses ``SeedSequence(scenario.seed).spawn(n)[k]`` whatever the policy, so policy A
and policy B on replication k see the same random draws (common random numbers) and their
differences are paired. Only compact per-run records are kept (a few daily series and a flat
dict of metrics), so hundreds of replications fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine import simulate
from ..metrics import availability, days_to_share, mean_new_villages_per_day, people_days_lost
from ..model.streams import replication_seeds
from ..results import Results
from ..scenario.schema import Scenario
from ..world.build import World, build_world

__all__ = [
    "KEPT_SERIES",
    "MILESTONE_SHARES",
    "ReplicationSet",
    "replication_metrics",
    "run_replications",
]

FloatArray = NDArray[np.float64]

#: Daily series kept per replication (for fan charts and paired differences over time).
KEPT_SERIES = (
    "people_covered",
    "people_covered_net",
    "villages_covered",
    "new_villages_covered",
    "sites_on_air",
    "sites_down",
    "subscribers",
    "capex_cumulative_usd",
    "cash_usd",
    "debt_usd",
    "public_cost_cumulative_usd",
)

MILESTONE_SHARES = (0.25, 0.5, 0.75)


def year_ends(start: date, horizon_days: int) -> list[tuple[int, int]]:
    """(year, day index) of every 31 December inside the horizon."""
    out = []
    for year in range(start.year, start.year + horizon_days // 365 + 2):
        day = (date(year, 12, 31) - start).days
        if 0 <= day < horizon_days:
            out.append((year, day))
    return out


def replication_metrics(r: Results) -> dict[str, float]:
    """One replication's outcomes as a flat dict of numbers (NaN: not reached / undefined)."""
    d = r.daily
    reached = float(d["people_covered"][-1] - r.initial_people_covered)
    public = float(r.public.amount.sum())
    out: dict[str, float] = {
        "people_covered": float(d["people_covered"][-1]),
        "people_covered_net": float(d["people_covered_net"][-1]),
        "people_reached": reached,
        "villages_covered": float(d["villages_covered"][-1]),
        "sites_on_air": float(d["sites_on_air"][-1]),
    }
    for year, day in year_ends(r.scenario.start_date, r.horizon_days):
        out[f"people_covered_{year}"] = float(d["people_covered"][day])
    for share in MILESTONE_SHARES:
        hit = days_to_share(r, share)
        out[f"days_to_{int(share * 100)}pct"] = np.nan if hit is None else float(hit)
    av = availability(r)
    out.update(
        {
            "mean_new_villages_per_day": mean_new_villages_per_day(r),
            "capex_usd": float(d["capex_cumulative_usd"][-1]),
            "public_cost_usd": round(public, 2),
            "public_cost_per_person_usd": public / reached if reached > 0 else np.nan,
            "availability": np.nan if av is None else av,
            "people_days_lost": people_days_lost(r),
            "defaults": float(sum(1 for _, _, k, _ in r.events if k == "default")),
            "revenue_usd": float(d["revenue_cumulative_usd"][-1]),
            "debt_usd": float(d["debt_usd"][-1]),
            "cash_usd": float(d["cash_usd"][-1]),
        }
    )
    if r.scenario.impact.enabled:
        imp = r.impact_daily
        for name in ("low", "central", "high"):
            lifted = float(imp[f"people_out_of_poverty_{name}"][-1])
            out[f"people_out_of_poverty_{name}"] = lifted
            out[f"people_out_of_extreme_poverty_{name}"] = float(
                imp[f"people_out_of_extreme_poverty_{name}"][-1]
            )
            out[f"people_out_of_poverty_per_million_public_usd_{name}"] = (
                lifted / (public / 1e6) if public > 0 else np.nan
            )
    return out


@dataclass
class ReplicationSet:
    """All replications of one policy: metrics by name (reps,), series by name (reps, T)."""

    scenario: Scenario
    policy: str | None
    seeds: list[tuple[int, ...]]
    metrics: dict[str, FloatArray]
    series: dict[str, FloatArray]
    wall_seconds: list[float] = field(default_factory=list)

    @property
    def reps(self) -> int:
        return len(self.seeds)

    def metric_names(self) -> list[str]:
        return list(self.metrics)


def run_replications(
    scenario: Scenario,
    reps: int,
    *,
    policy: str | None = None,
    world: World | None = None,
    on_done: Callable[[int, Results], Any] | None = None,
) -> ReplicationSet:
    """Run *reps* replications of *scenario* under *policy*, serially, on one shared world.

    *on_done(k, results)* is called after each replication (progress, streaming to disk).
    """
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if world is None:
        world = build_world(scenario)
    seeds = replication_seeds(scenario.seed, reps)
    rows: list[dict[str, float]] = []
    kept: dict[str, list[FloatArray]] = {k: [] for k in KEPT_SERIES}
    walls: list[float] = []
    for k, ss in enumerate(seeds):
        r = simulate(scenario, ss, world=world, policy=policy)
        rows.append(replication_metrics(r))
        for name in KEPT_SERIES:
            kept[name].append(r.daily[name])
        walls.append(r.wall_seconds)
        if on_done is not None:
            on_done(k, r)
    names = list(rows[0])
    return ReplicationSet(
        scenario=scenario,
        policy=policy if policy is not None else scenario.baseline_policy,
        seeds=[tuple(int(x) for x in ss.spawn_key) for ss in seeds],
        metrics={n: np.array([row.get(n, np.nan) for row in rows]) for n in names},
        series={n: np.vstack(v) for n, v in kept.items()},
        wall_seconds=walls,
    )
