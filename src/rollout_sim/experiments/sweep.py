"""Parameter sweeps: a design of scenario variants × policies × replications.

A design point is a set of ``key.path=value`` overrides. Grids give every combination of the
listed values; a Latin hypercube (scipy.stats.qmc, seeded from the scenario seed) samples
ranges; both together give every grid combination for every sample.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from scipy.stats import qmc

from ..errors import InputError
from ..scenario.load import apply_override, parse_scenario
from ..scenario.schema import Scenario
from ..world.build import World
from .compare import check_policies, policy_order
from .runner import Batch
from .tasks import RunRecord, Task, remember_world, replication_tasks

__all__ = [
    "MAX_POINTS",
    "Design",
    "build_design",
    "parse_grid",
    "parse_lhs",
    "point_scenarios",
    "run_sweep",
    "sweep_policies",
    "sweep_tasks",
]


#: Most design points a sweep runs (grid combinations × Latin-hypercube samples), as many as
#: ``--reps`` allows: a design is built in memory before anything runs.
MAX_POINTS = 100_000


@dataclass
class Design:
    """Swept key paths and, per point, their values."""

    paths: list[str]
    points: list[dict[str, Any]]


def _value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_grid(spec: str) -> tuple[str, list[Any]]:
    """``key.path=v1,v2,v3`` → (path, [values])."""
    path, sep, values = spec.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise InputError("expected key.path=v1,v2,...", source="--grid", value=spec)
    items = [_value(v.strip()) for v in values.split(",") if v.strip()]
    if not items:
        raise InputError("no values", source="--grid", value=spec)
    return path.strip(), items


def parse_lhs(args: list[str]) -> tuple[int, list[tuple[str, float, float, bool]]]:
    """``N key.path=lo:hi ...`` → (N, [(path, lo, hi, integer)])."""
    if len(args) < 2:
        raise InputError("expected N key.path=lo:hi ...", source="--lhs", value=" ".join(args))
    try:
        n = int(args[0])
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_POINTS:
        raise InputError(
            f"the first value is the number of samples, a whole number from 1 to {MAX_POINTS:,}",
            source="--lhs",
            value=args[0],
        )
    ranges = []
    for spec in args[1:]:
        path, sep, rng = spec.partition("=")
        lo_s, colon, hi_s = rng.partition(":")
        try:
            lo, hi = float(lo_s), float(hi_s)
        except ValueError:
            lo = hi = float("nan")
        if not sep or not colon or not lo < hi:
            raise InputError("expected key.path=lo:hi with lo < hi", source="--lhs", value=spec)
        integer = lo_s.strip().lstrip("-").isdigit() and hi_s.strip().lstrip("-").isdigit()
        ranges.append((path.strip(), lo, hi, integer))
    return n, ranges


def build_design(
    grids: list[tuple[str, list[Any]]],
    lhs: tuple[int, list[tuple[str, float, float, bool]]] | None,
    seed: int,
) -> Design:
    paths = [p for p, _ in grids]
    swept = [*paths, *(p for p, *_ in (lhs[1] if lhs else []))]
    for i, path in enumerate(swept):
        if path in swept[:i]:
            option = "--grid" if i < len(paths) else "--lhs"
            raise InputError(
                "is swept twice (by --grid or --lhs); expected each key path once",
                source=option,
                value=path,
            )
    size = math.prod(len(v) for _, v in grids) * (lhs[0] if lhs else 1)
    if size > MAX_POINTS:
        raise InputError(
            f"the design has {size:,} points; expected at most {MAX_POINTS:,}", source="sweep"
        )
    grid_points: list[dict[str, Any]] = [
        dict(zip(paths, combo, strict=True)) for combo in itertools.product(*[v for _, v in grids])
    ] or [{}]
    if lhs is None:
        return Design(paths, grid_points)
    n, ranges = lhs
    sampler = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(seed))
    unit = sampler.random(n)
    samples = []
    for row in unit:
        point: dict[str, Any] = {}
        for (path, lo, hi, integer), u in zip(ranges, row, strict=True):
            x = lo + float(u) * (hi - lo)
            point[path] = round(x) if integer else round(x, 6)
        samples.append(point)
    lhs_paths = [p for p, *_ in ranges]
    points = [g | s for s in samples for g in grid_points]
    return Design(paths + lhs_paths, points)


def point_scenarios(scenario: Scenario, design: Design) -> list[Scenario]:
    """One validated scenario per design point (bad values are errors naming the point)."""
    out = []
    for i, point in enumerate(design.points):
        data = scenario.model_dump(mode="json")
        for path, value in point.items():
            # JSON is YAML: the override parser reads the value back with its type.
            try:
                apply_override(data, f"{path}={json.dumps(value)}")
            except InputError as exc:  # it would name a --set the user never gave
                exc.source = f"sweep point {i} ({path}={json.dumps(value)})"
                raise
        out.append(parse_scenario(data, source=f"sweep point {i} ({point})"))
    return out


def sweep_policies(
    scenario: Scenario, chosen: Sequence[str] | None, option: str = "policies"
) -> list[str | None]:
    """The policies every point runs under: the chosen ones (default: all) with the baseline
    first, or none for a scenario without policies; one-line errors for an unknown name."""
    check_policies(scenario, chosen or [], option)
    if not scenario.policies:
        return [None]
    return list(policy_order(scenario, chosen)[1])


def sweep_tasks(points: list[Scenario], policies: list[str | None], reps: int) -> list[Task]:
    """Every point × policy × replication 0..reps-1."""
    return [
        t
        for i, sc in enumerate(points)
        for pol in policies
        for t in replication_tasks(sc, pol, reps, point=i)
    ]


def run_sweep(
    tasks: list[Task], *, world: World | None = None, batch: Batch | None = None
) -> list[RunRecord]:
    """The records of a sweep's tasks, in task order, run by *batch* (default: in this
    process, nothing saved); *world* is the first point's, if already built."""
    if world is not None:
        remember_world(world)
    records = (batch or Batch()).run(tasks)
    return [records[t.key] for t in tasks]
