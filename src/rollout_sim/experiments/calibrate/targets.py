"""Calibration targets resolved against the scenario, and the parameters that are fitted.

Each target becomes a :class:`TargetPlan`: its metric, the days it compares, its values there
and the scale its errors are counted in. A :class:`TargetMeasure` of the plans is what every
replication of an evaluation reports (computed in the worker, from the full results): each
target's simulated values at its points and the series its plot draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ...arrays import FloatArray
from ...errors import ScenarioError
from ...results import Results
from ...scenario.calibration import (
    Calibration,
    PointTarget,
    SeriesTarget,
    WindowTarget,
)
from ...scenario.load import apply_override, blame_source, parse_scenario
from ...scenario.schema import Scenario
from ...world.build import World
from .metrics import MetricRef, resolve_metric
from .observed import read_observed

__all__ = [
    "DEFAULT_SCALE",
    "Observed",
    "TargetMeasure",
    "TargetPlan",
    "bisection_target",
    "calibration_error",
    "check_calibration",
    "is_one_window",
    "require_calibration",
    "resolve_targets",
    "value_at",
    "with_params",
]

#: An observed series: its dates and values.
Observed = tuple[list[date], FloatArray]

#: Scale of the error of a target without a tolerance, as a share of its value: such a target
#: counts as if known to ±10%.
DEFAULT_SCALE = 0.1


@dataclass(frozen=True)
class TargetPlan:
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


@dataclass(frozen=True)
class TargetMeasure:
    """What one replication of an evaluation reports, measured in the worker from the full
    results: per target, its simulated values at its points (``t<i>``) and the series its plot
    draws (``t<i>_shown``; none for the starting network's metrics)."""

    plans: tuple[TargetPlan, ...]

    def __call__(self, r: Results) -> dict[str, FloatArray]:
        out: dict[str, FloatArray] = {}
        for i, p in enumerate(self.plans):
            m = p.metric
            if m.is_start:
                out[f"t{i}"] = np.array([m.start_value(r)])
            elif p.kind == "window_mean":
                out[f"t{i}"] = np.array([m.window(r, p.days[0], p.days[1])])
                out[f"t{i}_shown"] = m.trailing(r)
            else:
                s = m.series(r)
                if p.start_level is not None:
                    s = s - s[0] + p.start_level
                out[f"t{i}"] = s[np.array(p.days, dtype=np.int64)]
                out[f"t{i}_shown"] = s
        return out

    @staticmethod
    def values(measured: Mapping[str, FloatArray], i: int) -> FloatArray:
        """Target *i*'s simulated values at its points, from what a replication reported."""
        return measured[f"t{i}"]

    @staticmethod
    def shown(measured: Mapping[str, FloatArray], i: int) -> FloatArray | None:
        """Target *i*'s series for the plot (None: a value of the starting network)."""
        return measured.get(f"t{i}_shown")


def _scale(value: float, tol: float | None) -> float:
    if tol is not None and tol > 0:
        return tol
    return DEFAULT_SCALE * abs(value)


def _tolerance(t: WindowTarget | SeriesTarget | PointTarget, value: float) -> float | None:
    if t.rel_tolerance is not None:
        return t.rel_tolerance * abs(value)
    return t.tolerance


def _one_value_plan(
    t: WindowTarget | PointTarget,
    index: int,
    metric: MetricRef,
    kind: str,
    days: tuple[int, ...],
    shown: str,
) -> TargetPlan:
    """The plan of a target with one value (a window's mean or a point): one term of the fit."""
    tol = _tolerance(t, t.value)
    return TargetPlan(
        kind=kind,
        days=days,
        dates=(shown,),
        values=(t.value,),
        tolerances=(tol,),
        scales=(_scale(t.value, tol),),
        index=index,
        metric=metric,
        weight=t.weight,
        label=t.label,
    )


def calibration_error(
    scenario: Scenario, message: str, path: tuple[str | int, ...], **value: Any
) -> ScenarioError:
    """A one-line error at ``calibration.<path>``, blaming the ``--set`` that made the value if
    one did (else the CLI names the scenario file); *value*: ``value=`` the offending value."""
    where = "calibration" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    blamed = blame_source(scenario, ("calibration", *path), message)
    return ScenarioError(message, source=blamed, where=where, **value)


def resolve_targets(
    scenario: Scenario, spec: Calibration, zones: Sequence[str]
) -> tuple[list[TargetPlan], dict[int, Observed]]:
    """Every target resolved against the scenario (ScenarioError on the first problem)."""
    h = scenario.horizon_days
    start = scenario.start_date
    operators = [op.name for op in scenario.operators]
    span = f"{start}..{scenario.end_date}"
    plans: list[TargetPlan] = []
    observed: dict[int, Observed] = {}
    for i, t in enumerate(spec.targets):
        at: tuple[str | int, ...] = ("targets", i)
        try:
            metric = resolve_metric(t.metric, operators, zones)
        except ValueError as exc:
            raise calibration_error(scenario, str(exc), (*at, "metric"), value=t.metric) from None
        if metric.is_start and not isinstance(t, PointTarget):
            raise calibration_error(
                scenario,
                f"{t.metric} is the starting network's value at day 0: use kind: point "
                "without a date",
                at,
            )
        if isinstance(t, WindowTarget):
            a, b = (t.start - start).days, (t.end - start).days
            if a < 0 or b >= h:
                raise calibration_error(
                    scenario,
                    f"window {t.start}..{t.end} is outside the simulated days {span}",
                    at,
                )
            plans.append(
                _one_value_plan(t, i, metric, "window_mean", (a, b), f"{t.start}..{t.end}")
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
                TargetPlan(
                    kind="series",
                    days=tuple(days),
                    dates=tuple(d.isoformat() for d in dates),
                    values=tuple(float(v) for v in values),
                    tolerances=tuple(tols),
                    scales=tuple(
                        _scale(float(v), tol) for v, tol in zip(values, tols, strict=True)
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
                    raise calibration_error(
                        scenario, f"date {t.date} is outside the simulated days {span}", at
                    )
            plans.append(_one_value_plan(t, i, metric, "point", (day,), shown))
    return plans, observed


def _check_parameters(scenario: Scenario, spec: Calibration) -> None:
    data = scenario.model_dump(mode="json")
    seen: set[str] = set()
    for j, p in enumerate(spec.parameters):
        for path in [p.path, *p.also]:
            try:
                value = value_at(data, path)
            except (KeyError, IndexError, ValueError, TypeError):
                raise ScenarioError(
                    "no such key in the scenario", where="calibration.parameters", value=path
                ) from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise calibration_error(
                    scenario, "not a number in the scenario", ("parameters", j), value=path
                )
            if path in seen:
                raise calibration_error(scenario, "fitted twice", ("parameters", j), value=path)
            seen.add(path)
        if p.integer and math.ceil(p.bounds[0]) > math.floor(p.bounds[1]):
            raise calibration_error(
                scenario,
                "integer: true but the bounds hold no whole number",
                ("parameters", j, "bounds"),
                value=list(p.bounds),
            )


def value_at(data: Any, path: str) -> Any:
    """The value at a ``--set`` style key path of scenario data (list items by index or name)."""
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


def require_calibration(scenario: Scenario) -> Calibration:
    """The scenario's calibration: block; a one-line error if it has none."""
    if scenario.calibration is None:
        raise ScenarioError(
            "the scenario has no calibration: block (targets and parameters to fit)",
            where="calibration",
        )
    return scenario.calibration


def check_calibration(scenario: Scenario, world: World | None = None) -> None:
    """The checks of a calibration: block that need no simulation (metric names, windows and
    dates inside the horizon, readable observed series, parameter paths that exist);
    ScenarioError on the first problem, one line. Run by ``validate`` and before ``calibrate``
    builds anything. Zones are the coverage table's until the *world* is known."""
    spec = scenario.calibration
    if spec is None:
        return
    zones = world.villages.zone_names if world is not None else tuple(scenario.coverage.radius_km)
    resolve_targets(scenario, spec, zones)
    _check_parameters(scenario, spec)
    if spec.method == "bisection" and not is_one_window(spec):
        raise ScenarioError(
            "bisection fits one parameter to one window target", where="calibration.method"
        )


def bisection_target(spec: Calibration) -> int | None:
    """The index of the one window target bisection fits against one parameter (any other
    target held out, weight 0: reported, not fitted), or None."""
    fitted = [i for i, t in enumerate(spec.targets) if t.weight > 0]
    one = len(spec.parameters) == 1 and len(fitted) == 1
    return fitted[0] if one and isinstance(spec.targets[fitted[0]], WindowTarget) else None


def is_one_window(spec: Calibration) -> bool:
    """One parameter against one window target (others held out): what bisection fits."""
    return bisection_target(spec) is not None
