"""Which sites are in service, the backhaul tree, and the coverage they give.

State is indexed by village (a village hosts at most one site). A site is *in service* when it
is built, its own equipment works, and its backhaul is up: fibre, satellite, a hop to a PoP or
an existing 4G site, or a hop to a parent site that is itself in service. Taking a relay down
takes its whole in-service subtree down with it; bringing it back restores every descendant
whose own equipment works. Each change updates coverage incrementally and appends to the
traces the daily series are built from. What is known about each site (its operator, dates,
costs, people covered) is kept once, in :attr:`Network.sites`.
"""

from __future__ import annotations

from collections.abc import Callable
from math import isnan
from typing import TYPE_CHECKING

import numpy as np
import simpy

from ..world.build import World
from .coverage_state import CoverageState
from .finance import Ledger
from .netcore import CoreTrace, attach, service_traces
from .records import SiteRegister, Trace

if TYPE_CHECKING:
    from .._netcore import Core

__all__ = ["Network"]


class Network:
    """Shared by all operators: sites, their service state, coverage, records."""

    def __init__(self, env: simpy.Environment, world: World, ledger: Ledger) -> None:
        n = len(world)
        ops = len(ledger.operators)
        self.env = env
        self.world = world
        self.ledger = ledger
        self.coverage = CoverageState(world.coverage, world.villages.population, ops)
        self.sites = SiteRegister(n)
        self.events: list[tuple[float, int, str, str]] = []
        #: Villages with a site of anyone's, built or being built: nobody else may build there.
        self.claimed = np.zeros(n, dtype=bool)
        self.hw_up = np.ones(n, dtype=bool)
        self.in_service = np.zeros(n, dtype=bool)
        #: Microwave parent site (village index) or -1 (fibre, satellite, PoP, existing 4G).
        self.parent = np.full(n, -1, dtype=np.int64)
        #: Microwave children of each parent site (the Python walks'; the compiled core keeps
        #: its own when it runs them).
        self._children: dict[int, list[int]] = {}
        self.down_since = np.full(n, np.nan)
        self.down_total = np.zeros(n)
        # Per operator: called with the village when one of its sites is first in service.
        self._first_air: dict[int, Callable[[int], None]] = {}
        self.built_trace = Trace()
        self.on_air_trace = Trace()
        self._down_trace = Trace()
        self._net_trace = Trace()
        self.built_count = 0
        self.on_air_count = 0
        self._down_count = 0
        #: Per operator: its sites in service now, and (time, count) at every change.
        self._op_in_service = [0] * ops
        self._service_traces = [Trace() for _ in range(ops)]

        self.existing_4g = np.flatnonzero(world.villages.service == 2)
        self.claimed[self.existing_4g] = True
        self.in_service[self.existing_4g] = True
        # Planning does not read what is on air, nor switching what is planned: all planned
        # at once, then switched on in order (the change log keeps one block per site).
        self.coverage.plan_all(self.existing_4g)
        self.coverage.switch_on_all(self.existing_4g, 0.0)
        self.mark_start()
        self._net_trace.add(0.0, self.coverage.people_covered)
        # From here the outage path runs in the compiled core where it is built (netcore.py):
        # the walks and switches below are then the reference it matches, bit for bit.
        self._core_traces: tuple[CoreTrace, CoreTrace, list[CoreTrace]] | None = None
        self._core = attach(self)
        if self._core is not None:
            # Instance attributes shadow the methods: a walk is one C call, no Python frame.
            self.bring_up = self._core.bring_up  # type: ignore[method-assign,assignment]
            self.take_down = self._core.take_down  # type: ignore[method-assign,assignment]
            self.fail = self._core.fail  # type: ignore[method-assign,assignment]
            self.repair = self._core.repair  # type: ignore[method-assign,assignment]
            self._core_traces = service_traces(self._core, ops)

    @property
    def core(self) -> Core | None:
        """The compiled core running this network's outage path, or None (Python)."""
        return self._core

    @property
    def net_trace(self) -> Trace | CoreTrace:
        """(time, people covered) after every change of service."""
        return self._net_trace if self._core_traces is None else self._core_traces[0]

    @property
    def down_trace(self) -> Trace | CoreTrace:
        """(time, sites down) after every change of service."""
        return self._down_trace if self._core_traces is None else self._core_traces[1]

    @property
    def op_service_trace(self) -> list[Trace] | list[CoreTrace]:
        """Per operator: (time, its sites in service) at every change of that count."""
        return self._service_traces if self._core_traces is None else self._core_traces[2]

    @property
    def down_count(self) -> int:
        """Sites (of anyone, built) out of service now."""
        return self._down_count if self._core is None else self._core.down_count

    @down_count.setter
    def down_count(self, value: int) -> None:
        if self._core is None:
            self._down_count = value
        else:
            self._core.down_count = value

    @property
    def op_in_service(self) -> list[int]:
        """Per operator: its sites in service now."""
        return self._op_in_service if self._core is None else self._core.op_in_service

    def on_first_air(self, op: int, listener: Callable[[int], None]) -> None:
        """Call *listener* with the village whenever a site of operator *op* comes into service
        for the first time (an operator registers once, when it is built)."""
        if op in self._first_air:
            raise ValueError(f"operator {op} already listens for its sites' first day on air")
        self._first_air[op] = listener

    # --- records -------------------------------------------------------------------------

    def log_event(self, op: int, kind: str, detail: str) -> None:
        self.events.append((self.env.now, op, kind, detail))

    def _record_service(self) -> None:
        now = self.env.now
        net, down = self._net_trace, self._down_trace
        # The appends written out: this runs twice an outage.
        net.time.append(now)
        net.value.append(self.coverage._people)
        down.time.append(now)
        down.value.append(self._down_count)
        for trace, count in zip(self._service_traces, self._op_in_service, strict=True):
            if not trace.value or trace.value[-1] != count:
                trace.add(now, count)

    # --- life cycle ----------------------------------------------------------------------

    def claim(self, v: int, site: int, op: int, parent: int) -> None:
        """Put the site registered as row *site* of ``sites`` (operator *op*) at *v* in the
        network: nobody else builds at *v*, its microwave *parent* (a village, or -1) carries
        its backhaul, and the people it will newly cover count as planned."""
        sites = self.sites
        if sites.rows[site] != v or sites.operator[v] != op:
            raise ValueError(f"site row {site} is not operator {op}'s site at village {v}")
        self.claimed[v] = True
        self.parent[v] = parent
        if parent >= 0:
            if self._core is None:
                self._children.setdefault(parent, []).append(v)
            else:
                self._core.add_child(parent, v)
        sites.people_planned[v] = self.coverage.plan(v)

    def backhaul_up(self, v: int) -> bool:
        p = int(self.parent[v])
        return p < 0 or bool(self.in_service[p])

    def mark_start(self) -> None:
        """Take what is covered now as the start: the existing network, and the operators'
        initial sites once they are placed (they were built before the start, so the places
        and people they cover are not the rollout's: not "newly reached", not new places on
        day 0, as the impact estimates already count them)."""
        self.initial_villages_covered = self.coverage.villages_covered
        self.initial_people_covered = self.coverage.people_covered

    def start_build(self, v: int) -> None:
        """Works start on the site at *v* now."""
        self.sites.build_start_day[v] = self.env.now

    def finish_build(self, v: int) -> None:
        """A site is built; it comes on air now if its backhaul is up, else with its parent."""
        now = self.env.now
        self.sites.built_day[v] = now
        self.built_count += 1
        self.built_trace.add(now, self.built_count)
        if self.backhaul_up(v):
            self.bring_up(v)

    def bring_up(self, v: int) -> None:
        """Put *v* (built, equipment working, backhaul up) and its waiting subtree in service."""
        now = self.env.now
        sites = self.sites
        built_day, on_air_day, operator = sites.built_day, sites.on_air_day, sites.operator
        in_service, hw_up, children = self.in_service, self.hw_up, self._children
        switch_on = self.coverage.switch_on
        stack = [v]
        while stack:
            x = stack.pop()
            # A site not built yet has no built day; the starting network's sites are always
            # in service, so they never get this far.
            if in_service[x] or isnan(built_day[x]) or not hw_up[x]:
                continue
            in_service[x] = True
            op = int(operator[x])
            first = isnan(on_air_day[x])
            villages, people = switch_on(x, now, op, first)
            if op >= 0:
                self._op_in_service[op] += 1
            if first:
                on_air_day[x] = now
                self._on_first_air(x, villages, people)
            else:
                self.down_total[x] += now - self.down_since[x]
                self.down_since[x] = np.nan
                self._down_count -= 1
            kids = children.get(x)
            if kids:
                stack.extend(kids)
        self._record_service()

    def _on_first_air(self, x: int, villages: int, people: int) -> None:
        """Site *x* is in service for the first time (its on-air day is set), covering
        *villages* and *people* first: record it, and tell its operator's listener."""
        sites = self.sites
        sites.villages_new[x] = villages
        sites.people_new[x] = people
        self.on_air_count += 1
        self.on_air_trace.add(self.env.now, self.on_air_count)
        listener = self._first_air.get(int(sites.operator[x]))
        if listener is not None:
            listener(x)

    def take_down(self, v: int) -> int:
        """Take *v* and its in-service subtree off air; returns the people who lost cover."""
        now = self.env.now
        coverage = self.coverage
        before = coverage._people
        operator, in_service, children = self.sites.operator, self.in_service, self._children
        switch_off = self.coverage.switch_off
        stack = [v]
        while stack:
            x = stack.pop()
            if not in_service[x]:
                continue
            in_service[x] = False
            op = int(operator[x])
            switch_off(x, now, op)
            if op >= 0:
                self._op_in_service[op] -= 1
            self.down_since[x] = now
            self._down_count += 1
            kids = children.get(x)
            if kids:
                stack.extend(kids)
        self._record_service()
        return before - coverage._people

    def fail(self, v: int) -> int:
        """The site's own equipment fails; returns the people who lost cover."""
        self.hw_up[v] = False
        return self.take_down(v)

    def repair(self, v: int) -> None:
        """The site's equipment works again; it (and its subtree) return if backhaul is up."""
        self.hw_up[v] = True
        if self.backhaul_up(v):
            self.bring_up(v)

    def downtime_until(self, t: float, at: np.ndarray | None = None) -> np.ndarray:
        """Cumulative downtime of every site (or of the villages *at*) up to time *t*, ongoing
        outages included. An operator's books ask monthly for its few thousand sites: a
        national world has ~95,000 villages."""
        since = self.down_since if at is None else self.down_since[at]
        total = self.down_total if at is None else self.down_total[at]
        ongoing = np.where(np.isnan(since), 0.0, t - since)
        return np.asarray(total + ongoing, dtype=np.float64)
