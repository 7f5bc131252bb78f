"""Warnings about settings that are allowed but probably not meant (the run goes on)."""

from __future__ import annotations

import numpy as np

from ..scenario.schema import Scenario
from .build import World

__all__ = ["implausible_settings"]


def implausible_settings(scenario: Scenario, world: World) -> list[str]:
    """One sentence per suspicious setting: budgets too small, radii too large, idle crews."""
    out: list[str] = []
    v = world.villages
    n = len(v)
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
