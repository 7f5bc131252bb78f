"""The operators: their money (revenue, credit lines), how they choose and build sites, their
crews.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .durations import BuildTime, lognormal_days
from .funding import check_drawdown
from .geography import ZoneName
from .types import (
    MAX_COUNT,
    Date,
    Int,
    NotBool,
    PosUsd,
    Share,
    StrictModel,
    Usd,
)

__all__ = [
    "Adoption",
    "CapexTable",
    "CreditLine",
    "Operator",
    "Revenue",
    "Siting",
    "Strategy",
    "Tranche",
]


class Adoption(StrictModel):
    """Bass diffusion of subscribers among the people a site newly covers."""

    p: Annotated[float, Field(ge=1e-6, le=1), NotBool] = 0.15
    """Innovation coefficient, per year, 1e-6 to 1 (assumption: with q, half the ceiling about 2.5
    years after a site opens — most people already own a phone — in line with sources §4's rural
    adoption 13.9% (2017) → 47.3% (2021))."""

    q: Annotated[float, Field(ge=0, le=5), NotBool] = 0.5
    """Imitation coefficient, per year, 0 to 5 (0: pure innovation, adoption 1 − e^(−p·t);
    assumption; see p)."""

    ceiling_share: Share = 0.6
    """Share of newly covered people who eventually subscribe (sources §4: rural internet use 47.3%
    in 2021, 51.2% in 2023)."""


class Revenue(StrictModel):
    arpu_usd_month: Annotated[float, Field(ge=0, le=10_000), NotBool] = 5.0
    """Revenue per subscriber per month, USD, at most 10,000 (sources §4: Peru low ARPU US$5)."""

    operator_share: Share = 1.0
    """Share of retail revenue the operator keeps (a neutral host earns a wholesale share, e.g. 0.3;
    assumption)."""

    adoption: Adoption = Field(default_factory=Adoption)


class Tranche(StrictModel):
    date: Date
    """Day the tranche is paid to the operator."""

    amount_usd: PosUsd
    """Amount, USD."""


class CreditLine(StrictModel):
    """A loan facility: drawn for capex on demand, or in scheduled tranches."""

    lender: Annotated[str, Field(min_length=1)]
    """Who lends."""

    limit_usd: Usd
    """Most that can be drawn in all, USD."""

    annual_rate: Share
    """Nominal annual interest rate, 0 to 1 (monthly rate = annual / 12)."""

    grace_months: Annotated[Int, Field(ge=0, le=600)] = 0
    """Months of interest-only payments from the line's start."""

    tenor_months: Annotated[Int, Field(ge=1, le=1200)]
    """Months of annuity repayment after the grace period."""

    drawdown: Literal["on_demand", "tranches"] = "on_demand"
    """Draw for capex when cash runs short, or by schedule."""

    tranches: list[Tranche] | None = None
    """With drawdown 'tranches'."""

    start_date: Date | None = None
    """Line opens (default: scenario start)."""

    end_date: Date | None = None
    """No drawdowns after this day."""

    max_debt_to_capex: Annotated[float, Field(gt=0, le=100), NotBool] | None = None
    """Covenant: no drawdown that would take debt above this share of cumulative capex (at most
    100)."""

    @model_validator(mode="after")
    def _tranches(self) -> CreditLine:
        check_drawdown(self.drawdown, self.tranches, self.limit_usd)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


def _default_site_opex() -> dict[str, float]:
    return {"coast": 4000.0, "highlands": 5000.0, "jungle": 7000.0}


# --- operators ---------------------------------------------------------------------------------


class CapexTable(StrictModel):
    greenfield: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 40000.0, "highlands": 50000.0, "jungle": 70000.0}
    )
    """New site (tower, radio, power), by zone, USD (assumption between sources §4's US$10k solar
    pole and US$100k standard tower; jungle +40% remote penalty)."""

    upgrade: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 15000.0, "highlands": 15000.0, "jungle": 20000.0}
    )
    """Upgrade of an existing 2G site to 4G, by zone, USD (assumption)."""


#: How candidate sites are ranked (see :class:`Siting`); the model's siting queue takes its
#: list of strategies from here.
Strategy = Literal[
    "people_per_dollar",
    "places_per_dollar",
    "largest_population",
    "nearest_backhaul",
    "random",
    "list",
]


class Siting(StrictModel):
    strategy: Strategy = "people_per_dollar"
    """How candidate sites are ranked: most newly covered people per dollar of capex; most newly
    covered places (localities) per dollar; largest village population; shortest backhaul link;
    random; or a given list."""

    villages: list[str] | None = None
    """With strategy 'list': village ids in build order."""

    people_per_place: Annotated[float, Field(gt=0, le=1e9), NotBool] | None = None
    """With places_per_dollar: also value people, this many people being worth one more place (value
    = places + people / people_per_place); absent: places only, people break ties. Small values
    approach people_per_dollar."""

    @model_validator(mode="after")
    def _list_needs_villages(self) -> Siting:
        if self.strategy == "list" and not self.villages:
            raise ValueError("strategy 'list' needs a non-empty 'villages' list")
        if self.strategy != "list" and self.villages is not None:
            raise ValueError("'villages' is only used with strategy 'list'")
        return self


def _default_build_days() -> dict[str, BuildTime]:
    # Assumption (sources §4: per-site lead time not published; weeks to months, longer in jungle).
    return {
        "coast": lognormal_days(60.0, 20.0),
        "highlands": lognormal_days(90.0, 30.0),
        "jungle": lognormal_days(120.0, 40.0),
    }


class Operator(StrictModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    """Name in outputs and key paths (operators.NAME...): letters, digits, '_', '.', '-'."""

    regions: list[str] | None = None
    """Build only in these regions (default: everywhere)."""

    zones: list[ZoneName] | None = None
    """Build only in these zones (default: all)."""

    cash_usd: Usd
    """Starting cash (equity paid in at day 0), USD."""

    equity_usd_per_year: Usd = 0.0
    """Further equity from the shareholders, paid in monthly (1/12 at each monthly accounting), USD
    a year."""

    build_crews: Annotated[Int, Field(ge=1, le=MAX_COUNT)]
    """Crews building sites at the same time."""

    capex_usd: CapexTable = Field(default_factory=CapexTable)
    build_days: dict[ZoneName, BuildTime] = Field(default_factory=_default_build_days)
    """Duration of building a new site, by zone: the works a crew does (with permit_days), or
    permits and works together (without it)."""

    permit_days: dict[ZoneName, BuildTime] | None = None
    """Permits before works may start, by zone. When given, permits (and waiting for capex) hold no
    crew: a planning desk prepares up to permit_capacity sites ahead of the crews, which only build.
    Upgrades of existing sites need none. Without it a crew takes a site from claim to completion
    (turnkey)."""

    permit_capacity: Annotated[Int, Field(ge=1, le=MAX_COUNT)] | None = None
    """Sites in preparation at once (permits, then waiting for capex or a crew); default twice
    build_crews. Only with permit_days."""

    initial_sites: Annotated[Int, Field(ge=0, le=MAX_COUNT)] = 0
    """Sites the operator already has at day 0: its pre-4G sites in its area, upgraded before the
    start and in service from day 0, most newly covered people first (capex sunk before the
    start)."""

    upgrade_time_factor: Annotated[float, Field(gt=0, le=10), NotBool] = 0.5
    """Upgrades take this share of a new site's build time (assumption)."""

    depots: list[str] | None = None
    """Village ids of this operator's depots (default: the world's depots)."""

    siting: Siting = Field(default_factory=Siting)
    opex_usd_year: dict[ZoneName, Usd] = Field(default_factory=_default_site_opex)
    """Running cost of a site (power, rent, radio), by zone, USD a year, besides backhaul opex
    (sources §4: opex ≈ 10% of capex a year)."""

    capex_reserve_usd: Usd = 0.0
    """Cash kept back for running costs and repairs: capex is paid only while cash stays above this
    (credit may fill the gap)."""

    capex_reserve_months: Annotated[float, Field(ge=0, le=120), NotBool] = 0.0
    """More cash kept back from capex: this many months of the running costs of the sites claimed so
    far (site and backhaul opex, preventive maintenance, expected repairs) — the reserve of a going
    concern."""

    revenue: Revenue = Field(default_factory=Revenue)
    credit_lines: Annotated[list[CreditLine], Field(max_length=100)] = Field(default_factory=list)
    """The operator's own loan facilities (a policy's credit lines come on top)."""

    maintenance_crews: Annotated[Int, Field(ge=0, le=MAX_COUNT)] = 2
    """Crews that travel to repair failed sites."""

    preventive_usd_per_site_year: Usd = 0.0
    """Preventive maintenance budget per on-air site, USD a year."""

    on_default: Literal["continue_maintenance", "stop_maintenance"] = "continue_maintenance"
    """After a default (debt service unpaid) new builds stop; does maintenance?"""
