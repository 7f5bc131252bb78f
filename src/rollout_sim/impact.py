"""Welfare and poverty effects of the coverage a run delivers (pure numpy; no simpy, no IO).

Each counted village contributes, at the end of each day while it is in service,

    population × min(curve(E), rate)                     (people out of (extreme) poverty)
    population × gain(E) × consumption per person / 365.25   (added consumption, USD a day)

where E is its *exposure*, the cumulative time it has been in service so far, curve and gain are
a parameter set's dose–response (:class:`~rollout_sim.scenario.impact.ImpactParameters`, 0 before
the lag) and rate is its poverty or extreme-poverty share (the cap: nobody is lifted out of
poverty who was not poor).

Exposure is cumulative time in service, which pauses during outages, rather than time since
first coverage. The studies (docs/sources.md §6) measure effects by years *with* coverage (Nigeria:
households covered for ≥ 1 and ≥ 2 years, with the date of coverage from operators' maps), and
the channels they find (labour-force participation, non-farm work, adoption) build up with use
of the network, which an outage interrupts; time out of service is not time under coverage. It is
also the conservative choice: an outage both removes the effect while it lasts and delays
reaching the lag and the later points of the curve. (With time since first coverage the effect
would still be 0 while out of service; only the clock would differ.)

Memory: a dense village × day grid of exposures is too big for national runs (95,000 villages ×
1,826 days × 8 bytes ≈ 1.4 GB), so :func:`impact_series` never forms it. Between two changes of a
village's service the exposure grows linearly with time, and the dose–response capped at the
village's rate is piecewise linear in exposure, so each service interval contributes a few
linear pieces ``α + β·t`` over ranges of days. Those are added into difference arrays of length
days + 1 (one for α, one for β, one counting active pieces) whose cumulative sums give every
day's total. Time O(C log C + P + D) and memory O(C + D) for C changes, P ≤ C × (2 × curve
points + 2) pieces (only the curve segments a spell reaches; processed in blocks of bounded
size) and D days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .arrays import FloatArray, IntArray
from .scenario.impact import Impact
from .units import DAYS_PER_YEAR

__all__ = [
    "DAYS_PER_YEAR",
    "SERIES_NAMES",
    "ImpactInputs",
    "ServiceIntervals",
    "exposure_years",
    "impact_series",
    "impact_summary",
    "service_intervals",
]


#: Largest number of float64 elements in one block of the day × interval grid of
#: :func:`exposure_years` (≈ 32 MB per array).
_GRID_CHUNK: Final = 4_000_000
#: Service intervals handled per block by :func:`impact_series` (each block makes a few pieces
#: per interval, at most 2 × (curve points + 1), ≈ 15 float64 arrays of that size: tens of
#: MB). A constant, not a parameter, so that the summation order and hence the last bits of the
#: result never depend on a tuning knob.
_INTERVAL_CHUNK: Final = 100_000
#: Days of slack when picking the curve segments a spell's exposures reach (the day indices are
#: floors and ceilings of sums; one day would do, two leave room for their rounding).
_REACH_MARGIN_DAYS: Final = 2.0

#: The series :func:`impact_series` returns for each parameter set.
SERIES_NAMES: Final = (
    "people_out_of_poverty",
    "people_out_of_extreme_poverty",
    "added_consumption_usd_per_day",
)


class _VillagesLike(Protocol):
    @property
    def population(self) -> IntArray: ...
    @property
    def urban(self) -> NDArray[np.bool_] | None: ...
    @property
    def poverty(self) -> FloatArray | None: ...
    @property
    def extreme_poverty(self) -> FloatArray | None: ...


class _WorldLike(Protocol):
    @property
    def villages(self) -> _VillagesLike: ...


class ImpactInputs(Protocol):
    """What :func:`impact_series` reads from a run (a :class:`~rollout_sim.results.Results`)."""

    @property
    def service_changes(self) -> tuple[FloatArray, NDArray[np.int32], NDArray[np.int8]]: ...
    @property
    def world(self) -> _WorldLike: ...
    @property
    def horizon_days(self) -> int: ...


@dataclass(frozen=True, eq=False)
class ServiceIntervals:
    """Every spell of service of every village, sorted by village and then by start.

    A spell runs from a gain (``start``) to the next loss of the same village (``end``; +inf
    if the log ends with the village in service). The village is in service at time t when
    ``start < t <= end``, matching the daily series: the state at the end of day d is the state
    after every change with time < d + 1.
    """

    #: Village of each spell.
    village: IntArray
    #: Time of the gain, simulation days.
    start: FloatArray
    #: Time of the loss, simulation days (+inf: still in service when the log ends).
    end: FloatArray
    #: Days the village had been in service before this spell (its earlier spells' lengths).
    exposure_before: FloatArray

    def __len__(self) -> int:
        return len(self.village)

    def subset(self, keep: NDArray[np.bool_]) -> ServiceIntervals:
        """The spells where *keep* is true (order kept)."""
        return ServiceIntervals(
            self.village[keep], self.start[keep], self.end[keep], self.exposure_before[keep]
        )


def service_intervals(
    service_changes: tuple[ArrayLike, ArrayLike, ArrayLike], n_villages: int
) -> ServiceIntervals:
    """Turn the (time, village, sign) change log into spells of service per village.

    The log must be in time order (as :attr:`Results.service_changes` is) and, per village,
    alternate gain, loss, gain, ... starting with a gain; anything else means the log is not a
    served-state log and raises ``ValueError``. A stable sort by village keeps each village's
    changes in time order (including changes at equal times, whose order the log fixes).

    O(C log C) time and O(C) memory for C changes.
    """
    time = np.asarray(service_changes[0], dtype=np.float64).ravel()
    village = np.asarray(service_changes[1]).astype(np.int64, copy=False).ravel()
    sign = np.asarray(service_changes[2]).astype(np.int64, copy=False).ravel()
    if not len(time) == len(village) == len(sign):
        raise ValueError(
            f"service_changes: arrays differ in length: {len(time)}, {len(village)}, {len(sign)}"
        )
    if len(time) and not np.all(np.isfinite(time)):
        raise ValueError("service_changes: times must be finite")
    if len(time) > 1 and np.any(np.diff(time) < 0):
        raise ValueError("service_changes: times must be in non-decreasing order")
    if len(village) and (village.min() < 0 or village.max() >= n_villages):
        raise ValueError(f"service_changes: village numbers must be in [0, {n_villages})")
    if not np.all((sign == 1) | (sign == -1)):
        raise ValueError("service_changes: signs must be +1 (gained) or -1 (lost)")

    order = np.argsort(village, kind="stable")
    v, t, s = village[order], time[order], sign[order]
    first = np.ones(len(v), dtype=bool)
    first[1:] = v[1:] != v[:-1]
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, len(v)))
    # Served state after each change = running sum of signs within the village; a valid log
    # keeps it in {0, 1}, which (with ±1 steps) is exactly "alternates, starting with a gain".
    running = np.cumsum(s)
    state = running - np.repeat(running[starts] - s[starts], sizes)
    bad = (state < 0) | (state > 1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        what = "gains service while in service" if s[i] > 0 else "loses service while out"
        raise ValueError(f"service_changes: village {int(v[i])} {what} at time {t[i]}")

    gains = np.flatnonzero(s == 1)
    nxt = gains + 1
    closed = nxt < len(v)
    closed[closed] = v[nxt[closed]] == v[gains[closed]]
    start = t[gains]
    end = np.full(len(gains), np.inf)
    end[closed] = t[nxt[closed]]
    iv_village = v[gains]
    # Exposure before each spell: exclusive running sum of earlier (closed) spells' lengths,
    # restarted per village. Only a village's last spell can be open, so no +inf enters a sum.
    length = np.where(closed, end - start, 0.0)
    excl = np.cumsum(length) - length
    g_first = np.ones(len(gains), dtype=bool)
    g_first[1:] = iv_village[1:] != iv_village[:-1]
    g_starts = np.flatnonzero(g_first)
    g_sizes = np.diff(np.append(g_starts, len(gains)))
    before = excl - np.repeat(excl[g_starts], g_sizes)
    return ServiceIntervals(iv_village, start, end, before)


def _as_days(days: ArrayLike) -> IntArray:
    d = np.asarray(days)
    if d.ndim != 1:
        raise ValueError(f"days must be a 1-D array of day numbers, got shape {d.shape}")
    if d.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(d.dtype, np.integer):
        df = d.astype(np.float64)
        if not np.all(np.isfinite(df)) or np.any(df != np.round(df)):
            raise ValueError("days must be whole day numbers")
        d = df
    out = d.astype(np.int64)
    if out.min() < 0:
        raise ValueError("days must be >= 0")
    return out


def exposure_years(
    service_changes: tuple[ArrayLike, ArrayLike, ArrayLike], n_villages: int, days: ArrayLike
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Service state and cumulative years in service of every village at the end of *days*.

    Returns ``(in_service, years)``, each of shape (len(days), n_villages): whether the village
    is in service at the end of day d (after every change with time < d + 1) and the years it
    has spent in service up to then (pausing while out of service; see the module docstring).

    The output is dense, 9 bytes per village per requested day: meant for a few days (a map at
    the horizon, checks). Daily national series come from :func:`impact_series`, which never
    forms this grid. Working memory is bounded: the day × spell grid is built in blocks of
    about 4 M elements. Time O(C log C + len(days) × (C + n_villages)) for C changes.
    """
    iv = service_intervals(service_changes, n_villages)
    d = _as_days(days)
    n_days, k = len(d), len(iv)
    in_service = np.zeros((n_days, n_villages), dtype=bool)
    years = np.zeros((n_days, n_villages), dtype=np.float64)
    if n_days == 0 or k == 0 or n_villages == 0:
        return in_service, years
    t_end = d.astype(np.float64) + 1.0
    rows = max(1, _GRID_CHUNK // k)
    for r0 in range(0, n_days, rows):
        tt = t_end[r0 : r0 + rows, None]
        m = tt.shape[0]
        started = iv.start[None, :] < tt
        # Time in each spell so far; summing a village's spells gives its exposure.
        elapsed = np.where(started, np.minimum(tt, iv.end[None, :]) - iv.start[None, :], 0.0)
        active = started & (tt <= iv.end[None, :])
        cell = (np.arange(m)[:, None] * n_villages + iv.village[None, :]).ravel()
        size = m * n_villages
        days_in = np.bincount(cell, weights=elapsed.ravel(), minlength=size)
        n_active = np.bincount(cell, weights=active.ravel(), minlength=size)
        years[r0 : r0 + m] = (days_in / DAYS_PER_YEAR).reshape(m, n_villages)
        in_service[r0 : r0 + m] = (n_active > 0).reshape(m, n_villages)
    return in_service, years


def _segments(
    lag_years: float, points: Sequence[tuple[float, float]], scale: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The dose–response from the lag on as linear segments in exposure *days*.

    Segment j covers exposures [lo_j, hi_j) with value ``c_j + k_j·E`` (times *scale*): the
    first point's value from the lag to the first point, the interpolation between points, the
    last value after the last point (hi = +inf). Empty segments (lo = hi) are harmless.
    """
    x = np.array([p[0] for p in points], dtype=np.float64) * DAYS_PER_YEAR
    y = np.array([p[1] for p in points], dtype=np.float64) * scale
    lag = lag_years * DAYS_PER_YEAR
    lo = np.concatenate(([lag], x))
    hi = np.concatenate((x, [np.inf]))
    slope = np.zeros(len(x) + 1)
    slope[1:-1] = np.diff(y) / np.diff(x)
    intercept = np.concatenate(([y[0]], y[:-1] - slope[1:-1] * x[:-1], [y[-1]]))
    return lo, hi, intercept, slope


def _integrate(
    iv: ServiceIntervals,
    lag_years: float,
    points: Sequence[tuple[float, float]],
    scale: float,
    weight: FloatArray,
    cap: FloatArray | None,
    n_days: int,
) -> FloatArray:
    """Σ over villages in service of weight_v × min(scale × curve(E_v), cap_v), for days 0..n-1.

    *weight* and *cap* are per village (cap None: no cap). Each spell × segment splits at most
    once where the segment's line crosses the village's cap, giving two linear pieces in E; a
    piece over exposures [a, b) of a spell starting at s with exposure E0 is in force at day
    ends t with s < t ≤ end and s + a − E0 ≤ t < s + b − E0, i.e. for day indices
    [max(⌊s⌋, ⌈s + a − E0⌉ − 1), min(⌊end⌋, ⌈s + b − E0⌉ − 1)), with value α + β·t where
    β = w·k and α = w·(c + k·(E0 − s)). Pieces go into difference arrays; see module docstring.

    Only the segments a spell's exposures reach are expanded (most spells are short, between
    outages, and reach one or two of the curve's segments): a piece can be in force only if
    b > E0 and a < E0 + (end − s) + 1, so segments outside that range (widened by
    :data:`_REACH_MARGIN_DAYS` against rounding) are left out. The pieces kept are the same
    numbers in the same order as if every segment were expanded and the empty ones dropped, so
    the sums are the same to the last bit.
    """
    lo, hi, c, k = _segments(lag_years, points, scale)
    alpha_diff = np.zeros(n_days + 1)
    beta_diff = np.zeros(n_days + 1)
    count_diff = np.zeros(n_days + 1, dtype=np.int64)
    if n_days == 0 or len(iv) == 0:
        return np.zeros(n_days)
    # The scenario's validation keeps the points in order and the lag before the first one;
    # should the segments ever not be in order, every segment is expanded (the plain method).
    ordered = bool(np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0))
    halves = 1 if cap is None else 2
    for b0 in range(0, len(iv), _INTERVAL_CHUNK):
        v = iv.village[b0 : b0 + _INTERVAL_CHUNK]
        s = iv.start[b0 : b0 + _INTERVAL_CHUNK]
        e = iv.end[b0 : b0 + _INTERVAL_CHUNK]
        e0 = iv.exposure_before[b0 : b0 + _INTERVAL_CHUNK]
        if ordered:
            j0 = np.searchsorted(hi, e0 - _REACH_MARGIN_DAYS, side="right")
            reach = e0 + (e - s) + _REACH_MARGIN_DAYS
            j1 = np.searchsorted(lo, reach, side="left")
            n_seg = np.maximum(j1 - j0, 0)
        else:
            j0 = np.zeros(len(v), dtype=np.int64)
            n_seg = np.full(len(v), len(lo), dtype=np.int64)
        # Pieces per spell: its segments' first pieces, then (with a cap) their second ones,
        # the order of the full spell × piece grid read row by row.
        per = halves * n_seg
        row = np.repeat(np.arange(len(v)), per)
        pos = np.arange(len(row)) - np.repeat(np.cumsum(per) - per, per)
        second = pos >= n_seg[row]
        j = j0[row] + np.where(second, pos - n_seg[row], pos)
        lo_j, hi_j, c_j, k_j = lo[j], hi[j], c[j], k[j]
        sp, ep, e0p = s[row], e[row], e0[row]
        w = weight[v][row]
        if cap is None:
            ea, eb, a, slope = lo_j, hi_j, c_j, k_j
        else:
            r = cap[v][row]
            rising, falling = k_j > 0, k_j < 0
            # Exposure where the line meets the cap, clipped into the segment (flat or never
            # crossing segments: the split point is an end, leaving one piece empty).
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                cross = np.where(k_j != 0, (r - c_j) / np.where(k_j != 0, k_j, 1.0), hi_j)
            mid = np.clip(cross, lo_j, hi_j)
            mid = np.where(k_j == 0, hi_j, mid)
            # First piece = [lo, mid): the line if rising (below the cap until mid), the cap if
            # falling (above it until mid), min(c, cap) if flat. Second = [mid, hi): the other.
            a_a = np.where(rising, c_j, np.where(falling, r, np.minimum(c_j, r)))
            a_b = np.where(rising, r, c_j)
            ea = np.where(second, mid, lo_j)
            eb = np.where(second, hi_j, mid)
            a = np.where(second, a_b, a_a)
            slope = np.where(second, np.where(falling, k_j, 0.0), np.where(rising, k_j, 0.0))
        d_lo = np.maximum(np.floor(sp), np.ceil(sp + ea - e0p) - 1.0)
        d_hi = np.minimum(np.floor(ep), np.ceil(sp + eb - e0p) - 1.0)
        d_lo = np.clip(d_lo, 0, n_days)
        d_hi = np.clip(d_hi, 0, n_days)
        live = d_hi > d_lo
        if not np.any(live):
            continue
        beta = (w * slope)[live]
        alpha = (w * (a + slope * (e0p - sp)))[live]
        i_lo = d_lo[live].astype(np.int64)
        i_hi = d_hi[live].astype(np.int64)
        m = n_days + 1
        alpha_diff += np.bincount(i_lo, alpha, m) - np.bincount(i_hi, alpha, m)
        beta_diff += np.bincount(i_lo, beta, m) - np.bincount(i_hi, beta, m)
        count_diff += np.bincount(i_lo, minlength=m) - np.bincount(i_hi, minlength=m)
    t_end = np.arange(1, n_days + 1, dtype=np.float64)
    total = np.cumsum(alpha_diff)[:n_days] + np.cumsum(beta_diff)[:n_days] * t_end
    # Exact zeros where no piece is in force (cumulative sums of +x … −x leave ~1e-13 residue),
    # and no negative rounding residue where every piece is ≥ 0.
    active = np.cumsum(count_diff)[:n_days] > 0
    return np.where(active, np.maximum(total, 0.0), 0.0)


def _rates(villages: _VillagesLike, impact: Impact, n: int) -> tuple[FloatArray, FloatArray]:
    """Poverty and extreme-poverty shares per village: the village's own where given and
    finite, else the scenario's. Extreme is capped at total poverty: the extremely poor are
    among the poor (46 Peru districts publish extreme > total, kept as published in the data)."""
    pov = np.full(n, impact.poverty_rate)
    ext = np.full(n, impact.extreme_poverty_rate)
    if villages.poverty is not None:
        own = np.asarray(villages.poverty, dtype=np.float64)
        pov = np.where(np.isfinite(own), np.clip(own, 0.0, 1.0), pov)
    if villages.extreme_poverty is not None:
        own = np.asarray(villages.extreme_poverty, dtype=np.float64)
        ext = np.where(np.isfinite(own), np.clip(own, 0.0, 1.0), ext)
    return pov, np.minimum(ext, pov)


def impact_series(
    results: ImpactInputs, impact: Impact, days: ArrayLike | None = None
) -> dict[str, dict[str, FloatArray]]:
    """Daily welfare and poverty effects of a run, per parameter set.

    Returns ``{set: {series: array}}`` for the sets "low", "central", "high" and the series

    * ``people_out_of_poverty``: Σ population × min(poverty pp(E)/100, poverty rate),
    * ``people_out_of_extreme_poverty``: the same with the extreme-poverty curve and rate,
    * ``added_consumption_usd_per_day``: Σ population × gain(E) × consumption per person a
      year / 365.25 (summing it over days gives USD),

    over counted villages in service at the end of each day (0 while out of service and before
    the lag; E = cumulative years in service, see the module docstring). Arrays have length
    ``horizon_days`` (days 0..horizon−1), or follow *days* (whole day numbers ≥ 0; days past
    the horizon hold the state the log ends in).

    Counted villages: rural ones (urban places only with ``impact.include_urban``: the studies'
    effects are driven by rural households and the rollout is rural) not served at day 0 (only
    with ``impact.include_initial_coverage``: existing coverage is not the rollout's effect; a
    village served at day 0 stays excluded even after an outage and a later regain). Rates are
    the villages' own when ``villages.poverty`` is set (Peru: the district's), else the
    scenario's. Extreme and total poverty are separate lines: leaving extreme poverty need not
    mean leaving poverty, so the two counts are not nested.

    Time O(C log C + S·(C·p + D)) and memory O(C + D) for C changes, S = 3 sets, p curve points
    and D days; nothing loops per village or per day in Python.
    """
    return ImpactSeries(results, impact, days).all()


#: The series of each parameter set, in the order reports list them.
SERIES: Final = (
    "people_out_of_poverty",
    "people_out_of_extreme_poverty",
    "added_consumption_usd_per_day",
)


class ImpactSeries(Mapping[str, FloatArray]):
    """:func:`impact_series` flattened as ``<series>_<set>`` columns, each computed the first
    time it is read (the same numbers).

    A comparison's replication reads only the poverty counts at the horizon (six of the nine
    series): the consumption series, a third of the integration work, is then never computed.
    What the series share (the service spells, counted villages, rates) is prepared once.
    """

    def __init__(
        self, results: ImpactInputs, impact: Impact, days: ArrayLike | None = None
    ) -> None:
        villages = results.world.villages
        population = np.asarray(villages.population, dtype=np.float64)
        n = len(population)
        self._days = (
            np.arange(results.horizon_days, dtype=np.int64) if days is None else _as_days(days)
        )
        self._n_days = int(self._days.max()) + 1 if len(self._days) else 0
        iv = service_intervals(results.service_changes, n)
        counted = np.ones(n, dtype=bool)
        if not impact.include_urban and villages.urban is not None:
            counted &= ~np.asarray(villages.urban, dtype=bool)
        if not impact.include_initial_coverage:
            counted[iv.village[iv.start <= 0.0]] = False
        self._iv = iv.subset(counted[iv.village])
        self._population = population
        self._pov, self._ext = _rates(villages, impact, n)
        self._usd_per_day = impact.consumption_usd_per_person_year / DAYS_PER_YEAR
        self._sets = impact.parameter_sets()
        self._keys = {f"{key}_{name}": (name, key) for name in self._sets for key in SERIES}
        self._done: dict[str, FloatArray] = {}

    def __getitem__(self, column: str) -> FloatArray:
        got = self._done.get(column)
        if got is None:
            name, key = self._keys[column]
            got = self._done[column] = self.series(name, key)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def series(self, name: str, key: str) -> FloatArray:
        """Series *key* (one of :data:`SERIES`) of parameter set *name*, on the days asked."""
        p = self._sets[name]
        if key == "people_out_of_poverty":
            curve, scale, cap = p.poverty_reduction_pp, 0.01, self._pov
        elif key == "people_out_of_extreme_poverty":
            curve, scale, cap = p.extreme_poverty_reduction_pp, 0.01, self._ext
        elif key == "added_consumption_usd_per_day":
            curve, scale, cap = p.consumption_gain, self._usd_per_day, None
        else:
            raise KeyError(key)
        total = _integrate(self._iv, p.lag_years, curve, scale, self._population, cap, self._n_days)
        return np.asarray(total[self._days], dtype=np.float64)

    def all(self) -> dict[str, dict[str, FloatArray]]:
        """Every series, ``{set: {series: array}}``."""
        return {name: {key: self[f"{key}_{name}"] for key in SERIES} for name in self._sets}


def impact_summary(series: Mapping[str, Mapping[str, FloatArray]]) -> dict[str, dict[str, float]]:
    """Per set: each series at the horizon (its last day) and its total over the run.

    For ``people_*`` series the total is person-years (Σ daily values / 365.25); for
    ``*_usd_per_day`` series it is USD (Σ daily values × 1 day), named ``*_usd_total``. Expects
    daily series from day 0 (the default of :func:`impact_series`). O(S × D).
    """
    summary: dict[str, dict[str, float]] = {}
    for name, cols in series.items():
        row: dict[str, float] = {}
        for key, values in cols.items():
            arr = np.asarray(values, dtype=np.float64)
            row[f"{key}_at_horizon"] = float(arr[-1]) if len(arr) else 0.0
            if key.endswith("_usd_per_day"):
                row[key.removesuffix("_per_day") + "_total"] = float(arr.sum())
            else:
                row[f"{key}_person_years"] = float(arr.sum()) / DAYS_PER_YEAR
        summary[name] = row
    return summary
