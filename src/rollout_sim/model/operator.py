"""An operator's build pipeline as SimPy processes.

Each build crew loops: take the best candidate from the siting queue (or sleep until the queue
gets one), claim it, wait until its capex is paid, build for the site's drawn duration, then
switch the site on — at once if its backhaul is up, else when its microwave parent comes on air.
Nothing polls: crews wake on queue pushes, payments on cash arrivals, sites on parents.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..scenario.schema import Operator
from ..world.build import World
from .backhaul import BH_MICROWAVE, BH_SATELLITE, BackhaulPlanner
from .coverage_state import CoverageState
from .distributions import ppf
from .finance import Ledger, Treasury
from .records import SiteLog, Trace
from .siting import CandidateQueue

__all__ = ["OperatorAgent", "SharedState"]

FloatArray = NDArray[np.float64]


class SharedState:
    """What all operators see: coverage, claims, records, and the existing 4G relays."""

    def __init__(self, env: simpy.Environment, world: World, ledger: Ledger) -> None:
        n = len(world)
        self.env = env
        self.world = world
        self.ledger = ledger
        self.coverage = CoverageState(world.coverage, world.villages.population)
        self.claimed = np.zeros(n, dtype=bool)
        self.sites = SiteLog()
        self.built = Trace()
        self.on_air = Trace()
        self.villages_trace = Trace()
        self.people_trace = Trace()
        self.existing_4g = np.flatnonzero(world.villages.service == 2)
        for v in self.existing_4g.tolist():
            self.claimed[v] = True
            self.coverage.plan(v)
            self.coverage.switch_on(v, 0.0)
        self.initial_villages_covered = self.coverage.villages_covered
        self.initial_people_covered = self.coverage.people_covered
        self.built_count = 0
        self.on_air_count = 0


class OperatorAgent:
    """One operator: siting queue, backhaul planner, treasury and crews."""

    def __init__(
        self,
        index: int,
        spec: Operator,
        shared: SharedState,
        backhaul_spec: Any,
        u_build: FloatArray,
        tiebreak: FloatArray,
    ) -> None:
        world = shared.world
        v = world.villages
        n = len(world)
        self.index = index
        self.spec = spec
        self.shared = shared
        self.env = shared.env
        self.treasury = Treasury(self.env, shared.ledger, index)

        area = np.ones(n, dtype=bool)
        if spec.regions is not None:
            area &= np.isin(v.region, [v.region_names.index(r) for r in spec.regions])
        if spec.zones is not None:
            area &= np.isin(v.zone, [v.zone_names.index(z) for z in spec.zones])
        self.area = area
        eligible = area & ~shared.claimed
        list_rank = None
        if spec.siting.strategy == "list":
            assert spec.siting.villages is not None
            index_of = v.index_of()
            list_rank = np.full(n, np.inf)
            for rank, vid in enumerate(spec.siting.villages):
                list_rank[index_of[vid]] = min(list_rank[index_of[vid]], rank)
            eligible &= np.isfinite(list_rank)

        self.is_upgrade = v.service == 1
        green = np.array([spec.capex_usd.greenfield[z] for z in v.zone_names])[v.zone]
        upgr = np.array([spec.capex_usd.upgrade[z] for z in v.zone_names])[v.zone]
        self.site_capex = np.where(self.is_upgrade, upgr, green)
        days = np.zeros(n)
        for z, name in enumerate(v.zone_names):
            mask = v.zone == z
            days[mask] = ppf(spec.build_days[name], u_build[mask])
        self.build_days = np.where(self.is_upgrade, days * spec.upgrade_time_factor, days)

        self.backhaul = BackhaulPlanner(world, backhaul_spec, backhaul_spec.satellite.max_sites)
        for s in shared.existing_4g.tolist():
            self.backhaul.add_relay(s, eligible)
        self.queue = CandidateQueue(
            spec.siting.strategy,
            eligible,
            shared.coverage,
            self.backhaul,
            self.site_capex,
            tiebreak,
            list_rank,
        )
        self._on_air_events: dict[int, simpy.Event] = {}
        self._wakeup: simpy.Event | None = None
        self.treasury.receive(spec.cash_usd, "equity", "shareholders", "starting cash")
        for crew in range(spec.build_crews):
            self.env.process(self._crew(crew))

    # --- queue ---------------------------------------------------------------------------

    def _next_candidate(self) -> int | None:
        while True:
            v = self.queue.pop()
            if v is None or not self.shared.claimed[v]:
                return v
            self.queue.eligible[v] = False  # another operator got there first

    def _wait_for_candidates(self) -> simpy.Event:
        if self._wakeup is None or self._wakeup.triggered:
            self._wakeup = self.env.event()
        return self._wakeup

    def _notify(self) -> None:
        if self._wakeup is not None and not self._wakeup.triggered:
            self._wakeup.succeed()

    # --- the pipeline --------------------------------------------------------------------

    def _crew(self, crew: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            v = self._next_candidate()
            if v is None:
                yield self._wait_for_candidates()
                continue
            site = self._claim(v)
            sites = self.shared.sites
            yield self.treasury.pay(
                sites.capex_usd[site],
                "capex",
                "contractors",
                str(self.shared.world.villages.ids[v]),
            )
            self._start(site)
            yield env.timeout(float(self.build_days[v]))
            self._finish(site)

    def _claim(self, v: int) -> int:
        shared = self.shared
        bh = self.backhaul
        kind = int(bh.kind[v])
        parent = int(bh.parent[v]) if kind == BH_MICROWAVE else 0
        if kind == BH_SATELLITE:
            bh.use_satellite()
        shared.claimed[v] = True
        self.queue.eligible[v] = False
        shared.coverage.plan(v)
        capex = float(self.site_capex[v] + bh.capex[v])
        return shared.sites.add(
            v, self.index, bool(self.is_upgrade[v]), kind, parent, self.env.now, capex
        )

    def _start(self, site: int) -> None:
        sites = self.shared.sites
        v = sites.village[site]
        sites.build_start_day[site] = self.env.now
        self._on_air_events[v] = self.env.event()
        improved = self.backhaul.add_relay(v, self.queue.eligible)
        if len(improved) and self.queue.push(improved.tolist()):
            self._notify()

    def _finish(self, site: int) -> None:
        shared = self.shared
        sites = shared.sites
        sites.built_day[site] = self.env.now
        shared.built_count += 1
        shared.built.add(self.env.now, shared.built_count)
        parent = sites.parent[site]
        if sites.backhaul[site] == BH_MICROWAVE and parent >= 0:
            upstream = self._on_air_events.get(parent)
            if upstream is not None and not upstream.processed:
                upstream.callbacks.append(lambda _event: self._switch_on(site))
                return
        self._switch_on(site)

    def _switch_on(self, site: int) -> None:
        shared = self.shared
        sites = shared.sites
        v = sites.village[site]
        now = self.env.now
        sites.on_air_day[site] = now
        villages, people = shared.coverage.switch_on(v, now)
        sites.villages_new[site] = villages
        sites.people_new[site] = people
        shared.on_air_count += 1
        shared.on_air.add(now, shared.on_air_count)
        shared.villages_trace.add(now, shared.coverage.villages_covered)
        shared.people_trace.add(now, shared.coverage.people_covered)
        self._on_air_events[v].succeed()
