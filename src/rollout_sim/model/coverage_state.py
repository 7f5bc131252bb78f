"""Coverage bookkeeping shared by all operators, updated incrementally per site.

Two counters per village: ``planned`` counts sites claimed (being built or on air) that will
cover it, which drives siting ("newly covered people" of a candidate); ``on_air`` counts on-air
sites covering it, which drives the reported coverage. Each update touches only the villages
the site covers (and, for ``gain``, the candidate sites that cover those), never all villages.

Each modelled operator also has its own **footprint**, counted as operators report it: the
places (and their people) inside the coverage of its in-service sites, whoever else covers
them too; and the places it covered *first* (no site of anyone covered them before). The
sites of the starting network belong to no modelled operator (operator ``-1``).
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..arrays import IntArray
from ..world.coverage import CoverageIndex

if TYPE_CHECKING:
    from .._netcore import Core
    from .netcore import CoreFootprint

__all__ = ["CoverageState"]


class Footprint:
    """One operator's served places and people, kept incrementally, with their history."""

    def __init__(self, n: int) -> None:
        self.on_air: list[int] = [0] * n  # the operator's in-service sites covering each place
        self.places = 0
        self.people = 0
        #: (time, places served, people served) after every change.
        self.time: array[float] = array("d", [0.0])
        self.place_count: array[int] = array("q", [0])
        self.people_count: array[int] = array("q", [0])

    def record(self, t: float) -> None:
        if self.time[-1] == t:  # several switches at one instant: keep the last state
            self.place_count[-1] = self.places
            self.people_count[-1] = self.people
            return
        self.time.append(t)
        self.place_count.append(self.places)
        self.people_count.append(self.people)


class CoverageState:
    """Per-village cover counts, totals kept incrementally, and each candidate's gain."""

    def __init__(self, index: CoverageIndex, population: IntArray, operators: int = 0) -> None:
        n = len(population)
        self.index = index
        self.population = population
        self.planned = np.zeros(n, dtype=np.int32)
        # Switching a site touches ~10-50 villages: plain Python lists beat numpy's per-call
        # overhead by ~10x there, and switches are the most frequent state change.
        self._on_air: list[int] = [0] * n
        self._pop: list[int] = population.tolist()
        self._covers: list[list[int] | None] = [None] * n
        self._first: dict[int, float] = {}
        #: Operator whose site covered each place first (-1: the starting network or never).
        self.first_op = np.full(n, -1, dtype=np.int16)
        self._fps = [Footprint(n) for _ in range(operators)]
        self._rollout = self._fps[0] if operators == 1 else Footprint(n)
        #: Every change of a village's served state: (time, village, +1 gained / −1 lost),
        #: appended in blocks, one per site switched (for impact estimates over outages).
        self.change_time: array[float] = array("d")
        # Stored as compact int32 arrays: a 30-year national run logs millions of changes.
        self.change_villages: array[int] = array("i")
        self.change_count: array[int] = array("i")
        self.change_sign: array[int] = array("b")
        self._villages = 0
        self._people = 0
        #: The compiled outage path, once it keeps the switching state (:meth:`adopt`).
        self._core: Core | None = None
        self._core_fps: tuple[list[CoreFootprint], CoreFootprint] | None = None
        # gain[v] = people a site at v would newly cover, given sites planned so far.
        counts = np.diff(index.indptr)
        rows = np.repeat(np.arange(n), counts)
        self.gain = np.bincount(rows, weights=population[index.indices], minlength=n).astype(
            np.int64
        )
        #: gain_places[v] = places a site at v would newly cover (for places_per_dollar).
        self.gain_places = counts.astype(np.int64)

    def plan(self, site: int) -> int:
        """Count a claimed site in ``planned``; returns the people it newly plans to cover."""
        cov = self.index.covers(site)
        fresh = cov[self.planned[cov] == 0]
        self.planned[cov] += 1
        if len(fresh) == 0:
            return 0
        ip = self.index.t_indptr
        starts, ends = ip[fresh], ip[fresh + 1]
        counts = ends - starts
        # Flat indices of every candidate site that covers a freshly planned village.
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        sites = self.index.t_indices[offsets]
        np.subtract.at(self.gain, sites, np.repeat(self.population[fresh], counts))
        np.subtract.at(self.gain_places, sites, 1)
        return int(self.population[fresh].sum())

    def plan_all(self, sites: IntArray) -> None:
        """:meth:`plan` for each of *sites* (their people planned not returned), at once.

        The counts end the same whatever the order: ``planned`` rises by each site's cover and
        a candidate's gain loses each village that went from unplanned to planned. For the
        starting network (~11,000 sites in a national world), one vectorised pass instead of
        a numpy call per site.
        """
        sites = np.asarray(sites, dtype=np.int64)
        if len(sites) == 0:
            return
        cov = self.index.covers_all(sites)
        before = self.planned.copy()
        self.planned += np.bincount(cov, minlength=len(self.planned)).astype(np.int32)
        fresh = np.flatnonzero((before == 0) & (self.planned > 0))
        if len(fresh) == 0:
            return
        tp = self.index.t_indptr
        counts = tp[fresh + 1] - tp[fresh]
        candidates = self.index.covered_by_all(fresh)
        np.subtract.at(self.gain, candidates, np.repeat(self.population[fresh], counts))
        np.subtract.at(self.gain_places, candidates, 1)

    # --- the compiled outage path -------------------------------------------------------

    def adopt(self, core: Core, footprints: list[CoreFootprint], rollout: CoreFootprint) -> None:
        """From now on the switching state lives in *core* (``rollout_sim._netcore``): counts,
        first-covered days, footprints and the change log; this object reads them from there.
        :meth:`plan` runs there too, updating ``planned``, ``gain`` and ``gain_places`` in
        place (they stay this object's arrays).
        Called once, by :func:`rollout_sim.model.netcore.attach`, before any operator's site
        switches."""
        if self._core is not None:
            raise RuntimeError("coverage state already kept by the compiled core")
        self._core = core
        # Instance attributes shadow the methods: a switch is one C call, no Python frame.
        self.plan = core.plan  # type: ignore[method-assign,assignment]
        self.switch_on = core.switch_on  # type: ignore[method-assign,assignment]
        self.switch_off = core.switch_off  # type: ignore[method-assign,assignment]
        self._core_fps = (footprints, rollout)
        # The Python copies are stale from here: drop them so nothing reads them by mistake.
        self._on_air = []
        self._first = {}
        self._covers = []
        self.change_time, self.change_villages = array("d"), array("i")
        self.change_count, self.change_sign = array("i"), array("b")

    @property
    def footprints(self) -> list[Footprint] | list[CoreFootprint]:
        """Each modelled operator's footprint."""
        return self._fps if self._core_fps is None else self._core_fps[0]

    @property
    def rollout(self) -> Footprint | CoreFootprint:
        """The footprint of every modelled operator together (places served by any of them):
        the rollout's own reach, counted once. With one operator it is that operator's."""
        return self._rollout if self._core_fps is None else self._core_fps[1]

    @property
    def villages_covered(self) -> int:
        """Villages with at least one on-air site covering them now."""
        return self._villages if self._core is None else self._core.villages_covered

    @villages_covered.setter
    def villages_covered(self, value: int) -> None:
        if self._core is None:
            self._villages = value
        else:
            self._core.villages_covered = value

    @property
    def people_covered(self) -> int:
        """People in the villages covered now."""
        return self._people if self._core is None else self._core.people_covered

    @people_covered.setter
    def people_covered(self, value: int) -> None:
        if self._core is None:
            self._people = value
        else:
            self._core.people_covered = value

    @property
    def first_covered(self) -> NDArray[np.float64]:
        """Day each village was first covered (NaN = never)."""
        if self._core is not None:
            return np.frombuffer(self._core.first_day(), dtype=np.float64).copy()
        out = np.full(len(self._on_air), np.nan)
        if self._first:
            idx = np.fromiter(self._first.keys(), dtype=np.int64, count=len(self._first))
            out[idx] = np.fromiter(self._first.values(), dtype=np.float64, count=len(self._first))
        return out

    @property
    def on_air(self) -> NDArray[np.int32]:
        """On-air sites covering each village."""
        if self._core is not None:
            return np.frombuffer(self._core.on_air(), dtype=np.int32).copy()
        return np.array(self._on_air, dtype=np.int32)

    def _cov(self, site: int) -> list[int]:
        cov = self._covers[site]
        if cov is None:
            cov = self._covers[site] = self.index.covers(site).tolist()
        return cov

    def changes(self) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int8]]:
        """Flat (time, village, sign) arrays of every served-state change, in time order."""
        if self._core is not None:
            from .netcore import change_log

            return change_log(self._core)
        if not self.change_time:
            return np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int8)
        counts = np.frombuffer(self.change_count, dtype=np.int32)
        return (
            np.repeat(np.frombuffer(self.change_time, dtype=np.float64), counts),
            np.frombuffer(self.change_villages, dtype=np.int32).copy(),
            np.repeat(np.frombuffer(self.change_sign, dtype=np.int8), counts),
        )

    def switch_on(self, site: int, t: float, op: int = -1, first: bool = True) -> tuple[int, int]:
        """A site of operator *op* comes into service: returns (villages, people) covered *for
        the first time*.

        Net counts (``villages_covered``/``people_covered``) also rise for villages that had
        lost cover in an outage; so does the operator's footprint. *first*: the site's first
        day in service; back from an outage (False), every village it covers was covered
        before (by it, at least), so none is counted as first covered and none is looked up.
        """
        on = self._on_air
        pop = self._pop
        fresh = []
        cov = self._cov(site)
        if op >= 0:
            # The operator's footprint in the same pass over the villages: switches are the
            # most frequent state change, and a second loop was a third of their cost.
            fp = self._fps[op]
            fon = fp.on_air
            places = people_fp = 0
            for u in cov:
                if on[u] == 0:
                    fresh.append(u)
                on[u] += 1
                if fon[u] == 0:
                    places += 1
                    people_fp += pop[u]
                fon[u] += 1
            fp.places += places
            fp.people += people_fp
            fp.record(t)
            if len(self._fps) > 1:
                self._footprint_on(self._rollout, cov, t)
        else:
            for u in cov:
                if on[u] == 0:
                    fresh.append(u)
                on[u] += 1
        if not fresh:
            return 0, 0
        self.change_time.append(t)
        self.change_villages.extend(fresh)
        self.change_count.append(len(fresh))
        self.change_sign.append(1)
        self._villages += len(fresh)
        if not first:
            self._people += sum([pop[u] for u in fresh])
            return 0, 0
        first_v = first_p = 0
        people = 0
        seen = self._first
        first_op = self.first_op
        for u in fresh:
            people += pop[u]
            if u not in seen:
                seen[u] = t
                first_op[u] = op
                first_v += 1
                first_p += pop[u]
        self._people += people
        return first_v, first_p

    def switch_on_all(self, sites: IntArray, t: float) -> None:
        """:meth:`switch_on` for each of *sites* in order, at time *t*, for sites of no modelled
        operator (the starting network), at once.

        The same state as one by one: each village's count rises by the sites covering it, a
        village is fresh at the first of *sites* that covers it, and the change log keeps one
        block per site with a fresh village, in order. A national world starts with ~11,000
        sites: one pass instead of a Python loop over each one's villages.
        """
        if self._core is not None:
            raise RuntimeError("switch_on_all is for the starting network, before the core")
        sites = np.asarray(sites, dtype=np.int64)
        if len(sites) == 0:
            return
        ip = self.index.indptr
        counts = ip[sites + 1] - ip[sites]
        flat = self.index.covers_all(sites)
        owner = np.repeat(np.arange(len(sites)), counts)  # which of *sites* each entry is of
        before = np.array(self._on_air, dtype=np.int64)
        # A village is fresh where it first appears in the flat list, if nothing covered it yet.
        _, first = np.unique(flat, return_index=True)
        first.sort()
        fresh_at = first[before[flat[first]] == 0]
        fresh = flat[fresh_at]
        self._on_air = (before + np.bincount(flat, minlength=len(before))).tolist()
        if len(fresh) == 0:
            return
        per_site = np.bincount(owner[fresh_at], minlength=len(sites))
        blocks = per_site[per_site > 0]
        self.change_time.extend([t] * len(blocks))
        self.change_villages.extend(fresh.tolist())
        self.change_count.extend(blocks.tolist())
        self.change_sign.extend([1] * len(blocks))
        self._villages += len(fresh)
        self._people += int(self.population[fresh].sum())
        seen = self._first
        for u in fresh.tolist():
            if u not in seen:
                seen[u] = t
                self.first_op[u] = -1

    def _footprint_on(self, fp: Footprint, cov: list[int], t: float) -> None:
        on, pop = fp.on_air, self._pop
        for u in cov:
            if on[u] == 0:
                fp.places += 1
                fp.people += pop[u]
            on[u] += 1
        fp.record(t)

    def _footprint_off(self, fp: Footprint, cov: list[int], t: float) -> None:
        on, pop = fp.on_air, self._pop
        for u in cov:
            on[u] -= 1
            if on[u] == 0:
                fp.places -= 1
                fp.people -= pop[u]
        fp.record(t)

    def switch_off(self, site: int, t: float, op: int = -1) -> tuple[int, int]:
        """A site of operator *op* goes off air: returns (villages, people) that lost their
        last cover."""
        on = self._on_air
        pop = self._pop
        lost = []
        people = 0
        cov = self._cov(site)
        if op >= 0:
            fp = self._fps[op]  # in the same pass, as in switch_on
            fon = fp.on_air
            places = people_fp = 0
            for u in cov:
                on[u] -= 1
                if on[u] == 0:
                    lost.append(u)
                    people += pop[u]
                fon[u] -= 1
                if fon[u] == 0:
                    places += 1
                    people_fp += pop[u]
            fp.places -= places
            fp.people -= people_fp
            fp.record(t)
            if len(self._fps) > 1:
                self._footprint_off(self._rollout, cov, t)
        else:
            for u in cov:
                on[u] -= 1
                if on[u] == 0:
                    lost.append(u)
                    people += pop[u]
        if not lost:
            return 0, 0
        self.change_time.append(t)
        self.change_villages.extend(lost)
        self.change_count.append(len(lost))
        self.change_sign.append(-1)
        self._villages -= len(lost)
        self._people -= people
        return len(lost), people
