"""An operator's build pipeline as SimPy processes, with its money, credit and maintenance.

Two pipelines, chosen by the scenario:

* **turnkey** (no ``permit_days``): each build crew loops: take the best candidate from the
  siting queue (waiting in its queue while there is none), which claims it and orders its capex
  at once; wait until the capex is paid (cash, then credit); build for the site's drawn
  duration. A crew is a slot of the whole pipeline.
* **permits apart from works** (``permit_days`` given): a planning desk of ``permit_capacity``
  places; each place takes the best candidate and claims it, has it permitted (a drawn duration
  that holds no crew; upgrades of existing sites need none), pays its capex, and hands it to
  the construction crews (a FIFO), taking the next candidate once a crew has it. Crews are teams
  that build.

A built site goes to the network, which puts it on air at once if its backhaul is up or with
its parent otherwise. Nothing polls: crews wait in the queues they take work from, payments for
cash arrivals, sites for their parents. A default stops new builds for good: the siting queue
and the crews' queue close, capex is paid no more, and builds under way finish. An operator may
start with initial assets: existing sites of its own, in service on day 0.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from datetime import date
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..arrays import FloatArray, IntArray
from ..scenario.schema import Backhaul, Maintenance, Operator
from .accounting import Accounts, month_starts
from .backhaul import BH_FIBRE, BH_MICROWAVE, BH_NONE, BH_SATELLITE, starting_planner
from .credit import CreditDesk
from .crews import WorkQueue
from .distributions import ppf
from .finance import CapexReserve, Halted, Treasury
from .funding import FundingPort, SiteColumns, SiteFacts
from .maintenance import MaintenanceCrews, VillageDraws
from .network import Network
from .siting import CandidateQueue

__all__ = ["OperatorAgent"]


class OperatorAgent:
    """One operator: siting queue, backhaul planner, treasury, credit, crews, books.

    Every collaborator is built here, in the order its processes must start, with what it needs
    passed in; *funding* is this operator's view of the funding desk.
    """

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
        funding: FundingPort,
    ) -> None:
        world = network.world
        v = world.villages
        n = len(world)
        self.index = index
        self.spec = spec
        self.network = network
        self.env = network.env

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
        self.backhaul = starting_planner(
            world,
            backhaul_spec,
            backhaul_spec.satellite.max_sites,
            start_date.toordinal(),
            network.existing_4g,
            eligible,
        )
        self._pop_openings(start_date, horizon_days)
        subsidised = funding.has_capex_subsidy
        turnkey = spec.permit_days is None
        self.queue = CandidateQueue(
            self.env,
            spec.siting.strategy,
            eligible,
            network.coverage,
            self.backhaul,
            self.site_capex,
            tiebreak,
            list_rank,
            relief=self._expected_subsidy if subsidised else None,
            relief_all=self._expected_subsidies if subsidised else None,
            people_per_place=spec.siting.people_per_place,
            claimed=network.claimed,
            take=self._claim_and_order if turnkey else self._claim,
        )
        self.capex_paid = 0.0
        #: Yearly running cost of the operator's claimed sites: opex, preventive maintenance
        #: and expected repairs (the reserve of a going concern is months of it).
        self.running_cost_usd_year = 0.0
        self.credit = CreditDesk(
            self.env,
            funding.credit_lines(start_date),
            start_date,
            capex_paid=lambda: self.capex_paid,
            log=lambda kind, detail: network.log_event(index, kind, detail),
            funding=funding,
        )
        # Kept back from capex: a fixed amount, next month's debt service (an operator that
        # spent it on towers would default at the next due date), months of running costs.
        extra = []
        if self.credit.facilities:
            extra.append(self.credit.next_service_usd)
        if spec.capex_reserve_months > 0:
            months = spec.capex_reserve_months
            extra.append(lambda: self.running_cost_usd_year * months / 12)
        self.treasury = Treasury(
            self.env,
            network.ledger,
            index,
            reserve=CapexReserve(spec.capex_reserve_usd, tuple(extra)),
            credit=self.credit,
            capex_support=self._capex_subsidy if subsidised else None,
        )
        self.maintenance = MaintenanceCrews(
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
            funding=funding,
        )
        self._placing_initial = False
        network.on_first_air(index, self._first_on_air)
        self.accounts = Accounts(
            network,
            index,
            spec,
            self.treasury,
            self.credit,
            self.opex_usd_year,
            on_default=self._default,
            funding=funding,
            maintained=lambda: not self.maintenance.stopped,
        )
        self.treasury.receive(spec.cash_usd, "equity", "shareholders", "starting cash")
        funding.start_flows(self.treasury)
        if spec.initial_sites:
            self._initial_assets(spec.initial_sites)
        self.env.process(self._books(start_date, horizon_days))
        #: Sites permitted and paid for, each with the event its desk place waits on, waiting
        #: for a construction crew (few: at most the desk's places).
        self.ready = WorkQueue(self.env, "construction")
        if turnkey:
            for _ in range(spec.build_crews):
                self.env.process(self._crew())
        else:
            for _ in range(spec.permit_capacity or 2 * spec.build_crews):
                self.env.process(self._desk_place())
            for _ in range(spec.build_crews):
                self.env.process(self._builder())

    # --- the pipeline --------------------------------------------------------------------

    def _order_capex(self, v: int) -> simpy.Event:
        """Ask the treasury to pay the capex of the site claimed at *v*."""
        return self.treasury.pay(
            float(self.network.sites.capex_usd[v]),
            "capex",
            "contractors",
            str(self.network.world.villages.ids[v]),
            village=v,
        )

    def _claim_and_order(self, v: int) -> tuple[int, simpy.Event]:
        """Turnkey: claim *v* and order its capex at once, so the reserve weighed for this
        payment counts this site's running costs and no later claim's."""
        self._claim(v)
        return v, self._order_capex(v)

    def _crew(self) -> Generator[simpy.Event, Any, None]:
        """A turnkey crew: take the best candidate, wait for its capex, build it; again."""
        env = self.env
        while True:
            try:
                v, paid = yield self.queue.get()
                yield paid
            except Halted:
                return  # the operator stopped building (a default)
            self.capex_paid += float(self.network.sites.capex_usd[v])
            self._start(v)
            yield env.timeout(float(self.build_days[v]))
            self.network.finish_build(v)

    # --- permits apart from works --------------------------------------------------------

    def _desk_place(self) -> Generator[simpy.Event, Any, None]:
        """A place on the planning desk: claim the best candidate, have it permitted (no crew
        held), pay its capex, hand it to the crews; take the next once a crew has it."""
        env = self.env
        while True:
            try:
                v = yield self.queue.get()
                if self.permit_days[v] > 0:
                    yield env.timeout(float(self.permit_days[v]))
                yield self._order_capex(v)
            except Halted:
                return  # the operator stopped building (a default)
            self.capex_paid += float(self.network.sites.capex_usd[v])
            self._funded(v)
            taken = env.event()
            yield self.ready.put((v, taken))
            yield taken

    def _builder(self) -> Generator[simpy.Event, Any, None]:
        """A construction crew: take the next site ready for works, build it."""
        while True:
            try:
                v, taken = yield self.ready.get()
            except Halted:
                return  # the operator stopped building (a default)
            taken.succeed()  # its place on the desk takes the next candidate
            self.network.start_build(v)
            yield self.env.timeout(float(self.build_days[v]))
            self.network.finish_build(v)

    # --- initial assets ------------------------------------------------------------------

    def _initial_assets(self, count: int) -> None:
        """The operator's existing sites, in service on day 0: its pre-4G sites in its area
        (upgraded before the start), best first by its own siting strategy (lazy greedy: a
        site's priority only falls as others are placed), without the policy's subsidy: a
        policy that begins at the start cannot change what was built before it."""
        priority = self.queue.unaided_priority()
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
                self.backhaul.assume_satellite(v)  # an existing site has some backhaul
            self._claim(v, capex=0.0)  # sunk before the start
            self.network.start_build(v)
            self._funded(v)
            self.network.finish_build(v)
            placed += 1
        self._placing_initial = False

    def _funded(self, v: int) -> None:
        """A site's capex is paid: it is a relay for planning the next ones."""
        improved = self.backhaul.add_relay(v, self.queue.eligible)
        if len(improved):
            self.queue.put(improved.tolist())

    def _pop_openings(self, start_date: date, horizon_days: int) -> None:
        """Fibre PoPs with opening dates (Peru's regional networks): those open by the start
        are in the day-0 planner (:func:`starting_planner`); each later opening within the
        horizon, at the start of its day, gives the candidates in its reach a fibre spur or
        PoP hop and re-queues those that improved, as a funded relay does."""
        start = start_date.toordinal()
        days = [o - start for o in self.backhaul.opening_ordinals() if o - start < horizon_days]
        if not days:
            return

        def openings() -> Generator[simpy.Event, Any, None]:
            for day in days:
                yield self.env.timeout(day - self.env.now)
                improved = self.backhaul.open_pops(start + day, self.queue.eligible)
                if len(improved):
                    self.queue.put(improved.tolist())

        self.env.process(openings())

    def _claim(self, v: int, capex: float | None = None) -> int:
        """Claim *v* for a site (nobody else builds there); returns *v*."""
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
        self.queue.discard(v)
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
        return v

    def _start(self, v: int) -> None:
        self.network.start_build(v)
        self._funded(v)

    # --- what funding rules see ----------------------------------------------------------

    def _site_facts(self, v: int, claimed: bool) -> SiteFacts:
        """The facts funding rules look at, for the site claimed at *v* or (not *claimed*) a
        candidate there as it would be claimed now."""
        net = self.network
        if claimed:
            people = float(net.sites.people_planned[v])
            capex = float(net.sites.capex_usd[v])
            opex = float(self.opex_usd_year[v])
        else:
            people = float(net.coverage.gain[v])
            capex = float(self.site_capex[v] + self.backhaul.capex[v])
            opex = float(self.site_opex[v] + self.backhaul_opex[int(self.backhaul.kind[v])])
        villages = net.world.villages
        return SiteFacts(
            int(villages.zone[v]),  # zone
            int(villages.population[v]),  # village_population
            people,
            capex,  # capex_usd
            opex,  # opex_usd_year
            str(villages.ids[v]),  # ref
        )

    def _expected_subsidy(self, v: int) -> float:
        facts = self._site_facts(v, claimed=False)
        return self.funding.capex_support(facts, facts.capex_usd, commit=False)

    def _expected_subsidies(self, v: IntArray) -> FloatArray:
        """:meth:`_expected_subsidy` of each of the candidates *v* at once (the same numbers:
        the same columns :meth:`_site_facts` reads one by one)."""
        villages = self.network.world.villages
        sites = SiteColumns(
            zone=villages.zone[v],
            village_population=villages.population[v],
            people=self.network.coverage.gain[v].astype(np.float64),
            capex_usd=self.site_capex[v] + self.backhaul.capex[v],
            opex_usd_year=self.site_opex[v] + self.backhaul_opex[self.backhaul.kind[v]],
        )
        return self.funding.expected_capex_support(sites)

    def _capex_subsidy(self, v: int, amount: float, commit: bool) -> float:
        facts = self._site_facts(v, claimed=True)
        return self.funding.capex_support(facts, amount, commit, self.treasury)

    def _first_on_air(self, v: int) -> None:
        self.maintenance.start_site(v)
        if self._placing_initial:
            return  # an existing site: no output-based payment for it
        sites = self.network.sites
        self.funding.on_air(
            self._site_facts(v, claimed=True),
            int(sites.villages_new[v]),
            int(sites.people_new[v]),
            self.treasury,
        )

    # --- books and default ---------------------------------------------------------------

    def _books(self, start_date: date, horizon_days: int) -> Generator[simpy.Event, Any, None]:
        for t in month_starts(start_date, horizon_days):
            yield self.env.timeout(t - self.env.now)
            self.accounts.close(t)

    def close_books(self, t: float) -> None:
        """Book the last (partial) period at the horizon: its accruals, no instalment (none
        falls due before the next first of a month), and no capex: a build that would start
        after the horizon is not paid for within it (money arriving at the horizon must not
        pay capex for a site sites.csv lists as not started)."""
        self.treasury.stop("capex")
        self.accounts.close(t, due=False)

    def _default(self) -> None:
        if self.credit.defaulted:
            return
        debts = self.credit.default()
        self.funding.on_default(debts)
        self.network.log_event(self.index, "default", "debt service unpaid: lines frozen")
        cancelled = self.treasury.stop("capex")
        if cancelled:
            self.network.log_event(
                self.index, "builds_stopped", f"{cancelled} site(s) waiting for capex cancelled"
            )
        self.queue.close()  # crews and desk places waiting for a candidate stop
        self.ready.close()  # so do construction crews, once their build in hand is done
        if self.spec.on_default == "stop_maintenance":
            self.maintenance.stop()  # and with it the preventive budget (Accounts)
            self.network.log_event(self.index, "maintenance_stopped", "after default")
