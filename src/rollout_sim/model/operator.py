"""An operator's build pipeline as SimPy processes, with its money, credit and maintenance.

Each build crew loops: take the best candidate from the siting queue (or sleep until the queue
gets one), claim it, wait until its capex is paid (cash, then credit), build for the site's
drawn duration, then hand it to the network, which puts it on air at once if its backhaul is up
or with its parent otherwise. Nothing polls: crews wake on queue pushes, payments on cash
arrivals, sites on their parents. A default stops new builds for good.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..scenario.schema import Backhaul, Maintenance, Operator
from .accounting import Accounts, month_starts
from .backhaul import BH_MICROWAVE, BH_SATELLITE, BackhaulPlanner
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
        for s in network.existing_4g.tolist():
            self.backhaul.add_relay(s, eligible)
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
            self.treasury.reserve_extra = self.credit.next_service_usd
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
        self.env.process(self._books(start_date, horizon_days))
        for crew in range(spec.build_crews):
            self.env.process(self._crew(crew))

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

    def _claim(self, v: int) -> int:
        net = self.network
        bh = self.backhaul
        kind = int(bh.kind[v])
        parent = int(bh.parent[v]) if kind == BH_MICROWAVE else 0
        if kind == BH_SATELLITE:
            bh.use_satellite()
        self.queue.eligible[v] = False
        capex = float(self.site_capex[v] + bh.capex[v])
        site = net.sites.add(
            v, self.index, bool(self.is_upgrade[v]), kind, parent, self.env.now, capex
        )
        # Only a relay site is a parent in the network's backhaul tree; PoPs are roots.
        net.claim(v, site, self.index, parent if kind == BH_MICROWAVE else -1)
        self.opex_usd_year[v] = self.site_opex[v] + self.backhaul_opex[kind]
        return site

    def _start(self, site: int, v: int) -> None:
        self.network.sites.build_start_day[site] = self.env.now
        improved = self.backhaul.add_relay(v, self.queue.eligible)
        if len(improved) and self.queue.push(improved.tolist()):
            self._idle.wake(len(improved))

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
        if self.spec.on_default == "stop_maintenance":
            self.maintenance.stop()
            self.network.log_event(self.index, "maintenance_stopped", "after default")
