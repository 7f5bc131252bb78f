"""Backhaul options per candidate site, and the relay frontier that grows as sites are built.

A site can use: fibre, when a PoP is within the spur distance; microwave, one hop
within its zone's range to a PoP or to a relay (an on-air or funded site of the same operator, or
an existing 4G site); satellite, anywhere if allowed. The option with the lowest life cost
(capex + opex × life years) is chosen. Relay hops appear when a site is funded
(:meth:`BackhaulPlanner.add_relay`), which is why rollout spreads out from fibre; fibre and PoP
hops appear when a PoP opens (:meth:`BackhaulPlanner.open_pops`): a world's PoPs may open on
dates of their own (Peru's regional fibre networks), and a planner starts from those open from
the start.
"""

from __future__ import annotations

import copy
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..arrays import FloatArray, IntArray
from ..scenario.schema import Backhaul
from ..world.build import World
from ..world.peru import OPEN_FROM_START

__all__ = [
    "BH_FIBRE",
    "BH_MICROWAVE",
    "BH_NAMES",
    "BH_NONE",
    "BH_SATELLITE",
    "BackhaulPlanner",
    "starting_planner",
]

#: Day-0 planners kept per world (a calibration or sweep makes new scenarios: the oldest go).
MAX_KEPT_STARTS = 8

BH_NONE: Final = 0
BH_FIBRE: Final = 1
BH_MICROWAVE: Final = 2
BH_SATELLITE: Final = 3
BH_NAMES: Final = ("none", "fibre", "microwave", "satellite")


class BackhaulPlanner:
    """One operator's view of backhaul: best option, its capex, and the microwave parent.

    ``parent[v]`` is the village index of the relay site, ``-1 - k`` for PoP *k*, and unused
    unless the option is microwave. ``pop_dist_km[v]`` / ``pop_nearest[v]`` are the distance
    to and index of the nearest PoP open so far (``pop_open``); when a PoP opens they are
    updated for the candidates within reach of one of its options (spur or hop): a claimed site
    keeps the option it was claimed with, and beyond every reach the distance does not matter.
    """

    def __init__(self, world: World, spec: Backhaul, satellite_cap: int | None = None) -> None:
        n = len(world)
        self.world = world
        self.spec = spec
        fib = spec.fibre
        mw = spec.microwave
        sat = spec.satellite
        life = spec.life_years
        #: PoPs open so far: at first those open from the start (all of them in a world
        #: without opening dates, which then plans exactly as before dates existed).
        self.pop_open = world.pop_open_ordinal <= OPEN_FROM_START
        if self.pop_open.all():
            d_pop = world.pop_dist_km.copy()
            nearest = world.pop_nearest.copy()
        else:
            d_pop, nearest = _nearest(world, np.flatnonzero(self.pop_open))
        self.pop_dist_km: FloatArray = d_pop
        self.pop_nearest: IntArray = nearest
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
        self.parent = np.where(pop_ok, -1 - nearest, 0).astype(np.int64)
        self.kind = np.zeros(n, dtype=np.int8)
        self.capex = np.zeros(n, dtype=np.float64)
        #: Microwave hops between a relay site and its terrestrial root (a PoP, a fibre or an
        #: existing site: 0); a relay at ``max_hops`` offers no further hop.
        self.hops = np.zeros(n, dtype=np.int16)
        self.max_hops = mw.max_hops
        self.refresh(np.arange(n))

    def copy(self) -> BackhaulPlanner:
        """An independent planner in the same state: its arrays copied, the world and the spec
        (read-only) shared."""
        new = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(new, name, value.copy())
        return new

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

    def add_relay(self, site: int, candidates: NDArray[np.bool_], root: bool = False) -> IntArray:
        """A relay appears at *site* (a *root*: an existing site with a backhaul of its own):
        returns candidate villages whose option got better. A microwave site at the end of a
        chain of ``max_hops`` hops relays nothing: one hub failure would drop the whole chain,
        and a rural hop's capacity is shared by every site behind it."""
        if root or self.kind[site] != BH_MICROWAVE:
            self.hops[site] = 0
        else:
            p = int(self.parent[site])
            self.hops[site] = 1 + (int(self.hops[p]) if p >= 0 else 0)
        if self.max_hops is not None and self.hops[site] >= self.max_hops:
            return np.zeros(0, dtype=np.int64)
        # Candidates in range of their own zone's hop that this relay would give a shorter one.
        near, d = self.world.hop_reach.better(site, self.mw_dist, candidates)
        mw_dist = self.mw_dist
        if len(near) == 0:
            return np.zeros(0, dtype=np.int64)
        # A microwave option's cost does not depend on the hop's length, so a village that had
        # a hop already keeps its best option and capex: only those without one are weighed
        # again (most relays only shorten hops; refresh's dozen numpy calls were a third of
        # this method).
        first_hop = near[np.isinf(mw_dist[near])].astype(np.int64)
        mw_dist[near] = d
        self.parent[near] = site
        if len(first_hop) == 0:
            return np.zeros(0, dtype=np.int64)
        old_kind = self.kind[first_hop].copy()
        old_capex = self.capex[first_hop].copy()
        self.refresh(first_hop)
        changed = (self.kind[first_hop] != old_kind) | (self.capex[first_hop] != old_capex)
        return np.asarray(first_hop[changed], dtype=np.int64)

    def add_roots(self, sites: IntArray, candidates: NDArray[np.bool_]) -> None:
        """Existing sites with a backhaul of their own become relays, all at once.

        The same as ``add_relay(s, candidates, root=True)`` for each of *sites* in order: each
        candidate ends with the nearest relay in range if it beats its hop so far, the first
        of equally near ones (a later relay replaces a parent only when strictly closer). A
        national world starts with ~11,000 existing sites, mostly in towns: one ball query per
        site finds ~7 million (site, village) pairs, a second of every run. Instead, each
        candidate asks a tree of the sites for its two nearest: where the nearest is clearly
        nearer than the next and clearly in range, it is the answer; the few others (ties,
        sites at one spot, the edge of the range) are settled exactly as one by one.
        """
        sites = np.asarray(sites, dtype=np.int64)
        if len(sites) == 0:
            return
        self.hops[sites] = 0
        if self.max_hops is not None and self.max_hops <= 0:
            return
        cand = np.flatnonzero(candidates)
        if len(cand) == 0:
            return
        xy = self.world.villages.xy
        hop_km = self.world.hop_km
        tree = cKDTree(xy[sites])
        r = hop_km[cand]
        k = min(2, len(sites))
        d1 = np.full(len(cand), np.inf)
        d2 = np.full(len(cand), np.inf)
        first = np.zeros(len(cand), dtype=np.int64)
        for hop in np.unique(r).tolist():  # one query per zone's hop range (a scalar bound)
            rows = np.flatnonzero(r == hop)
            # KD distances may differ from np.hypot's in the last bits: a margin of 1e-9
            # keeps every decision taken on them far from where those bits matter.
            dist, ix = tree.query(
                xy[cand[rows]], k=[1, 2][:k], distance_upper_bound=hop * (1 + 1e-9)
            )
            d1[rows] = dist[:, 0]
            first[rows] = np.minimum(ix[:, 0], len(sites) - 1)  # len(sites): none found
            if k == 2:
                d2[rows] = dist[:, 1]
        found = np.isfinite(d1)
        with np.errstate(invalid="ignore"):  # inf - inf where nothing is in range
            clear = found & (d1 < r * (1 - 1e-9)) & (d2 - d1 > 1e-9 * (1.0 + d1))
        near = cand[clear]
        root = sites[first[clear]]
        # The same elementwise arithmetic as add_relay, so the same distances to the last bit.
        d = np.hypot(*(xy[near] - xy[root]).T)
        unsure = np.flatnonzero(found & ~clear).tolist()
        if unsure:
            extra_near, extra_root, extra_d = [], [], []
            for c in cand[unsure].tolist():
                # As add_relay would: every site whose ball holds c, its distance, the
                # nearest in range, the first (lowest index) of equally near ones.
                rows = np.sort(np.asarray(tree.query_ball_point(xy[c], hop_km[c]), dtype=np.int64))
                if len(rows) == 0:
                    continue
                dc = np.hypot(*(xy[c] - xy[sites[rows]]).T)
                ok = dc <= hop_km[c]
                if not ok.any():
                    continue
                best = int(np.argmin(np.where(ok, dc, np.inf)))  # argmin: the first of ties
                extra_near.append(c)
                extra_root.append(int(sites[rows[best]]))
                extra_d.append(float(dc[best]))
            near = np.concatenate([near, np.asarray(extra_near, dtype=np.int64)])
            root = np.concatenate([root, np.asarray(extra_root, dtype=np.int64)])
            d = np.concatenate([d, np.asarray(extra_d, dtype=np.float64)])
        better = (d <= hop_km[near]) & (d < self.mw_dist[near])
        near, root, d = near[better], root[better], d[better]
        if len(near) == 0:
            return
        self.mw_dist[near] = d
        self.parent[near] = root
        self.refresh(np.sort(near))

    def opening_ordinals(self) -> list[int]:
        """The distinct date ordinals on which PoPs not yet open will open, in order."""
        pending = self.world.pop_open_ordinal[~self.pop_open]
        return [int(o) for o in np.unique(pending)]

    def open_pops(self, ordinal: int, candidates: NDArray[np.bool_]) -> IntArray:
        """Open every PoP due by date ordinal *ordinal*: the *candidates* in reach of one get
        its fibre spur or microwave hop if it beats what they had. Returns the candidates whose
        option got better (cheaper or another kind, or a shorter link), like :meth:`add_relay`.

        Vectorised: one ball query from the new PoPs over all villages, one nearest-PoP query
        for the villages it finds.
        """
        world = self.world
        due = np.flatnonzero(~self.pop_open & (world.pop_open_ordinal <= ordinal))
        if len(due) == 0:
            return np.zeros(0, dtype=np.int64)
        self.pop_open[due] = True
        xy = world.villages.xy
        at = xy[world.pops[due]]
        reach = max(self.spec.fibre.spur_max_km, float(world.hop_km.max(initial=0.0)))
        found = world.village_tree.query_ball_point(at, reach)
        lists = [np.asarray(f, dtype=np.int64) for f in found]
        near = np.unique(np.concatenate(lists)) if lists else np.zeros(0, dtype=np.int64)
        near = near[candidates[near]]
        if len(near) == 0:
            return near
        d, k = cKDTree(at).query(xy[near])
        d = np.asarray(d, dtype=np.float64)
        pop = due[np.asarray(k, dtype=np.int64)]
        old_kind = self.kind[near].copy()
        old_capex = self.capex[near].copy()
        old_link = self._link_km(near)
        fib = self.spec.fibre
        closer = d < self.pop_dist_km[near]
        v, dv = near[closer], d[closer]
        self.pop_dist_km[v] = dv
        self.pop_nearest[v] = pop[closer]
        self.fibre_ok[v] = dv <= fib.spur_max_km
        self.fibre_capex[v] = np.where(
            self.fibre_ok[v], fib.capex_fixed_usd + fib.capex_per_km_usd * dv, np.inf
        )
        self.fibre_life[v] = self.fibre_capex[v] + fib.opex_per_year_usd * self.spec.life_years
        hop = (d <= world.hop_km[near]) & (d < self.mw_dist[near])
        self.mw_dist[near[hop]] = d[hop]
        self.parent[near[hop]] = -1 - pop[hop]
        self.refresh(near)
        changed = (
            (self.kind[near] != old_kind)
            | (self.capex[near] != old_capex)
            | (self._link_km(near) < old_link)
        )
        return np.asarray(near[changed], dtype=np.int64)

    def _link_km(self, villages: IntArray) -> FloatArray:
        """Length of each village's terrestrial link in its current option (inf: none): what
        the nearest-backhaul siting ranks by."""
        kind = self.kind[villages]
        return np.where(
            kind == BH_FIBRE,
            self.pop_dist_km[villages],
            np.where(kind == BH_MICROWAVE, self.mw_dist[villages], np.inf),
        )

    def assume_satellite(self, v: int) -> None:
        """An existing site at *v* with no option here has a backhaul of its own: count it as
        satellite (what it is likely to use where no terrestrial link reaches)."""
        self.kind[v] = BH_SATELLITE

    def use_satellite(self) -> None:
        """Count one satellite site; close the option (for every candidate) at the cap."""
        self.satellite_used += 1
        if self.satellite_cap is not None and self.satellite_used >= self.satellite_cap:
            self.satellite_open = False
            self.refresh(np.flatnonzero(self.kind == BH_SATELLITE))


def starting_planner(
    world: World,
    spec: Backhaul,
    satellite_cap: int | None,
    start_ordinal: int,
    roots: IntArray,
    candidates: NDArray[np.bool_],
) -> BackhaulPlanner:
    """An operator's planner on day 0: the PoPs open by the start date (*start_ordinal*)
    planned with, and the existing sites *roots* (with a backhaul of their own) as relays for
    *candidates*.

    Every run of a scenario on a world starts from the same planner, whatever its seed or
    policy: it is built once (nearest-PoP and nearest-relay queries over every village, ~0.1 s
    of a national replication) and kept in ``world.setups``; each run gets a copy.
    """
    key = (
        "backhaul",
        spec.model_dump_json(),
        satellite_cap,
        start_ordinal,
        np.asarray(roots, dtype=np.int64).tobytes(),
        np.asarray(candidates, dtype=bool).tobytes(),
    )
    kept = world.setups.get(key)
    if not isinstance(kept, BackhaulPlanner):
        kept = BackhaulPlanner(world, spec, satellite_cap)
        kept.open_pops(start_ordinal, np.ones(len(world), dtype=bool))
        kept.add_roots(roots, candidates)
        while len(world.setups) >= MAX_KEPT_STARTS:
            del world.setups[next(iter(world.setups))]  # the oldest
        world.setups[key] = kept
    return kept.copy()


def _nearest(world: World, open_pops: IntArray) -> tuple[FloatArray, IntArray]:
    """Distance to and index (into ``world.pops``) of the nearest of *open_pops* from every
    village (inf and -1 where none is open)."""
    n = len(world)
    if len(open_pops) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    d, k = cKDTree(world.villages.xy[world.pops[open_pops]]).query(world.villages.xy)
    return np.asarray(d, dtype=np.float64), open_pops[np.asarray(k, dtype=np.int64)]
