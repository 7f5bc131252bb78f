"""One replication as a self-contained task: what executors ship to workers and get back.

A task carries the scenario as JSON (so it pickles small and the same way everywhere), the
policy, and the replication index; the worker rebuilds the scenario, reuses its cached world
(built once per scenario and process, never per task) and returns a compact record: the
replication's metrics, a few daily series, and its cost (wall time, peak memory).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..engine import simulate
from ..scenario.load import parse_scenario
from ..scenario.schema import Scenario
from ..world.build import World, build_world, world_key
from .replications import KEPT_SERIES, ReplicationSet, replication_metrics

__all__ = ["RunRecord", "Task", "assemble", "remember_world", "run_task", "scenario_payload"]

FloatArray = NDArray[np.float64]

# Per-process caches: the same scenario and world serve every task a worker runs.
_SCENARIOS: dict[str, Scenario] = {}
_WORLDS: dict[str, World] = {}


def scenario_payload(scenario: Scenario) -> str:
    """The scenario as canonical JSON (what a task carries)."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Task:
    """Replication *rep* of the scenario (as JSON) under *policy*; *point* labels sweeps."""

    scenario_json: str
    policy: str | None
    rep: int
    point: int = 0

    @property
    def key(self) -> str:
        """Stable id: scenario hash + design point + policy + replication."""
        h = hashlib.sha256(self.scenario_json.encode()).hexdigest()[:16]
        return f"{h}-p{self.point}-{self.policy or 'none'}-r{self.rep}"


@dataclass
class RunRecord:
    point: int
    policy: str | None
    rep: int
    metrics: dict[str, float]
    series: dict[str, FloatArray]
    wall_seconds: float
    peak_rss_mb: float


def _scenario(payload: str) -> Scenario:
    key = hashlib.sha256(payload.encode()).hexdigest()
    if key not in _SCENARIOS:
        _SCENARIOS[key] = parse_scenario(json.loads(payload), source="task")
    return _SCENARIOS[key]


def remember_world(world: World) -> None:
    """Let tasks in this process (and workers forked from it) use an already built world."""
    _WORLDS[world.key] = world


def _world(scenario: Scenario) -> World:
    key = world_key(scenario)
    if key not in _WORLDS:
        if len(_WORLDS) >= 4:  # a sweep over geography builds several; keep memory bounded
            _WORLDS.pop(next(iter(_WORLDS)))
        _WORLDS[key] = build_world(scenario)
    return _WORLDS[key]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_task(task: Task) -> RunRecord:
    """Run one replication (in whatever process this is) and return its record."""
    started = time.perf_counter()
    scenario = _scenario(task.scenario_json)
    world = _world(scenario)
    # Replication k of seed s is SeedSequence(s).spawn(n)[k], whatever n: SeedSequence(s, (k,)).
    seed = np.random.SeedSequence(entropy=scenario.seed, spawn_key=(task.rep,))
    r = simulate(scenario, seed, world=world, policy=task.policy)
    return RunRecord(
        point=task.point,
        policy=task.policy,
        rep=task.rep,
        metrics=replication_metrics(r),
        series={name: r.daily[name] for name in KEPT_SERIES},
        wall_seconds=time.perf_counter() - started,
        peak_rss_mb=peak_rss_mb(),
    )


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
