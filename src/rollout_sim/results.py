"""Results of one replication: the site table, the ledger and daily series built afterwards.

The engine records only state changes; daily series are computed here by searching those sorted
records at each day's end (O((events + days) log events)), so a run's cost does not grow with the
number of days or villages that did not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from .arrays import FloatArray, IntArray
from .impact import ImpactSeries
from .model.demand import subscribers
from .model.records import MaintenanceRecord
from .scenario.calibration import FOOTPRINT_METRICS
from .scenario.schema import Scenario
from .world.build import World

if TYPE_CHECKING:
    from .model.coverage_state import Footprint
    from .model.funding import FundingDesk
    from .model.netcore import CoreFootprint, CoreTrace
    from .model.network import Network
    from .model.operator import OperatorAgent
    from .model.records import Trace

__all__ = ["FOOTPRINT_COLUMNS", "TIMESERIES_COLUMNS", "LedgerTable", "Results", "SitesTable"]


#: What an operator with no record counts as: no failures, never defaulted.
_NO_MAINTENANCE: MaintenanceRecord = {
    "failures": 0,
    "repairs": 0,
    "failure_days": [],
    "wait_days": [],
    "downtime_days": [],
    "log": None,
    "defaulted": False,
}

TIMESERIES_COLUMNS = (
    "date",
    "sites_built",
    "sites_on_air",
    "villages_covered",
    "new_villages_covered",
    "people_covered",
    "rural_people_covered_share",
    "capex_cumulative_usd",
    "cash_usd",
    "sites_down",
    "people_covered_net",
    "subscribers",
    "revenue_cumulative_usd",
    "opex_cumulative_usd",
    "repair_cumulative_usd",
    "interest_cumulative_usd",
    "debt_usd",
    "public_cost_cumulative_usd",
    "places_served",
    "people_served",
    "people_covered_share",
    "initially_uncovered_reached_share",
)


#: Per operator and day, as operators report their networks (``operators.csv``): sites built
#: and in service, places and people inside the coverage of its in-service sites (whoever else
#: covers them), and those it covered first (nobody's site had covered them before).
#: The names live with the scenario's calibration targets, which may name them
#: (``<operator>.<column>``) and cannot import this module.
FOOTPRINT_COLUMNS = FOOTPRINT_METRICS


@dataclass(frozen=True, eq=False)
class FootprintTrace:
    """One operator's footprint at every change: (time, places served, people served, its
    sites in service)."""

    time: FloatArray
    places: FloatArray
    people: FloatArray
    service_time: FloatArray
    service: FloatArray


def _trace(fp: Footprint | CoreFootprint, service: Trace | CoreTrace | None) -> FootprintTrace:
    return FootprintTrace(
        time=np.frombuffer(fp.time, dtype=np.float64).copy(),
        places=np.array(fp.place_count, dtype=np.float64),
        people=np.array(fp.people_count, dtype=np.float64),
        service_time=np.zeros(0) if service is None else np.array(service.time, dtype=np.float64),
        service=np.zeros(0) if service is None else np.array(service.value, dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class SitesTable:
    """One row per site claimed by an operator (existing 4G sites are not listed)."""

    village: IntArray
    operator: IntArray
    upgrade: NDArray[np.bool_]
    backhaul: NDArray[np.int8]
    parent: IntArray
    claim_day: FloatArray
    build_start_day: FloatArray
    built_day: FloatArray
    on_air_day: FloatArray
    capex_usd: FloatArray
    villages_new: IntArray
    people_new: IntArray
    #: People the site was expected to cover newly when claimed (what funding rules saw).
    people_planned: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.village)


@dataclass(frozen=True, eq=False)
class LedgerTable:
    """Every cash movement: inflows positive, outflows negative (USD, to the cent)."""

    time: FloatArray
    operator: IntArray
    category: NDArray[np.str_]
    amount: FloatArray
    counterparty: NDArray[np.str_]
    ref: NDArray[np.str_]
    #: The operator's cash right after the row.
    balance: FloatArray

    def __len__(self) -> int:
        return len(self.time)


def _step_at(times: FloatArray, values: FloatArray, at: FloatArray, initial: float) -> FloatArray:
    """Value of a right-continuous step function just before each time in *at*."""
    if len(times) == 0:
        return np.full(len(at), initial, dtype=np.float64)
    idx = np.searchsorted(times, at, side="left") - 1
    out = np.where(idx >= 0, values[np.maximum(idx, 0)], initial)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PublicTable:
    """Funders' payments (positive) and receipts (negative), one row each, USD."""

    time: FloatArray
    instrument: NDArray[np.str_]
    funder: NDArray[np.str_]
    operator: IntArray
    kind: NDArray[np.str_]
    amount: FloatArray
    ref: NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def empty(cls) -> PublicTable:
        s = np.zeros(0, dtype=str)
        return cls(np.zeros(0), s, s, np.zeros(0, dtype=np.int64), s, np.zeros(0), s)


#: The dtype a table's column is built with, by its annotation (a column annotated otherwise
#: needs its entry here).
_DTYPES: dict[str, type] = {"FloatArray": np.float64, "IntArray": np.int64, "NDArray[np.str_]": str}

_Table = TypeVar("_Table", LedgerTable, PublicTable)


def _from_columns(table: type[_Table], columns: object) -> _Table:
    """*table* from the same-named columns of *columns* (lists or arrays, as the run recorded
    them), each converted to the dtype of its annotation."""
    return table(
        **{
            f.name: np.array(getattr(columns, f.name), dtype=_DTYPES[str(f.type)])
            for f in fields(table)
        }
    )


@dataclass(eq=False)
class Results:
    """Everything one replication produced; daily series via :attr:`daily`."""

    scenario: Scenario
    world: World
    operators: tuple[str, ...]
    seed_entropy: int
    seed_spawn_key: tuple[int, ...]
    sites: SitesTable
    ledger: LedgerTable
    first_covered_day: FloatArray
    initial_villages_covered: int
    initial_people_covered: int
    built_times: FloatArray
    on_air_times: FloatArray
    crews: tuple[int, ...]
    wall_seconds: float
    #: (time, people covered net of outages) at every change, from day 0.
    net_times: FloatArray = field(default_factory=lambda: np.zeros(0))
    net_people: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: (time, sites down) at every change.
    down_times: FloatArray = field(default_factory=lambda: np.zeros(0))
    down_counts: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: Cumulative downtime of each site (row of ``sites``) at the horizon, days.
    site_downtime_days: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: (day, operator, kind, detail) of defaults, covenant blocks, stopped builds ...
    events: list[tuple[float, int, str, str]] = field(default_factory=list)
    #: Per operator: failures, repairs, and per-repair waiting and down times (days).
    maintenance: list[MaintenanceRecord] = field(default_factory=list)
    #: Every change of a village's served state (time, village, +1 gained / −1 lost), in time
    #: order; existing 4G coverage appears as gains at time 0.
    service_changes: tuple[FloatArray, NDArray[np.int32], NDArray[np.int8]] = field(
        default_factory=lambda: (np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(0, np.int8))
    )
    #: Per operator: its footprint at every change (see :attr:`operator_daily`).
    footprints: tuple[FootprintTrace, ...] = ()
    #: Every modelled operator's sites together (the rollout's footprint, counted once).
    rollout: FootprintTrace | None = None
    #: Operator whose site covered each village first (-1: the starting network, or never).
    first_op: NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    #: The funding policy this run used (None: no policy).
    policy: str | None = None
    public: PublicTable = field(default_factory=PublicTable.empty)
    #: Counts about the run itself rather than the rollout: ``events``, the SimPy events it
    #: scheduled (set by :func:`rollout_sim.engine.simulate`).
    extra: dict[str, int] = field(default_factory=dict)

    def maintenance_of(self, operator: int) -> MaintenanceRecord:
        """Operator *operator*'s maintenance record (none kept: no failures, no log)."""
        m = self.maintenance
        return m[operator] if operator < len(m) else _NO_MAINTENANCE

    @classmethod
    def from_run(
        cls,
        *,
        scenario: Scenario,
        network: Network,
        agents: list[OperatorAgent],
        funding: FundingDesk,
        seed_sequence: np.random.SeedSequence,
        wall_seconds: float,
    ) -> Results:
        # The register keeps each fact about a site by village, under the table's column
        # names: a row per site, in claim order.
        s = network.sites
        rows = np.frombuffer(s.rows, dtype=np.int64) if len(s) else np.zeros(0, dtype=np.int64)
        facts = [f.name for f in fields(SitesTable) if f.name != "village"]
        sites = SitesTable(village=rows.copy(), **{k: getattr(s, k)[rows] for k in facts})
        ledger = _from_columns(LedgerTable, network.ledger)
        entropy = seed_sequence.entropy
        downtime = network.downtime_until(float(scenario.horizon_days))
        maintenance: list[MaintenanceRecord] = [
            {
                "failures": a.maintenance.failures,
                "repairs": a.maintenance.repairs,
                "failure_days": list(a.maintenance.failure_days),
                "wait_days": list(a.maintenance.wait_days),
                "downtime_days": list(a.maintenance.downtime_days),
                "log": a.maintenance.log,
                "defaulted": a.credit.defaulted,
            }
            for a in agents
        ]
        return cls(
            scenario=scenario,
            world=network.world,
            operators=tuple(op.name for op in scenario.operators),
            seed_entropy=int(entropy) if isinstance(entropy, int) else 0,
            seed_spawn_key=tuple(int(k) for k in seed_sequence.spawn_key),
            sites=sites,
            ledger=ledger,
            first_covered_day=network.coverage.first_covered.copy(),
            initial_villages_covered=network.initial_villages_covered,
            initial_people_covered=network.initial_people_covered,
            built_times=np.array(network.built_trace.time, dtype=np.float64),
            on_air_times=np.array(network.on_air_trace.time, dtype=np.float64),
            crews=tuple(a.spec.build_crews for a in agents),
            wall_seconds=wall_seconds,
            net_times=np.array(network.net_trace.time, dtype=np.float64),
            net_people=np.array(network.net_trace.value, dtype=np.float64),
            down_times=np.array(network.down_trace.time, dtype=np.float64),
            down_counts=np.array(network.down_trace.value, dtype=np.float64),
            site_downtime_days=downtime[sites.village] if len(sites) else np.zeros(0),
            events=list(network.events),
            maintenance=maintenance,
            service_changes=network.coverage.changes(),
            footprints=tuple(
                _trace(network.coverage.footprints[k], network.op_service_trace[k])
                for k in range(len(network.coverage.footprints))
            ),
            first_op=network.coverage.first_op.copy(),
            rollout=_trace(network.coverage.rollout, None),
            policy=funding.policy.name if funding.policy is not None else None,
            public=_from_columns(PublicTable, funding.flows),
        )

    @property
    def horizon_days(self) -> int:
        return self.scenario.horizon_days

    @property
    def total_population(self) -> int:
        return self.world.villages.total_population

    @property
    def rural_population(self) -> int:
        return self.world.villages.rural_population

    def dates(self) -> list[date]:
        start = self.scenario.start_date
        return [start + timedelta(days=d) for d in range(self.horizon_days)]

    @cached_property
    def daily(self) -> dict[str, FloatArray]:
        """Daily series (state at the end of each day), keyed by column name (no 'date')."""
        h = self.horizon_days
        day_end = np.arange(1, h + 1, dtype=np.float64)
        pop = self.world.villages.population
        first = self.first_covered_day
        covered = np.isfinite(first)
        order = np.argsort(first[covered], kind="stable")
        times = first[covered][order]
        cum_people = np.cumsum(pop[covered][order])
        n_cov = np.searchsorted(times, day_end, side="left")
        villages = n_cov.astype(np.float64)
        people = _step_at(times, cum_people.astype(np.float64), day_end, 0.0)
        # Coverage shares are of the rural population (all of it in a world with no towns).
        rural = self.world.villages.rural
        rural_pop = pop * rural
        cum_rural = np.cumsum(rural_pop[covered][order]).astype(np.float64)
        rural_people = _step_at(times, cum_rural, day_end, 0.0)
        prev = np.concatenate([[float(self.initial_villages_covered)], villages[:-1]])
        lg = self.ledger
        # Books are closed at the horizon itself: the last day includes that booking.
        at = day_end.copy()
        at[-1] = np.nextafter(float(h), np.inf)

        def flow(category: str, sign: float = -1.0) -> FloatArray:
            rows = lg.category == category
            return np.round(_step_at(lg.time[rows], sign * np.cumsum(lg.amount[rows]), at, 0.0), 2)

        cash = _step_at(lg.time, np.cumsum(lg.amount), at, 0.0)
        debt_rows = (lg.category == "loan_drawdown") | (lg.category == "principal")
        debt = _step_at(
            lg.time[debt_rows],
            np.cumsum(
                np.abs(lg.amount[debt_rows])
                * np.where(lg.category[debt_rows] == "loan_drawdown", 1.0, -1.0)
            ),
            at,
            0.0,
        )
        total = max(int(rural_pop.sum()), 1)
        return {
            "sites_built": np.searchsorted(self.built_times, day_end, side="left").astype(float),
            "sites_on_air": np.searchsorted(self.on_air_times, day_end, side="left").astype(float),
            "villages_covered": villages,
            "new_villages_covered": villages - prev,
            "people_covered": people,
            # Every share says what it is a share of: the rural population; all people; the
            # people without coverage at the start (what the rollout can change).
            "rural_people_covered_share": rural_people / total,
            "capex_cumulative_usd": flow("capex"),
            "cash_usd": np.round(cash, 2),
            "sites_down": _step_at(self.down_times, self.down_counts, day_end, 0.0),
            "people_covered_net": _step_at(
                self.net_times, self.net_people, day_end, float(self.initial_people_covered)
            ),
            "subscribers": self._subscribers(day_end),
            "revenue_cumulative_usd": flow("revenue", 1.0),
            "opex_cumulative_usd": flow("opex"),
            "repair_cumulative_usd": flow("repair"),
            "interest_cumulative_usd": flow("interest"),
            "debt_usd": np.round(debt, 2),
            "public_cost_cumulative_usd": np.round(
                _step_at(self.public.time, np.cumsum(self.public.amount), at, 0.0), 2
            ),
            **self._rollout_served(day_end),
            "people_covered_share": people / max(int(pop.sum()), 1),
            "initially_uncovered_reached_share": (people - self.initial_people_covered)
            / max(int(pop.sum()) - self.initial_people_covered, 1),
        }

    def _rollout_served(self, day_end: FloatArray) -> dict[str, FloatArray]:
        """Places and people inside the coverage of the modelled operators' in-service sites
        (whoever else covers them too): the rollout's footprint, as operators report it."""
        fp = self.rollout
        if fp is None:
            zeros = np.zeros(len(day_end))
            return {"places_served": zeros, "people_served": zeros.copy()}
        return {
            "places_served": _step_at(fp.time, fp.places, day_end, 0.0),
            "people_served": _step_at(fp.time, fp.people, day_end, 0.0),
        }

    @cached_property
    def operator_daily(self) -> dict[str, dict[str, FloatArray]]:
        """Per operator, its :data:`FOOTPRINT_COLUMNS` at the end of each day."""
        h = self.horizon_days
        day_end = np.arange(1, h + 1, dtype=np.float64)
        pop = self.world.villages.population
        first = self.first_covered_day
        out: dict[str, dict[str, FloatArray]] = {}
        for k, name in enumerate(self.operators):
            fp = self.footprints[k]
            built = np.sort(self.sites.built_day[self.sites.operator == k])
            mine = np.flatnonzero((self.first_op == k) & np.isfinite(first))
            order = mine[np.argsort(first[mine], kind="stable")]
            first_times = first[order]
            out[name] = {
                "sites_built": np.searchsorted(built, day_end, side="left").astype(float),
                "sites_in_service": _step_at(fp.service_time, fp.service, day_end, 0.0),
                "places_served": _step_at(fp.time, fp.places, day_end, 0.0),
                "people_served": _step_at(fp.time, fp.people, day_end, 0.0),
                "places_first_covered": np.searchsorted(first_times, day_end, "left").astype(float),
                "people_first_covered": _step_at(
                    first_times, np.cumsum(pop[order]).astype(np.float64), day_end, 0.0
                ),
            }
        return out

    @cached_property
    def impact_sets(self) -> dict[str, dict[str, FloatArray]]:
        """Impact series by parameter set (low/central/high), computed once, when asked for.

        Kept apart from :attr:`daily` so that runs that do not need them (calibration) do not
        pay for them."""
        impact = self.impact_daily
        return impact.all() if isinstance(impact, ImpactSeries) else {}

    @cached_property
    def impact_daily(self) -> Mapping[str, FloatArray]:
        """The impact series flattened as ``<series>_<low|central|high>`` columns, each
        computed when first read (a comparison reads six of the nine, at the horizon)."""
        if not self.scenario.impact.enabled:
            return {}
        return ImpactSeries(self, self.scenario.impact)

    def _subscribers(self, at: FloatArray) -> FloatArray:
        out = np.zeros(len(at))
        for i, op in enumerate(self.scenario.operators):
            mine = self.sites.operator == i
            a = op.revenue.adoption
            out += subscribers(
                at,
                self.sites.on_air_day[mine],
                self.sites.people_new[mine].astype(np.float64),
                ceiling_share=a.ceiling_share,
                p=a.p,
                q=a.q,
            )
        return np.round(out, 1)
