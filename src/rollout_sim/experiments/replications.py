"""Replications of one scenario under one policy: seeds, per-run metrics, kept series.

Replication k uses ``SeedSequence(scenario.seed).spawn(n)[k]`` whatever the policy, so policy A
and policy B on replication k see the same random draws (common random numbers) and their
differences are paired. Only compact per-run records are kept (a few daily series and a flat
dict of metrics), so hundreds of replications fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine import simulate
from ..model.streams import replication_seeds
from ..outcomes import MILESTONE_SHARES, reduce_run
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
    "places_served",
    "people_served",
)


def replication_metrics(r: Results) -> dict[str, float]:
    """One replication's outcomes as a flat dict of numbers (see :mod:`rollout_sim.outcomes`)."""
    return reduce_run(r)


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
