"""Backhaul options per candidate site, and the relay frontier that grows as sites are built.

A site can use (DESIGN §2.2): fibre, when a PoP is within the spur distance; microwave, one hop
within its zone's range to a PoP or to a relay (an on-air or funded site of the same operator, or
an existing 4G site); satellite, anywhere if allowed. The option with the lowest life cost
(capex + opex × life years) is chosen. Fibre and PoP hops are fixed; relay hops appear when a
site is funded (:meth:`BackhaulPlanner.add_relay`), which is why rollout spreads out from fibre.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from ..scenario.schema import Backhaul
from ..world.build import World

__all__ = ["BH_FIBRE", "BH_MICROWAVE", "BH_NAMES", "BH_NONE", "BH_SATELLITE", "BackhaulPlanner"]

BH_NONE: Final = 0
BH_FIBRE: Final = 1
BH_MICROWAVE: Final = 2
BH_SATELLITE: Final = 3
BH_NAMES: Final = ("none", "fibre", "microwave", "satellite")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class BackhaulPlanner:
    """One operator's view of backhaul: best option, its capex, and the microwave parent.

    ``parent[v]`` is the village index of the relay site, ``-1 - k`` for PoP *k*, and unused
    unless the option is microwave.
    """

    def __init__(self, world: World, spec: Backhaul, satellite_cap: int | None = None) -> None:
        n = len(world)
        self.world = world
        self.spec = spec
        fib = spec.fibre
        mw = spec.microwave
        sat = spec.satellite
        life = spec.life_years
        d_pop = world.pop_dist_km
        self.fibre_ok = d_pop <= fib.spur_max_km
        self.fibre_capex = np.where(
            self.fibre_ok, fib.capex_fixed_usd + fib.capex_per_km_usd * d_pop, np.inf
        )
        self.fibre_life = self.fibre_capex + fib.opex_per_year_usd * life
        self.mw_life_cost = mw.capex_usd + mw.opex_per_year_usd * life
        self.sat_life_cost = sat.capex_usd + sat.opex_per_year_usd * life
        self.satellite_open = sat.allowed and (satellite_cap is None or satellite_cap > 0)
        self.satellite_cap = satellite_cap
        self.satellite_used = 0
        # Microwave: nearest relay within range; PoPs are relays from day 0.
        pop_ok = d_pop <= world.hop_km
        self.mw_dist = np.where(pop_ok, d_pop, np.inf)
        self.parent = np.where(pop_ok, -1 - world.pop_nearest, 0).astype(np.int64)
        self.kind = np.zeros(n, dtype=np.int8)
        self.capex = np.zeros(n, dtype=np.float64)
        self.refresh(np.arange(n))

    def refresh(self, villages: IntArray) -> None:
        """Recompute the best option for *villages* (vectorised)."""
        v = villages
        mw_ok = np.isfinite(self.mw_dist[v])
        life = np.stack(
            [
                np.full(len(v), np.inf),
                self.fibre_life[v],
                np.where(mw_ok, self.mw_life_cost, np.inf),
                np.full(len(v), self.sat_life_cost if self.satellite_open else np.inf),
            ]
        )
        best = np.argmin(life, axis=0)  # ties go to the earlier option: fibre, mw, satellite
        best[~np.isfinite(life.min(axis=0))] = BH_NONE
        self.kind[v] = best
        capex = np.zeros(len(v))
        capex[best == BH_FIBRE] = self.fibre_capex[v][best == BH_FIBRE]
        capex[best == BH_MICROWAVE] = self.spec.microwave.capex_usd
        capex[best == BH_SATELLITE] = self.spec.satellite.capex_usd
        self.capex[v] = capex

    def add_relay(self, site: int, candidates: NDArray[np.bool_]) -> IntArray:
        """A relay appears at *site*: returns candidate villages whose option got better."""
        xy = self.world.villages.xy
        # One query per zone at that zone's hop range: a highlands village 35 km away is out
        # of range, so it is never fetched (half the points of one query at the longest hop).
        parts = [
            idx[tree.query_ball_point(xy[site], hop)] for hop, idx, tree in self.world.hop_trees
        ]
        near = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
        if len(near) == 0:
            return near
        d = np.hypot(*(xy[near] - xy[site]).T)
        better = (d <= self.world.hop_km[near]) & (d < self.mw_dist[near]) & candidates[near]
        near, d = near[better], d[better]
        if len(near) == 0:
            return np.zeros(0, dtype=np.int64)
        self.mw_dist[near] = d
        self.parent[near] = site
        old_kind = self.kind[near].copy()
        old_capex = self.capex[near].copy()
        self.refresh(near)
        changed = (self.kind[near] != old_kind) | (self.capex[near] != old_capex)
        return np.asarray(near[changed], dtype=np.int64)

    def use_satellite(self) -> None:
        """Count one satellite site; close the option (for every candidate) at the cap."""
        self.satellite_used += 1
        if self.satellite_cap is not None and self.satellite_used >= self.satellite_cap:
            self.satellite_open = False
            self.refresh(np.flatnonzero(self.kind == BH_SATELLITE))
