"""The outage path's optional compiled core: loading it and handing a network over to it.

A national run is ~60,000 outages, each a walk over the failed site's backhaul subtree and a
pass over each site's villages, then the same on repair: ~35 small Python calls an outage that
no single optimisation shrinks (``benchmarks/RESULTS.md``). ``rollout_sim._netcore`` (C, built
by ``setup.py`` where a compiler is present) does those walks, the coverage switches, the
change log and the traces over typed arrays. The Python of :class:`~.network.Network` and
:class:`~.coverage_state.CoverageState` stays the reference: same state changes in the same
order, results identical to the bit (``tests/test_netcore.py`` runs both on the same worlds).

The core is used when the extension was built and ``ROLLOUT_SIM_PURE_PYTHON`` is not set (any
non-empty value runs the Python path, e.g. to check the two agree). The split of state: arrays
Python reads during a run (which sites are in service, their equipment, on-air days, downtime)
stay numpy arrays the core writes in place; what only the switches read (each village's
on-air count, the footprints, the change log, the traces) moves into the core, and the
network's and coverage state's accessors read it from there.

The maintenance crews' cycle around those outages (:func:`crews`) runs in the core too, for a
network whose outage path is there: ~25 Python calls an outage (a failure's clock, its log
row, the crews' heaps, the repair's duration and end) were half a national run once the walks
were compiled. :class:`~.maintenance.MaintenanceCrews`'s methods stay its reference. So does
the siting queue's heap (:func:`heap`; ``siting.ListHeap`` is the reference).
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..compiled import PURE_PYTHON_ENV, pure_python
from .records import FailureLog

if TYPE_CHECKING:
    from collections.abc import Callable

    import simpy

    from .._netcore import Core, Crews, Heap
    from .network import Network

try:
    from .. import _netcore
except ImportError:  # built without a C compiler: the Python path
    _netcore = None  # type: ignore[assignment]

__all__ = [
    "PURE_PYTHON_ENV",
    "CoreFootprint",
    "CoreTrace",
    "attach",
    "available",
    "change_log",
    "crews",
    "crews_days",
    "failure_log",
    "heap",
]

# Buffer ids of ``Core.export`` / ``Core.seed`` (as _netcore.c numbers them).
_CH_TIME, _CH_VILLAGES, _CH_COUNT, _CH_SIGN = 0, 1, 2, 3
_NET_TIME, _NET_VALUE, _DOWN_TIME, _DOWN_VALUE = 4, 5, 6, 7
_FIXED = 8


def available() -> bool:
    """Whether the compiled core runs what it holds (a new network's outage path, its crews'
    cycle, a new siting queue's heap)."""
    return _netcore is not None and not pure_python()


def _doubles(data: bytes) -> array[float]:
    out = array("d")
    out.frombytes(data)
    return out


def _longs(data: bytes) -> array[int]:
    out = array("q")
    out.frombytes(data)
    return out


class CoreTrace:
    """A :class:`~.records.Trace` the core appends to: (time, value) read out on demand."""

    def __init__(self, core: Core, time_id: int, value_id: int) -> None:
        self._core, self._time_id, self._value_id = core, time_id, value_id

    @property
    def time(self) -> array[float]:
        return _doubles(self._core.export(self._time_id))

    @property
    def value(self) -> array[float]:
        return _doubles(self._core.export(self._value_id))

    def add(self, t: float, value: float) -> None:
        raise RuntimeError("this trace is kept by the compiled core")


class CoreFootprint:
    """A :class:`~.coverage_state.Footprint` kept by the core: counts and history read out."""

    def __init__(self, core: Core, f: int, first_id: int) -> None:
        self._core, self._f, self._id = core, f, first_id

    @property
    def places(self) -> int:
        return self._core.footprint(self._f)[0]

    @property
    def people(self) -> int:
        return self._core.footprint(self._f)[1]

    @property
    def time(self) -> array[float]:
        return _doubles(self._core.export(self._id))

    @property
    def place_count(self) -> array[int]:
        return _longs(self._core.export(self._id + 1))

    @property
    def people_count(self) -> array[int]:
        return _longs(self._core.export(self._id + 2))


def change_log(core: Core) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int8]]:
    """:meth:`CoverageState.changes` from the core's buffers."""
    counts = np.frombuffer(core.export(_CH_COUNT), dtype=np.int32)
    if len(counts) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int8)
    return (
        np.repeat(np.frombuffer(core.export(_CH_TIME), dtype=np.float64), counts),
        np.frombuffer(core.export(_CH_VILLAGES), dtype=np.int32).copy(),
        np.repeat(np.frombuffer(core.export(_CH_SIGN), dtype=np.int8), counts),
    )


def attach(network: Network) -> Core | None:
    """Hand *network*'s outage path to the compiled core, if it is available; returns it.

    Called at the end of ``Network.__init__``: the starting network is on air (switched on
    in Python, at once) and no operator's site has switched yet. The core starts from that
    state — each village's on-air count, first-covered days, the counters, the change log and
    the net trace so far — and from then on keeps it.
    """
    if not available():
        return None
    cov = network.coverage
    for fp in cov.footprints:
        if fp.places or len(fp.time) != 1:  # pragma: no cover - a programming error
            raise RuntimeError("the core must take over before any operator's site switches")
    sites = network.sites
    ops = len(network._op_in_service)
    core = _netcore.Core(
        network.env,
        network._on_first_air,
        ops,
        np.ascontiguousarray(cov.population, dtype=np.int64),
        np.ascontiguousarray(cov.index.indptr, dtype=np.int64),
        np.ascontiguousarray(cov.index.indices, dtype=np.int32),
        sites.operator,
        sites.built_day,
        cov.first_op,
        network.in_service,
        network.hw_up,
        sites.on_air_day,
        network.down_since,
        network.down_total,
        np.array(cov._on_air, dtype=np.int32),
        cov.first_covered,
        cov.villages_covered,
        cov.people_covered,
        np.ascontiguousarray(cov.index.t_indptr, dtype=np.int64),
        np.ascontiguousarray(cov.index.t_indices, dtype=np.int32),
        cov.planned,
        cov.gain,
        cov.gain_places,
    )
    core.seed(_CH_TIME, cov.change_time)
    core.seed(_CH_VILLAGES, cov.change_villages)
    core.seed(_CH_COUNT, cov.change_count)
    core.seed(_CH_SIGN, cov.change_sign)
    core.seed(_NET_TIME, network.net_trace.time)
    core.seed(_NET_VALUE, network.net_trace.value)
    core.seed(_DOWN_TIME, network.down_trace.time)
    core.seed(_DOWN_VALUE, network.down_trace.value)
    kept = ops if ops == 1 else ops + 1  # one footprint an operator, and the rollout's
    first = _FIXED + 2 * ops
    footprints = [CoreFootprint(core, f, first + 3 * f) for f in range(kept)]
    cov.adopt(core, footprints[:ops], footprints[0 if ops == 1 else ops])
    return core


def service_traces(core: Core, ops: int) -> tuple[CoreTrace, CoreTrace, list[CoreTrace]]:
    """The net, down and per-operator service traces the core keeps."""
    return (
        CoreTrace(core, _NET_TIME, _NET_VALUE),
        CoreTrace(core, _DOWN_TIME, _DOWN_VALUE),
        [CoreTrace(core, _FIXED + 2 * k, _FIXED + 2 * k + 1) for k in range(ops)],
    )


# --- the maintenance crews' cycle ---------------------------------------------------------------

# Buffer ids of ``Crews.export`` (as _netcore.c numbers them).
_LOG_VILLAGE, _LOG_FAILED, _LOG_PEOPLE, _LOG_SITES_DOWN, _LOG_TAKEN, _LOG_REPAIRED = range(6)
_WAIT_DAYS, _DOWNTIME_DAYS = 6, 7


def crews(
    core: Core,
    env: simpy.Environment,
    count: int,
    *,
    rate: NDArray[np.float64],
    travel_days: NDArray[np.float64],
    clock: tuple[NDArray[np.float64], NDArray[np.float64]],
    counts: tuple[list[int], list[int]],
    watched: dict[int, simpy.Event],
    bill: Callable[[int], None],
    exp1_row: Callable[[int], list[float]],
    exp1_extra: Callable[[int], float],
    durations_row: Callable[[int], list[float]],
    duration_extra: Callable[[int], float],
) -> Crews:
    """The failure and repair cycle of :class:`~.maintenance.MaintenanceCrews` in the core
    (its Python methods are the reference): *count* crews, each village's failure *rate* (per
    day, outside the rainy season) and *travel_days* from its depot, the seasonal *clock*
    (times, cumulative hazard), the draw *counts* of failures and repairs (lists shared with
    the draws), the failures *watched* from outside, and what it calls back: a repair's
    *bill*, and a site's draws turned into days (its block, then one past it)."""
    clock_t, clock_h = clock
    return _netcore.Crews(
        core,
        env,
        count,
        np.ascontiguousarray(rate, dtype=np.float64),
        np.ascontiguousarray(travel_days, dtype=np.float64),
        np.ascontiguousarray(clock_t, dtype=np.float64),
        np.ascontiguousarray(clock_h, dtype=np.float64),
        counts[0],
        counts[1],
        watched,
        bill,
        exp1_row,
        exp1_extra,
        durations_row,
        duration_extra,
    )


def failure_log(cycle: Crews) -> FailureLog:
    """The cycle's :class:`~.records.FailureLog` so far (a copy)."""
    return FailureLog(
        village=_longs(cycle.export(_LOG_VILLAGE)),
        failed=_doubles(cycle.export(_LOG_FAILED)),
        people=_longs(cycle.export(_LOG_PEOPLE)),
        sites_down=_longs(cycle.export(_LOG_SITES_DOWN)),
        taken=_doubles(cycle.export(_LOG_TAKEN)),
        repaired=_doubles(cycle.export(_LOG_REPAIRED)),
    )


def crews_days(cycle: Crews, which: str) -> array[float]:
    """The cycle's ``wait`` days (failure to a crew taking it, per repair taken) or
    ``downtime`` days (failure to repair, per repair finished), so far (a copy)."""
    return _doubles(cycle.export({"wait": _WAIT_DAYS, "downtime": _DOWNTIME_DAYS}[which]))


def heap(
    negp: NDArray[np.float64],
    tiebreak: NDArray[np.float64],
    village: NDArray[np.int64],
    version: NDArray[np.int64],
) -> Heap:
    """The siting queue's heap of these entries in the core (``siting.ListHeap`` is its
    reference): one array of structs instead of a list of tuples."""
    return _netcore.Heap(
        np.ascontiguousarray(negp, dtype=np.float64),
        np.ascontiguousarray(tiebreak, dtype=np.float64),
        np.ascontiguousarray(village, dtype=np.int64),
        np.ascontiguousarray(version, dtype=np.int64),
    )
