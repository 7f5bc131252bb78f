"""What a site reaches and how it is connected: coverage, backhaul, and travel over the village
graph.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .geography import ZoneName
from .types import (
    MAX_HORIZON_YEARS,
    MAX_VILLAGES,
    Bool,
    Int,
    Km,
    NotBool,
    StrictModel,
    Usd,
)

__all__ = [
    "EDGE_KIND_NAMES",
    "MAX_HOP_KM",
    "MAX_RADIUS_KM",
    "Backhaul",
    "Coverage",
    "CoverageTerrain",
    "EdgeKind",
    "FibreBackhaul",
    "MicrowaveBackhaul",
    "SatelliteBackhaul",
    "Transport",
]


#: Longest coverage radius, km: the reach of an extended-range cell. (The coverage index holds
#: every village pair within the largest radius, so this also bounds its memory.)
MAX_RADIUS_KM = 100.0
#: Longest microwave hop, km: beyond the longest line-of-sight links in service.
MAX_HOP_KM = 200.0


class CoverageTerrain(StrictModel):
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

    ruggedness_scale_m_per_km: Annotated[float, Field(gt=0, le=10_000), NotBool]
    """S: the ruggedness at which a site's reach is half its zone's radius, m of climb per km
    (Peru's district capitals: median 15 m/km, 95% under 65)."""

    steepness: Annotated[float, Field(ge=1, le=1000), NotBool] = 4.0
    """k: how sharply service falls around the reach L (4: 94% at L/2, 6% at 2 L; very large: a hard
    disc of radius L)."""


class Coverage(StrictModel):
    """Which villages a site serves: a flat disc of its zone's radius, or with ``terrain`` a
    reach that shrinks with the ruggedness of its village and a service probability that falls
    with distance (see CoverageTerrain). Drawn once per world, never per run."""

    radius_km: dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_RADIUS_KM), NotBool]] = Field(
        default_factory=lambda: {"coast": 6.0, "highlands": 4.0, "jungle": 4.0}
    )
    """Radius a site covers, by the zone of the site's village, km (at most 100: an extended-range
    cell). sources §2: solar rural site ≈ 4 km; ITU: 12–30 m towers 4–8 km."""

    terrain: CoverageTerrain | None = None
    """Coverage that falls with distance and ruggedness (see CoverageTerrain); absent: a flat disc
    of radius_km."""

    start_radius_km: (
        dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_RADIUS_KM), NotBool]] | None
    ) = None
    """Radius (reach, with terrain) of the sites of a fitted starting network (Peru's
    start_4g_people_share), by zone, km; default radius_km. The incumbents' 2018 sites and the
    rollout's new sites need not cover places alike: this lets the 2018 count of places with 4G and
    an operator's places per site be fitted apart."""


class FibreBackhaul(StrictModel):
    spur_max_km: Km = 10.0
    """Longest fibre spur from a PoP to a site, km (assumption)."""

    capex_per_km_usd: Usd = 2000.0
    """Fibre spur cost, USD per km (sources §4: US$2 per metre)."""

    capex_fixed_usd: Usd = 5000.0
    """Fixed cost of a spur (assumption)."""

    opex_per_year_usd: Usd = 1000.0
    """Running cost of a spur, USD a year (assumption)."""


class MicrowaveBackhaul(StrictModel):
    hop_range_km: dict[ZoneName, Annotated[float, Field(gt=0, le=MAX_HOP_KM), NotBool]] = Field(
        default_factory=lambda: {"coast": 40.0, "highlands": 30.0, "jungle": 20.0}
    )
    """Longest microwave hop, by the zone of the site's village, km (assumption; at most 200)."""

    capex_usd: Usd = 30000.0
    """One microwave link (sources §4: medium link US$30k)."""

    opex_per_year_usd: Usd = 3000.0
    """Running cost of a link (sources §4: 10% of capex a year)."""

    max_hops: Annotated[Int, Field(ge=1, le=100)] | None = 4
    """Longest microwave chain, hops from its PoP or fibre site (assumption: a rural hop carries a
    few hundred Mbit/s shared by every site behind it, and one hub failure drops the whole chain;
    IpT's design chains sites to a grid-connected node). null: no limit."""


class SatelliteBackhaul(StrictModel):
    allowed: Bool = True
    """May sites use satellite backhaul?"""

    capex_usd: Usd = 15000.0
    """Terminal and install (assumption)."""

    opex_per_year_usd: Usd = 12000.0
    """Transponder fees, USD a year per site (assumption)."""

    max_sites: Annotated[Int, Field(ge=0, le=MAX_VILLAGES)] | None = None
    """Capacity limit: at most this many satellite sites per operator."""


class Backhaul(StrictModel):
    fibre: FibreBackhaul = Field(default_factory=FibreBackhaul)
    microwave: MicrowaveBackhaul = Field(default_factory=MicrowaveBackhaul)
    satellite: SatelliteBackhaul = Field(default_factory=SatelliteBackhaul)
    life_years: Annotated[float, Field(gt=0, le=MAX_HORIZON_YEARS), NotBool] = 10.0
    """Horizon over which the cheapest backhaul option is chosen (capex + opex × years; sources §4:
    ≈ 10-year payback)."""


EdgeKind = Literal["road", "track", "river"]
#: Every link kind, in the order of ``world.graph.EDGE_KINDS``.
EDGE_KIND_NAMES: tuple[EdgeKind, ...] = ("road", "track", "river")


def _default_speeds() -> dict[EdgeKind, float]:
    return {"road": 30.0, "track": 15.0, "river": 10.0}


class Transport(StrictModel):
    """Travel over the village graph (used for repair trips and depot distances)."""

    detour_factor: Annotated[float, Field(ge=1, le=5), NotBool] = 1.3
    """Road km per straight-line km (assumption: rural roads wind)."""

    speed_kmh: dict[EdgeKind, Annotated[float, Field(ge=0.1, le=1000), NotBool]] = Field(
        default_factory=_default_speeds
    )
    """Travel speed by link kind (road, track and river), km/h, 0.1 to 1,000 (sources §4 assumption:
    20–40 km/h on roads, slower in jungle)."""

    @field_validator("speed_kmh")
    @classmethod
    def _every_kind(cls, value: dict[EdgeKind, float]) -> dict[EdgeKind, float]:
        missing = [k for k in EDGE_KIND_NAMES if k not in value]
        if missing:
            raise ValueError(
                f"no value for link kind {missing[0]!r}; expected {', '.join(EDGE_KIND_NAMES)}"
            )
        return value
