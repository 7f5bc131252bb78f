"""Results of one replication: the site table, the ledger and daily series built afterwards.

The engine records only state changes; daily series are computed here by searching those sorted
records at each day's end (O((events + days) log events)), so a run's cost does not grow with the
number of days or villages that did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .scenario.schema import Scenario
from .world.build import World

if TYPE_CHECKING:
    from .model.operator import OperatorAgent, SharedState

__all__ = ["TIMESERIES_COLUMNS", "LedgerTable", "Results", "SitesTable"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TIMESERIES_COLUMNS = (
    "date",
    "sites_built",
    "sites_on_air",
    "villages_covered",
    "new_villages_covered",
    "people_covered",
    "coverage_share",
    "capex_cumulative_usd",
    "cash_usd",
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

    def __len__(self) -> int:
        return len(self.time)


def _step_at(times: FloatArray, values: FloatArray, at: FloatArray, initial: float) -> FloatArray:
    """Value of a right-continuous step function just before each time in *at*."""
    if len(times) == 0:
        return np.full(len(at), initial, dtype=np.float64)
    idx = np.searchsorted(times, at, side="left") - 1
    out = np.where(idx >= 0, values[np.maximum(idx, 0)], initial)
    return np.asarray(out, dtype=np.float64)


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
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_run(
        cls,
        *,
        scenario: Scenario,
        world: World,
        shared: SharedState,
        agents: list[OperatorAgent],
        seed_sequence: np.random.SeedSequence,
        wall_seconds: float,
    ) -> Results:
        s = shared.sites
        sites = SitesTable(
            village=np.array(s.village, dtype=np.int64),
            operator=np.array(s.operator, dtype=np.int64),
            upgrade=np.array(s.upgrade, dtype=bool),
            backhaul=np.array(s.backhaul, dtype=np.int8),
            parent=np.array(s.parent, dtype=np.int64),
            claim_day=np.array(s.claim_day, dtype=np.float64),
            build_start_day=np.array(s.build_start_day, dtype=np.float64),
            built_day=np.array(s.built_day, dtype=np.float64),
            on_air_day=np.array(s.on_air_day, dtype=np.float64),
            capex_usd=np.array(s.capex_usd, dtype=np.float64),
            villages_new=np.array(s.villages_new, dtype=np.int64),
            people_new=np.array(s.people_new, dtype=np.int64),
        )
        lg = shared.ledger
        ledger = LedgerTable(
            time=np.array(lg.time, dtype=np.float64),
            operator=np.array(lg.operator, dtype=np.int64),
            category=np.array(lg.category, dtype=str),
            amount=np.array(lg.amount, dtype=np.float64),
            counterparty=np.array(lg.counterparty, dtype=str),
            ref=np.array(lg.ref, dtype=str),
        )
        entropy = seed_sequence.entropy
        return cls(
            scenario=scenario,
            world=world,
            operators=tuple(op.name for op in scenario.operators),
            seed_entropy=int(entropy) if isinstance(entropy, int) else 0,
            seed_spawn_key=tuple(int(k) for k in seed_sequence.spawn_key),
            sites=sites,
            ledger=ledger,
            first_covered_day=shared.coverage.first_covered.copy(),
            initial_villages_covered=shared.initial_villages_covered,
            initial_people_covered=shared.initial_people_covered,
            built_times=np.array(shared.built.time, dtype=np.float64),
            on_air_times=np.array(shared.on_air.time, dtype=np.float64),
            crews=tuple(a.spec.build_crews for a in agents),
            wall_seconds=wall_seconds,
        )

    @property
    def horizon_days(self) -> int:
        return self.scenario.horizon_days

    @property
    def total_population(self) -> int:
        return self.world.villages.total_population

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
        prev = np.concatenate([[float(self.initial_villages_covered)], villages[:-1]])
        lg = self.ledger
        cash = _step_at(lg.time, np.cumsum(lg.amount), day_end, 0.0)
        capex_rows = lg.category == "capex"
        capex = _step_at(lg.time[capex_rows], -np.cumsum(lg.amount[capex_rows]), day_end, 0.0)
        total = max(self.total_population, 1)
        return {
            "sites_built": np.searchsorted(self.built_times, day_end, side="left").astype(float),
            "sites_on_air": np.searchsorted(self.on_air_times, day_end, side="left").astype(float),
            "villages_covered": villages,
            "new_villages_covered": villages - prev,
            "people_covered": people,
            "coverage_share": people / total,
            "capex_cumulative_usd": np.round(capex, 2),
            "cash_usd": np.round(cash, 2),
        }
