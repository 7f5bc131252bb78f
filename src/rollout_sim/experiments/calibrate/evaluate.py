"""Evaluations: the replications of one set of parameter values, and the objective.

Every evaluation runs replications 0..R−1 of the scenario seed through the common batch runner
(each replication measures the targets in its worker, see :class:`~.targets.TargetMeasure`),
and combines them in replication order: the objective is a deterministic function of the
parameters, whatever runs the replications and in whatever order they finish.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...arrays import FloatArray
from ...errors import InputError, ScenarioError
from ...scenario.calibration import Calibration, FitParameter
from ...scenario.schema import Scenario
from ...world.build import World
from ..runner import Batch
from ..tasks import RunRecord, replication_tasks
from .targets import (
    Observed,
    TargetMeasure,
    TargetPlan,
    calibration_error,
    resolve_targets,
    value_at,
    with_params,
)

__all__ = ["Evaluation", "Evaluator", "StopSearch"]


@dataclass(eq=False)
class Evaluation:
    """One evaluation: parameter values, each target's simulated value(s) and the objective."""

    params: dict[str, float]
    #: Per target: its simulated value (window, point) or values (series), replication means.
    simulated: list[float | list[float]]
    #: Per target: simulated − target (window, point) or the RMS error (series).
    errors: list[float]
    objective: float
    #: Every fitted target that has a tolerance is within it.
    ok: bool
    #: Per target: what the fit plot draws (a daily series; None for start.* metrics).
    series: list[FloatArray | None] = field(default_factory=list, repr=False)
    #: Per target and point: error ÷ scale (what the objective squares and weighs).
    scaled: list[list[float]] = field(default_factory=list)
    #: Per target and point: within its tolerance (None: it has none).
    within: list[list[bool | None]] = field(default_factory=list)


class StopSearch(Exception):
    """Ends a search: the evaluation budget is spent or every target is within tolerance."""


class Evaluator:
    """Evaluates parameter values (each set once: repeats come from a cache), keeps the trace
    of the search and stops it when its budget is spent or, if asked, once within tolerance."""

    def __init__(
        self,
        scenario: Scenario,
        spec: Calibration,
        world: World,
        batch: Batch,
        on_eval: Callable[[Evaluation], object] | None,
    ) -> None:
        self.scenario = scenario
        self.spec = spec
        self.batch = batch
        self.on_eval = on_eval
        self.params = list(spec.parameters)
        self.integer = {p.path for p in self.params if p.integer}
        self.also = {p.path: list(p.also) for p in self.params if p.also}
        plans, observed = resolve_targets(scenario, spec, world.villages.zone_names)
        self.plans: list[TargetPlan] = plans
        self.observed: dict[int, Observed] = observed
        self.measure = TargetMeasure(tuple(plans))
        for p in self.plans:
            if p.metric.kind == "start_share":
                zone = world.villages.zone == p.metric.zone
                if not (world.villages.population[zone].sum() > 0):
                    raise calibration_error(
                        scenario,
                        f"zone {world.villages.zone_names[p.metric.zone]!r} has no people",
                        ("targets", p.index, "metric"),
                        value=p.metric.name,
                    )
        self.cache: dict[tuple[float, ...], Evaluation] = {}
        self.trace: list[Evaluation] = []
        self.budget: int | None = None
        self.stop_when_within = False
        data = scenario.model_dump(mode="json")
        #: The scenario's own values of the parameters (where the search starts).
        self.own = {p.path: float(value_at(data, p.path)) for p in self.params}

    def canonical(self, p: FitParameter, value: float) -> float:
        """The value as it is run and written: within the bounds, whole for integers, else to
        the digits that resolve a millionth of the range (no false precision in the file); the
        scenario's own value (within the bounds) stays as it is."""
        lo, hi = p.bounds
        v = min(max(float(value), lo), hi)
        if v == self.own.get(p.path):  # the scenario's own value is run and written as is
            return v
        if p.integer:
            return float(min(max(round(v), math.ceil(lo)), math.floor(hi)))
        step = (hi - lo) * 1e-6
        digits = min(15, max(1, math.ceil(math.log10(max(abs(v), step) / step)) + 1))
        return min(max(float(f"{v:.{digits}g}"), lo), hi)

    def initial_params(self) -> dict[str, float]:
        return {p.path: self.canonical(p, self.own[p.path]) for p in self.params}

    def scaled_point(self, params: dict[str, float]) -> FloatArray:
        return np.array(
            [(params[p.path] - p.bounds[0]) / (p.bounds[1] - p.bounds[0]) for p in self.params]
        )

    def at(self, x: FloatArray) -> dict[str, float]:
        vals = [
            p.bounds[0] + float(np.clip(u, 0.0, 1.0)) * (p.bounds[1] - p.bounds[0])
            for p, u in zip(self.params, x, strict=True)
        ]
        return {p.path: v for p, v in zip(self.params, vals, strict=True)}

    def __call__(self, params: dict[str, float]) -> Evaluation:
        clean = {p.path: self.canonical(p, params[p.path]) for p in self.params}
        key = tuple(clean[p.path] for p in self.params)
        if key in self.cache:
            return self.cache[key]
        if self.budget is not None and len(self.trace) >= self.budget:
            raise StopSearch(f"stopped after {self.budget} evaluations")
        try:
            sc = with_params(self.scenario, clean, self.integer, self.also)
        except InputError as exc:
            raise ScenarioError(
                f"parameter values {clean} make an invalid scenario: {exc.message}",
                where="calibration.parameters",
            ) from None
        # A parameter of the world (geography, coverage radii, ...) makes another world: the
        # workers build it (once each) for tasks whose scenario needs it.
        tasks = replication_tasks(sc, None, self.spec.replications, measure=self.measure)
        records = self.batch.run(tasks)
        ev = self._combine(clean, [records[t.key] for t in tasks])
        self.cache[key] = ev
        self.trace.append(ev)
        if self.on_eval is not None:
            self.on_eval(ev)
        if self.stop_when_within and ev.ok and self.has_tolerances:
            raise StopSearch("every target is within its tolerance")
        return ev

    @property
    def has_tolerances(self) -> bool:
        return any(p.weight > 0 and any(t is not None for t in p.tolerances) for p in self.plans)

    def _combine(self, params: dict[str, float], reps: list[RunRecord]) -> Evaluation:
        simulated: list[float | list[float]] = []
        errors: list[float] = []
        scaled: list[list[float]] = []
        within: list[list[bool | None]] = []
        shown: list[FloatArray | None] = []
        objective = 0.0
        ok = True
        for i, p in enumerate(self.plans):
            sim = _mean([TargetMeasure.values(rep.values, i) for rep in reps])
            draw = [TargetMeasure.shown(rep.values, i) for rep in reps]
            shown.append(None if draw[0] is None else _mean([d for d in draw if d is not None]))
            target = np.array(p.values)
            err = sim - target
            z = err / np.array(p.scales)
            # A hair of slack: 1 − 0.99 is 0.010000000000000009 in floating point.
            ins: list[bool | None] = [
                None if tol is None else bool(abs(e) <= tol * (1 + 1e-9) + 1e-12)
                for e, tol in zip(err.tolist(), p.tolerances, strict=True)
            ]
            if p.weight > 0:
                terms = p.weight * z**2
                objective += float(terms.sum()) if np.all(np.isfinite(terms)) else math.inf
                ok &= all(w is not False for w in ins)
            if p.kind == "series":
                simulated.append([float(v) for v in sim])
                errors.append(float(np.sqrt(np.mean(err**2))))
            else:
                simulated.append(float(sim[0]))
                errors.append(float(err[0]))
            scaled.append([float(v) for v in z])
            within.append(ins)
        return Evaluation(params, simulated, errors, objective, ok, shown, scaled, within)

    def residuals(self, ev: Evaluation) -> FloatArray:
        """√weight × scaled error of every point of every fitted target."""
        out: list[float] = []
        for p, z in zip(self.plans, ev.scaled, strict=True):
            if p.weight > 0:
                out.extend(math.sqrt(p.weight) * v for v in z)
        return np.array(out, dtype=np.float64)

    def residual_labels(self) -> list[str]:
        out: list[str] = []
        for p in self.plans:
            if p.weight > 0:
                name = p.label or p.metric.name
                out.extend(f"{name} ({d})" if p.points > 1 else name for d in p.dates)
        return out


def _mean(arrays: list[FloatArray]) -> FloatArray:
    """Mean across replications, in replication order; NaN where every replication is NaN."""
    stack = np.vstack(arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        return np.asarray(np.nanmean(stack, axis=0), dtype=np.float64)
