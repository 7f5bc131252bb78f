"""The search: bisection for one parameter against one window target, else scipy's
Nelder–Mead or Powell on the parameters scaled to [0, 1]; then the identification check."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from ...arrays import FloatArray
from ...scenario.calibration import Calibration, WindowTarget
from ...scenario.schema import Scenario
from ...world.build import World, build_world
from ..executors import make_executor
from ..runner import Batch
from ..tasks import remember_world
from .evaluate import Evaluation, Evaluator, StopSearch
from .identify import identify
from .result import CalibrationResult
from .targets import (
    bisection_target,
    check_calibration,
    is_one_window,
    require_calibration,
    with_params,
)

__all__ = ["calibrate", "evaluation_budget"]


def evaluation_budget(spec: Calibration) -> int:
    """The most evaluations a calibration runs: the search's and the identification check's."""
    return spec.max_evaluations + (2 * len(spec.parameters) if spec.identification else 0)


def calibrate(
    scenario: Scenario,
    *,
    world: World | None = None,
    on_eval: Callable[[Evaluation], object] | None = None,
    on_check: Callable[[Evaluation], object] | None = None,
    jobs: int = 1,
    batch: Batch | None = None,
) -> CalibrationResult:
    """Fit the scenario's ``calibration.parameters`` to its ``calibration.targets``.

    *on_eval* is called after each evaluation of the search, *on_check* after each of the
    identification check that follows it. Each evaluation's replications run through *batch*
    (its executor, and its store to resume from); without one, on *jobs* local processes (one:
    in this process), nothing saved. The result is the same whatever runs them."""
    spec = require_calibration(scenario)
    check_calibration(scenario)
    if world is None:
        world = build_world(scenario)
    remember_world(world)  # for this process and the workers forked from it
    if batch is not None:
        ev = Evaluator(scenario, spec, world, batch, on_eval)
        return _calibrate(scenario, spec, ev, max(1, jobs), on_check)
    executor = make_executor(None, jobs, None, spec.replications)
    try:
        ev = Evaluator(scenario, spec, world, Batch(executor), on_eval)
        return _calibrate(scenario, spec, ev, max(1, jobs), on_check)
    finally:
        executor.close()


def _calibrate(
    scenario: Scenario,
    spec: Calibration,
    ev: Evaluator,
    jobs: int,
    on_check: Callable[[Evaluation], object] | None,
) -> CalibrationResult:
    initial = ev(ev.initial_params())
    method = spec.method
    if method == "auto":
        method = "bisection" if is_one_window(spec) else "nelder-mead"
    ev.budget = spec.max_evaluations
    ev.stop_when_within = spec.stop_when_within
    try:
        if spec.stop_when_within and initial.ok and ev.has_tolerances:
            raise StopSearch("every target is within its tolerance")
        if method == "bisection":
            converged, message = _bisect(ev, spec)
        else:
            converged, message = _search(ev, spec, initial, method)
    except StopSearch as stop:
        message = str(stop)
        converged = message.startswith("every target")
    ev.budget, ev.stop_when_within = None, False
    trace = list(ev.trace)
    best = min(trace, key=lambda e: (not e.ok, e.objective))
    if method == "bisection":
        fitted = bisection_target(spec)
        assert fitted is not None
        best = min(trace, key=lambda e: abs(e.errors[fitted]))
        converged = converged or best.ok
    notes: list[str] = []
    for p in spec.parameters:
        lo, hi = p.bounds
        if p.integer:
            lo, hi = math.ceil(lo), math.floor(hi)
        for bound, side in ((lo, "lower"), (hi, "upper")):
            if best.params[p.path] == bound and len(trace) > 1:
                one = bisection_target(spec)
                if one is not None and _bracketed_inside(trace, best, p.path, one):
                    continue  # the target lies between the bound and its neighbour
                notes.append(
                    f"{p.path} ended at its {side} bound {bound:g}: the best fit may lie beyond "
                    "it; widen the bounds if that value is plausible"
                )
    identification = None
    if spec.identification:
        ev.on_eval = on_check
        identification = identify(ev, best)
        notes.extend(identification.warnings)
    calibrated = with_params(scenario, best.params, ev.integer, ev.also)
    calibrated.calibration = spec
    return CalibrationResult(
        scenario=scenario,
        calibrated=calibrated,
        spec=spec,
        method=method,
        initial=initial,
        best=best,
        evaluations=trace,
        observed=ev.observed,
        converged=converged,
        message=message,
        identification=identification,
        warnings=notes,
        plans=list(ev.plans),
        jobs=jobs,
    )


def _bracketed_inside(trace: list[Evaluation], best: Evaluation, path: str, k: int) -> bool:
    """Whether bisection's *best*, on a bound, has target *k* between it and the nearest
    value tried inside: its error and that value's have opposite signs, so the best fit
    lies within the bounds (between two whole numbers, say), not beyond them."""
    at = best.params[path]
    others = [e for e in trace if e.params[path] != at and math.isfinite(e.errors[k])]
    if not others:
        return False
    near = min(others, key=lambda e: abs(e.params[path] - at))
    return best.errors[k] == 0 or (best.errors[k] > 0) != (near.errors[k] > 0)


def _bisect(ev: Evaluator, spec: Calibration) -> tuple[bool, str]:
    p = spec.parameters[0]
    k = bisection_target(spec)
    assert k is not None
    target = spec.targets[k]
    assert isinstance(target, WindowTarget)
    tolerance = ev.plans[k].tolerances[0] or 0.0
    lo, hi = p.bounds
    if p.integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    f_lo = ev({p.path: lo}).errors[k]
    f_hi = ev({p.path: hi}).errors[k]
    if f_lo == 0 or f_hi == 0:
        return True, "a bound meets the target exactly"
    if (f_lo > 0) == (f_hi > 0):
        side = "above" if f_lo > 0 else "below"
        return False, (
            f"the target is not bracketed: the simulated value is {side} {target.value} at both "
            f"bounds {p.bounds}; widen the bounds"
        )
    rising = f_hi > f_lo
    while True:
        if p.integer and hi - lo <= 1:
            return True, "bracketed between neighbouring whole numbers"
        mid = (lo + hi) // 2 if p.integer else (lo + hi) / 2
        e = ev({p.path: mid})
        f = e.errors[k]
        if not p.integer and ((e.ok and tolerance > 0) or abs(hi - lo) < 1e-6 * (1 + abs(mid))):
            return True, "within tolerance" if e.ok else "interval exhausted"
        if f == 0:
            return True, "met the target exactly"
        if (f > 0) == rising:
            hi = mid
        else:
            lo = mid


def _search(ev: Evaluator, spec: Calibration, initial: Evaluation, method: str) -> tuple[bool, str]:
    """Nelder–Mead or Powell on the parameters scaled to [0, 1]."""
    x0 = np.clip(ev.scaled_point(initial.params), 0.0, 1.0)

    def objective(x: FloatArray) -> float:
        return ev(ev.at(x)).objective

    bounds = [(0.0, 1.0)] * len(x0)
    if method == "powell":
        res = minimize(
            objective,
            x0,
            method="Powell",
            bounds=bounds,
            options={"xtol": 1e-3, "ftol": 1e-6, "maxfev": 10 * spec.max_evaluations},
        )
    else:
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            bounds=bounds,
            options={
                "maxfev": 10 * spec.max_evaluations,
                "xatol": 1e-3,
                "fatol": 1e-6,
                "initial_simplex": _simplex_start(x0),
            },
        )
    return bool(res.success), str(res.message)


def _simplex_start(x0: FloatArray) -> FloatArray:
    """A starting simplex of steps of a quarter of each range (inward from the bounds)."""
    pts = [x0]
    for i in range(len(x0)):
        x = x0.copy()
        x[i] = x[i] + 0.25 if x[i] <= 0.75 else x[i] - 0.25
        pts.append(x)
    return np.array(pts)
