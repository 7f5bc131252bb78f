"""Where the villages are: a synthetic region, a file of points or the Peru data set, with the
fixed places (fibre PoPs, depots) and the zones every zone-keyed table is written by.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .types import (
    MAX_COUNT,
    MAX_SEED,
    MAX_VILLAGES,
    Date,
    Int,
    Km,
    NotBool,
    PosKm,
    Share,
    StrictModel,
    check_exactly_one,
)

__all__ = [
    "DEFAULT_ZONES",
    "PERU_REGIONAL_FIBRE",
    "Geography",
    "PeruOptions",
    "PlacesSpec",
    "SyntheticGeography",
    "VillageFile",
    "ZoneName",
]


DEFAULT_ZONES: tuple[str, ...] = ("coast", "highlands", "jungle")

ZoneName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
#: Kilometres per degree of latitude (the mean Earth radius of ``world.villages``).
_KM_PER_DEGREE = 6371.0088 * math.pi / 180


#: How steep the terrain is, m of climb per km across: 0 (flat) to 10,000 (beyond any terrain).
Ruggedness = Annotated[float, Field(ge=0, le=10_000), NotBool]


class SyntheticGeography(StrictModel):
    """A seeded synthetic region: clustered villages with heavy-tailed populations.

    Villages are scattered around cluster centres (a Thomas point process) plus a uniform
    background; zones are bands from west to east (like Peru's coast, Andes, Amazon).
    """

    villages: Annotated[Int, Field(ge=1, le=MAX_VILLAGES)] = 5000
    """Number of villages (at most 1,000,000: ten times Peru's places)."""

    width_km: PosKm = 250.0
    """West-east extent of the region, km (at most 20,000)."""

    height_km: PosKm = 200.0
    """South-north extent of the region, km (within latitudes ±89°)."""

    clusters: Annotated[Int, Field(ge=1, le=MAX_VILLAGES)] = 60
    """Number of village clusters."""

    cluster_sd_km: PosKm = 6.0
    """Spread of villages around a cluster centre, km (assumption)."""

    background_share: Share = 0.15
    """Share of villages scattered uniformly rather than in clusters."""

    population_median: Annotated[float, Field(gt=0, le=1_000_000), NotBool] = 45.0
    """Median village population (sources §3: rural mean ≈ 67, most places < 150); at most
    1,000,000."""

    population_sigma: Annotated[float, Field(ge=0, le=3), NotBool] = 1.1
    """Log-normal sigma of village population (heavy tail; assumption); at most 3 (the largest of
    1,000 villages is then ~10,000 times the median)."""

    zones: Annotated[
        dict[ZoneName, Annotated[float, Field(gt=0, le=1000), NotBool]],
        Field(min_length=1, max_length=1000),
    ] = Field(default_factory=lambda: {"coast": 0.2, "highlands": 0.5, "jungle": 0.3})
    """Zones as west-to-east bands with these shares of the width (relative: they are scaled to add
    up to 1)."""

    regions: Annotated[Int, Field(ge=1, le=10_000)] = 4
    """Number of administrative regions (named region-1, region-2, ...)."""

    share_2g: Share = 0.05
    """Share of villages with an existing 2G site (the largest first; assumption)."""

    ruggedness_m_per_km: dict[ZoneName, Ruggedness] = Field(
        default_factory=lambda: {"coast": 8.0, "highlands": 15.0, "jungle": 6.0}
    )
    """Ruggedness of the villages by zone, m of climb per km (used by coverage.terrain; a zone not
    named is flat). Default: the median place of Peru's coast, highlands and jungle, from INEI
    district capitals' altitudes (assumption)."""

    origin_lat: Annotated[float, Field(ge=-85, le=85), NotBool] = -12.0
    """Latitude of the region's centre, degrees."""

    origin_lon: Annotated[float, Field(ge=-180, le=180), NotBool] = -75.0
    """Longitude of the region's centre, degrees."""

    seed: Annotated[Int, Field(ge=0, le=MAX_SEED)] | None = None
    """Seed of the world; default: the scenario seed."""

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


class VillageFile(StrictModel):
    """Villages from a CSV or GeoJSON file of points."""

    path: Annotated[str, Field(min_length=1)]
    """CSV (columns id, name, lat, lon, population, optional zone, region, service; separated by ,
    or ; or tabs, with a decimal comma when not by commas; latitude/longitude headers accepted) or
    GeoJSON points; relative paths are relative to the scenario file."""

    default_zone: ZoneName = "highlands"
    """Zone for villages whose file gives none."""

    default_region: str = "all"
    """Region for villages whose file gives none."""

    expect_box: (
        tuple[
            Annotated[float, Field(ge=-90, le=90), NotBool],
            Annotated[float, Field(ge=-90, le=90), NotBool],
            Annotated[float, Field(ge=-180, le=180), NotBool],
            Annotated[float, Field(ge=-180, le=180), NotBool],
        ]
        | None
    ) = None
    """Where the villages should be: [lat_min, lat_max, lon_min, lon_max], degrees (e.g. Peru:
    [-18.5, 0.1, -81.5, -68.5]); villages outside it, or a file whose latitude and longitude look
    exchanged, get a warning."""


class PlacesSpec(StrictModel):
    """Where fibre PoPs (or depots) are: at the largest villages, at given villages, or (Peru
    data only) at provincial or district capitals."""

    largest_villages: Annotated[Int, Field(ge=0, le=MAX_COUNT)] | None = None
    """Place this many at the largest villages, spread out (at most 100,000)."""

    min_spacing_km: Km = 30.0
    """With largest_villages: no two closer than this, km."""

    villages: list[str] | None = None
    """Village ids to place them at."""

    capitals: Literal["provincial", "district"] | None = None
    """Peru data only: 'provincial' = the 180 provincial capitals the national fibre backbone
    reaches (sources §3); 'district' = those plus the 1,516 district capitals of the regional fibre
    projects (sources §3), each opening when its department's network did
    (geography.peru.regional_fibre). See docs/peru_model.md for which."""

    open_dates: dict[str, Date] | None = None
    """PoPs only, with villages: the day the PoP at each named village opens (fibre that arrives
    during the run); the others are open from the start."""

    @model_validator(mode="after")
    def _one_way(self) -> PlacesSpec:
        check_exactly_one(
            largest_villages=self.largest_villages, villages=self.villages, capitals=self.capitals
        )
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


class PeruOptions(StrictModel):
    """How the Peru data set is turned into a starting network and when its fibre opens (see
    docs/peru_model.md).

    Two ways to give the starting network, not both: the old one by assumption
    (``urban_service``, ``existing_2g_sites``, ``existing_2g_spacing_km``; the default), or one
    fitted to OSIPTEL's Sep 2018 counts (``start_4g_people_share``, ``start_signal_places``).
    """

    urban_service: Literal["4g", "2g", "none"] | None = None
    """Service of INEI's 3,747 urban places (district capitals and towns) at the start: '4g' =
    already served by the mobile operators (assumption for mid-2019). Default '4g' unless
    start_4g_people_share or start_signal_places is given."""

    existing_2g_sites: Annotated[Int, Field(ge=0, le=MAX_COUNT)] | None = None
    """Rural 2G sites that can be upgraded (assumption: sources §2, about 2,200 IpT antennas in 2023
    less 866 new towers), placed at the largest rural places at least existing_2g_spacing_km from
    each other and from urban places. Default 1,300 unless start_4g_people_share or
    start_signal_places is given."""

    existing_2g_spacing_km: Annotated[float, Field(gt=0, le=100), NotBool] | None = None
    """Spacing of those 2G sites, km (at most 100: each urban place blocks the places within it).
    Default 8 unless start_4g_people_share or start_signal_places is given."""

    start_4g_people_share: dict[ZoneName, Share] | None = None
    """The incumbents' 4G layer at the start: existing 4G sites are placed greedily, zone by zone,
    each where it newly covers the most of the zone's people, until this share of each named zone's
    people is covered (OSIPTEL via sociedadtelecom.pe, Feb 2019: coast 0.92, highlands 0.88, jungle
    0.58 in Sep 2018)."""

    start_signal_places: Annotated[Int, Field(ge=0, le=MAX_VILLAGES)] | None = None
    """Then the pre-4G layer (2G/3G sites, upgradable): placed greedily where each newly covers the
    most places with no signal yet (ties: more people) until this many places have a signal of some
    kind (OSIPTEL via El Comercio, 2018: about half of the 94,922 places, > 54,000 with none)."""

    regional_fibre: dict[str, Date | None] = Field(
        default_factory=lambda: dict(PERU_REGIONAL_FIBRE)
    )
    """With pops {capitals: district}: the day each department's regional fibre network opens its
    district-capital PoPs (null: none within the model). Departments not named keep their default
    (the dates the networks really opened: docs/peru_model.md). The backbone's provincial capitals
    are open from the start."""

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


class Geography(StrictModel):
    """The villages and the fixed places (fibre PoPs, maintenance depots)."""

    synthetic: SyntheticGeography | None = None
    file: VillageFile | None = None
    dataset: Literal["peru"] | None = None
    """A data set shipped with rollout-sim: 'peru' = all 94,922 places."""

    departments: list[str] | None = None
    """With dataset 'peru': keep only these departments (default: all)."""

    peru: PeruOptions = Field(default_factory=PeruOptions)
    pops: PlacesSpec = Field(default_factory=lambda: PlacesSpec(largest_villages=8))
    """Fibre points of presence (assumption: at the largest towns)."""

    depots: PlacesSpec = Field(
        default_factory=lambda: PlacesSpec(largest_villages=3, min_spacing_km=60.0)
    )
    """Maintenance and build depots."""

    regions: list[str] | None = None
    """Keep only villages of these regions (default: all)."""

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
