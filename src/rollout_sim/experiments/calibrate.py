"""Calibrate scenario parameters jointly to several targets (see ``docs/calibration.md``).

Each evaluation runs the same replications (same seeds: common random numbers), so the objective
is a deterministic function of the parameters and a bisection or simplex search behaves. The
parameters are searched scaled to [0, 1] within their bounds. The objective is

    Σ over targets and their points of  weight × (error / scale)²

where the error is simulated − target and the scale is the target's tolerance in the metric's
units (an absolute ``tolerance``, or ``rel_tolerance`` × |target|) or, for a target without one,
10% of |target|: every error is counted in tolerances, so targets of different units and sizes
add up fairly and a target at the edge of its tolerance contributes its weight. One parameter
against one window target uses bisection (the rate must move one way with the parameter);
anything else scipy's Nelder–Mead or Powell. After the fit, the scaled errors are differentiated
by each parameter (±5% of its range, the same replications) to find parameters the targets do
not pin down: ones that barely move them, or pairs that move them the same way.

Replications of one evaluation may run on a process pool (``jobs``); each replication's values
are combined in replication order, so the results are identical whatever the number of jobs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ..engine import simulate
from ..errors import InputError, ScenarioError
from ..model.backhaul import BH_FIBRE
from ..results import Results
from ..scenario.calibration import (
    OPERATOR_METRICS,
    START_PLACES,
    START_SHARE_PREFIX,
    Calibration,
    FitParameter,
    PointTarget,
    SeriesTarget,
    WindowTarget,
    daily_metrics,
    is_start_metric,
)
from ..scenario.load import apply_override, blame_source, parse_scenario
from ..scenario.schema import Scenario
from ..world.build import World, build_world, world_key

__all__ = [
    "COLLINEAR_COS",
    "DEFAULT_SCALE",
    "IDENTIFICATION_STEP",
    "INSENSITIVE",
    "CalibrationResult",
    "Evaluation",
    "Identification",
    "MetricRef",
    "calibrate",
    "check_calibration",
    "read_observed",
    "resolve_metric",
    "with_params",
]

FloatArray = NDArray[np.float64]

#: Scale of the error of a target without a tolerance, as a share of its value: such a target
#: counts as if known to ±10%.
DEFAULT_SCALE = 0.1
#: Finite-difference step of the identification check, as a share of each parameter's range.
IDENTIFICATION_STEP = 0.05
#: A parameter whose whole range moves the targets by less than one tolerance in all (the norm
#: of its column of the scaled Jacobian) is not identified: every value within its bounds fits
#: the targets about as well.
INSENSITIVE = 1.0
#: Two parameters whose columns of the scaled Jacobian are this close to parallel move the
#: targets the same way: the targets fit a combination of them, not each.
COLLINEAR_COS = 0.98
#: Trailing days of the mean drawn for window targets (a daily rate is too noisy to read).
SMOOTH_DAYS = 30


# --------------------------------------------------------------------------------------------
# Observed series


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


# --------------------------------------------------------------------------------------------
# Metrics: name -> how to read it from Results


def _step_integral(
    times: FloatArray, values: FloatArray, at: FloatArray, initial: float = 0.0
) -> FloatArray:
    """∫₀ᵗ f for each t in *at*, f a right-continuous step function that is *initial* before
    ``times[0]`` and ``values[j]`` from ``times[j]`` (times sorted, ≥ 0)."""
    at = np.asarray(at, dtype=np.float64)
    if len(times) == 0:
        return initial * at
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    area = np.concatenate([[initial * times[0]], np.diff(times) * values[:-1]])
    cum = np.cumsum(area)  # ∫₀^times[j]
    idx = np.searchsorted(times, at, side="right") - 1
    j = np.maximum(idx, 0)
    after = cum[j] + values[j] * (at - times[j])
    return np.where(idx >= 0, after, initial * at)


@dataclass(frozen=True)
class MetricRef:
    """How to read one metric from :class:`~rollout_sim.results.Results`.

    *kind*: ``daily`` (a column of ``Results.daily``), ``footprint`` (a column of
    ``Results.operator_daily``), ``fibre_share`` and ``availability`` (of one operator's
    sites), ``start_places`` and ``start_share`` (the starting network at day 0)."""

    name: str
    kind: str
    column: str = ""
    operator: int = -1
    operator_name: str = ""
    zone: int = -1

    @property
    def is_start(self) -> bool:
        return self.kind in ("start_places", "start_share")

    def series(self, r: Results) -> FloatArray:
        """The metric at the end of each day (availability: over days 0..d)."""
        if self.kind == "daily":
            return np.asarray(r.daily[self.column], dtype=np.float64)
        if self.kind == "footprint":
            return np.asarray(r.operator_daily[self.operator_name][self.column], dtype=np.float64)
        day_end = np.arange(1, r.horizon_days + 1, dtype=np.float64)
        if self.kind == "fibre_share":
            s = r.sites
            mine = s.operator == self.operator
            built = s.built_day[mine]
            fibre = np.sort(built[s.backhaul[mine] == BH_FIBRE])
            n_all = np.searchsorted(np.sort(built), day_end, side="left")
            n_fibre = np.searchsorted(fibre, day_end, side="left")
            # No site built yet: no share to speak of; 0 keeps the series finite.
            return np.where(n_all > 0, n_fibre / np.maximum(n_all, 1), 0.0)
        if self.kind == "availability":
            served, exposure = self._service_integrals(r, np.concatenate([[0.0], day_end]))
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(exposure[1:] > 0, served[1:] / exposure[1:], np.nan)
        return np.full(r.horizon_days, self.start_value(r))

    def window(self, r: Results, first: int, last: int) -> float:
        """Mean over days first..last (inclusive); availability: the share of the operator's
        site-time in service within them (NaN if none of its sites was on air)."""
        if self.kind == "availability":
            t = np.array([float(first), float(last + 1)])
            served, exposure = self._service_integrals(r, t)
            span = exposure[1] - exposure[0]
            return float((served[1] - served[0]) / span) if span > 0 else math.nan
        return float(self.series(r)[first : last + 1].mean())

    def trailing(self, r: Results, days: int = SMOOTH_DAYS) -> FloatArray:
        """The mean over the *days* days up to each day (fewer at the start), for plots."""
        h = r.horizon_days
        idx = np.arange(1, h + 1)
        lo = np.maximum(idx - days, 0)
        if self.kind == "availability":
            served, exposure = self._service_integrals(r, np.arange(0, h + 1, dtype=np.float64))
            span = exposure[idx] - exposure[lo]
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(span > 0, (served[idx] - served[lo]) / span, np.nan)
        c = np.concatenate([[0.0], np.cumsum(self.series(r))])
        return np.asarray((c[idx] - c[lo]) / (idx - lo), dtype=np.float64)

    def start_value(self, r: Results) -> float:
        """The starting network's value: what day 0 began with (no operator built it)."""
        start = (r.first_covered_day == 0) & (r.first_op == -1)
        if self.kind == "start_places":
            return float(start.sum())
        if self.kind == "start_share":
            v = r.world.villages
            zone = v.zone == self.zone
            people = float(v.population[zone].sum())
            return float(v.population[zone & start].sum()) / people if people > 0 else math.nan
        raise ValueError(f"{self.name} is not a metric of the starting network")

    def _service_integrals(self, r: Results, at: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(∫ sites in service, ∫ sites ever on air) of the operator from 0 to each of *at*."""
        fp = r.footprints[self.operator]
        served = _step_integral(fp.service_time, fp.service, at)
        s = r.sites
        on = np.sort(s.on_air_day[(s.operator == self.operator) & np.isfinite(s.on_air_day)])
        exposure = _step_integral(on, np.arange(1, len(on) + 1, dtype=np.float64), at)
        return served, exposure


def metric_names(operators: Sequence[str], zones: Sequence[str]) -> str:
    """What a scenario's targets may name, for error messages (one line)."""
    daily = ", ".join(daily_metrics())
    return (
        f"a daily series ({daily}), <operator>.<column> with operator one of "
        f"{', '.join(operators)} and column one of {', '.join(OPERATOR_METRICS)}, "
        f"{START_PLACES}, or {START_SHARE_PREFIX}<zone> with zone one of {', '.join(zones)}"
    )


def resolve_metric(name: str, operators: Sequence[str], zones: Sequence[str]) -> MetricRef:
    """The metric *name* of a scenario with these operators and zones; ``ValueError`` (one
    line, listing what is available) if there is no such metric."""
    if name == START_PLACES:
        return MetricRef(name, "start_places")
    if is_start_metric(name):
        zone = name[len(START_SHARE_PREFIX) :]
        if zone in zones:
            return MetricRef(name, "start_share", zone=list(zones).index(zone))
        raise ValueError(f"no zone {zone!r}; the zones are {', '.join(zones)}")
    if name in daily_metrics():
        return MetricRef(name, "daily", column=name)
    # Operator names may contain dots: the longest name that leaves a known column wins.
    for k, op in sorted(enumerate(operators), key=lambda e: -len(e[1])):
        column = name[len(op) + 1 :]
        if name.startswith(op + ".") and column in OPERATOR_METRICS:
            kind = {"fibre_share_of_sites": "fibre_share", "availability": "availability"}
            return MetricRef(name, kind.get(column, "footprint"), column, k, op)
    raise ValueError(f"unknown metric; expected {metric_names(operators, zones)}")


# --------------------------------------------------------------------------------------------
# Targets, resolved against the scenario


@dataclass(frozen=True)
class _Plan:
    """One target resolved: its metric, the days it compares and its values there."""

    index: int
    kind: str  # window_mean | series | point
    metric: MetricRef
    days: tuple[int, ...]  # window: (first, last); series and point: each point's day
    dates: tuple[str, ...]  # per point, as shown in tables (a window: 'first..last')
    values: tuple[float, ...]  # the target value at each point
    tolerances: tuple[float | None, ...]  # absolute, per point (None: no tolerance)
    scales: tuple[float, ...]  # what each point's error is divided by in the objective
    weight: float
    label: str
    start_level: float | None = None

    @property
    def points(self) -> int:
        return len(self.values)


@dataclass
class _RepOut:
    """One replication's simulated values at each target's points, and what plots draw."""

    values: list[FloatArray]
    shown: list[FloatArray | None]


def _measure(r: Results, plans: Sequence[_Plan]) -> _RepOut:
    values: list[FloatArray] = []
    shown: list[FloatArray | None] = []
    for p in plans:
        m = p.metric
        if m.is_start:
            values.append(np.array([m.start_value(r)]))
            shown.append(None)
        elif p.kind == "window_mean":
            values.append(np.array([m.window(r, p.days[0], p.days[1])]))
            shown.append(m.trailing(r))
        else:
            s = m.series(r)
            if p.start_level is not None:
                s = s - s[0] + p.start_level
            values.append(s[np.array(p.days, dtype=np.int64)])
            shown.append(s)
    return _RepOut(values, shown)


def _scales(value: float, tol: float | None) -> float:
    if tol is not None and tol > 0:
        return tol
    return DEFAULT_SCALE * abs(value)


def _tolerance(t: WindowTarget | SeriesTarget | PointTarget, value: float) -> float | None:
    if t.rel_tolerance is not None:
        return t.rel_tolerance * abs(value)
    return t.tolerance


def _fail(
    scenario: Scenario, message: str, path: tuple[str | int, ...], **value: Any
) -> ScenarioError:
    """A one-line error at ``calibration.<path>``, blaming the ``--set`` that made the value if
    one did (else the CLI names the scenario file); *value*: ``value=`` the offending value."""
    where = "calibration" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    blamed = blame_source(scenario, ("calibration", *path), message)
    return ScenarioError(message, source=blamed, where=where, **value)


def _plans(
    scenario: Scenario, spec: Calibration, zones: Sequence[str]
) -> tuple[list[_Plan], dict[int, tuple[list[date], FloatArray]]]:
    """Every target resolved against the scenario (ScenarioError on the first problem)."""
    h = scenario.horizon_days
    start = scenario.start_date
    operators = [op.name for op in scenario.operators]
    span = f"{start}..{scenario.end_date}"
    plans: list[_Plan] = []
    observed: dict[int, tuple[list[date], FloatArray]] = {}
    for i, t in enumerate(spec.targets):
        at: tuple[str | int, ...] = ("targets", i)
        try:
            metric = resolve_metric(t.metric, operators, zones)
        except ValueError as exc:
            raise _fail(scenario, str(exc), (*at, "metric"), value=t.metric) from None
        if metric.is_start and not isinstance(t, PointTarget):
            raise _fail(
                scenario,
                f"{t.metric} is the starting network's value at day 0: use kind: point "
                "without a date",
                at,
            )
        if isinstance(t, WindowTarget):
            a, b = (t.start - start).days, (t.end - start).days
            if a < 0 or b >= h:
                raise _fail(
                    scenario,
                    f"window {t.start}..{t.end} is outside the simulated days {span}",
                    at,
                )
            tol = _tolerance(t, t.value)
            plans.append(
                _Plan(
                    kind="window_mean",
                    days=(a, b),
                    dates=(f"{t.start}..{t.end}",),
                    values=(t.value,),
                    tolerances=(tol,),
                    scales=(_scales(t.value, tol),),
                    index=i,
                    metric=metric,
                    weight=t.weight,
                    label=t.label,
                )
            )
        elif isinstance(t, SeriesTarget):
            dates, values = read_observed(t.file, f"calibration.targets[{i}]")
            days = [(d - start).days for d in dates]
            if min(days) < 0 or max(days) >= h:
                raise ScenarioError(
                    f"observed dates {dates[0]}..{dates[-1]} fall outside the simulated "
                    f"days {span}",
                    source=t.file,
                    where=f"calibration.targets[{i}]",
                )
            tols = [_tolerance(t, float(v)) for v in values]
            if any(v == 0 and not tol for v, tol in zip(values, tols, strict=True)):
                raise ScenarioError(
                    "an observed value of 0 needs an absolute tolerance above 0 in the target",
                    source=t.file,
                    where=f"calibration.targets[{i}]",
                )
            observed[i] = (dates, values)
            plans.append(
                _Plan(
                    kind="series",
                    days=tuple(days),
                    dates=tuple(d.isoformat() for d in dates),
                    values=tuple(float(v) for v in values),
                    tolerances=tuple(tols),
                    scales=tuple(
                        _scales(float(v), tol) for v, tol in zip(values, tols, strict=True)
                    ),
                    start_level=t.start_level,
                    index=i,
                    metric=metric,
                    weight=t.weight,
                    label=t.label,
                )
            )
        else:
            if t.date is None:
                day, shown = 0, "start"
            else:
                day, shown = (t.date - start).days, t.date.isoformat()
                if not 0 <= day < h:
                    raise _fail(scenario, f"date {t.date} is outside the simulated days {span}", at)
            tol = _tolerance(t, t.value)
            plans.append(
                _Plan(
                    kind="point",
                    days=(day,),
                    dates=(shown,),
                    values=(t.value,),
                    tolerances=(tol,),
                    scales=(_scales(t.value, tol),),
                    index=i,
                    metric=metric,
                    weight=t.weight,
                    label=t.label,
                )
            )
    return plans, observed


def _check_parameters(scenario: Scenario, spec: Calibration) -> None:
    data = scenario.model_dump(mode="json")
    seen: set[str] = set()
    for j, p in enumerate(spec.parameters):
        for path in [p.path, *p.also]:
            try:
                value = _get(data, path)
            except (KeyError, IndexError, ValueError, TypeError):
                raise ScenarioError(
                    "no such key in the scenario", where="calibration.parameters", value=path
                ) from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(scenario, "not a number in the scenario", ("parameters", j), value=path)
            if path in seen:
                raise _fail(scenario, "fitted twice", ("parameters", j), value=path)
            seen.add(path)
        if p.integer and math.ceil(p.bounds[0]) > math.floor(p.bounds[1]):
            raise _fail(
                scenario,
                "integer: true but the bounds hold no whole number",
                ("parameters", j, "bounds"),
                value=list(p.bounds),
            )


def _get(data: Any, path: str) -> Any:
    node = data
    for part in path.replace("[", ".").replace("]", "").split("."):
        if isinstance(node, list):
            if part.isdigit():
                node = node[int(part)]
            else:  # a named item, as --set allows (operators.ipt.cash_usd)
                node = next(x for x in node if isinstance(x, dict) and x.get("name") == part)
        else:
            node = node[part]
    return node


def with_params(
    scenario: Scenario,
    params: dict[str, float],
    integer: set[str],
    also: dict[str, list[str]] | None = None,
) -> Scenario:
    """A copy of *scenario* with the parameter values set (validated again); *also* maps a
    parameter's path to the further paths tied to it."""
    data = scenario.model_dump(mode="json")
    for path, value in params.items():
        text = str(round(value)) if path in integer else repr(float(value))
        for each in [path, *(also or {}).get(path, [])]:
            apply_override(data, f"{each}={text}")
    return parse_scenario(data, source="calibration")


def check_calibration(scenario: Scenario, world: World | None = None) -> None:
    """The checks of a calibration: block that need no simulation (metric names, windows and
    dates inside the horizon, readable observed series, parameter paths that exist);
    ScenarioError on the first problem, one line. Run by ``validate`` and before ``calibrate``
    builds anything. Zones are the coverage table's until the *world* is known."""
    spec = scenario.calibration
    if spec is None:
        return
    zones = world.villages.zone_names if world is not None else tuple(scenario.coverage.radius_km)
    _plans(scenario, spec, zones)
    _check_parameters(scenario, spec)
    if spec.method == "bisection" and not _one_window(spec):
        raise ScenarioError(
            "bisection fits one parameter to one window target", where="calibration.method"
        )


def _one_window(spec: Calibration) -> bool:
    return (
        len(spec.parameters) == 1
        and len(spec.targets) == 1
        and isinstance(spec.targets[0], WindowTarget)
    )


# --------------------------------------------------------------------------------------------
# Running the replications of one evaluation


#: Worlds by key in this process (and, forked from it, in pool workers).
_WORLDS: dict[str, World] = {}
_SCENARIOS: dict[str, Scenario] = {}


def _world_for(scenario: Scenario, key: str) -> World:
    if key not in _WORLDS:
        if len(_WORLDS) >= 3:  # parameters of the world make new ones: keep memory bounded
            _WORLDS.pop(next(iter(_WORLDS)))
        _WORLDS[key] = build_world(scenario)
    return _WORLDS[key]


def _replicate(payload: str, key: str, rep: int, plans: tuple[_Plan, ...]) -> _RepOut:
    """Replication *rep* of the scenario given as JSON (what a pool worker receives; run the
    same way in this process, so one job and many give the same numbers)."""
    if payload not in _SCENARIOS:
        _SCENARIOS.clear()  # one evaluation at a time
        _SCENARIOS[payload] = parse_scenario(json.loads(payload), source="calibration")
    scenario = _SCENARIOS[payload]
    # Replication k of seed s is SeedSequence(s).spawn(n)[k], whatever n.
    seed = np.random.SeedSequence(entropy=scenario.seed, spawn_key=(rep,))
    r = simulate(scenario, seed, world=_world_for(scenario, key))
    return _measure(r, plans)


class _Runner:
    """Runs an evaluation's replications here (jobs=1) or on a local process pool."""

    def __init__(self, world: World, jobs: int) -> None:
        self.world = world
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._saved = dict(_WORLDS)
        _WORLDS[world.key] = world  # workers forked later inherit it

    def run(
        self, scenario: Scenario, key: str, reps: int, plans: tuple[_Plan, ...]
    ) -> list[_RepOut]:
        payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
        if self.jobs == 1 or reps == 1:
            return [_replicate(payload, key, k, plans) for k in range(reps)]
        if self._pool is None:
            from .executors import _worker_init

            self._pool = ProcessPoolExecutor(
                max_workers=min(self.jobs, reps),
                initializer=_worker_init,
                initargs=(os.getpid(),),
            )
        futures: list[Future[_RepOut]] = [
            self._pool.submit(_replicate, payload, key, k, plans) for k in range(reps)
        ]
        try:
            return [f.result() for f in futures]  # replication order, whatever finished first
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        _WORLDS.clear()
        _WORLDS.update(self._saved)
        _SCENARIOS.clear()


# --------------------------------------------------------------------------------------------
# Evaluations


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


class _Stop(Exception):
    """Ends a search: the evaluation budget is spent or every target is within tolerance."""


class _Evaluator:
    def __init__(
        self,
        scenario: Scenario,
        spec: Calibration,
        world: World,
        runner: _Runner,
        on_eval: Callable[[Evaluation], Any] | None,
    ) -> None:
        self.scenario = scenario
        self.spec = spec
        self.world = world
        self.runner = runner
        self.on_eval = on_eval
        self.params = list(spec.parameters)
        self.integer = {p.path for p in self.params if p.integer}
        self.also = {p.path: list(p.also) for p in self.params if p.also}
        self.plans, self.observed = _plans(scenario, spec, world.villages.zone_names)
        self.plans_t = tuple(self.plans)
        for p in self.plans:
            if p.metric.kind == "start_share":
                zone = world.villages.zone == p.metric.zone
                if not (world.villages.population[zone].sum() > 0):
                    raise _fail(
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
        self.own = {p.path: float(_get(data, p.path)) for p in self.params}

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
            raise _Stop(f"stopped after {self.budget} evaluations")
        try:
            sc = with_params(self.scenario, clean, self.integer, self.also)
        except InputError as exc:
            raise ScenarioError(
                f"parameter values {clean} make an invalid scenario: {exc.message}",
                where="calibration.parameters",
            ) from None
        # A parameter of the world (geography, coverage radii, ...) needs another world; the key
        # (a hash of what the world depends on, milliseconds) says when.
        wkey = world_key(sc)
        reps = self.runner.run(sc, wkey, self.spec.replications, self.plans_t)
        ev = self._combine(clean, reps)
        self.cache[key] = ev
        self.trace.append(ev)
        if self.on_eval is not None:
            self.on_eval(ev)
        if self.stop_when_within and ev.ok and self.has_tolerances:
            raise _Stop("every target is within its tolerance")
        return ev

    @property
    def has_tolerances(self) -> bool:
        return any(p.weight > 0 and any(t is not None for t in p.tolerances) for p in self.plans)

    def _combine(self, params: dict[str, float], reps: list[_RepOut]) -> Evaluation:
        simulated: list[float | list[float]] = []
        errors: list[float] = []
        scaled: list[list[float]] = []
        within: list[list[bool | None]] = []
        shown: list[FloatArray | None] = []
        objective = 0.0
        ok = True
        for i, p in enumerate(self.plans):
            sim = _mean([rep.values[i] for rep in reps])
            draw = [rep.shown[i] for rep in reps]
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


# --------------------------------------------------------------------------------------------
# Identification


@dataclass
class Identification:
    """How the targets move with each parameter around the fit, and what they cannot tell."""

    step: float
    #: Rows of the Jacobian: the fitted targets' points.
    rows: list[str]
    #: Per parameter: d(√weight × error ÷ scale)/d(parameter ÷ its range) at each row (None:
    #: the step could not move the parameter).
    jacobian: dict[str, list[float] | None]
    #: Per parameter: the norm of its column: how many tolerances in all the targets move
    #: across its whole range (linearised at the fit).
    sensitivity: dict[str, float | None]
    #: Parameters the targets barely move with.
    insensitive: list[str]
    #: Pairs of parameters that move the targets the same way, with |cos| of their columns.
    collinear: list[tuple[str, str, float]]
    warnings: list[str]
    evaluations: list[Evaluation]


def _identify(ev: _Evaluator, best: Evaluation) -> Identification:
    params = ev.params
    x0 = ev.scaled_point(best.params)
    columns: dict[str, FloatArray | None] = {}
    evals: list[Evaluation] = []
    for j, p in enumerate(params):
        h = IDENTIFICATION_STEP
        if p.integer:  # a step must move a whole number at least one
            h = max(h, 1.0 / (p.bounds[1] - p.bounds[0]))
        points: list[tuple[float, FloatArray]] = []
        for sign in (-1.0, 1.0):
            x = x0.copy()
            x[j] = float(np.clip(x0[j] + sign * h, 0.0, 1.0))
            e = ev(ev.at(x)) if x[j] != x0[j] else best
            if e is not best and all(e is not seen for seen in evals):
                evals.append(e)
            points.append((float(ev.scaled_point(e.params)[j]), ev.residuals(e)))
        (u_lo, r_lo), (u_hi, r_hi) = points
        if u_hi == u_lo:
            columns[p.path] = None
        else:
            columns[p.path] = (r_hi - r_lo) / (u_hi - u_lo)
    sensitivity = {k: None if c is None else float(np.linalg.norm(c)) for k, c in columns.items()}
    insensitive = [k for k, s in sensitivity.items() if s is not None and s < INSENSITIVE]
    live = [k for k, s in sensitivity.items() if s is not None and s >= INSENSITIVE]
    collinear: list[tuple[str, str, float]] = []
    for a_i, a in enumerate(live):
        for b in live[a_i + 1 :]:
            ca, cb = columns[a], columns[b]
            assert ca is not None and cb is not None
            cos = abs(float(ca @ cb)) / (float(np.linalg.norm(ca)) * float(np.linalg.norm(cb)))
            if cos > COLLINEAR_COS:
                collinear.append((a, b, cos))
    notes: list[str] = []
    span = {p.path: p.bounds for p in params}
    for k in insensitive:
        lo, hi = span[k]
        notes.append(
            f"{k} is not identified: across its whole range {lo:g}–{hi:g} it moves the targets "
            f"by {sensitivity[k]:.2g} tolerances in all (measured at the fit, ±{_step_text()} of "
            "the range), "
            "so any value in its bounds fits about as well; fix it from other evidence or add a "
            "target it moves"
        )
    for a, b, cos in collinear:
        notes.append(
            f"{a} and {b} are not separately identified: they move the targets the same way "
            f"(|cos| = {cos:.3f}), so only a combination of them is fitted; fix one or add a "
            "target that moves them differently"
        )
    if len(live) >= 3 and not collinear:
        unit = np.column_stack([_unit(columns[k]) for k in live])
        _, sv, vt = np.linalg.svd(unit, full_matrices=False)
        if sv[-1] < math.sqrt(1 - COLLINEAR_COS):
            names = [k for k, c in zip(live, vt[-1], strict=True) if abs(c) > 0.3]
            notes.append(
                f"{', '.join(names)} are not jointly identified: a combination of them barely "
                f"moves the targets (smallest singular value {sv[-1]:.3f}); fix some of them"
            )
    for k, c in columns.items():
        if c is None:
            notes.append(f"{k}: its range is too narrow to measure its effect")
    rows = ev.residual_labels()
    if len(rows) < len(params):
        notes.append(
            f"{len(params)} parameters but {len(rows)} fitted target value(s): at most "
            f"{len(rows)} can be identified"
        )
    better = [e for e in evals if e.objective < best.objective and e.ok >= best.ok]
    if better:
        top = min(better, key=lambda e: e.objective)
        notes.append(
            f"a point {_step_text()} of a range from the fit fits better (objective "
            f"{top.objective:.4g} < {best.objective:.4g}): the search stopped short of the best "
            "fit (a local minimum, or too few evaluations); try another method or starting "
            "point, or raise max_evaluations"
        )
    return Identification(
        step=IDENTIFICATION_STEP,
        rows=rows,
        jacobian={k: None if c is None else [float(v) for v in c] for k, c in columns.items()},
        sensitivity=sensitivity,
        insensitive=insensitive,
        collinear=collinear,
        warnings=notes,
        evaluations=evals,
    )


def _unit(column: FloatArray | None) -> FloatArray:
    assert column is not None
    return column / float(np.linalg.norm(column))


def _step_text() -> str:
    return f"{IDENTIFICATION_STEP:.0%}"


# --------------------------------------------------------------------------------------------
# The calibration


@dataclass
class CalibrationResult:
    scenario: Scenario
    calibrated: Scenario
    spec: Calibration
    method: str
    initial: Evaluation
    best: Evaluation
    #: The search's evaluations, in order (the identification check's are in *identification*).
    evaluations: list[Evaluation]
    observed: dict[int, tuple[list[date], FloatArray]]
    converged: bool
    message: str
    identification: Identification | None = None
    #: Everything the user should know about the fit (bounds hit, parameters not identified).
    warnings: list[str] = field(default_factory=list)
    #: The resolved targets: one per calibration target, in order.
    plans: list[_Plan] = field(default_factory=list, repr=False)
    jobs: int = 1


def calibrate(
    scenario: Scenario,
    *,
    world: World | None = None,
    on_eval: Callable[[Evaluation], Any] | None = None,
    on_check: Callable[[Evaluation], Any] | None = None,
    jobs: int = 1,
) -> CalibrationResult:
    """Fit the scenario's ``calibration.parameters`` to its ``calibration.targets``.

    *on_eval* is called after each evaluation of the search, *on_check* after each of the
    identification check that follows it. *jobs* > 1 runs each evaluation's replications on
    that many worker processes; the result is the same as with one."""
    spec = scenario.calibration
    if spec is None:
        raise ScenarioError(
            "the scenario has no calibration: block (targets and parameters to fit)",
            where="calibration",
        )
    check_calibration(scenario)
    if world is None:
        world = build_world(scenario)
    runner = _Runner(world, jobs)
    try:
        ev = _Evaluator(scenario, spec, world, runner, on_eval)
        return _calibrate(scenario, spec, ev, runner.jobs, on_check)
    finally:
        runner.close()


def _calibrate(
    scenario: Scenario,
    spec: Calibration,
    ev: _Evaluator,
    jobs: int,
    on_check: Callable[[Evaluation], Any] | None,
) -> CalibrationResult:
    initial = ev(ev.initial_params())
    method = spec.method
    if method == "auto":
        method = "bisection" if _one_window(spec) else "nelder-mead"
    ev.budget = spec.max_evaluations
    ev.stop_when_within = spec.stop_when_within
    try:
        if spec.stop_when_within and initial.ok and ev.has_tolerances:
            raise _Stop("every target is within its tolerance")
        if method == "bisection":
            converged, message = _bisect(ev, spec)
        else:
            converged, message = _search(ev, spec, initial, method)
    except _Stop as stop:
        message = str(stop)
        converged = message.startswith("every target")
    ev.budget, ev.stop_when_within = None, False
    trace = list(ev.trace)
    best = min(trace, key=lambda e: (not e.ok, e.objective))
    if method == "bisection":
        best = min(trace, key=lambda e: abs(e.errors[0]))
        converged = converged or best.ok
    notes: list[str] = []
    for p in spec.parameters:
        lo, hi = p.bounds
        if p.integer:
            lo, hi = math.ceil(lo), math.floor(hi)
        for bound, side in ((lo, "lower"), (hi, "upper")):
            if best.params[p.path] == bound and len(trace) > 1:
                notes.append(
                    f"{p.path} ended at its {side} bound {bound:g}: the best fit may lie beyond "
                    "it; widen the bounds if that value is plausible"
                )
    identification = None
    if spec.identification:
        ev.on_eval = on_check
        identification = _identify(ev, best)
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


def _bisect(ev: _Evaluator, spec: Calibration) -> tuple[bool, str]:
    p = spec.parameters[0]
    target = spec.targets[0]
    assert isinstance(target, WindowTarget)
    tolerance = ev.plans[0].tolerances[0] or 0.0
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
    while True:
        if p.integer and hi - lo <= 1:
            return True, "bracketed between neighbouring whole numbers"
        mid = (lo + hi) // 2 if p.integer else (lo + hi) / 2
        e = ev({p.path: mid})
        f = e.errors[0]
        if not p.integer and ((e.ok and tolerance > 0) or abs(hi - lo) < 1e-6 * (1 + abs(mid))):
            return True, "within tolerance" if e.ok else "interval exhausted"
        if f == 0:
            return True, "met the target exactly"
        if (f > 0) == rising:
            hi = mid
        else:
            lo = mid


def _search(
    ev: _Evaluator, spec: Calibration, initial: Evaluation, method: str
) -> tuple[bool, str]:
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
