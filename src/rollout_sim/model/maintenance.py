"""Failures and repairs of one operator's sites.

Each site, from its first day on air, fails as a renewal process: an exponential time to failure
whose rate is the zone's 1/MTBF, lowered by preventive spending and raised in the rainy months.
A failure takes the site (and its backhaul subtree) off air and queues a repair, most people
affected first. A maintenance crew books the repair cost as payable (it never waits for cash),
travels from the nearest depot over the transport graph, repairs, and travels back.
"""

from __future__ import annotations

import bisect
import heapq
import math
from array import array
from dataclasses import InitVar, dataclass
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, cast

import numpy as np
import simpy
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from ..arrays import FloatArray
from ..scenario.durations import BuildTime
from ..scenario.schema import Maintenance, Operator
from ..units import DAYS_PER_YEAR
from . import netcore
from .distributions import ppf
from .finance import Treasury
from .network import Network
from .records import FailureLog

if TYPE_CHECKING:
    from .._netcore import Crews
    from .funding import FundingPort

__all__ = ["MaintenanceCrews", "VillageDraws", "seasonal_clock"]


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    """Linear interpolation on sorted *xs* (scalar; np.interp's call overhead dominates here)."""
    i = bisect.bisect_right(xs, x)
    if i <= 0:
        return ys[0]
    if i >= len(xs):
        return ys[-1]
    x0, x1 = xs[i - 1], xs[i]
    if x1 == x0:
        return ys[i]
    return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)


class VillageDraws:
    """Uniforms indexed by (village, k-th draw), independent of the order they are asked for.

    A block of ``block`` uniforms per village is drawn up front from the stream (as float32:
    24 bits are plenty for a duration, and a 200,000-village world keeps it to tens of MB); a
    village that needs more gets its own generator spawned from the stream's seed. So policy A
    and policy B see the same k-th failure time at a site (common random numbers).

    A consumer that turns uniforms into durations takes a village's whole block at once
    (:meth:`row`, transformed in one vectorised call) and then the index of each draw
    (:meth:`take`); past the block it asks for the next uniform with :meth:`extra`.
    """

    def __init__(self, seed: np.random.SeedSequence, n: int, block: int) -> None:
        self._seed = seed
        self._block = np.random.default_rng(seed).random((n, block), dtype=np.float32)
        # A list, not an array: it is read and written once a failure or repair.
        self._count = [0] * n
        self._extra: dict[int, np.random.Generator] = {}

    def row(self, v: int) -> NDArray[np.float64]:
        """The up-front draws of village *v* (its first *block* draws, in order)."""
        return np.asarray(self._block[v], dtype=np.float64)

    @property
    def counts(self) -> list[int]:
        """How many draws each village has taken (the compiled cycle counts in this list)."""
        return self._count

    def take(self, v: int) -> int:
        """Count a draw of village *v*; returns its index k (the value: ``row(v)[k]`` while
        k < *block*, else :meth:`extra`)."""
        k = self._count[v]
        self._count[v] = k + 1
        return k

    def extra(self, v: int) -> float:
        """The next uniform of village *v* past its block (its own spawned generator)."""
        gen = self._extra.get(v)
        if gen is None:
            ss = np.random.SeedSequence(
                entropy=self._seed.entropy, spawn_key=(*self._seed.spawn_key, 1_000_000 + v)
            )
            gen = self._extra[v] = np.random.default_rng(ss)
        return float(gen.random())


def seasonal_clock(
    start: date, horizon_days: int, months: list[int] | None, factor: float
) -> tuple[FloatArray, FloatArray]:
    """Piecewise-linear cumulative hazard multiplier H(t) = ∫₀ᵗ m(s) ds at month boundaries.

    m is ``factor`` in the given calendar months and 1 otherwise. Returns (times, H) covering
    [0, horizon_days]; invert with ``np.interp``.
    """
    times = [0.0]
    values = [0.0]
    day = start
    t = 0.0
    while t < horizon_days:
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        t_next = min(t + (nxt - day).days, float(horizon_days))
        rate = factor if months and day.month in months else 1.0
        values.append(values[-1] + rate * (t_next - t))
        times.append(t_next)
        t, day = t_next, nxt
    return np.array(times), np.array(values)


@dataclass(eq=False)
class MaintenanceCrews:
    """Failure processes of one operator's sites and the crews that repair them.

    *funding* pays its funds' share of each repair (opex funds covering repairs).
    """

    network: Network
    op: int
    spec: InitVar[Operator]
    maint: Maintenance
    treasury: Treasury
    depots: InitVar[NDArray[np.int64]]
    start: InitVar[date]
    horizon_days: InitVar[int]
    failure_draws: VillageDraws
    repair_draws: VillageDraws
    funding: FundingPort | None = None

    def __post_init__(
        self, spec: Operator, depots: NDArray[np.int64], start: date, horizon_days: int
    ) -> None:
        network, maint = self.network, self.maint
        self.env = network.env
        world = network.world
        v = world.villages
        self.enabled = maint.failures.enabled
        reduction = maint.preventive_max_reduction * min(
            1.0, spec.preventive_usd_per_site_year / maint.preventive_full_usd_per_site_year
        )
        # Per-village figures read one at a time, at each failure or repair: plain lists (a
        # numpy scalar read is ~5x a list's).
        mtbf = np.array([maint.failures.mtbf_days[z] for z in v.zone_names])[v.zone]
        #: Failures per day outside the rainy season, by village.
        rate = (1.0 - reduction) / mtbf
        self.rate: list[float] = rate.tolist()
        seasonal = maint.failures.seasonal
        clock_t, clock_h = seasonal_clock(
            start,
            horizon_days,
            seasonal.months if seasonal else None,
            seasonal.factor if seasonal else 1.0,
        )
        self.clock_t: list[float] = clock_t.tolist()
        self.clock_h: list[float] = clock_h.tolist()
        self._durations: dict[int, list[float]] = {}  # repair days, per village, k-th
        self._exp1: dict[int, list[float]] = {}  # Exp(1) failure draws, per village, k-th
        self.zone_names = v.zone_names
        self.zone = v.zone
        #: A repair's cost, by village (its zone's).
        self.cost: list[float] = np.array([maint.repair_cost_usd[z] for z in v.zone_names])[
            v.zone
        ].tolist()
        if maint.travel and len(depots):
            hours = dijkstra(world.travel_hours, directed=False, indices=depots, min_only=True)
            travel = np.where(np.isfinite(hours), hours / 24.0, np.inf)
        else:
            travel = np.zeros(len(world))
        #: Days from the nearest depot, by village (inf: no path on the graph).
        self.travel_days: list[float] = travel.tolist()
        self._refs: dict[int, str] = {}  # a site's ledger reference (its village id), by village
        #: The funding asked for its share of each repair: None if no fund covers repairs.
        self._repair_funding = (
            self.funding
            if self.funding is not None and self.funding.funds_cover("repair")
            else None
        )
        #: Repairs waiting for a crew: (−people affected, sequence, village, log row), a heap:
        #: the most people first, first come first served among equals.
        self._waiting: list[tuple[float, int, int, int]] = []
        #: When each crew is (or will be) back at its depot, free for the next job: a heap, so
        #: the crew idle longest takes a job first. Crews are alike (travel depends on the
        #: site, not the crew), so a crew is only its time.
        self._free_at: list[float] = [0.0] * spec.maintenance_crews
        #: A dispatch is due (at the end of this instant, or when the next crew is back).
        self._wake_pending = False
        #: Events to succeed when a failure (by log row) is repaired: see :meth:`fail`.
        self._watched: dict[int, simpy.Event] = {}
        self.stopped = False
        self._seq = 0
        self._repairs = 0
        self._wait_days: array[float] = array("d")  # from failure to a crew taking the job
        self._downtime_days: array[float] = array("d")  # from failure to repair
        self._log = FailureLog()
        #: The cycle in the compiled core, when the network's outage path is there: the same
        #: timeouts, draws and arithmetic as the methods below (the reference), without a
        #: Python call per step; it calls back for the bill and each site's block of draws.
        self._cycle: Crews | None = None
        core = network.core
        if core is not None and self.enabled:
            self._cycle = netcore.crews(
                core,
                self.env,
                spec.maintenance_crews,
                rate=rate,
                travel_days=travel,
                clock=(clock_t, clock_h),
                counts=(self.failure_draws.counts, self.repair_draws.counts),
                watched=self._watched,
                bill=self._bill,
                exp1_row=self._exp1_row,
                exp1_extra=self._exp1_extra,
                durations_row=self._durations_row,
                duration_extra=self._duration_extra,
            )
            # Instance attributes shadow the methods: a step of the cycle is one C call.
            self._on_failure = self._cycle.on_failure  # type: ignore[method-assign,assignment]

    @property
    def log(self) -> FailureLog:
        """Every failure so far, row by row."""
        return self._log if self._cycle is None else netcore.failure_log(self._cycle)

    @property
    def repairs(self) -> int:
        """Repairs finished."""
        return self._repairs if self._cycle is None else self._cycle.repairs

    @property
    def wait_days(self) -> array[float]:
        """Per repair taken: from the failure to a crew taking the job, days."""
        return self._wait_days if self._cycle is None else netcore.crews_days(self._cycle, "wait")

    @property
    def downtime_days(self) -> array[float]:
        """Per repair finished: from the failure to the repair, days."""
        if self._cycle is None:
            return self._downtime_days
        return netcore.crews_days(self._cycle, "downtime")

    @property
    def failures(self) -> int:
        """Failures so far (the log's rows)."""
        return len(self._log) if self._cycle is None else self._cycle.failures

    @property
    def failure_days(self) -> array[float]:
        """When each failure happened, in order (the log's column)."""
        return self.log.failed

    # --- failures ------------------------------------------------------------------------

    # A site's draws, turned into days: its whole block at its first use (one vectorised call
    # instead of one per failure or repair), then, past the block, one at a time. The k-th
    # failure or repair of the site at v uses the k-th uniform of v (common random numbers).

    def _exp1_row(self, v: int) -> list[float]:
        """Exp(1) draws of the site at *v*'s failure clock: its block."""
        row: list[float] = (-np.log1p(-self.failure_draws.row(v))).tolist()
        return row

    def _exp1_extra(self, v: int) -> float:
        """The site at *v*'s next Exp(1) draw past its block."""
        return -math.log1p(-self.failure_draws.extra(v))

    def _durations_row(self, v: int) -> list[float]:
        """Repair durations (days) of the site at *v*: its block."""
        row: list[float] = ppf(self._repair_days(v), self.repair_draws.row(v)).tolist()
        return row

    def _duration_extra(self, v: int) -> float:
        """The site at *v*'s next repair duration past its block."""
        return float(ppf(self._repair_days(v), np.array([self.repair_draws.extra(v)]))[0])

    def _repair_duration(self, v: int) -> float:
        k = self.repair_draws.take(v)
        row = self._durations.get(v)
        if row is None:
            row = self._durations[v] = self._durations_row(v)
        return row[k] if k < len(row) else self._duration_extra(v)

    def _repair_days(self, v: int) -> BuildTime:
        """The repair-time distribution of the site at *v* (its zone's)."""
        return self.maint.repair_days[self.zone_names[int(self.zone[v])]]

    def expected_repair_usd_year(self, v: int) -> float:
        """Expected repair spending a year at a site at *v* (failure rate × repair cost, at
        the rate outside the rainy season): part of the running costs a reserve covers."""
        if not self.enabled:
            return 0.0
        return self.rate[v] * DAYS_PER_YEAR * self.cost[v]

    def start_site(self, v: int) -> None:
        """Called when site *v* first comes on air: its first failure is scheduled."""
        if self._cycle is not None:
            self._cycle.start(v)
        elif self.enabled:
            self._schedule_failure(v)

    def _time_to_failure(self, v: int) -> float:
        k = self.failure_draws.take(v)
        row = self._exp1.get(v)
        if row is None:
            row = self._exp1[v] = self._exp1_row(v)
        e = row[k] if k < len(row) else self._exp1_extra(v)
        now = self.env.now
        target = _interp(now, self.clock_t, self.clock_h) + e / self.rate[v]
        if target >= self.clock_h[-1]:
            return math.inf  # after the horizon
        # Mapping now to the clock and back rounds: with a tiny e / rate (or e = 0, a uniform
        # of 0) the result can come out a hair before now, and SimPy refuses a negative delay.
        return max(_interp(target, self.clock_h, self.clock_t) - now, 0.0)

    def _schedule_failure(self, v: int) -> None:
        # A site's life is a renewal process: up until it fails, down until it is repaired,
        # and its next time to failure counts from the repair. Each failure is one timeout
        # whose callback does the work (no process a site: a generator resumed per failure
        # and the event waited on for its repair were two events an outage more).
        ttf = self._time_to_failure(v)
        if ttf != math.inf:
            self.env.timeout(ttf, v).callbacks.append(self._on_failure)

    def _on_failure(self, event: simpy.Event) -> None:
        self._fail(cast(int, event.value), alone=True)  # the timeout carries the village

    def fail(self, v: int) -> simpy.Event:
        """Site *v* fails now, from outside its own failure process (a storm, a test): off air
        with its subtree, its repair queued for a crew (most people affected first). Returns an
        event that succeeds when it is repaired; the repair does not start a failure clock."""
        done = self.env.event()
        self._watched[self._fail(v) if self._cycle is None else self._cycle.fail(v)] = done
        return done

    def _fail(self, v: int, alone: bool = False) -> int:
        """:meth:`fail` without an event to wait on; returns the failure's log row. *alone*:
        nothing else runs after it in this step (a failure timeout's only callback)."""
        now = self.env.now
        network = self.network
        down_before = network.down_count
        affected = network.fail(v)
        row = self._log.add(v, now, affected, network.down_count - down_before)
        if self.stopped:
            return row  # nobody will repair it: the site stays down
        self._seq += 1
        heapq.heappush(self._waiting, (-float(affected), self._seq, v, row))
        if not self._wake_pending and self._free_at and self._free_at[0] <= now:
            # A crew is free: it takes a job at the end of this instant, so that failures of
            # one instant are weighed together (the most people first), as a queue would. (A
            # dispatch already due is no later than now: crews are all out until it.) When
            # nothing else is scheduled for this instant, its end is now: dispatching at once
            # is the same, without an event (most failures: ~50,000 events a national run).
            if alone and self.env.peek() > now:
                self._dispatch()
            else:
                self._wake_pending = True
                self.env.timeout(0).callbacks.append(self._on_wake)
        elif not self._wake_pending and self._free_at:
            # Every crew is out and no repair was waiting (else a dispatch would be due): this
            # one waits for the first crew back, not for the next failure to find it.
            self._wake_pending = True
            self.env.timeout(self._free_at[0] - now).callbacks.append(self._on_wake)
        return row

    # --- repairs -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Give waiting repairs to the crews that are back, in order; if repairs are left
        waiting, be woken when the next crew is back.

        The crews as a heap of return times rather than a process each: a crew's loop was a
        queue put, a get, and two timeouts an outage; here a repair is one timeout and a
        return costs an event only when a repair is waiting for it.
        """
        env = self.env
        now = env.now
        free_at = self._free_at
        waiting = self._waiting
        while waiting and free_at and free_at[0] <= now:
            _, _, v, row = heapq.heappop(waiting)
            failed_at = self._log.failed[row]
            self._log.taken[row] = now
            self._wait_days.append(now - failed_at)
            self._bill(v)
            travel = self.travel_days[v]
            if travel == math.inf:
                travel = 0.0  # no path on the graph: assume the site is reachable by other means
            work = travel + self._repair_duration(v)
            # The crew is back at its depot a trip after the repair.
            heapq.heapreplace(free_at, now + work + travel)
            env.timeout(work, row).callbacks.append(self._on_repaired)
        if waiting and free_at and not self._wake_pending:
            self._wake_pending = True
            env.timeout(free_at[0] - now).callbacks.append(self._on_wake)

    def _bill(self, v: int) -> None:
        """The repair at *v* is booked as payable and the crew goes: a going concern's crew
        does not sit idle waiting for money (the bill is paid first when cash comes in)."""
        ref = self._refs.get(v)
        if ref is None:
            ref = self._refs[v] = str(self.network.world.villages.ids[v])
        cost = self.cost[v]
        funding = self._repair_funding
        self.treasury.owe(
            cost,
            "repair",
            "maintenance",
            ref,
            support=None
            if funding is None
            else partial(funding.running_cost_support, "repair", cost, self.treasury, ref),
        )

    def _on_wake(self, _event: simpy.Event) -> None:
        self._wake_pending = False
        if not self.stopped:
            self._dispatch()

    def _on_repaired(self, event: simpy.Event) -> None:
        row: int = cast(int, event.value)  # the timeout carries the log row
        now = self.env.now
        log = self._log
        v = log.village[row]
        self._repairs += 1
        log.repaired[row] = now
        self._downtime_days.append(now - log.failed[row])
        self.network.repair(v)
        if self._watched:
            watched = self._watched.pop(row, None)
            if watched is not None:
                watched.succeed()
                return
        self._schedule_failure(v)  # its own clock runs again from the repair

    def stop(self) -> None:
        """No more repairs (after a default, if the scenario says so): repairs under way are
        finished, no other is started."""
        self.treasury.stop("repair")
        self.stopped = True
        self._waiting.clear()
        if self._cycle is not None:
            self._cycle.stop()
