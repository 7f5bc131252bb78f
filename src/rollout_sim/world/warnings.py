"""Warnings about settings that are allowed but probably not meant (the run goes on)."""

from __future__ import annotations

import numpy as np

from ..scenario.schema import Scenario
from .build import World

__all__ = ["coordinate_warnings", "implausible_settings"]

#: Peru's places (INEI), a box people's files often mean: swapped coordinates land outside it.
PERU_BOX = (-18.5, 0.1, -81.5, -68.5)


def coordinate_warnings(
    lat: np.ndarray, lon: np.ndarray, ids: list[str], box: tuple[float, float, float, float] | None
) -> list[str]:
    """Villages outside the expected box, coordinates that look exchanged, lone outliers."""
    out: list[str] = []
    n = len(lat)
    if n == 0:
        return out

    def inside(la: np.ndarray, lo: np.ndarray, b: tuple[float, float, float, float]) -> np.ndarray:
        return (la >= b[0]) & (la <= b[1]) & (lo >= b[2]) & (lo <= b[3])

    for b, name in ((box, "the expected box"), (PERU_BOX, "Peru")):
        if b is None:
            continue
        here, swapped = inside(lat, lon, b).mean(), inside(lon, lat, b).mean()
        if swapped > 0.5 and swapped > here:
            out.append(
                f"latitude and longitude look exchanged: {swapped:.0%} of the villages would lie "
                f"in {name} with the two swapped (e.g. {ids[0]} at lat {lat[0]:g}, lon {lon[0]:g})"
            )
            return out
    if box is not None:
        outside = np.flatnonzero(~inside(lat, lon, box))
        if len(outside):
            k = int(outside[0])
            out.append(
                f"{len(outside):,} of {n:,} villages lie outside the expected box "
                f"(e.g. {ids[k]} at lat {lat[k]:g}, lon {lon[k]:g})"
            )
    if n >= 10:
        # A typo in one coordinate puts a village far from all the others.
        mid_lat, mid_lon = np.median(lat), np.median(lon)
        d = np.hypot(lat - mid_lat, lon - mid_lon)
        spread = max(float(np.percentile(d, 90)), 0.05)
        far = np.flatnonzero(d > 10 * spread)
        if len(far):
            k = int(far[0])
            out.append(
                f"{len(far):,} village(s) lie far from all the others (e.g. {ids[k]} at lat "
                f"{lat[k]:g}, lon {lon[k]:g}): check their coordinates"
            )
    return out


def implausible_settings(scenario: Scenario, world: World) -> list[str]:
    """One sentence per suspicious setting: budgets too small, radii too large, idle crews."""
    out: list[str] = []
    v = world.villages
    n = len(v)
    if scenario.geography.file is not None:
        out += coordinate_warnings(v.lat, v.lon, v.ids.tolist(), scenario.geography.file.expect_box)
    span_km = float(max(np.ptp(v.x_km), np.ptp(v.y_km))) if n > 1 else 0.0
    for zone, radius in scenario.coverage.radius_km.items():
        if zone in v.zone_names and n > 1 and radius > span_km:
            out.append(
                f"coverage.radius_km.{zone} = {radius:g} km is larger than the whole region "
                f"({span_km:.0f} km across): one site covers everything"
            )
    for i, op in enumerate(scenario.operators):
        cheapest = min(
            min(op.capex_usd.greenfield.values(), default=0.0),
            min(op.capex_usd.upgrade.values(), default=0.0),
        )
        money = op.cash_usd + sum(cl.limit_usd for cl in op.credit_lines)
        money += op.equity_usd_per_year * (scenario.horizon_days / 365.25)
        if cheapest > 0 and money < 0.01 * n * cheapest and not scenario.policies:
            out.append(
                f"operators[{i}] ({op.name}): its money (US${money:,.0f}) pays for at most "
                f"{int(money // cheapest):,} sites, under 1% of the {n:,} villages"
            )
        if op.build_crews > n:
            out.append(
                f"operators[{i}].build_crews = {op.build_crews:,} is more than the {n:,} villages"
            )
        if op.maintenance_crews > n:
            out.append(
                f"operators[{i}].maintenance_crews = {op.maintenance_crews:,} is more than the "
                f"{n:,} villages"
            )
    return out
