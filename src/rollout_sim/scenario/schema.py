"""The scenario schema: typed, validated, with units in names and documented defaults.

Every default here is either traced to ``../docs/defaults.md`` (which cites FACTS.md) or labelled
an assumption there. Unknown keys are rejected (``extra="forbid"``); the loader turns pydantic's
errors into one line with the file, key path and value.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .calibration import Calibration
from .funding import Policy, check_drawdown
from .impact import Impact

__all__ = [
    "DEFAULT_ZONES",
    "Adoption",
    "Backhaul",
    "BuildTime",
    "CapexTable",
    "Coverage",
    "CreditLine",
    "Failures",
    "FibreBackhaul",
    "FixedDays",
    "GammaDays",
    "Geography",
    "LogNormalDays",
    "Maintenance",
    "MicrowaveBackhaul",
    "Operator",
    "Outputs",
    "PeruOptions",
    "PlacesSpec",
    "Reference",
    "Revenue",
    "SatelliteBackhaul",
    "Scenario",
    "Seasonal",
    "Siting",
    "SyntheticGeography",
    "Tranche",
    "Transport",
    "TriangularDays",
    "UniformDays",
    "VillageFile",
]

DEFAULT_ZONES: tuple[str, ...] = ("coast", "highlands", "jungle")

NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
ZoneName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


# --- build-time distributions -----------------------------------------------------------------


class FixedDays(_Model):
    """Always the same duration."""

    distribution: Literal["fixed"]
    days: PosFloat


class UniformDays(_Model):
    """Uniform between two durations."""

    distribution: Literal["uniform"]
    low_days: NonNegFloat
    high_days: PosFloat

    @model_validator(mode="after")
    def _ordered(self) -> UniformDays:
        if self.high_days < self.low_days:
            raise ValueError("high_days must be >= low_days")
        return self


class TriangularDays(_Model):
    """Triangular: the usual way planners state (optimistic, likely, pessimistic)."""

    distribution: Literal["triangular"]
    low_days: NonNegFloat
    mode_days: NonNegFloat
    high_days: PosFloat

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDays:
        if not self.low_days <= self.mode_days <= self.high_days or self.low_days == self.high_days:
            raise ValueError("need low_days <= mode_days <= high_days and low_days < high_days")
        return self


class LogNormalDays(_Model):
    """Log-normal with the given mean and standard deviation (of the days, not of the log)."""

    distribution: Literal["lognormal"]
    mean_days: PosFloat
    sd_days: NonNegFloat


class GammaDays(_Model):
    """Gamma with the given mean and standard deviation."""

    distribution: Literal["gamma"]
    mean_days: PosFloat
    sd_days: PosFloat


BuildTime = Annotated[
    FixedDays | UniformDays | TriangularDays | LogNormalDays | GammaDays,
    Field(discriminator="distribution"),
]


def _lognormal(mean: float, sd: float) -> LogNormalDays:
    return LogNormalDays(distribution="lognormal", mean_days=mean, sd_days=sd)


# --- geography ---------------------------------------------------------------------------------


class SyntheticGeography(_Model):
    """A seeded synthetic region: clustered villages with heavy-tailed populations.

    Villages are scattered around cluster centres (a Thomas point process) plus a uniform
    background; zones are bands from west to east (like Peru's coast, Andes, Amazon).
    """

    villages: Annotated[int, Field(ge=1, le=5_000_000)] = Field(
        5000, description="Number of villages."
    )
    width_km: PosFloat = Field(250.0, description="West-east extent of the region, km.")
    height_km: PosFloat = Field(200.0, description="South-north extent of the region, km.")
    clusters: Annotated[int, Field(ge=1)] = Field(60, description="Number of village clusters.")
    cluster_sd_km: PosFloat = Field(
        6.0, description="Spread of villages around a cluster centre, km (assumption)."
    )
    background_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.15, description="Share of villages scattered uniformly rather than in clusters."
    )
    population_median: PosFloat = Field(
        45.0,
        description="Median village population (FACTS §3: rural mean ≈ 67, most places < 150).",
    )
    population_sigma: NonNegFloat = Field(
        1.1, description="Log-normal sigma of village population (heavy tail; assumption)."
    )
    zones: dict[ZoneName, PosFloat] = Field(
        default_factory=lambda: {"coast": 0.2, "highlands": 0.5, "jungle": 0.3},
        description="Zones as west-to-east bands with these shares of the width.",
    )
    regions: Annotated[int, Field(ge=1)] = Field(
        4, description="Number of administrative regions (named region-1, region-2, ...)."
    )
    share_2g: Annotated[float, Field(ge=0, le=1)] = Field(
        0.05,
        description="Share of villages with an existing 2G site (the largest first; assumption).",
    )
    origin_lat: Annotated[float, Field(ge=-85, le=85)] = Field(
        -12.0, description="Latitude of the region's centre, degrees."
    )
    origin_lon: Annotated[float, Field(ge=-180, le=180)] = Field(
        -75.0, description="Longitude of the region's centre, degrees."
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Seed of the world; default: the scenario seed."
    )


class VillageFile(_Model):
    """Villages from a CSV or GeoJSON file of points."""

    path: Annotated[str, Field(min_length=1)] = Field(
        description="CSV (columns id, name, lat, lon, population, optional zone, region, "
        "service) or GeoJSON points; relative paths are relative to the scenario file."
    )
    default_zone: ZoneName = Field(
        "highlands", description="Zone for villages whose file gives none."
    )
    default_region: str = Field("all", description="Region for villages whose file gives none.")


class PlacesSpec(_Model):
    """Where fibre PoPs (or depots) are: at the largest villages, at given villages, or (Peru
    data only) at provincial or district capitals."""

    largest_villages: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Place this many at the largest villages, spread out."
    )
    min_spacing_km: NonNegFloat = Field(
        30.0, description="With largest_villages: no two closer than this, km."
    )
    villages: list[str] | None = Field(None, description="Village ids to place them at.")
    capitals: Literal["provincial", "district"] | None = Field(
        None,
        description="Peru data only: 'provincial' = the 180 provincial capitals the national "
        "fibre backbone reaches (FACTS §3); 'district' = those plus the 1,516 district capitals "
        "of the regional fibre projects (FACTS §3). See docs/peru_model.md for which.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> PlacesSpec:
        given = [self.largest_villages, self.villages, self.capitals]
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of largest_villages, villages or capitals")
        return self


class PeruOptions(_Model):
    """How the Peru data set is turned into a starting network (all assumptions: see
    docs/peru_model.md)."""

    urban_service: Literal["4g", "2g", "none"] = Field(
        "4g",
        description="Service of INEI's 3,747 urban places (district capitals and towns) at the "
        "start: '4g' = already served by the mobile operators (assumption for mid-2019).",
    )
    existing_2g_sites: Annotated[int, Field(ge=0)] = Field(
        1300,
        description="Rural 2G sites that can be upgraded (assumption: FACTS §2, about 2,200 IpT "
        "antennas in 2023 less 866 new towers), placed at the largest rural places at least "
        "existing_2g_spacing_km from each other and from urban places.",
    )
    existing_2g_spacing_km: PosFloat = Field(8.0, description="Spacing of those 2G sites, km.")


class Geography(_Model):
    """The villages and the fixed places (fibre PoPs, maintenance depots)."""

    synthetic: SyntheticGeography | None = None
    file: VillageFile | None = None
    dataset: Literal["peru"] | None = Field(
        None, description="A data set shipped with rollout-sim: 'peru' = all 94,922 places."
    )
    departments: list[str] | None = Field(
        None, description="With dataset 'peru': keep only these departments (default: all)."
    )
    peru: PeruOptions = Field(default_factory=PeruOptions)
    pops: PlacesSpec = Field(
        default_factory=lambda: PlacesSpec(largest_villages=8),
        description="Fibre points of presence (assumption: at the largest towns).",
    )
    depots: PlacesSpec = Field(
        default_factory=lambda: PlacesSpec(largest_villages=3, min_spacing_km=60.0),
        description="Maintenance and build depots.",
    )
    regions: list[str] | None = Field(
        None, description="Keep only villages of these regions (default: all)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Geography:
        given = sum(x is not None for x in (self.synthetic, self.file, self.dataset))
        if given > 1:
            raise ValueError("give one of synthetic, file or dataset")
        if given == 0:
            self.synthetic = SyntheticGeography()
        if self.departments is not None and self.dataset is None:
            raise ValueError("departments is only used with dataset: peru")
        for spec in (self.pops, self.depots):
            if spec.capitals is not None and self.dataset != "peru":
                raise ValueError("capitals is only used with dataset: peru")
        return self


# --- coverage and backhaul ---------------------------------------------------------------------


class Coverage(_Model):
    radius_km: dict[ZoneName, PosFloat] = Field(
        default_factory=lambda: {"coast": 6.0, "highlands": 4.0, "jungle": 4.0},
        description="Radius a site covers, by the zone of the site's village, km. FACTS §2: "
        "solar rural site ≈ 4 km; ITU: 12–30 m towers 4–8 km.",
    )


class FibreBackhaul(_Model):
    spur_max_km: NonNegFloat = Field(
        10.0, description="Longest fibre spur from a PoP to a site, km (assumption)."
    )
    capex_per_km_usd: NonNegFloat = Field(
        2000.0, description="Fibre spur cost, USD per km (FACTS §4: US$2 per metre)."
    )
    capex_fixed_usd: NonNegFloat = Field(5000.0, description="Fixed cost of a spur (assumption).")
    opex_per_year_usd: NonNegFloat = Field(
        1000.0, description="Running cost of a spur, USD a year (assumption)."
    )


class MicrowaveBackhaul(_Model):
    hop_range_km: dict[ZoneName, PosFloat] = Field(
        default_factory=lambda: {"coast": 40.0, "highlands": 30.0, "jungle": 20.0},
        description="Longest microwave hop, by the zone of the site's village, km (assumption).",
    )
    capex_usd: NonNegFloat = Field(
        30000.0, description="One microwave link (FACTS §4: medium link US$30k)."
    )
    opex_per_year_usd: NonNegFloat = Field(
        3000.0, description="Running cost of a link (FACTS §4: 10% of capex a year)."
    )


class SatelliteBackhaul(_Model):
    allowed: bool = Field(True, description="May sites use satellite backhaul?")
    capex_usd: NonNegFloat = Field(15000.0, description="Terminal and install (assumption).")
    opex_per_year_usd: NonNegFloat = Field(
        12000.0, description="Transponder fees, USD a year per site (assumption)."
    )
    max_sites: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Capacity limit: at most this many satellite sites per operator."
    )


class Backhaul(_Model):
    fibre: FibreBackhaul = Field(default_factory=FibreBackhaul)
    microwave: MicrowaveBackhaul = Field(default_factory=MicrowaveBackhaul)
    satellite: SatelliteBackhaul = Field(default_factory=SatelliteBackhaul)
    life_years: PosFloat = Field(
        10.0,
        description="Horizon over which the cheapest backhaul option is chosen "
        "(capex + opex × years; FACTS §4: ≈ 10-year payback).",
    )


EdgeKind = Literal["road", "track", "river"]


def _default_speeds() -> dict[EdgeKind, float]:
    return {"road": 30.0, "track": 15.0, "river": 10.0}


class Transport(_Model):
    """Travel over the village graph (used for repair trips and depot distances)."""

    detour_factor: Annotated[float, Field(ge=1, le=5)] = Field(
        1.3, description="Road km per straight-line km (assumption: rural roads wind)."
    )
    speed_kmh: dict[EdgeKind, PosFloat] = Field(
        default_factory=_default_speeds,
        description="Travel speed by link kind, km/h (FACTS §4 assumption: 20–40 km/h on "
        "roads, slower in jungle).",
    )


# --- revenue, credit, maintenance --------------------------------------------------------------


class Adoption(_Model):
    """Bass diffusion of subscribers among the people a site newly covers."""

    p: Annotated[float, Field(gt=0, le=1)] = Field(
        0.15,
        description="Innovation coefficient, per year (assumption: with q, half the ceiling "
        "about 2.5 years after a site opens — most people already own a phone — in line with "
        "FACTS §4's rural adoption 13.9% (2017) → 47.3% (2021)).",
    )
    q: Annotated[float, Field(ge=0, le=5)] = Field(
        0.5, description="Imitation coefficient, per year (assumption; see p)."
    )
    ceiling_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.6,
        description="Share of newly covered people who eventually subscribe (FACTS §4: rural "
        "internet use 47.3% in 2021, 51.2% in 2023).",
    )


class Revenue(_Model):
    arpu_usd_month: NonNegFloat = Field(
        5.0, description="Revenue per subscriber per month, USD (FACTS §4: Peru low ARPU US$5)."
    )
    operator_share: Annotated[float, Field(ge=0, le=1)] = Field(
        1.0,
        description="Share of retail revenue the operator keeps (a neutral host earns a "
        "wholesale share, e.g. 0.3; assumption).",
    )
    adoption: Adoption = Field(default_factory=Adoption)


class Tranche(_Model):
    date: dt.date = Field(description="Day the tranche is paid to the operator.")
    amount_usd: PosFloat


class CreditLine(_Model):
    """A loan facility (DESIGN §2.4): drawn for capex on demand, or in scheduled tranches."""

    lender: Annotated[str, Field(min_length=1)] = Field(description="Who lends.")
    limit_usd: NonNegFloat = Field(description="Most that can be drawn in all, USD.")
    annual_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        description="Nominal annual interest rate (monthly rate = annual / 12)."
    )
    grace_months: Annotated[int, Field(ge=0, le=600)] = Field(
        0, description="Months of interest-only payments from the line's start."
    )
    tenor_months: Annotated[int, Field(ge=1, le=1200)] = Field(
        description="Months of annuity repayment after the grace period."
    )
    drawdown: Literal["on_demand", "tranches"] = Field(
        "on_demand", description="Draw for capex when cash runs short, or by schedule."
    )
    tranches: list[Tranche] | None = Field(None, description="With drawdown 'tranches'.")
    start_date: date | None = Field(None, description="Line opens (default: scenario start).")
    end_date: date | None = Field(None, description="No drawdowns after this day.")
    max_debt_to_capex: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="Covenant: no drawdown that would take debt above this share of cumulative "
        "capex.",
    )

    @model_validator(mode="after")
    def _tranches(self) -> CreditLine:
        check_drawdown(self.drawdown, self.tranches, self.limit_usd)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Seasonal(_Model):
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [12, 1, 2, 3],
        description="Calendar months of the rainy season (FACTS §4: December–March).",
    )
    factor: Annotated[float, Field(gt=0, le=100)] = Field(
        1.5, description="Failure rate multiplier in those months (assumption)."
    )


class Failures(_Model):
    enabled: bool = Field(True, description="Do sites fail at all?")
    mtbf_days: dict[ZoneName, PosFloat] = Field(
        default_factory=lambda: {"coast": 540.0, "highlands": 365.0, "jungle": 270.0},
        description="Mean time between failures of a site, by zone, days (FACTS §4 assumption: "
        "a failure every 6–18 months per solar site).",
    )
    seasonal: Seasonal | None = Field(
        default_factory=Seasonal, description="Rainy-season factor (null: none)."
    )


def _default_repair_days() -> dict[str, BuildTime]:
    return {
        z: LogNormalDays(distribution="lognormal", mean_days=m, sd_days=m / 2)
        for z, m in (("coast", 0.5), ("highlands", 1.0), ("jungle", 1.5))
    }


class Maintenance(_Model):
    """Failures, repairs and preventive maintenance (DESIGN §2.5)."""

    failures: Failures = Field(default_factory=Failures)
    repair_days: dict[ZoneName, BuildTime] = Field(
        default_factory=_default_repair_days,
        description="On-site repair duration (after travel), by zone (assumption).",
    )
    repair_cost_usd: dict[ZoneName, NonNegFloat] = Field(
        default_factory=lambda: {"coast": 1000.0, "highlands": 1500.0, "jungle": 2500.0},
        description="Parts and labour per repair, by zone, USD (assumption).",
    )
    travel: bool = Field(
        True, description="Crews travel from the nearest depot over the graph (false: no travel)."
    )
    preventive_full_usd_per_site_year: PosFloat = Field(
        2000.0, description="Preventive spend per site-year that gives the full reduction."
    )
    preventive_max_reduction: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.5, description="Failure-rate reduction at full preventive spend (assumption)."
    )


def _default_site_opex() -> dict[str, float]:
    return {"coast": 4000.0, "highlands": 5000.0, "jungle": 7000.0}


# --- operators ---------------------------------------------------------------------------------


class CapexTable(_Model):
    greenfield: dict[ZoneName, NonNegFloat] = Field(
        default_factory=lambda: {"coast": 40000.0, "highlands": 50000.0, "jungle": 70000.0},
        description="New site (tower, radio, power), by zone, USD (assumption between FACTS "
        "§4's US$10k solar pole and US$100k standard tower; jungle +40% remote penalty).",
    )
    upgrade: dict[ZoneName, NonNegFloat] = Field(
        default_factory=lambda: {"coast": 15000.0, "highlands": 15000.0, "jungle": 20000.0},
        description="Upgrade of an existing 2G site to 4G, by zone, USD (assumption).",
    )


class Siting(_Model):
    strategy: Literal[
        "people_per_dollar", "largest_population", "nearest_backhaul", "random", "list"
    ] = Field(
        "people_per_dollar",
        description="How candidate sites are ranked: most newly covered people per dollar of "
        "capex; largest village population; shortest backhaul link; random; or a given list.",
    )
    villages: list[str] | None = Field(
        None, description="With strategy 'list': village ids in build order."
    )

    @model_validator(mode="after")
    def _list_needs_villages(self) -> Siting:
        if self.strategy == "list" and not self.villages:
            raise ValueError("strategy 'list' needs a non-empty 'villages' list")
        if self.strategy != "list" and self.villages is not None:
            raise ValueError("'villages' is only used with strategy 'list'")
        return self


def _default_build_days() -> dict[str, BuildTime]:
    # Assumption (FACTS §4: per-site lead time not published; weeks to months, longer in jungle).
    return {
        "coast": _lognormal(60.0, 20.0),
        "highlands": _lognormal(90.0, 30.0),
        "jungle": _lognormal(120.0, 40.0),
    }


class Operator(_Model):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    regions: list[str] | None = Field(
        None, description="Build only in these regions (default: everywhere)."
    )
    zones: list[ZoneName] | None = Field(
        None, description="Build only in these zones (default: all)."
    )
    cash_usd: NonNegFloat = Field(description="Starting cash (equity paid in at day 0), USD.")
    equity_usd_per_year: NonNegFloat = Field(
        0.0,
        description="Further equity from the shareholders, paid in monthly (1/12 at each "
        "monthly accounting), USD a year.",
    )
    build_crews: Annotated[int, Field(ge=1, le=100_000)] = Field(
        description="Crews building sites at the same time."
    )
    capex_usd: CapexTable = Field(default_factory=CapexTable)
    build_days: dict[ZoneName, BuildTime] = Field(
        default_factory=_default_build_days,
        description="Permits + works duration of a new site, by zone.",
    )
    upgrade_time_factor: Annotated[float, Field(gt=0, le=10)] = Field(
        0.5, description="Upgrades take this share of a new site's build time (assumption)."
    )
    depots: list[str] | None = Field(
        None, description="Village ids of this operator's depots (default: the world's depots)."
    )
    siting: Siting = Field(default_factory=Siting)
    opex_usd_year: dict[ZoneName, NonNegFloat] = Field(
        default_factory=_default_site_opex,
        description="Running cost of a site (power, rent, radio), by zone, USD a year, besides "
        "backhaul opex (FACTS §4: opex ≈ 10% of capex a year).",
    )
    capex_reserve_usd: NonNegFloat = Field(
        0.0,
        description="Cash kept back for running costs and repairs: capex is paid only while "
        "cash stays above this (credit may fill the gap).",
    )
    revenue: Revenue = Field(default_factory=Revenue)
    credit_lines: list[CreditLine] = Field(default_factory=list)
    maintenance_crews: Annotated[int, Field(ge=0, le=100_000)] = Field(
        2, description="Crews that travel to repair failed sites."
    )
    preventive_usd_per_site_year: NonNegFloat = Field(
        0.0, description="Preventive maintenance budget per on-air site, USD a year."
    )
    on_default: Literal["continue_maintenance", "stop_maintenance"] = Field(
        "continue_maintenance",
        description="After a default (debt service unpaid) new builds stop; does maintenance?",
    )


class Reference(_Model):
    """A published figure to report beside the simulated one (not fitted)."""

    label: Annotated[str, Field(min_length=1)] = Field(description="What it is, with its source.")
    metric: Literal[
        "people_reached", "people_covered", "villages_covered", "villages_reached", "sites_on_air"
    ] = Field(description="people_reached / villages_reached = covered minus covered at the start.")
    date: dt.date = Field(description="The date the figure refers to.")
    value: float


class Outputs(_Model):
    plots: bool = Field(True, description="Write plots/*.png.")
    band: tuple[Annotated[float, Field(gt=0, lt=1)], Annotated[float, Field(gt=0, lt=1)]] = Field(
        (0.1, 0.9), description="Quantiles of the band in fan charts and series summaries."
    )
    interval_level: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.9, description="Central interval of each metric across replications."
    )
    ci_level: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.95, description="Confidence level of paired differences against the baseline."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Outputs:
        if self.band[0] >= self.band[1]:
            raise ValueError("band must be (low, high) with low < high")
        return self


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Scenario(_Model):
    """A complete scenario: the world, the operators, the horizon."""

    name: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="Short name; also the results folder name (letters, digits, _ . -)."
    )
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(
        0, description="Master seed: the world and every random stream derive from it."
    )
    start_date: date = Field(description="Day 0 of the simulation.")
    end_date: date | None = Field(None, description="Last simulated day (inclusive).")
    horizon_years: Annotated[float, Field(gt=0, le=100)] | None = Field(
        None, description="Alternative to end_date: years after start_date."
    )
    geography: Geography = Field(default_factory=Geography)
    coverage: Coverage = Field(default_factory=Coverage)
    backhaul: Backhaul = Field(default_factory=Backhaul)
    transport: Transport = Field(default_factory=Transport)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    operators: Annotated[list[Operator], Field(min_length=1)]
    outputs: Outputs = Field(default_factory=Outputs)
    policies: list[Policy] = Field(
        default_factory=list, description="Funding policies to run and compare."
    )
    baseline_policy: str | None = Field(
        None, description="The policy others are compared with (default: the first)."
    )
    calibration: Calibration | None = Field(
        None, description="What `rollout-sim calibrate` fits, and to what."
    )
    references: list[Reference] = Field(
        default_factory=list, description="Published figures to report beside the results."
    )
    impact: Impact = Field(
        default_factory=Impact,
        description="Welfare and poverty effects of the coverage delivered (docs/impact.md).",
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.', '-'"
            )
        return value

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        if self.end_date is not None and self.horizon_years is not None:
            raise ValueError("give end_date or horizon_years, not both")
        if self.end_date is None:
            years = 5.0 if self.horizon_years is None else self.horizon_years
            # Half-days round up (not to even), so 2 and 6 years round the same way.
            days = int(years * 365.25 + 0.5)
            self.end_date = self.start_date + timedelta(days=days - 1)
            self.horizon_years = None
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        names = [op.name for op in self.operators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"operator names must be unique; repeated: {', '.join(dup)}")
        pnames = [p.name for p in self.policies]
        pdup = sorted({n for n in pnames if pnames.count(n) > 1})
        if pdup:
            raise ValueError(f"policy names must be unique; repeated: {', '.join(pdup)}")
        if self.baseline_policy is not None and self.baseline_policy not in pnames:
            raise ValueError(
                f"baseline_policy {self.baseline_policy!r} is not a policy; "
                f"policies: {', '.join(pnames) or 'none'}"
            )
        if self.baseline_policy is None and self.policies:
            self.baseline_policy = self.policies[0].name
        for p in self.policies:
            for inst in p.instruments:
                for op in inst.operators or ():
                    if op not in names:
                        raise ValueError(
                            f"policy {p.name!r}, instrument {inst.name!r}: unknown operator "
                            f"{op!r}; operators: {', '.join(names)}"
                        )
        return self

    def policy(self, name: str | None) -> Policy | None:
        """The named policy (None: the baseline, or no policy if there are none)."""
        if name is None:
            name = self.baseline_policy
        if name is None:
            return None
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def horizon_days(self) -> int:
        """Number of simulated days (rows of the daily series)."""
        assert self.end_date is not None
        return (self.end_date - self.start_date).days + 1
