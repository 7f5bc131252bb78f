"""Replications of one scenario under one policy: seeds, per-run metrics, kept series.

Replication k uses ``SeedSequence(scenario.seed).spawn(n)[k]`` whatever the policy
(:func:`~.tasks.replication_seed`), so policy A and policy B on replication k see the same
random draws (common random numbers) and their differences are paired. Only compact per-run
records are kept (a few daily series and a flat dict of metrics), so hundreds of replications
fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..arrays import FloatArray
from ..engine import simulate
from ..outcomes import MILESTONE_SHARES, reduce_run
from ..results import Results
from ..scenario.schema import Scenario
from ..world.build import World, build_world
from .runner import Batch
from .tasks import KEPT_SERIES, RunRecord, remember_world, replication_seed
from .uncertainty import replication_payloads, replication_sample, uncertain_tasks

__all__ = [
    "KEPT_SERIES",
    "MILESTONE_SHARES",
    "ReplicationSet",
    "assemble",
    "replicate",
    "replication_metrics",
    "run_replications",
]


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
    #: The uncertain inputs' values by name (key path), per replication (empty: none drawn).
    inputs: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def reps(self) -> int:
        return len(self.seeds)

    def metric_names(self) -> list[str]:
        return list(self.metrics)


def assemble(scenario: Scenario, policy: str | None, records: list[RunRecord]) -> ReplicationSet:
    """A ReplicationSet from records of one policy (any order; sorted by replication)."""
    recs = sorted(records, key=lambda r: r.rep)
    names: list[str] = []
    for rec in recs:
        for n in rec.metrics:
            if n not in names:
                names.append(n)
    return ReplicationSet(
        scenario=scenario,
        policy=policy if policy is not None else scenario.baseline_policy,
        seeds=[(rec.rep,) for rec in recs],
        metrics={n: np.array([rec.metrics.get(n, np.nan) for rec in recs]) for n in names},
        series={n: np.vstack([rec.series[n] for rec in recs]) for n in KEPT_SERIES},
        wall_seconds=[rec.wall_seconds for rec in recs],
    )


def replicate(
    scenario: Scenario,
    reps: int,
    *,
    policy: str | None = None,
    world: World | None = None,
    batch: Batch | None = None,
) -> ReplicationSet:
    """Replications 0..reps-1 of *scenario* under *policy*, run by *batch* (default: one after
    the other in this process, nothing saved): what ``rollout-sim run --reps`` runs."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if world is not None:
        remember_world(world)
    sample = replication_sample(scenario, reps)  # the uncertainties: one row a replication
    tasks = uncertain_tasks(replication_payloads(scenario, reps, sample), policy)
    records = (batch or Batch()).run(tasks)
    rset = assemble(scenario, policy, [records[t.key] for t in tasks])
    if sample is not None:
        rset.inputs = sample.columns()
    return rset


def run_replications(
    scenario: Scenario,
    reps: int,
    *,
    policy: str | None = None,
    world: World | None = None,
    on_done: Callable[[int, Results], object] | None = None,
) -> ReplicationSet:
    """Run *reps* replications of *scenario* under *policy*, serially, on one shared world,
    handing each one's full results to *on_done(k, results)* (progress, streaming to disk).

    The same seeds and outcomes as :func:`replicate`, for callers that need the full results
    of every replication rather than their records. The scenario's values as written: the
    ``uncertainties:`` block is not drawn here (use :func:`replicate`)."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if world is None:
        world = build_world(scenario)
    rows: list[dict[str, float]] = []
    kept: dict[str, list[FloatArray]] = {k: [] for k in KEPT_SERIES}
    walls: list[float] = []
    for k in range(reps):
        r = simulate(scenario, replication_seed(scenario.seed, k), world=world, policy=policy)
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
        seeds=[(k,) for k in range(reps)],
        metrics={n: np.array([row.get(n, np.nan) for row in rows]) for n in names},
        series={n: np.vstack(v) for n, v in kept.items()},
        wall_seconds=walls,
    )
