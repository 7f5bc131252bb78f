"""An operator's build pipeline as SimPy processes, with its money, credit and maintenance.

Two pipelines, chosen by the scenario:

* **turnkey** (no ``permit_days``): each build crew loops: take the best candidate from the
  siting queue (or sleep until the queue gets one), claim it, wait until its capex is paid
  (cash, then credit), build for the site's drawn duration. A crew is a slot of the whole
  pipeline.
* **permits apart from works** (``permit_days`` given): a planning desk keeps up to
  ``permit_capacity`` sites in preparation; each is permitted (a drawn duration that holds no
  crew; upgrades of existing sites need none), then its capex is paid, then it waits in a FIFO
  for a construction crew, which only builds. Crews are teams that build.

A built site goes to the network, which puts it on air at once if its backhaul is up or with
its parent otherwise. Nothing polls: crews wake on queue pushes, payments on cash arrivals,
sites on their parents. A default stops new builds for good. An operator may start with
initial assets: existing sites of its own, in service on day 0.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from datetime import date
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..scenario.schema import Backhaul, Maintenance, Operator
from .accounting import Accounts, month_starts
from .backhaul import BH_FIBRE, BH_MICROWAVE, BH_NONE, BH_SATELLITE, BackhaulPlanner
from .credit import CreditDesk
from .crews import IdlePool
from .distributions import ppf
from .finance import Halted, Treasury
from .funding import FundingDesk
from .maintenance import MaintenanceCrews, VillageDraws
from .network import Network
from .siting import CandidateQueue

__all__ = ["OperatorAgent"]

FloatArray = NDArray[np.float64]


class OperatorAgent:
    """One operator: siting queue, backhaul planner, treasury, credit, crews, books."""

    def __init__(
        self,
        index: int,
        spec: Operator,
        network: Network,
        *,
        backhaul_spec: Backhaul,
        maintenance_spec: Maintenance,
        start_date: date,
        horizon_days: int,
        depots: NDArray[np.int64],
        u_build: FloatArray,
        u_permit: FloatArray,
        tiebreak: FloatArray,
        failure_draws: VillageDraws,
        repair_draws: VillageDraws,
        funding: FundingDesk,
    ) -> None:
        world = network.world
        v = world.villages
        n = len(world)
        self.index = index
        self.spec = spec
        self.network = network
        self.env = network.env
        self.halted = False
        self.treasury = Treasury(self.env, network.ledger, index)
        self.treasury.capex_reserve = spec.capex_reserve_usd

        area = np.ones(n, dtype=bool)
        if spec.regions is not None:
            area &= np.isin(v.region, [v.region_names.index(r) for r in spec.regions])
        if spec.zones is not None:
            area &= np.isin(v.zone, [v.zone_names.index(z) for z in spec.zones])
        eligible = area & ~network.claimed
        list_rank = None
        if spec.siting.strategy == "list":
            assert spec.siting.villages is not None
            index_of = v.index_of()
            list_rank = np.full(n, np.inf)
            for rank, vid in enumerate(spec.siting.villages):
                list_rank[index_of[vid]] = min(list_rank[index_of[vid]], rank)
            eligible &= np.isfinite(list_rank)

        def by_zone(table: dict[str, float]) -> FloatArray:
            return np.array([table[z] for z in v.zone_names], dtype=np.float64)[v.zone]

        self.is_upgrade = v.service == 1
        self.site_capex = np.where(
            self.is_upgrade, by_zone(spec.capex_usd.upgrade), by_zone(spec.capex_usd.greenfield)
        )
        days = np.zeros(n)
        for z, name in enumerate(v.zone_names):
            mask = v.zone == z
            days[mask] = ppf(spec.build_days[name], u_build[mask])
        self.build_days = np.where(self.is_upgrade, days * spec.upgrade_time_factor, days)
        #: Days of permits before works may start (none for upgrades: the site exists).
        self.permit_days = np.zeros(n)
        if spec.permit_days is not None:
            for z, name in enumerate(v.zone_names):
                mask = v.zone == z
                self.permit_days[mask] = ppf(spec.permit_days[name], u_permit[mask])
            self.permit_days[self.is_upgrade] = 0.0
        self.site_opex = by_zone(spec.opex_usd_year)
        self.backhaul_opex = np.array(
            [
                0.0,
                backhaul_spec.fibre.opex_per_year_usd,
                backhaul_spec.microwave.opex_per_year_usd,
                backhaul_spec.satellite.opex_per_year_usd,
            ]
        )
        #: Annual running cost of the site at each village (site + its backhaul), once claimed.
        self.opex_usd_year = np.zeros(n)

        self.funding = funding
        self.backhaul = BackhaulPlanner(world, backhaul_spec, backhaul_spec.satellite.max_sites)
        self._open_fibre(start_date, horizon_days)
        for s in network.existing_4g.tolist():
            self.backhaul.add_relay(s, eligible, root=True)
        subsidised = funding.has_capex_subsidy(index)
        self.queue = CandidateQueue(
            spec.siting.strategy,
            eligible,
            network.coverage,
            self.backhaul,
            self.site_capex,
            tiebreak,
            list_rank,
            relief=self._expected_subsidy if subsidised else None,
            people_per_place=spec.siting.people_per_place,
        )
        self._idle = IdlePool(self.env)
        self.capex_paid = 0.0
        self.credit = CreditDesk(
            self.env,
            self.treasury,
            funding.credit_lines(index, start_date),
            start_date,
            capex_paid=lambda: self.capex_paid,
            log=lambda kind, detail: network.log_event(index, kind, detail),
            public_flow=lambda label, kind, amount: funding.loan_flow(index, label, kind, amount),
        )
        if subsidised:
            self.treasury.capex_support = self._capex_subsidy
        if self.credit.facilities:
            self.treasury.reserve_extra.append(self.credit.next_service_usd)
        #: Yearly running cost of the operator's claimed sites: opex, preventive maintenance
        #: and expected repairs (the reserve of a going concern is months of it).
        self.running_cost_usd_year = 0.0
        if spec.capex_reserve_months > 0:
            months = spec.capex_reserve_months
            self.treasury.reserve_extra.append(lambda: self.running_cost_usd_year * months / 12)
        self.maintenance = MaintenanceCrews(
            self.env,
            network,
            index,
            spec,
            maintenance_spec,
            self.treasury,
            depots,
            start_date,
            horizon_days,
            failure_draws,
            repair_draws,
        )
        self.maintenance.cost_support = self._cost_support
        self._placing_initial = False
        network.on_first_air[index] = self._first_on_air
        self.accounts = Accounts(
            network,
            index,
            spec,
            self.treasury,
            self.credit,
            self.opex_usd_year,
            on_default=self._default,
            cost_support=self._cost_support,
        )
        self.treasury.receive(spec.cash_usd, "equity", "shareholders", "starting cash")
        funding.start_equity(index, self.treasury)
        if spec.initial_sites:
            self._initial_assets(spec.initial_sites)
        self.env.process(self._books(start_date, horizon_days))
        if spec.permit_days is None:
            for crew in range(spec.build_crews):
                self.env.process(self._crew(crew))
        else:
            #: Sites permitted and paid for, waiting for a crew (few: at most the capacity).
            self.ready: simpy.Store = simpy.Store(self.env)
            self.preparing = 0
            self.prep_capacity = spec.permit_capacity or 2 * spec.build_crews
            self._slot = IdlePool(self.env)
            self.env.process(self._planner())
            for crew in range(spec.build_crews):
                self.env.process(self._builder(crew))

    # --- queue ---------------------------------------------------------------------------

    def _next_candidate(self) -> int | None:
        while True:
            v = self.queue.pop()
            if v is None or not self.network.claimed[v]:
                return v
            self.queue.eligible[v] = False  # another operator got there first

    def _wait_for_candidates(self) -> simpy.Event:
        return self._idle.wait()

    # --- the pipeline --------------------------------------------------------------------

    def _crew(self, crew: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while not self.halted:
            v = self._next_candidate()
            if v is None:
                yield self._wait_for_candidates()
                continue
            site = self._claim(v)
            try:
                yield self.treasury.pay(
                    self.network.sites.capex_usd[site],
                    "capex",
                    "contractors",
                    str(self.network.world.villages.ids[v]),
                    village=v,
                )
            except Halted:
                return
            self.capex_paid += self.network.sites.capex_usd[site]
            self._start(site, v)
            yield env.timeout(float(self.build_days[v]))
            self.network.finish_build(v)

    # --- permits apart from works --------------------------------------------------------

    def _planner(self) -> Generator[simpy.Event, Any, None]:
        """Keep the preparation pipeline full: claim the best candidate, start its permits."""
        while not self.halted:
            if self.preparing >= self.prep_capacity:
                yield self._slot.wait()
                continue
            v = self._next_candidate()
            if v is None:
                yield self._wait_for_candidates()
                continue
            site = self._claim(v)
            self.preparing += 1
            self.env.process(self._prepare(site, v))

    def _prepare(self, site: int, v: int) -> Generator[simpy.Event, Any, None]:
        """Permits (no crew held), then capex, then the queue for a crew."""
        if self.permit_days[v] > 0:
            yield self.env.timeout(float(self.permit_days[v]))
        if self.halted:
            return
        try:
            yield self.treasury.pay(
                self.network.sites.capex_usd[site],
                "capex",
                "contractors",
                str(self.network.world.villages.ids[v]),
                village=v,
            )
        except Halted:
            return
        self.capex_paid += self.network.sites.capex_usd[site]
        self._funded(v)
        yield self.ready.put((site, v))

    def _builder(self, crew: int) -> Generator[simpy.Event, Any, None]:
        """A construction crew: take the next site ready for works, build it."""
        while not self.halted:
            site, v = yield self.ready.get()
            self.preparing -= 1
            self._slot.wake(1)
            self.network.sites.build_start_day[site] = self.env.now
            yield self.env.timeout(float(self.build_days[v]))
            self.network.finish_build(v)

    # --- initial assets ------------------------------------------------------------------

    def _initial_assets(self, count: int) -> None:
        """The operator's existing sites, in service on day 0: its pre-4G sites in its area
        (upgraded before the start), best first by its own siting strategy (lazy greedy: a
        site's priority only falls as others are placed)."""
        priority = self.queue.priority
        pool = np.flatnonzero(self.queue.eligible & self.is_upgrade)
        heap = [(-priority(int(v)), float(self.queue.tiebreak[v]), int(v)) for v in pool]
        heapq.heapify(heap)
        self._placing_initial = True
        placed = 0
        while heap and placed < count:
            p, tie, v = heap[0]
            if not self.queue.eligible[v] or self.network.claimed[v]:
                heapq.heappop(heap)
                continue
            now = -priority(v)
            if now != p:  # its priority fell since it was queued: put it back in order
                heapq.heapreplace(heap, (now, tie, v))
                continue
            heapq.heappop(heap)
            if self.backhaul.kind[v] == BH_NONE:
                self.backhaul.kind[v] = BH_SATELLITE  # an existing site has some backhaul
            site = self._claim(v, capex=0.0)  # sunk before the start
            self.network.sites.build_start_day[site] = self.env.now
            self._funded(v)
            self.network.finish_build(v)
            placed += 1
        self._placing_initial = False

    def _funded(self, v: int) -> None:
        """A site's capex is paid: it is a relay for planning the next ones."""
        improved = self.backhaul.add_relay(v, self.queue.eligible)
        if len(improved) and self.queue.push(improved.tolist()):
            self._idle.wake(len(improved))

    def _open_fibre(self, start_date: date, horizon_days: int) -> None:
        """Fibre PoPs with opening dates (Peru's regional networks): those open by the start
        are planned with from day 0 (this runs before the siting queue is built); each later
        opening within the horizon, at the start of its day, gives the candidates in its reach
        a fibre spur or PoP hop and re-queues those that improved, as a funded relay does."""
        start = start_date.toordinal()
        self.backhaul.open_pops(start, np.ones(len(self.network.world), dtype=bool))
        days = [o - start for o in self.backhaul.opening_ordinals() if o - start < horizon_days]
        if not days:
            return

        def openings() -> Generator[simpy.Event, Any, None]:
            for day in days:
                yield self.env.timeout(day - self.env.now)
                improved = self.backhaul.open_pops(start + day, self.queue.eligible)
                if len(improved) and self.queue.push(improved.tolist()):
                    self._idle.wake(len(improved))

        self.env.process(openings())

    def _claim(self, v: int, capex: float | None = None) -> int:
        net = self.network
        bh = self.backhaul
        kind = int(bh.kind[v])
        # The site table records the microwave parent, or the PoP a fibre spur runs to
        # (-1 - k: the nearest PoP *open now*, which may not be the nearest of all).
        if kind == BH_MICROWAVE:
            parent = int(bh.parent[v])
        elif kind == BH_FIBRE:
            parent = -1 - int(bh.pop_nearest[v])
        else:
            parent = 0
        if kind == BH_SATELLITE:
            bh.use_satellite()
        self.queue.eligible[v] = False
        if capex is None:
            capex = float(self.site_capex[v] + bh.capex[v])
        site = net.sites.add(
            v, self.index, bool(self.is_upgrade[v]), kind, parent, self.env.now, capex
        )
        # Only a relay site is a parent in the network's backhaul tree; PoPs are roots.
        net.claim(v, site, self.index, parent if kind == BH_MICROWAVE else -1)
        self.opex_usd_year[v] = self.site_opex[v] + self.backhaul_opex[kind]
        self.running_cost_usd_year += (
            self.opex_usd_year[v]
            + self.spec.preventive_usd_per_site_year
            + self.maintenance.expected_repair_usd_year(v)
        )
        return site

    def _start(self, site: int, v: int) -> None:
        self.network.sites.build_start_day[site] = self.env.now
        self._funded(v)

    # --- funding hooks -------------------------------------------------------------------

    def _site_facts(self, v: int, claimed: bool) -> dict[str, Any]:
        """What funding rules look at: zone, host village size, people, costs."""
        net = self.network
        if claimed:
            people = float(net.planned_people[v])
            capex = float(net.sites.capex_usd[int(net.site_of[v])])
            opex = float(self.opex_usd_year[v])
        else:
            people = float(net.coverage.gain[v])
            capex = float(self.site_capex[v] + self.backhaul.capex[v])
            opex = float(self.site_opex[v] + self.backhaul_opex[int(self.backhaul.kind[v])])
        return {
            "zone": int(net.world.villages.zone[v]),
            "village_pop": int(net.world.villages.population[v]),
            "people": people,
            "capex": capex,
            "opex_year": opex,
            "ref": str(net.world.villages.ids[v]),
        }

    def _expected_subsidy(self, v: int) -> float:
        facts = self._site_facts(v, claimed=False)
        return self.funding.capex_support(self.index, facts, facts["capex"], commit=False)

    def _capex_subsidy(self, v: int, amount: float, commit: bool) -> float:
        facts = self._site_facts(v, claimed=True)
        return self.funding.capex_support(self.index, facts, amount, commit, self.treasury)

    def _cost_support(self, kind: str, amount: float, ref: str) -> float:
        return self.funding.running_cost_support(self.index, kind, amount, self.treasury, ref)

    def _first_on_air(self, v: int) -> None:
        self.maintenance.start_site(v)
        if self._placing_initial:
            return  # an existing site: no output-based payment for it
        net = self.network
        row = int(net.site_of[v])
        self.funding.on_air(
            self.index,
            self._site_facts(v, claimed=True),
            net.sites.villages_new[row],
            net.sites.people_new[row],
            self.treasury,
        )

    # --- books and default ---------------------------------------------------------------

    def _books(self, start_date: date, horizon_days: int) -> Generator[simpy.Event, Any, None]:
        for t in month_starts(start_date, horizon_days):
            yield self.env.timeout(t - self.env.now)
            self.accounts.close(t)

    def close_books(self, t: float) -> None:
        """Book the last (partial) period at the horizon."""
        self.accounts.close(t)

    def _default(self) -> None:
        if self.credit.defaulted:
            return
        debts = self.credit.default()
        self.funding.on_default(self.index, debts)
        self.halted = True
        self.network.log_event(self.index, "default", "debt service unpaid: lines frozen")
        cancelled = self.treasury.cancel("capex")
        if cancelled:
            self.network.log_event(
                self.index, "builds_stopped", f"{cancelled} site(s) waiting for capex cancelled"
            )
        self._idle.wake_all()  # crews waiting for candidates see `halted` and stop
        if self.spec.permit_days is not None:
            self._slot.wake_all()  # so does the planning desk
        if self.spec.on_default == "stop_maintenance":
            self.maintenance.stop()
            self.network.log_event(self.index, "maintenance_stopped", "after default")
