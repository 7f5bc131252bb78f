"""The scenario schema: typed, validated, with units in names and documented defaults.

Every default here is either traced to ``../docs/defaults.md`` (which cites FACTS.md) or labelled
an assumption there. Unknown keys are rejected (``extra="forbid"``); the loader turns pydantic's
errors into one line with the file, key path and value.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .calibration import Calibration
from .funding import Policy, check_drawdown
from .impact import Impact
from .types import (
    MAX_COUNT,
    MAX_DAYS,
    MAX_HORIZON_YEARS,
    MAX_SEED,
    MAX_VILLAGES,
    Bool,
    Date,
    Days,
    Int,
    Km,
    NonNegDays,
    NotBool,
    PosKm,
    PosUsd,
    Share,
    StartDate,
    Usd,
)

__all__ = [
    "DEFAULT_ZONES",
    "Adoption",
    "Backhaul",
    "BuildTime",
    "CapexTable",
    "Coverage",
    "CoverageTerrain",
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

ZoneName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
#: Kilometres per degree of latitude (the mean Earth radius of ``world.villages``).
_KM_PER_DEGREE = 6371.0088 * math.pi / 180


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


# --- build-time distributions -----------------------------------------------------------------


class FixedDays(_Model):
    """Always the same duration."""

    distribution: Literal["fixed"]
    days: Days


class UniformDays(_Model):
    """Uniform between two durations."""

    distribution: Literal["uniform"]
    low_days: NonNegDays
    high_days: Days

    @model_validator(mode="after")
    def _ordered(self) -> UniformDays:
        if self.high_days < self.low_days:
            raise ValueError("high_days must be >= low_days")
        return self


class TriangularDays(_Model):
    """Triangular: the usual way planners state (optimistic, likely, pessimistic)."""

    distribution: Literal["triangular"]
    low_days: NonNegDays
    mode_days: NonNegDays
    high_days: Days

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDays:
        if not self.low_days <= self.mode_days <= self.high_days or self.low_days == self.high_days:
            raise ValueError("need low_days <= mode_days <= high_days and low_days < high_days")
        return self


class LogNormalDays(_Model):
    """Log-normal with the given mean and standard deviation (of the days, not of the log)."""

    distribution: Literal["lognormal"]
    mean_days: Days
    sd_days: NonNegDays


class GammaDays(_Model):
    """Gamma with the given mean and standard deviation."""

    distribution: Literal["gamma"]
    mean_days: Days
    sd_days: Days


BuildTime = Annotated[
    FixedDays | UniformDays | TriangularDays | LogNormalDays | GammaDays,
    Field(discriminator="distribution"),
]


def _lognormal(mean: float, sd: float) -> LogNormalDays:
    return LogNormalDays(distribution="lognormal", mean_days=mean, sd_days=sd)


# --- geography ---------------------------------------------------------------------------------


#: How steep the terrain is, m of climb per km across: 0 (flat) to 10,000 (beyond any terrain).
Ruggedness = Annotated[float, Field(ge=0, le=10_000), NotBool]


class SyntheticGeography(_Model):
    """A seeded synthetic region: clustered villages with heavy-tailed populations.

    Villages are scattered around cluster centres (a Thomas point process) plus a uniform
    background; zones are bands from west to east (like Peru's coast, Andes, Amazon).
    """

    villages: Annotated[Int, Field(ge=1, le=MAX_VILLAGES)] = Field(
        5000, description="Number of villages (at most 1,000,000: ten times Peru's places)."
    )
    width_km: PosKm = Field(
        250.0, description="West-east extent of the region, km (at most 20,000)."
    )
    height_km: PosKm = Field(
        200.0, description="South-north extent of the region, km (within latitudes ±89°)."
    )
    clusters: Annotated[Int, Field(ge=1, le=MAX_VILLAGES)] = Field(
        60, description="Number of village clusters."
    )
    cluster_sd_km: PosKm = Field(
        6.0, description="Spread of villages around a cluster centre, km (assumption)."
    )
    background_share: Share = Field(
        0.15, description="Share of villages scattered uniformly rather than in clusters."
    )
    population_median: Annotated[float, Field(gt=0, le=1_000_000), NotBool] = Field(
        45.0,
        description="Median village population (FACTS §3: rural mean ≈ 67, most places < 150); "
        "at most 1,000,000.",
    )
    population_sigma: Annotated[float, Field(ge=0, le=3), NotBool] = Field(
        1.1,
        description="Log-normal sigma of village population (heavy tail; assumption); at most "
        "3 (the largest of 1,000 villages is then ~10,000 times the median).",
    )
    zones: Annotated[
        dict[ZoneName, Annotated[float, Field(gt=0, le=1000), NotBool]],
        Field(min_length=1, max_length=1000),
    ] = Field(
        default_factory=lambda: {"coast": 0.2, "highlands": 0.5, "jungle": 0.3},
        description="Zones as west-to-east bands with these shares of the width (relative: "
        "they are scaled to add up to 1).",
    )
    regions: Annotated[Int, Field(ge=1, le=10_000)] = Field(
        4, description="Number of administrative regions (named region-1, region-2, ...)."
    )
    share_2g: Share = Field(
        0.05,
        description="Share of villages with an existing 2G site (the largest first; assumption).",
    )
    ruggedness_m_per_km: dict[ZoneName, Ruggedness] = Field(
        default_factory=lambda: {"coast": 8.0, "highlands": 15.0, "jungle": 6.0},
        description="Ruggedness of the villages by zone, m of climb per km (used by "
        "coverage.terrain; a zone not named is flat). Default: the median place of Peru's "
        "coast, highlands and jungle, from INEI district capitals' altitudes (assumption).",
    )
    origin_lat: Annotated[float, Field(ge=-85, le=85), NotBool] = Field(
        -12.0, description="Latitude of the region's centre, degrees."
    )
    origin_lon: Annotated[float, Field(ge=-180, le=180), NotBool] = Field(
        -75.0, description="Longitude of the region's centre, degrees."
    )
    seed: Annotated[Int, Field(ge=0, le=MAX_SEED)] | None = Field(
        None, description="Seed of the world; default: the scenario seed."
    )

    @model_validator(mode="after")
    def _on_the_globe(self) -> SyntheticGeography:
        if "ruggedness_m_per_km" in self.model_fields_set:
            # A table given by hand must name real zones (a typo would silently be flat).
            unknown = sorted(set(self.ruggedness_m_per_km) - set(self.zones))
            if unknown:
                raise ValueError(
                    f"ruggedness_m_per_km names zone {unknown[0]!r}, which is not one of the "
                    f"zones ({', '.join(self.zones)})"
                )
        else:
            # The default table, kept to the zones there are (so the resolved scenario, which
            # gives it explicitly, loads again whatever the zones are called).
            table = self.ruggedness_m_per_km
            self.ruggedness_m_per_km = {z: v for z, v in table.items() if z in self.zones}
        # The region is unprojected to latitude and longitude around its centre: at a pole a
        # km of width spans infinitely many degrees and past it the coordinates mean nothing;
        # past ±180° of longitude the GeoJSON outputs would be invalid.
        half_lat = self.height_km / 2 / _KM_PER_DEGREE
        north, south = self.origin_lat + half_lat, self.origin_lat - half_lat
        if north > 89 or south < -89:
            raise ValueError(
                f"the region spans latitudes {south:.1f} to {north:.1f} (origin_lat ± "
                "height_km / 2); expected it within -89..89: lower height_km or move origin_lat"
            )
        widest = math.cos(math.radians(max(abs(north), abs(south))))
        half_lon = self.width_km / 2 / (_KM_PER_DEGREE * widest)
        if abs(self.origin_lon) + half_lon > 180:
            raise ValueError(
                f"the region spans longitudes {self.origin_lon - half_lon:.1f} to "
                f"{self.origin_lon + half_lon:.1f} (origin_lon ± width_km / 2 at its widest); "
                "expected it within -180..180: lower width_km or move origin_lon"
            )
        return self


class VillageFile(_Model):
    """Villages from a CSV or GeoJSON file of points."""

    path: Annotated[str, Field(min_length=1)] = Field(
        description="CSV (columns id, name, lat, lon, population, optional zone, region, "
        "service; separated by , or ; or tabs, with a decimal comma when not by commas; "
        "latitude/longitude headers accepted) or GeoJSON points; relative paths are relative "
        "to the scenario file."
    )
    default_zone: ZoneName = Field(
        "highlands", description="Zone for villages whose file gives none."
    )
    default_region: str = Field("all", description="Region for villages whose file gives none.")
    expect_box: (
        tuple[
            Annotated[float, Field(ge=-90, le=90), NotBool],
            Annotated[float, Field(ge=-90, le=90), NotBool],
            Annotated[float, Field(ge=-180, le=180), NotBool],
            Annotated[float, Field(ge=-180, le=180), NotBool],
        ]
        | None
    ) = Field(
        None,
        description="Where the villages should be: [lat_min, lat_max, lon_min, lon_max], "
        "degrees (e.g. Peru: [-18.5, 0.1, -81.5, -68.5]); villages outside it, or a file whose "
        "latitude and longitude look exchanged, get a warning.",
    )


class PlacesSpec(_Model):
    """Where fibre PoPs (or depots) are: at the largest villages, at given villages, or (Peru
    data only) at provincial or district capitals."""

    largest_villages: Annotated[Int, Field(ge=0, le=MAX_COUNT)] | None = Field(
        None, description="Place this many at the largest villages, spread out (at most 100,000)."
    )
    min_spacing_km: Km = Field(
        30.0, description="With largest_villages: no two closer than this, km."
    )
    villages: list[str] | None = Field(None, description="Village ids to place them at.")
    capitals: Literal["provincial", "district"] | None = Field(
        None,
        description="Peru data only: 'provincial' = the 180 provincial capitals the national "
        "fibre backbone reaches (FACTS §3); 'district' = those plus the 1,516 district capitals "
        "of the regional fibre projects (FACTS §3), each opening when its department's network "
        "did (geography.peru.regional_fibre). See docs/peru_model.md for which.",
    )
    open_dates: dict[str, Date] | None = Field(
        None,
        description="PoPs only, with villages: the day the PoP at each named village opens "
        "(fibre that arrives during the run); the others are open from the start.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> PlacesSpec:
        given = [self.largest_villages, self.villages, self.capitals]
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of largest_villages, villages or capitals")
        if self.open_dates is not None:
            if self.villages is None:
                raise ValueError("open_dates is only used with villages")
            unknown = sorted(set(self.open_dates) - set(self.villages))
            if unknown:
                raise ValueError(
                    f"open_dates names {unknown[0]!r}, which is not one of the villages listed"
                )
        return self


#: When each department's regional fibre network opened, for ``geography.peru.regional_fibre``.
#: PRONATEL 2021 report via ebiz.pe; agenciaorbita 2021; ebiz.pe 2023; peru21: all 21 regional
#: networks were due by 2019; in 2019 only Apurímac, Ayacucho and Huancavelica operated;
#: Lambayeque in 2020; Cusco and Lima in 2021, 7 of 21 by end-2021; Tacna and Moquegua
#: mid-2021; Puno, Huánuco, Junín and Pasco partly in 2021; 9 operating in Sep 2023; the
#: contracts of Piura, Tumbes and Cajamarca were terminated in 2019. Where the sources give
#: only a year we take 1 July (assumption). To count 7 at end-2021 and 9 in Sep 2023, one of
#: Tacna and Moquegua must come after 2021 (we delay Moquegua a year) and one of the four
#: "partly in 2021" must open by Sep 2023 (we take Junín, mid-2022; which one is not
#: published). Null: no regional network within the model (terminated, never named as
#: operating by Sep 2023, or no project: Callao, Loreto, Madre de Dios, Ucayali).
PERU_REGIONAL_FIBRE: dict[str, date | None] = {
    "AMAZONAS": None,
    "ANCASH": None,
    "APURIMAC": date(2019, 7, 1),
    "AREQUIPA": None,
    "AYACUCHO": date(2019, 7, 1),
    "CAJAMARCA": None,
    "CALLAO": None,
    "CUSCO": date(2021, 7, 1),
    "HUANCAVELICA": date(2019, 7, 1),
    "HUANUCO": None,
    "ICA": None,
    "JUNIN": date(2022, 7, 1),
    "LA LIBERTAD": None,
    "LAMBAYEQUE": date(2020, 7, 1),
    "LIMA": date(2021, 7, 1),
    "LORETO": None,
    "MADRE DE DIOS": None,
    "MOQUEGUA": date(2022, 7, 1),
    "PASCO": None,
    "PIURA": None,
    "PUNO": None,
    "SAN MARTIN": None,
    "TACNA": date(2021, 7, 1),
    "TUMBES": None,
    "UCAYALI": None,
}


def _fold_department(name: str) -> str:
    """Upper case without accents: 'Apurímac' and 'APURIMAC' name the same department."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


class PeruOptions(_Model):
    """How the Peru data set is turned into a starting network and when its fibre opens (see
    docs/peru_model.md).

    Two ways to give the starting network, not both: the old one by assumption
    (``urban_service``, ``existing_2g_sites``, ``existing_2g_spacing_km``; the default), or one
    fitted to OSIPTEL's Sep 2018 counts (``start_4g_people_share``, ``start_signal_places``).
    """

    urban_service: Literal["4g", "2g", "none"] | None = Field(
        None,
        description="Service of INEI's 3,747 urban places (district capitals and towns) at the "
        "start: '4g' = already served by the mobile operators (assumption for mid-2019). "
        "Default '4g' unless start_4g_people_share or start_signal_places is given.",
    )
    existing_2g_sites: Annotated[Int, Field(ge=0, le=MAX_COUNT)] | None = Field(
        None,
        description="Rural 2G sites that can be upgraded (assumption: FACTS §2, about 2,200 IpT "
        "antennas in 2023 less 866 new towers), placed at the largest rural places at least "
        "existing_2g_spacing_km from each other and from urban places. Default 1,300 unless "
        "start_4g_people_share or start_signal_places is given.",
    )
    existing_2g_spacing_km: Annotated[float, Field(gt=0, le=100), NotBool] | None = Field(
        None,
        description="Spacing of those 2G sites, km (at most 100: each urban place blocks the "
        "places within it). Default 8 unless start_4g_people_share or start_signal_places is "
        "given.",
    )
    start_4g_people_share: dict[ZoneName, Share] | None = Field(
        None,
        description="The incumbents' 4G layer at the start: existing 4G sites are placed "
        "greedily, zone by zone, each where it newly covers the most of the zone's people, "
        "until this share of each named zone's people is covered (OSIPTEL via "
        "sociedadtelecom.pe, Feb 2019: coast 0.92, highlands 0.88, jungle 0.58 in Sep 2018).",
    )
    start_signal_places: Annotated[Int, Field(ge=0, le=MAX_VILLAGES)] | None = Field(
        None,
        description="Then the pre-4G layer (2G/3G sites, upgradable): placed greedily where "
        "each newly covers the most places with no signal yet (ties: more people) until this "
        "many places have a signal of some kind (OSIPTEL via El Comercio, 2018: about half of "
        "the 94,922 places, > 54,000 with none).",
    )
    regional_fibre: dict[str, Date | None] = Field(
        default_factory=lambda: dict(PERU_REGIONAL_FIBRE),
        description="With pops {capitals: district}: the day each department's regional fibre "
        "network opens its district-capital PoPs (null: none within the model). Departments "
        "not named keep their default (the dates the networks really opened: docs/peru_model.md)."
        " The backbone's provincial capitals are open from the start.",
    )

    @field_validator("regional_fibre")
    @classmethod
    def _departments(cls, value: dict[str, date | None]) -> dict[str, date | None]:
        merged = dict(PERU_REGIONAL_FIBRE)
        for name, day in value.items():
            key = _fold_department(name)
            if key not in merged:
                raise ValueError(
                    f"unknown department {name!r}; expected one of {', '.join(merged)}"
                )
            merged[key] = day
        return merged

    @model_validator(mode="after")
    def _one_starting_network(self) -> PeruOptions:
        old = [self.urban_service, self.existing_2g_sites, self.existing_2g_spacing_km]
        new = [self.start_4g_people_share, self.start_signal_places]
        if any(x is not None for x in new):
            if any(x is not None for x in old):
                raise ValueError(
                    "give urban_service / existing_2g_sites / existing_2g_spacing_km or "
                    "start_4g_people_share / start_signal_places, not both"
                )
            return self
        # The old starting network, with its defaults (so the resolved scenario says them).
        if self.urban_service is None:
            self.urban_service = "4g"
        if self.existing_2g_sites is None:
            self.existing_2g_sites = 1300
        if self.existing_2g_spacing_km is None:
            self.existing_2g_spacing_km = 8.0
        return self

    @property
    def fitted_start(self) -> bool:
        """Is the starting network the one fitted to OSIPTEL's 2018 counts?"""
        return self.start_4g_people_share is not None or self.start_signal_places is not None


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
        if self.depots.open_dates is not None:
            raise ValueError("open_dates is only used for pops (depots are there from the start)")
        return self


# --- coverage and backhaul ---------------------------------------------------------------------


#: Longest coverage radius, km: the reach of an extended-range cell. (The coverage index holds
#: every village pair within the largest radius, so this also bounds its memory.)
MAX_RADIUS_KM = 100.0
#: Longest microwave hop, km: beyond the longest line-of-sight links in service.
MAX_HOP_KM = 200.0


class CoverageTerrain(_Model):
    """Coverage that falls with distance and with the ruggedness of the site's village.

    A site at village *i* (ruggedness R_i, m per km; see ``ruggedness_m_per_km`` of the
    villages) reaches L_i = radius_km[zone of i] / (1 + R_i / S) km and serves a village at
    distance d with probability p = 1 / (1 + (d / L_i) ** k): 1/2 at d = L_i, near 1 well
    inside it, near 0 well beyond (its own village always). Whether it does is drawn once per
    world from the world's seed, one uniform per pair of villages shared by both directions
    (line of sight is symmetric), and never beyond the distance where p falls to 1%
    (3.15 L for k = 4). S and k are assumptions, to be calibrated (e.g. to the 2018 count of
    places with 4G); ITU's last-mile guide gives 2–15 km by tower height on flat ground.
    """

    ruggedness_scale_m_per_km: Annotated[float, Field(gt=0, le=10_000), NotBool] = Field(
        description="S: the ruggedness at which a site's reach is half its zone's radius, m of "
        "climb per km (Peru's district capitals: median 15 m/km, 95% under 65)."
    )
    steepness: Annotated[float, Field(ge=1, le=1000), NotBool] = Field(
        4.0,
        description="k: how sharply service falls around the reach L (4: 94% at L/2, 6% at "
        "2 L; very large: a hard disc of radius L).",
    )


class Coverage(_Model):
    """Which villages a site serves: a flat disc of its zone's radius, or with ``terrain`` a
    reach that shrinks with the ruggedness of its village and a service probability that falls
    with distance (see CoverageTerrain). Drawn once per world, never per run."""

    radius_km: dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_RADIUS_KM), NotBool]] = Field(
        default_factory=lambda: {"coast": 6.0, "highlands": 4.0, "jungle": 4.0},
        description="Radius a site covers, by the zone of the site's village, km (at most 100: "
        "an extended-range cell). FACTS §2: solar rural site ≈ 4 km; ITU: 12–30 m towers 4–8 km.",
    )
    terrain: CoverageTerrain | None = Field(
        None,
        description="Coverage that falls with distance and ruggedness (see CoverageTerrain); "
        "absent: a flat disc of radius_km.",
    )
    start_radius_km: (
        dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_RADIUS_KM), NotBool]] | None
    ) = Field(
        None,
        description="Radius (reach, with terrain) of the sites of a fitted starting network "
        "(Peru's start_4g_people_share), by zone, km; default radius_km. The incumbents' "
        "2018 sites and the rollout's new sites need not cover places alike: this lets the "
        "2018 count of places with 4G and an operator's places per site be fitted apart.",
    )


class FibreBackhaul(_Model):
    spur_max_km: Km = Field(
        10.0, description="Longest fibre spur from a PoP to a site, km (assumption)."
    )
    capex_per_km_usd: Usd = Field(
        2000.0, description="Fibre spur cost, USD per km (FACTS §4: US$2 per metre)."
    )
    capex_fixed_usd: Usd = Field(5000.0, description="Fixed cost of a spur (assumption).")
    opex_per_year_usd: Usd = Field(
        1000.0, description="Running cost of a spur, USD a year (assumption)."
    )


class MicrowaveBackhaul(_Model):
    hop_range_km: dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_HOP_KM), NotBool]] = Field(
        default_factory=lambda: {"coast": 40.0, "highlands": 30.0, "jungle": 20.0},
        description="Longest microwave hop, by the zone of the site's village, km (assumption; "
        "at most 200).",
    )
    capex_usd: Usd = Field(
        30000.0, description="One microwave link (FACTS §4: medium link US$30k)."
    )
    opex_per_year_usd: Usd = Field(
        3000.0, description="Running cost of a link (FACTS §4: 10% of capex a year)."
    )
    max_hops: Annotated[Int, Field(ge=1, le=100)] | None = Field(
        4,
        description="Longest microwave chain, hops from its PoP or fibre site (assumption: a "
        "rural hop carries a few hundred Mbit/s shared by every site behind it, and one hub "
        "failure drops the whole chain; IpT's design chains sites to a grid-connected node). "
        "null: no limit.",
    )


class SatelliteBackhaul(_Model):
    allowed: Bool = Field(True, description="May sites use satellite backhaul?")
    capex_usd: Usd = Field(15000.0, description="Terminal and install (assumption).")
    opex_per_year_usd: Usd = Field(
        12000.0, description="Transponder fees, USD a year per site (assumption)."
    )
    max_sites: Annotated[Int, Field(ge=0, le=MAX_VILLAGES)] | None = Field(
        None, description="Capacity limit: at most this many satellite sites per operator."
    )


class Backhaul(_Model):
    fibre: FibreBackhaul = Field(default_factory=FibreBackhaul)
    microwave: MicrowaveBackhaul = Field(default_factory=MicrowaveBackhaul)
    satellite: SatelliteBackhaul = Field(default_factory=SatelliteBackhaul)
    life_years: Annotated[float, Field(gt=0, le=MAX_HORIZON_YEARS), NotBool] = Field(
        10.0,
        description="Horizon over which the cheapest backhaul option is chosen "
        "(capex + opex × years; FACTS §4: ≈ 10-year payback).",
    )


EdgeKind = Literal["road", "track", "river"]
#: Every link kind, in the order of ``world.graph.EDGE_KINDS``.
EDGE_KIND_NAMES: tuple[EdgeKind, ...] = ("road", "track", "river")


def _default_speeds() -> dict[EdgeKind, float]:
    return {"road": 30.0, "track": 15.0, "river": 10.0}


class Transport(_Model):
    """Travel over the village graph (used for repair trips and depot distances)."""

    detour_factor: Annotated[float, Field(ge=1, le=5), NotBool] = Field(
        1.3, description="Road km per straight-line km (assumption: rural roads wind)."
    )
    speed_kmh: dict[EdgeKind, Annotated[float, Field(ge=0.1, le=1000), NotBool]] = Field(
        default_factory=_default_speeds,
        description="Travel speed by link kind (road, track and river), km/h, 0.1 to 1,000 "
        "(FACTS §4 assumption: 20–40 km/h on roads, slower in jungle).",
    )

    @field_validator("speed_kmh")
    @classmethod
    def _every_kind(cls, value: dict[EdgeKind, float]) -> dict[EdgeKind, float]:
        missing = [k for k in EDGE_KIND_NAMES if k not in value]
        if missing:
            raise ValueError(
                f"no value for link kind {missing[0]!r}; expected {', '.join(EDGE_KIND_NAMES)}"
            )
        return value


# --- revenue, credit, maintenance --------------------------------------------------------------


class Adoption(_Model):
    """Bass diffusion of subscribers among the people a site newly covers."""

    p: Annotated[float, Field(ge=1e-6, le=1), NotBool] = Field(
        0.15,
        description="Innovation coefficient, per year, 1e-6 to 1 (assumption: with q, half the "
        "ceiling about 2.5 years after a site opens — most people already own a phone — in line "
        "with FACTS §4's rural adoption 13.9% (2017) → 47.3% (2021)).",
    )
    q: Annotated[float, Field(ge=0, le=5), NotBool] = Field(
        0.5,
        description="Imitation coefficient, per year, 0 to 5 (0: pure innovation, adoption "
        "1 − e^(−p·t); assumption; see p).",
    )
    ceiling_share: Share = Field(
        0.6,
        description="Share of newly covered people who eventually subscribe (FACTS §4: rural "
        "internet use 47.3% in 2021, 51.2% in 2023).",
    )


class Revenue(_Model):
    arpu_usd_month: Annotated[float, Field(ge=0, le=10_000), NotBool] = Field(
        5.0,
        description="Revenue per subscriber per month, USD, at most 10,000 (FACTS §4: Peru low "
        "ARPU US$5).",
    )
    operator_share: Share = Field(
        1.0,
        description="Share of retail revenue the operator keeps (a neutral host earns a "
        "wholesale share, e.g. 0.3; assumption).",
    )
    adoption: Adoption = Field(default_factory=Adoption)


class Tranche(_Model):
    date: Date = Field(description="Day the tranche is paid to the operator.")
    amount_usd: PosUsd


class CreditLine(_Model):
    """A loan facility (DESIGN §2.4): drawn for capex on demand, or in scheduled tranches."""

    lender: Annotated[str, Field(min_length=1)] = Field(description="Who lends.")
    limit_usd: Usd = Field(description="Most that can be drawn in all, USD.")
    annual_rate: Share = Field(
        description="Nominal annual interest rate, 0 to 1 (monthly rate = annual / 12)."
    )
    grace_months: Annotated[Int, Field(ge=0, le=600)] = Field(
        0, description="Months of interest-only payments from the line's start."
    )
    tenor_months: Annotated[Int, Field(ge=1, le=1200)] = Field(
        description="Months of annuity repayment after the grace period."
    )
    drawdown: Literal["on_demand", "tranches"] = Field(
        "on_demand", description="Draw for capex when cash runs short, or by schedule."
    )
    tranches: list[Tranche] | None = Field(None, description="With drawdown 'tranches'.")
    start_date: Date | None = Field(None, description="Line opens (default: scenario start).")
    end_date: Date | None = Field(None, description="No drawdowns after this day.")
    max_debt_to_capex: Annotated[float, Field(gt=0, le=100), NotBool] | None = Field(
        None,
        description="Covenant: no drawdown that would take debt above this share of cumulative "
        "capex (at most 100).",
    )

    @model_validator(mode="after")
    def _tranches(self) -> CreditLine:
        check_drawdown(self.drawdown, self.tranches, self.limit_usd)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Seasonal(_Model):
    months: Annotated[list[Annotated[Int, Field(ge=1, le=12)]], Field(max_length=12)] = Field(
        default_factory=lambda: [12, 1, 2, 3],
        description="Calendar months of the rainy season (FACTS §4: December–March).",
    )
    factor: Annotated[float, Field(gt=0, le=100), NotBool] = Field(
        1.5, description="Failure rate multiplier in those months (assumption)."
    )


class Failures(_Model):
    enabled: Bool = Field(True, description="Do sites fail at all?")
    mtbf_days: dict[ZoneName, Annotated[float, Field(ge=1, le=1_000_000), NotBool]] = Field(
        default_factory=lambda: {"coast": 540.0, "highlands": 365.0, "jungle": 270.0},
        description="Mean time between failures of a site, by zone, days, 1 to 1,000,000 "
        "(FACTS §4 assumption: a failure every 6–18 months per solar site).",
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
    repair_cost_usd: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 1000.0, "highlands": 1500.0, "jungle": 2500.0},
        description="Parts and labour per repair, by zone, USD (assumption).",
    )
    travel: Bool = Field(
        True, description="Crews travel from the nearest depot over the graph (false: no travel)."
    )
    preventive_full_usd_per_site_year: PosUsd = Field(
        2000.0, description="Preventive spend per site-year that gives the full reduction."
    )
    preventive_max_reduction: Annotated[float, Field(ge=0, lt=1), NotBool] = Field(
        0.5, description="Failure-rate reduction at full preventive spend (assumption)."
    )


def _default_site_opex() -> dict[str, float]:
    return {"coast": 4000.0, "highlands": 5000.0, "jungle": 7000.0}


# --- operators ---------------------------------------------------------------------------------


class CapexTable(_Model):
    greenfield: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 40000.0, "highlands": 50000.0, "jungle": 70000.0},
        description="New site (tower, radio, power), by zone, USD (assumption between FACTS "
        "§4's US$10k solar pole and US$100k standard tower; jungle +40% remote penalty).",
    )
    upgrade: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 15000.0, "highlands": 15000.0, "jungle": 20000.0},
        description="Upgrade of an existing 2G site to 4G, by zone, USD (assumption).",
    )


class Siting(_Model):
    strategy: Literal[
        "people_per_dollar",
        "places_per_dollar",
        "largest_population",
        "nearest_backhaul",
        "random",
        "list",
    ] = Field(
        "people_per_dollar",
        description="How candidate sites are ranked: most newly covered people per dollar of "
        "capex; most newly covered places (localities) per dollar; largest village "
        "population; shortest backhaul link; random; or a given list.",
    )
    villages: list[str] | None = Field(
        None, description="With strategy 'list': village ids in build order."
    )
    people_per_place: Annotated[float, Field(gt=0, le=1e9), NotBool] | None = Field(
        None,
        description="With places_per_dollar: also value people, this many people being worth "
        "one more place (value = places + people / people_per_place); absent: places only, "
        "people break ties. Small values approach people_per_dollar.",
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
    cash_usd: Usd = Field(description="Starting cash (equity paid in at day 0), USD.")
    equity_usd_per_year: Usd = Field(
        0.0,
        description="Further equity from the shareholders, paid in monthly (1/12 at each "
        "monthly accounting), USD a year.",
    )
    build_crews: Annotated[Int, Field(ge=1, le=MAX_COUNT)] = Field(
        description="Crews building sites at the same time."
    )
    capex_usd: CapexTable = Field(default_factory=CapexTable)
    build_days: dict[ZoneName, BuildTime] = Field(
        default_factory=_default_build_days,
        description="Duration of building a new site, by zone: the works a crew does (with "
        "permit_days), or permits and works together (without it).",
    )
    permit_days: dict[ZoneName, BuildTime] | None = Field(
        None,
        description="Permits before works may start, by zone. When given, permits (and waiting "
        "for capex) hold no crew: a planning desk prepares up to permit_capacity sites ahead "
        "of the crews, which only build. Upgrades of existing sites need none. Without it a "
        "crew takes a site from claim to completion (turnkey).",
    )
    permit_capacity: Annotated[Int, Field(ge=1, le=MAX_COUNT)] | None = Field(
        None,
        description="Sites in preparation at once (permits, then waiting for capex or a crew); "
        "default twice build_crews. Only with permit_days.",
    )
    initial_sites: Annotated[Int, Field(ge=0, le=MAX_COUNT)] = Field(
        0,
        description="Sites the operator already has at day 0: its pre-4G sites in its area, "
        "upgraded before the start and in service from day 0, most newly covered people "
        "first (capex sunk before the start).",
    )
    upgrade_time_factor: Annotated[float, Field(gt=0, le=10), NotBool] = Field(
        0.5, description="Upgrades take this share of a new site's build time (assumption)."
    )
    depots: list[str] | None = Field(
        None, description="Village ids of this operator's depots (default: the world's depots)."
    )
    siting: Siting = Field(default_factory=Siting)
    opex_usd_year: dict[ZoneName, Usd] = Field(
        default_factory=_default_site_opex,
        description="Running cost of a site (power, rent, radio), by zone, USD a year, besides "
        "backhaul opex (FACTS §4: opex ≈ 10% of capex a year).",
    )
    capex_reserve_usd: Usd = Field(
        0.0,
        description="Cash kept back for running costs and repairs: capex is paid only while "
        "cash stays above this (credit may fill the gap).",
    )
    capex_reserve_months: Annotated[float, Field(ge=0, le=120), NotBool] = Field(
        0.0,
        description="More cash kept back from capex: this many months of the running costs of "
        "the sites claimed so far (site and backhaul opex, preventive maintenance, expected "
        "repairs) — the reserve of a going concern.",
    )
    revenue: Revenue = Field(default_factory=Revenue)
    credit_lines: Annotated[list[CreditLine], Field(max_length=100)] = Field(default_factory=list)
    maintenance_crews: Annotated[Int, Field(ge=0, le=MAX_COUNT)] = Field(
        2, description="Crews that travel to repair failed sites."
    )
    preventive_usd_per_site_year: Usd = Field(
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
        "people_reached",
        "people_covered",
        "villages_covered",
        "villages_reached",
        "sites_on_air",
        "places_served",
        "people_served",
    ] = Field(
        description="people_reached / villages_reached = covered minus covered at the start; "
        "places_served / people_served = inside the coverage of the modelled operators' sites "
        "in service, whoever else covers them (what operators report)."
    )
    date: Date = Field(description="The date the figure refers to.")
    value: Annotated[float, Field(ge=0, le=1e15), NotBool] = Field(
        description="The published figure (a count of people, villages or sites)."
    )


class Outputs(_Model):
    plots: Bool = Field(True, description="Write plots/*.png.")
    villages_geojson: Literal["reached", "all", "none"] = Field(
        "reached",
        description="villages.geojson of a run: the places the rollout reached (covered first "
        "by a modelled operator, or hosting its site), every place (a national world: tens of "
        "MB), or none.",
    )
    band: tuple[
        Annotated[float, Field(gt=0, lt=1), NotBool], Annotated[float, Field(gt=0, lt=1), NotBool]
    ] = Field((0.1, 0.9), description="Quantiles of the band in fan charts and series summaries.")
    interval_level: Annotated[float, Field(gt=0, lt=1), NotBool] = Field(
        0.9, description="Central interval of each metric across replications."
    )
    ci_level: Annotated[float, Field(gt=0, lt=1), NotBool] = Field(
        0.95, description="Confidence level of paired differences against the baseline."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Outputs:
        if self.band[0] >= self.band[1]:
            raise ValueError("band must be (low, high) with low < high")
        return self


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _horizon_days(years: float) -> int:
    """Simulated days of a horizon of *years*; half-days round up (not to even), so 2 and 6
    years round the same way."""
    return int(years * 365.25 + 0.5)


class Scenario(_Model):
    """A complete scenario: the world, the operators, the horizon."""

    name: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="Short name; also the results folder name (letters, digits, _ . -)."
    )
    description: str = ""
    seed: Annotated[Int, Field(ge=0, le=MAX_SEED)] = Field(
        0, description="Master seed: the world and every random stream derive from it."
    )
    start_date: StartDate = Field(description="Day 0 of the simulation (1900-01-01 to 2200-12-31).")
    end_date: Date | None = Field(
        None, description="Last simulated day (inclusive); at most 100 years after start_date."
    )
    horizon_years: Annotated[float, Field(gt=0, le=MAX_HORIZON_YEARS), NotBool] | None = Field(
        None, description="Alternative to end_date: years after start_date (at most 100)."
    )
    geography: Geography = Field(default_factory=Geography)
    coverage: Coverage = Field(default_factory=Coverage)
    backhaul: Backhaul = Field(default_factory=Backhaul)
    transport: Transport = Field(default_factory=Transport)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    # Each operator keeps several arrays the size of the world: a few dozen is plenty.
    operators: Annotated[list[Operator], Field(min_length=1, max_length=50)]
    outputs: Outputs = Field(default_factory=Outputs)
    policies: Annotated[list[Policy], Field(max_length=100)] = Field(
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
    #: The ``--set`` assignments applied, by the key path each wrote (filled in by
    #: ``load_scenario``): checks made after loading (zones against the villages) name the
    #: ``--set`` to blame rather than the file. Not part of the scenario's data or hash.
    _overrides: dict[tuple[str | int, ...], str] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.', '-'"
            )
        return value

    @field_validator("horizon_years")
    @classmethod
    def _at_least_a_day(cls, value: float | None) -> float | None:
        # The horizon is rounded to whole days (below): less than half a day would be none.
        if value is not None and _horizon_days(value) < 1:
            raise ValueError(f"expected a horizon of at least one day ({1 / 365.25:.5f} years)")
        return value

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        if self.end_date is not None and self.horizon_years is not None:
            raise ValueError("give end_date or horizon_years, not both")
        if self.end_date is None:
            years = 5.0 if self.horizon_years is None else self.horizon_years
            self.end_date = self.start_date + timedelta(days=_horizon_days(years) - 1)
            self.horizon_years = None
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        if (self.end_date - self.start_date).days + 1 > MAX_DAYS:
            raise ValueError(
                f"end_date {self.end_date} is more than {MAX_HORIZON_YEARS} years after "
                f"start_date {self.start_date}; expected a horizon of at most "
                f"{MAX_HORIZON_YEARS} years"
            )
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
