"""Failures, repairs and preventive maintenance of the sites."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .durations import BuildTime, LogNormalDays
from .geography import ZoneName
from .types import Bool, Int, NotBool, PosUsd, StrictModel, Usd

__all__ = [
    "Failures",
    "Maintenance",
    "Seasonal",
]


class Seasonal(StrictModel):
    months: Annotated[list[Annotated[Int, Field(ge=1, le=12)]], Field(max_length=12)] = Field(
        default_factory=lambda: [12, 1, 2, 3]
    )
    """Calendar months of the rainy season (sources §4: December–March)."""

    factor: Annotated[float, Field(gt=0, le=100), NotBool] = 1.5
    """Failure rate multiplier in those months (assumption)."""


class Failures(StrictModel):
    enabled: Bool = True
    """Do sites fail at all?"""

    mtbf_days: dict[ZoneName, Annotated[float, Field(ge=1, le=1_000_000), NotBool]] = Field(
        default_factory=lambda: {"coast": 540.0, "highlands": 365.0, "jungle": 270.0}
    )
    """Mean time between failures of a site, by zone, days, 1 to 1,000,000 (sources §4 assumption: a
    failure every 6–18 months per solar site)."""

    seasonal: Seasonal | None = Field(default_factory=Seasonal)
    """Rainy-season factor (null: none)."""


def _default_repair_days() -> dict[str, BuildTime]:
    return {
        z: LogNormalDays(distribution="lognormal", mean_days=m, sd_days=m / 2)
        for z, m in (("coast", 0.5), ("highlands", 1.0), ("jungle", 1.5))
    }


class Maintenance(StrictModel):
    """Failures, repairs and preventive maintenance."""

    failures: Failures = Field(default_factory=Failures)
    repair_days: dict[ZoneName, BuildTime] = Field(default_factory=_default_repair_days)
    """On-site repair duration (after travel), by zone (assumption)."""

    repair_cost_usd: dict[ZoneName, Usd] = Field(
        default_factory=lambda: {"coast": 1000.0, "highlands": 1500.0, "jungle": 2500.0}
    )
    """Parts and labour per repair, by zone, USD (assumption)."""

    travel: Bool = True
    """Crews travel from the nearest depot over the graph (false: no travel)."""

    preventive_full_usd_per_site_year: PosUsd = 2000.0
    """Preventive spend per site-year that gives the full reduction."""

    preventive_max_reduction: Annotated[float, Field(ge=0, lt=1), NotBool] = 0.5
    """Failure-rate reduction at full preventive spend (assumption)."""
