"""Calibrate scenario parameters to observed rates or series.

Each evaluation runs the same replications (same seeds: common random numbers), so the
objective is a deterministic function of the parameters and a bisection or simplex search
behaves. One parameter against one window target uses bisection (the rate must move one way
with the parameter, e.g. build crews → villages a day); anything else uses Nelder–Mead on the
parameters scaled to [0, 1] within their bounds, minimising the sum of squared relative errors.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ..errors import InputError, ScenarioError
from ..results import Results
from ..scenario.calibration import Calibration, SeriesTarget, WindowTarget
from ..scenario.load import apply_override, parse_scenario
from ..scenario.schema import Scenario
from ..world.build import World, build_world
from .replications import run_replications

__all__ = ["CalibrationResult", "Evaluation", "calibrate", "check_calibration", "read_observed"]

FloatArray = NDArray[np.float64]


@dataclass
class Evaluation:
    """One evaluation: parameter values, each target's simulated value(s) and the objective."""

    params: dict[str, float]
    simulated: list[float | list[float]]
    errors: list[float]  # simulated − target (window) or RMS error (series)
    objective: float
    ok: bool  # every window target within its tolerance
    series: dict[str, FloatArray] = field(default_factory=dict, repr=False)


@dataclass
class CalibrationResult:
    scenario: Scenario
    calibrated: Scenario
    spec: Calibration
    method: str
    initial: Evaluation
    best: Evaluation
    evaluations: list[Evaluation]
    observed: dict[int, tuple[list[date], FloatArray]]
    converged: bool
    message: str


def read_observed(path: str, where: str) -> tuple[list[date], FloatArray]:
    """Read a CSV of date,value rows (extra columns and ``#`` comment lines ignored), dates
    strictly increasing; errors name the file, the line and column, the value and what is
    expected."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ScenarioError("observed series file not found", source=path, where=where) from None
    except IsADirectoryError:
        raise ScenarioError(
            "is a directory, expected a CSV file", source=path, where=where
        ) from None
    except OSError as exc:
        raise ScenarioError(
            f"cannot read observed series ({exc.strerror})", source=path, where=where
        ) from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise ScenarioError(
            f"cannot read observed series ({exc})", source=path, where=where
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (bad byte at offset {exc.start})", source=path
        ) from None
    # Blank out comment lines rather than dropping them, so line numbers stay the file's own.
    kept = "".join(
        "\n" if line.lstrip().startswith("#") else line for line in text.splitlines(keepends=True)
    )
    reader = csv.reader(io.StringIO(kept, newline=""))
    dates: list[date] = []
    values: list[float] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [h.strip() for h in row]
                if not {"date", "value"} <= set(header):
                    raise ScenarioError(
                        "expected columns date,value (more columns are ignored)",
                        source=path,
                        where=where,
                        value=",".join(header),
                    )
                col_date, col_value = header.index("date"), header.index("value")
                continue
            line = f"line {reader.line_num}"
            cell_d = row[col_date].strip() if col_date < len(row) else ""
            cell_v = row[col_value].strip() if col_value < len(row) else ""
            try:
                d = date.fromisoformat(cell_d)
            except ValueError:
                raise ScenarioError(
                    "expected an ISO date (YYYY-MM-DD)",
                    source=path,
                    where=f"{line}, column date",
                    value=cell_d,
                ) from None
            try:
                v = float(cell_v)
            except ValueError:
                raise ScenarioError(
                    "expected a number", source=path, where=f"{line}, column value", value=cell_v
                ) from None
            if not math.isfinite(v):
                raise ScenarioError(
                    "value must be finite", source=path, where=f"{line}, column value", value=cell_v
                )
            if dates and d <= dates[-1]:
                raise ScenarioError(
                    f"dates must be in increasing order (the row before is {dates[-1]})",
                    source=path,
                    where=f"{line}, column date",
                    value=cell_d,
                )
            dates.append(d)
            values.append(v)
    except csv.Error as exc:
        raise ScenarioError(
            f"not a readable CSV file ({exc})", source=path, where=f"line {reader.line_num}"
        ) from None
    if header is None:
        raise ScenarioError(
            "the file is empty; expected columns date,value", source=path, where=where
        )
    if not dates:
        raise ScenarioError("no rows; expected date,value rows", source=path, where=where)
    return dates, np.array(values, dtype=np.float64)


def _get(data: Any, path: str) -> Any:
    node = data
    for part in path.replace("[", ".").replace("]", "").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def with_params(scenario: Scenario, params: dict[str, float], integer: set[str]) -> Scenario:
    """A copy of *scenario* with the parameter values set (validated again)."""
    data = scenario.model_dump(mode="json")
    for path, value in params.items():
        text = str(round(value)) if path in integer else repr(float(value))
        apply_override(data, f"{path}={text}")
    return parse_scenario(data, source="calibration")


class _Evaluator:
    def __init__(
        self,
        scenario: Scenario,
        spec: Calibration,
        world: World | None,
        on_eval: Callable[[Evaluation], Any] | None,
    ) -> None:
        self.scenario = scenario
        self.spec = spec
        self.world = world
        self.on_eval = on_eval
        self.integer = {p.path for p in spec.parameters if p.integer}
        self.cache: dict[tuple[float, ...], Evaluation] = {}
        self.trace: list[Evaluation] = []
        self.observed: dict[int, tuple[list[date], FloatArray]] = {}
        h = scenario.horizon_days
        start = scenario.start_date
        self.windows: dict[int, tuple[int, int]] = {}
        self.obs_days: dict[int, NDArray[np.int64]] = {}
        for i, t in enumerate(spec.targets):
            where = f"calibration.targets[{i}]"
            if isinstance(t, WindowTarget):
                a, b = (t.start - start).days, (t.end - start).days
                if a < 0 or b >= h:
                    raise ScenarioError(
                        f"window {t.start}..{t.end} is outside the simulated days "
                        f"{start}..{scenario.end_date}",
                        where=where,
                    )
                self.windows[i] = (a, b)
            else:
                dates, values = read_observed(t.file, where)
                days = np.array([(d - start).days for d in dates], dtype=np.int64)
                if days.min() < 0 or days.max() >= h:
                    raise ScenarioError(
                        f"observed dates {dates[0]}..{dates[-1]} fall outside the simulated "
                        f"days {start}..{scenario.end_date}",
                        source=t.file,
                        where=where,
                    )
                self.observed[i] = (dates, values)
                self.obs_days[i] = days
        for p in spec.parameters:
            try:
                _get(scenario.model_dump(mode="json"), p.path)
            except (KeyError, IndexError, ValueError, TypeError):
                raise ScenarioError(
                    "no such key in the scenario", where="calibration.parameters", value=p.path
                ) from None

    def initial_params(self) -> dict[str, float]:
        data = self.scenario.model_dump(mode="json")
        out = {}
        for p in self.spec.parameters:
            v = float(_get(data, p.path))
            out[p.path] = min(max(v, p.bounds[0]), p.bounds[1])
        return out

    def __call__(self, params: dict[str, float]) -> Evaluation:
        key = tuple(
            float(round(params[p.path])) if p.integer else round(params[p.path], 9)
            for p in self.spec.parameters
        )
        if key in self.cache:
            return self.cache[key]
        clean = dict(zip([p.path for p in self.spec.parameters], key, strict=True))
        try:
            sc = with_params(self.scenario, clean, self.integer)
        except InputError as exc:
            raise ScenarioError(
                f"parameter values {clean} make an invalid scenario: {exc.message}",
                where="calibration.parameters",
            ) from None
        metrics = {t.metric for t in self.spec.targets}
        sums: dict[str, FloatArray] = {}

        def collect(_k: int, r: Results) -> None:
            for m in metrics:
                sums[m] = sums.get(m, 0.0) + r.daily[m]

        run_replications(sc, self.spec.replications, world=self.world, on_done=collect)
        series = {m: v / self.spec.replications for m, v in sums.items()}
        simulated: list[float | list[float]] = []
        errors: list[float] = []
        objective = 0.0
        ok = True
        for i, t in enumerate(self.spec.targets):
            s = series[t.metric]
            if isinstance(t, WindowTarget):
                a, b = self.windows[i]
                value = float(s[a : b + 1].mean())
                simulated.append(value)
                errors.append(value - t.value)
                objective += ((value - t.value) / max(abs(t.value), 1e-9)) ** 2
                ok &= abs(value - t.value) <= t.tolerance
            else:
                assert isinstance(t, SeriesTarget)
                sim = s[self.obs_days[i]]
                if t.start_level is not None:
                    sim = sim - s[0] + t.start_level
                obs = self.observed[i][1]
                simulated.append([float(x) for x in sim])
                rel = (sim - obs) / np.maximum(np.abs(obs), 1e-9)
                errors.append(float(np.sqrt(np.mean((sim - obs) ** 2))))
                objective += float((rel**2).sum())
        ev = Evaluation(clean, simulated, errors, objective, ok, series)
        self.cache[key] = ev
        self.trace.append(ev)
        if self.on_eval is not None:
            self.on_eval(ev)
        return ev


def check_calibration(scenario: Scenario) -> None:
    """The checks of a calibration: block that need no simulation (windows inside the horizon,
    readable observed series, parameter paths that exist); ScenarioError on the first problem.
    Run by ``validate`` and before ``calibrate`` builds anything."""
    if scenario.calibration is not None:
        _Evaluator(scenario, scenario.calibration, None, None)


def calibrate(
    scenario: Scenario,
    *,
    world: World | None = None,
    on_eval: Callable[[Evaluation], Any] | None = None,
) -> CalibrationResult:
    """Fit the scenario's ``calibration.parameters`` to its ``calibration.targets``."""
    spec = scenario.calibration
    if spec is None:
        raise ScenarioError(
            "the scenario has no calibration: block (targets and parameters to fit)",
            where="calibration",
        )
    if world is None:
        world = build_world(scenario)
    ev = _Evaluator(scenario, spec, world, on_eval)
    initial = ev(ev.initial_params())
    one_window = (
        len(spec.parameters) == 1
        and len(spec.targets) == 1
        and isinstance(spec.targets[0], WindowTarget)
    )
    method = spec.method
    if method == "auto":
        method = "bisection" if one_window else "nelder-mead"
    if method == "bisection" and not one_window:
        raise ScenarioError(
            "bisection fits one parameter to one window target", where="calibration.method"
        )
    if method == "bisection":
        converged, message = _bisect(ev, spec)
    else:
        converged, message = _simplex(ev, spec, initial)
    best = min(ev.trace, key=lambda e: (not e.ok, e.objective))
    if method == "bisection":
        best = min(ev.trace, key=lambda e: abs(e.errors[0]))
        converged = converged or best.ok
    calibrated = with_params(scenario, best.params, ev.integer)
    calibrated.calibration = spec
    return CalibrationResult(
        scenario=scenario,
        calibrated=calibrated,
        spec=spec,
        method=method,
        initial=initial,
        best=best,
        evaluations=ev.trace,
        observed=ev.observed,
        converged=converged,
        message=message,
    )


def _bisect(ev: _Evaluator, spec: Calibration) -> tuple[bool, str]:
    p = spec.parameters[0]
    target = spec.targets[0]
    assert isinstance(target, WindowTarget)
    lo, hi = p.bounds
    if p.integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    f_lo = ev({p.path: lo}).errors[0]
    f_hi = ev({p.path: hi}).errors[0]
    if f_lo == 0 or f_hi == 0:
        return True, "a bound meets the target exactly"
    if (f_lo > 0) == (f_hi > 0):
        side = "above" if f_lo > 0 else "below"
        return False, (
            f"the target is not bracketed: the simulated value is {side} {target.value} at both "
            f"bounds {p.bounds}; widen the bounds"
        )
    rising = f_hi > f_lo
    while len(ev.trace) < spec.max_evaluations:
        if p.integer and hi - lo <= 1:
            return True, "bracketed between neighbouring whole numbers"
        mid = (lo + hi) // 2 if p.integer else (lo + hi) / 2
        e = ev({p.path: mid})
        f = e.errors[0]
        if not p.integer and (
            (e.ok and target.tolerance > 0) or abs(hi - lo) < 1e-6 * (1 + abs(mid))
        ):
            return True, "within tolerance" if e.ok else "interval exhausted"
        if f == 0:
            return True, "met the target exactly"
        if (f > 0) == rising:
            hi = mid
        else:
            lo = mid
    return False, f"stopped after {spec.max_evaluations} evaluations"


def _simplex(ev: _Evaluator, spec: Calibration, initial: Evaluation) -> tuple[bool, str]:
    params = spec.parameters
    lo = np.array([p.bounds[0] for p in params])
    hi = np.array([p.bounds[1] for p in params])
    x0 = (np.array([initial.params[p.path] for p in params]) - lo) / (hi - lo)

    def objective(x: FloatArray) -> float:
        vals = lo + np.clip(x, 0.0, 1.0) * (hi - lo)
        return ev({p.path: float(v) for p, v in zip(params, vals, strict=True)}).objective

    res = minimize(
        objective,
        np.clip(x0, 0.0, 1.0),
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(params),
        options={
            "maxfev": max(spec.max_evaluations - 1, 1),
            "xatol": 1e-3,
            "fatol": 1e-6,
            "initial_simplex": _simplex_start(np.clip(x0, 0.0, 1.0)),
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
