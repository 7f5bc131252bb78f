"""One replication as a self-contained task: what executors ship to workers and get back.

A task carries the scenario as JSON (so it pickles small and the same way everywhere), the
policy, the replication index and, optionally, a *measure*: what to read from the full results
in the worker (a calibration's target values) instead of the standard outcomes. The worker
rebuilds the scenario, reuses its cached world (built once per scenario and process, never per
task) and returns a compact record: the replication's metrics and a few daily series, or the
measure's values, and its cost (wall time, peak memory).
"""

from __future__ import annotations

import gc
import hashlib
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np

from ..arrays import FloatArray
from ..engine import simulate
from ..outcomes import reduce_run
from ..results import Results
from ..scenario.load import parse_scenario
from ..scenario.schema import Scenario
from ..world.build import World, build_world, world_key

__all__ = [
    "KEPT_SERIES",
    "Measure",
    "RunRecord",
    "Task",
    "peak_rss_mb",
    "remember_world",
    "replication_seed",
    "replication_tasks",
    "run_task",
    "scenario_payload",
]

_T = TypeVar("_T")

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

# Per-process caches: the same scenario and world serve every task a worker runs. Both are
# bounded: a calibration makes a new scenario per evaluation, and parameters of the world (a
# sweep over geography, a fitted coverage radius) make new worlds.
_SCENARIOS: dict[str, Scenario] = {}
_WORLDS: dict[str, World] = {}
_MAX_SCENARIOS = 16
_MAX_WORLDS = 4


class Measure(Protocol):
    """What a task reads from a replication's full results, in the worker: named arrays.

    It must pickle (it travels with the task) and have a stable ``repr`` (a stored record is
    only reused for the same measure)."""

    def __call__(self, results: Results, /) -> dict[str, FloatArray]: ...


def scenario_payload(scenario: Scenario) -> str:
    """The scenario as canonical JSON (what a task carries)."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def replication_seed(seed: int, rep: int) -> np.random.SeedSequence:
    """The seed of replication *rep* of a scenario seed: the one rule every path follows.

    It is ``SeedSequence(seed).spawn(n)[rep]`` whatever *n*, so replication 0 is the single
    run, and every policy, design point and calibration evaluation sees the same draws on
    replication *rep* (common random numbers)."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(rep,))


@dataclass(frozen=True)
class Task:
    """Replication *rep* of the scenario (as JSON) under *policy*; *point* labels sweeps;
    *measure* (if any) is what the record carries instead of the standard outcomes."""

    scenario_json: str
    policy: str | None
    rep: int
    point: int = 0
    measure: Measure | None = None

    @property
    def key(self) -> str:
        """Stable id: scenario hash + design point + policy + replication."""
        h = hashlib.sha256(self.scenario_json.encode()).hexdigest()[:16]
        return f"{h}-p{self.point}-{self.policy or 'none'}-r{self.rep}"

    @property
    def measure_id(self) -> str:
        """A hash of the measure ('' for none): a stored record must have been made by it."""
        if self.measure is None:
            return ""
        return hashlib.sha256(repr(self.measure).encode()).hexdigest()[:16]


def replication_tasks(
    scenario: Scenario,
    policy: str | None,
    reps: int,
    *,
    point: int = 0,
    measure: Measure | None = None,
) -> list[Task]:
    """Replications 0..reps-1 of *scenario* under *policy*."""
    payload = scenario_payload(scenario)
    return [Task(payload, policy, k, point, measure) for k in range(reps)]


@dataclass
class RunRecord:
    """What a task gives back. *values*: its measure's arrays (then *metrics* and *series* are
    empty)."""

    point: int
    policy: str | None
    rep: int
    metrics: dict[str, float]
    series: dict[str, FloatArray]
    wall_seconds: float
    peak_rss_mb: float
    values: dict[str, FloatArray] = field(default_factory=dict)


def _make_room(cache: dict[str, _T], limit: int) -> None:
    """Make room for one more entry, dropping the oldest."""
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))


def _scenario(payload: str) -> Scenario:
    key = hashlib.sha256(payload.encode()).hexdigest()
    if key not in _SCENARIOS:
        _make_room(_SCENARIOS, _MAX_SCENARIOS)
        _SCENARIOS[key] = parse_scenario(json.loads(payload), source="task")
    return _SCENARIOS[key]


def remember_world(world: World) -> None:
    """Let tasks in this process (and workers forked from it) use an already built world."""
    if world.key not in _WORLDS:
        _make_room(_WORLDS, _MAX_WORLDS)
    _WORLDS[world.key] = world


def _world(scenario: Scenario) -> World:
    key = world_key(scenario)
    if key not in _WORLDS:
        _make_room(_WORLDS, _MAX_WORLDS)
        _WORLDS[key] = build_world(scenario)
    return _WORLDS[key]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


#: Whether :func:`run_task` frees each run's state as soon as its record is taken (a pool
#: worker's setting: see :func:`collect_after_each_run`).
_COLLECT = False


def collect_after_each_run() -> None:
    """In a process that runs replications back to back (a pool worker, called once at its
    start): free each run's state as soon as its record is taken.

    A run's state (SimPy's processes and events, the network, the compiled core and crews) is
    reference cycles, freed only by a full collection, and with its hot paths compiled a run
    allocates too few Python objects for the collector to come soon: a worker then held the
    state of several runs at once (885 MB at its peak in a national comparison). What the
    worker inherited from its parent (the world, the modules) is frozen first, so that a
    collection neither walks it (a few ms, not ~50) nor copies its pages (the parent's memory
    stays shared)."""
    global _COLLECT
    gc.freeze()
    _COLLECT = True


def run_task(task: Task) -> RunRecord:
    """Run one replication (in whatever process this is) and return its record."""
    started = time.perf_counter()
    scenario = _scenario(task.scenario_json)
    world = _world(scenario)
    seed = replication_seed(scenario.seed, task.rep)
    r = simulate(scenario, seed, world=world, policy=task.policy)
    if task.measure is not None:
        metrics: dict[str, float] = {}
        series: dict[str, FloatArray] = {}
        values = task.measure(r)
    else:
        metrics = reduce_run(r)
        series = {name: r.daily[name] for name in KEPT_SERIES}
        values = {}
    if _COLLECT:
        del r
        gc.collect()
    return RunRecord(
        point=task.point,
        policy=task.policy,
        rep=task.rep,
        metrics=metrics,
        series=series,
        wall_seconds=time.perf_counter() - started,
        peak_rss_mb=peak_rss_mb(),
        values=values,
    )
