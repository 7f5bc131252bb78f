"""Siting strategies: a lazy priority queue of candidate sites per operator, as a SimPy resource.

Priorities can fall between pushes (a neighbour's site takes some of a candidate's people) and
rise only through an explicit re-push (a cheaper backhaul appears). So the queue is a lazy
greedy (as in CELF): pop the top entry, recompute its priority; if unchanged it is the true best,
otherwise push it back with the new value. Entries carry a version so superseded ones are
skipped. Each pop costs O(log n) amortised; nothing is rescored in bulk.

Crews take candidates with ``yield queue.get()`` and wait in the resource's get queue while
there is none; ``queue.put(villages)`` re-queues candidates whose backhaul appeared or improved
and serves the waiting crews, longest waiting first. The heap stays custom under SimPy's
interface: no SimPy store re-scores its items, and a candidate's priority changes as others
are claimed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol, get_args

import numpy as np
import simpy
from numpy.typing import NDArray
from simpy.resources.base import BaseResource, Get, Put

from ..arrays import FloatArray, IntArray
from ..scenario.operators import Strategy
from . import netcore
from .backhaul import BH_FIBRE, BH_MICROWAVE, BH_NONE, BackhaulPlanner
from .coverage_state import CoverageState
from .finance import Halted

__all__ = ["STRATEGIES", "CandidateQueue", "Requeue"]

#: The ranking strategies the scenario allows, in its order.
STRATEGIES: Final[tuple[str, ...]] = get_args(Strategy)


#: A heap entry: (-priority, tiebreak, village, version), smallest first.
Entry = tuple[float, float, int, int]


class CandidateHeap(Protocol):
    """The lazy-greedy heap: heapq's operations on entries (``netcore.Heap`` has the same)."""

    def push(self, negp: float, tiebreak: float, village: int, version: int, /) -> None: ...
    def top(self) -> Entry | None: ...
    def pop(self) -> None: ...
    def replace(self, negp: float, tiebreak: float, village: int, version: int, /) -> None: ...
    def compact(self, version: IntArray, eligible: NDArray[np.bool_], /) -> None: ...
    def entries(self) -> list[Entry]: ...
    def __len__(self) -> int: ...


class ListHeap:
    """heapq over a list of tuples: the reference the compiled heap (``_netcore.Heap``, one
    array of structs) matches. Entries are all different (a village's version grows at every
    push), so their order is total and both pop them in the same order."""

    def __init__(
        self, negp: FloatArray, tiebreak: FloatArray, village: IntArray, version: IntArray
    ) -> None:
        self._h: list[Entry] = list(
            zip(negp.tolist(), tiebreak.tolist(), village.tolist(), version.tolist(), strict=True)
        )
        heapq.heapify(self._h)

    def push(self, negp: float, tiebreak: float, village: int, version: int, /) -> None:
        heapq.heappush(self._h, (negp, tiebreak, village, version))

    def top(self) -> Entry | None:
        return self._h[0] if self._h else None

    def pop(self) -> None:
        heapq.heappop(self._h)

    def replace(self, negp: float, tiebreak: float, village: int, version: int, /) -> None:
        heapq.heapreplace(self._h, (negp, tiebreak, village, version))

    def compact(self, version: IntArray, eligible: NDArray[np.bool_], /) -> None:
        """Keep the entries of their village's version, at villages still eligible."""
        self._h = [e for e in self._h if e[3] == version[e[2]] and eligible[e[2]]]
        heapq.heapify(self._h)

    def entries(self) -> list[Entry]:
        return list(self._h)

    def __len__(self) -> int:
        return len(self._h)


def candidate_heap(
    negp: FloatArray, tiebreak: FloatArray, village: IntArray, version: IntArray
) -> CandidateHeap:
    """A heap of these entries: compiled where the model's core is (see ``netcore``)."""
    if netcore.available():
        return netcore.heap(negp, tiebreak, village, version)
    return ListHeap(negp, tiebreak, village, version)


class Requeue(Put["CandidateQueue"]):
    """Request to (re-)queue candidates whose backhaul option appeared or improved."""

    def __init__(self, queue: CandidateQueue, villages: Iterable[int]) -> None:
        self.villages = villages
        super().__init__(queue)


class CandidateQueue(BaseResource[Requeue, Get["CandidateQueue"]]):
    """Candidates of one operator, best first according to its strategy.

    ``eligible`` marks villages the operator may still build at (in its area, no site yet);
    ``claimed`` those where anyone has a site (another operator may get there first).
    Candidates with no backhaul option leave the queue and come back when one appears.

    ``get()`` is served with the best candidate *v*: it leaves the queue, and ``take(v)`` is
    called at once, before any other request is served (the caller claims it there, so the next
    request sees its coverage taken); the request's value is what ``take`` returned. Requests
    wait, first come first served, while there is no candidate. :meth:`close` fails them all,
    and every later one, with :class:`~.finance.Halted`.
    """

    def __init__(
        self,
        env: simpy.Environment,
        strategy: str,
        eligible: NDArray[np.bool_],
        coverage: CoverageState,
        backhaul: BackhaulPlanner,
        site_capex: FloatArray,
        tiebreak: FloatArray,
        list_rank: FloatArray | None = None,
        relief: Callable[[int], float] | None = None,
        people_per_place: float | None = None,
        relief_all: Callable[[IntArray], FloatArray] | None = None,
        *,
        claimed: NDArray[np.bool_] | None = None,
        take: Callable[[int], Any] = int,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown siting strategy {strategy!r}")
        super().__init__(env, float("inf"))
        self.closed = False
        self._claimed = np.zeros(len(eligible), dtype=bool) if claimed is None else claimed
        self._take = take
        self.strategy = strategy
        self.eligible = eligible
        self.coverage = coverage
        self.backhaul = backhaul
        self.site_capex = site_capex
        self.tiebreak = tiebreak
        self.list_rank = list_rank
        #: Expected subsidy towards a site's capex: people per dollar counts the operator's
        #: own dollars, which is how a capex subsidy steers where an operator builds.
        self.relief = relief
        #: *relief* of many candidates at once (the same numbers), for the first heap.
        self.relief_all = relief_all
        self.people_per_place = people_per_place
        n = len(eligible)
        self.version = np.zeros(n, dtype=np.int64)
        self.queued = np.zeros(n, dtype=bool)
        self.priority: Callable[[int], float] = self._priority_fn(relief)
        start = np.flatnonzero(eligible & (backhaul.kind != BH_NONE))
        # The first heap at once (~100,000 candidates nationally): the same entries _entry
        # makes, from whole columns instead of a call per candidate.
        self._heap = candidate_heap(
            -self.priorities(start),
            tiebreak[start].astype(np.float64),
            start.astype(np.int64),
            self.version[start],
        )
        self._compact_at = 2 * len(self._heap) + 100_000
        self.queued[start] = True

    def _priority_fn(self, relief: Callable[[int], float] | None) -> Callable[[int], float]:
        """The priority of a candidate, with *relief* (a subsidy's expected share of its
        capex) taken off the operator's own dollars."""
        cov, bh, capex = self.coverage, self.backhaul, self.site_capex
        if self.strategy == "people_per_dollar":
            if relief is None:
                return lambda v: float(cov.gain[v]) / max(float(capex[v] + bh.capex[v]), 1.0)

            def per_own_dollar(v: int) -> float:
                cost = float(capex[v] + bh.capex[v])
                return float(cov.gain[v]) / max(cost - relief(v), 1.0)

            return per_own_dollar
        if self.strategy == "places_per_dollar":
            # Localities are what a rollout counted in places like Peru ("27 localities a
            # day"): the most newly covered places per dollar; people break ties.
            places = cov.gain_places
            per_person = 1e-9 if self.people_per_place is None else 1.0 / self.people_per_place

            def places_per_dollar(v: int) -> float:
                cost = float(capex[v] + bh.capex[v]) - (relief(v) if relief else 0.0)
                return (float(places[v]) + float(cov.gain[v]) * per_person) / max(cost, 1.0)

            return places_per_dollar
        if self.strategy == "largest_population":
            pop = cov.population
            return lambda v: float(pop[v])
        if self.strategy == "nearest_backhaul":

            def nearest(v: int) -> float:
                k = bh.kind[v]
                if k == BH_FIBRE:
                    return -float(bh.pop_dist_km[v])  # nearest PoP open now
                if k == BH_MICROWAVE:
                    return -float(bh.mw_dist[v])
                return -1e12  # satellite: no terrestrial link, last

            return nearest
        if self.strategy == "random":
            tb = self.tiebreak
            return lambda v: float(tb[v])
        rank = self.list_rank
        assert rank is not None
        return lambda v: -float(rank[v])

    def unaided_priority(self) -> Callable[[int], float]:
        """:attr:`priority` as if no subsidy relieved any capex: how the operator chose
        before any policy began (its initial sites), the same under every policy."""
        return self._priority_fn(None)

    def priorities(self, villages: IntArray) -> FloatArray:
        """:attr:`priority` of each of *villages*, bit for bit, computed on whole columns
        where the strategy allows (float64 arithmetic in the same order as the scalar
        function); a subsidy's expected relief too, when the queue has *relief_all*."""
        v = np.asarray(villages, dtype=np.int64)
        cov, bh = self.coverage, self.backhaul
        relief = None
        if self.relief_all is not None:
            relief = self.relief_all(v)
        elif self.relief is not None:
            relief = np.array([self.relief(int(x)) for x in v.tolist()], dtype=np.float64)
        if self.strategy in ("people_per_dollar", "places_per_dollar"):
            cost = self.site_capex[v] + bh.capex[v]
            gain = cov.gain[v].astype(np.float64)
            if self.strategy == "people_per_dollar":
                own = cost if relief is None else cost - relief
                return np.asarray(gain / np.maximum(own, 1.0))
            per_person = 1e-9 if self.people_per_place is None else 1.0 / self.people_per_place
            own = cost - (0.0 if relief is None else relief)
            places = cov.gain_places[v].astype(np.float64)
            return np.asarray((places + gain * per_person) / np.maximum(own, 1.0))
        if self.strategy == "largest_population":
            return np.asarray(cov.population[v], dtype=np.float64)
        if self.strategy == "random":
            return np.asarray(self.tiebreak[v], dtype=np.float64)
        if self.strategy == "list":
            assert self.list_rank is not None
            return np.asarray(-self.list_rank[v], dtype=np.float64)
        return np.array([self.priority(int(x)) for x in v.tolist()], dtype=np.float64)

    def _entry(self, v: int) -> Entry:
        return (-self.priority(v), float(self.tiebreak[v]), v, int(self.version[v]))

    def __len__(self) -> int:
        return int(self.queued.sum())

    # --- the SimPy resource ----------------------------------------------------------------

    def put(self, villages: Iterable[int]) -> Requeue:  # type: ignore[override]
        """Re-queue *villages* (at once) and serve the waiting requests."""
        return Requeue(self, villages)

    def close(self) -> None:
        """Serve no more candidates: every waiting request, and every later one, fails."""
        self.closed = True
        waiting = list(self.get_queue)
        self.get_queue.clear()
        for request in waiting:
            request.fail(Halted("siting"))

    def _do_put(self, event: Requeue) -> bool:
        if not self.closed:
            self.push(event.villages)
        event.succeed()
        return True

    def _do_get(self, event: Get[CandidateQueue]) -> bool:
        if self.closed:
            event.fail(Halted("siting"))
            return True
        v = self.best()
        if v is None:
            return False  # none for this request, nor for the ones behind it
        event.succeed(self._take(v))
        return True

    def best(self) -> int | None:
        """The best candidate nobody has claimed (removed from the queue), or None."""
        while True:
            v = self.pop()
            if v is None or not self._claimed[v]:
                return v
            self.eligible[v] = False  # another operator got there first

    def discard(self, v: int) -> None:
        """*v* is no longer a candidate (it was claimed)."""
        self.eligible[v] = False

    # --- the lazy-greedy heap ----------------------------------------------------------------

    def push(self, villages: Iterable[int]) -> bool:
        """(Re-)queue candidates whose backhaul option appeared or improved; True if any."""
        pushed = False
        for v in villages:
            v = int(v)
            if not self.eligible[v] or self.backhaul.kind[v] == BH_NONE:
                continue
            self.version[v] += 1
            self.queued[v] = True
            self._heap.push(*self._entry(v))
            pushed = True
        if len(self._heap) > self._compact_at:
            self._compact()
        return pushed

    def _compact(self) -> None:
        """Drop superseded entries (re-pushes leave the old ones behind): O(heap), amortised
        over the pushes that made it grow, so memory stays proportional to live candidates."""
        self._heap.compact(self.version, np.ascontiguousarray(self.eligible))
        self._compact_at = 2 * len(self._heap) + 100_000

    def pop(self) -> int | None:
        """The best candidate now (removed from the queue), or None if there is none."""
        heap = self._heap
        while (top := heap.top()) is not None:
            negp, _, v, ver = top
            if ver != self.version[v] or not self.eligible[v]:
                heap.pop()
                if ver == self.version[v]:
                    self.queued[v] = False
                continue
            if self.backhaul.kind[v] == BH_NONE:
                heap.pop()  # lost its option (satellite cap); back via push()
                self.queued[v] = False
                continue
            current = -self.priority(v)
            if current != negp:
                # Back in order at its current priority (what _entry would compute again).
                self.version[v] += 1
                heap.replace(current, float(self.tiebreak[v]), v, int(self.version[v]))
                continue
            heap.pop()
            self.queued[v] = False
            if self.strategy != "list" and self.coverage.gain[v] <= 0:
                self.eligible[v] = False  # would cover nobody new, now or later
                continue
            return v
        return None
