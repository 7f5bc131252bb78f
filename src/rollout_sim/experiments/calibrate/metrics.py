"""Calibration metrics: each name a target may use, and how to read it from the results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...arrays import FloatArray
from ...model.backhaul import BH_FIBRE
from ...results import Results
from ...scenario.calibration import (
    OPERATOR_METRICS,
    START_PLACES,
    START_SHARE_PREFIX,
    daily_metrics,
    is_start_metric,
)

__all__ = ["SMOOTH_DAYS", "MetricRef", "metric_names", "resolve_metric"]


#: Trailing days of the mean drawn for window targets (a daily rate is too noisy to read).
SMOOTH_DAYS = 30


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
