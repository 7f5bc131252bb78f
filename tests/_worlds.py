"""Hand-built worlds for tests: villages placed in km, written as a CSV, loaded as a scenario."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rollout_sim import load_scenario
from rollout_sim.scenario.schema import Scenario
from rollout_sim.world.villages import unproject


def village_csv(
    path: Path,
    xy_km: Sequence[tuple[float, float]],
    population: Sequence[int],
    *,
    zones: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    service: Sequence[str] | None = None,
) -> Path:
    """Write villages at km positions (about lat 0, lon 0, where 1 km is ~1 km)."""
    xy = np.asarray(xy_km, dtype=float)
    lat, lon = unproject(xy[:, 0], xy[:, 1], 0.0, 0.0)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "population", "zone", "region", "service"])
        for i in range(len(xy)):
            w.writerow(
                [
                    f"v{i}",
                    f"Village {i}",
                    f"{lat[i]:.9f}",
                    f"{lon[i]:.9f}",
                    population[i],
                    zones[i] if zones else "highlands",
                    regions[i] if regions else "all",
                    service[i] if service else "none",
                ]
            )
    return path


def operator(name: str = "op", **kw: Any) -> dict[str, Any]:
    """An operator with simple, exact numbers: 10-day builds, US$10k sites.

    No running costs and no revenue unless a test asks for them, so cash moves only with capex.
    """
    base: dict[str, Any] = {
        "name": name,
        "opex_usd_year": {"coast": 0, "highlands": 0, "jungle": 0},
        "revenue": {"arpu_usd_month": 0},
        "cash_usd": 1e9,
        "build_crews": 1,
        "capex_usd": {
            "greenfield": {"coast": 10000, "highlands": 10000, "jungle": 10000},
            "upgrade": {"coast": 4000, "highlands": 4000, "jungle": 4000},
        },
        "build_days": {
            z: {"distribution": "fixed", "days": 10} for z in ("coast", "highlands", "jungle")
        },
    }
    base.update(kw)
    return base


def scenario(
    tmp_path: Path,
    xy_km: Sequence[tuple[float, float]],
    population: Sequence[int],
    *,
    pops: Sequence[int] = (0,),
    radius_km: float = 4.0,
    hop_km: float = 12.0,
    satellite: bool = False,
    satellite_opex_usd: float = 12000.0,
    max_hops: int | None = None,
    operators: Sequence[dict[str, Any]] | None = None,
    days: int = 100,
    zones: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    service: Sequence[str] | None = None,
    **extra: Any,
) -> Scenario:
    """A scenario on hand-placed villages with fibre spur 1 km and exact costs.

    Costs: fibre US$5,000 + US$1,000/km (opex 1,000/yr); microwave US$20,000 (opex 3,000/yr);
    satellite US$15,000 (opex 12,000/yr); life 10 years.
    """
    csv_path = village_csv(
        tmp_path / "villages.csv",
        xy_km,
        population,
        zones=zones,
        regions=regions,
        service=service,
    )
    all_zones = ("coast", "highlands", "jungle")
    data: dict[str, Any] = {
        "name": "handmade",
        "seed": 1,
        "start_date": "2020-01-01",
        "horizon_years": days / 365.25,  # exactly `days` simulated days
        "geography": {
            "file": {"path": str(csv_path)},
            "pops": {"villages": [f"v{i}" for i in pops]},
            "depots": {"villages": ["v0"]},
        },
        "coverage": {"radius_km": {z: radius_km for z in all_zones}},
        "backhaul": {
            "fibre": {
                "spur_max_km": 1.0,
                "capex_fixed_usd": 5000,
                "capex_per_km_usd": 1000,
                "opex_per_year_usd": 1000,
            },
            "microwave": {
                "hop_range_km": {z: hop_km for z in all_zones},
                "capex_usd": 20000,
                "opex_per_year_usd": 3000,
                "max_hops": max_hops,  # hand-built chains are unlimited unless a test says
            },
            "satellite": {
                "allowed": satellite,
                "capex_usd": 15000,
                "opex_per_year_usd": satellite_opex_usd,
            },
            "life_years": 10,
        },
        "operators": list(operators) if operators is not None else [operator()],
        "maintenance": {"failures": {"enabled": False}, "travel": False},
    }
    data.update(extra)
    return load_scenario(data)
