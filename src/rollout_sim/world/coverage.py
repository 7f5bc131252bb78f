"""The site → covered-villages table (CSR) and its transpose, built once per world.

Flat discs (the default): a site at village *v* covers every village within its zone's radius
of *v* (itself included). With terrain (:class:`Terrain`), a site's reach shrinks with the
ruggedness of its village and coverage fades with distance: a site at *i* reaches
``L_i = radius_i / (1 + R_i / S)`` km and serves a village *j* at distance *d* with probability
``p = 1 / (1 + (d / L_i) ** k)`` (its own village always). Whether it does is drawn once per
world, one uniform per unordered pair of villages, so the draw is symmetric as line of sight is.

Either way the table is built from one ``cKDTree.query_pairs`` at the largest reach, then
filtered per site, so the cost is O(n log n + pairs) and never all pairs. The transpose
(village → sites covering it) lets the engine update every candidate's "newly covered people"
in one vectorised step when coverage changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.special import expit

from ..arrays import IntArray

__all__ = [
    "CUTOFF_PROBABILITY",
    "MAX_COVERAGE_PAIRS",
    "CoverageIndex",
    "Terrain",
    "build_coverage_index",
    "coverage_query_km",
    "too_many_pairs",
]


#: Most (site, covered village) pairs a world may have, self-coverage included. Building the
#: index takes about 60 bytes per pair at its peak, so this is about 3 GB; Peru's 94,922 places
#: at a 6 km radius make 3.7 million. More comes from a radius or a village density far beyond
#: any real rollout (a million villages in a 60 km square), and would exhaust the memory.
MAX_COVERAGE_PAIRS = 50_000_000
#: Grid cells per axis at most, so that cell numbers fit a 64-bit key (2**21 per row).
_MAX_CELLS = 2**20
#: With terrain, a site never serves a village where its probability of doing so would be below
#: this: the cut-off distance is ``L · ((1 - q) / q) ** (1 / k)`` (3.15 L for k = 4, 4.6 L for
#: k = 3, 9.9 L for k = 2). A fixed multiple of L would drop a large probability for a gentle
#: steepness (25% at 3 L for k = 1); a fixed probability keeps what is dropped below 1%.
CUTOFF_PROBABILITY = 0.01


@dataclass(frozen=True)
class Terrain:
    """Coverage that falls with distance and ruggedness (see the module doc)."""

    #: S: the ruggedness at which a site's reach is half its zone's radius, m per km.
    ruggedness_scale_m_per_km: float
    #: k (≥ 1): how sharply service falls around the reach (large k: a hard disc edge).
    steepness: float = 4.0

    @property
    def cutoff(self) -> float:
        """Cut-off distance as a multiple of a site's reach L (see ``CUTOFF_PROBABILITY``)."""
        q = CUTOFF_PROBABILITY
        return float(((1.0 - q) / q) ** (1.0 / self.steepness))

    def reach_km(
        self, radius_km: NDArray[np.float64], ruggedness_m_per_km: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """L = radius / (1 + R / S), km: where a site serves a village with probability 1/2."""
        return np.asarray(
            radius_km / (1.0 + ruggedness_m_per_km / self.ruggedness_scale_m_per_km),
            dtype=np.float64,
        )

    def serve_probability(
        self, d_km: NDArray[np.float64], reach_km: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """p = 1 / (1 + (d / L) ** k), computed as expit(-k · ln(d / L)): no overflow for a
        huge k, and exactly 1 at d = 0."""
        with np.errstate(divide="ignore"):
            log_ratio = np.log(d_km / reach_km)
        return np.asarray(expit(-self.steepness * log_ratio), dtype=np.float64)


def coverage_query_km(
    radius_km: NDArray[np.float64],
    ruggedness_m_per_km: NDArray[np.float64] | None = None,
    terrain: Terrain | None = None,
) -> float:
    """The longest distance at which any site may serve a village: the query radius of
    :func:`build_coverage_index` (and the one its memory grows with)."""
    if len(radius_km) == 0:
        return 0.0
    if terrain is None:
        return float(radius_km.max())
    rugged = np.zeros_like(radius_km) if ruggedness_m_per_km is None else ruggedness_m_per_km
    return float(terrain.reach_km(radius_km, rugged).max()) * terrain.cutoff


@dataclass(frozen=True, eq=False)
class CoverageIndex:
    """CSR tables: ``covers(v)`` = villages a site at v covers; ``covered_by(u)`` = the reverse."""

    indptr: IntArray
    indices: NDArray[np.int32]
    t_indptr: IntArray
    t_indices: NDArray[np.int32]

    def covers(self, site: int) -> NDArray[np.int32]:
        return self.indices[self.indptr[site] : self.indptr[site + 1]]

    def covered_by(self, village: int) -> NDArray[np.int32]:
        return self.t_indices[self.t_indptr[village] : self.t_indptr[village + 1]]

    def covers_all(self, sites: IntArray) -> NDArray[np.int32]:
        """``covers(s)`` of each of *sites*, concatenated in order (one pass, O(their sum))."""
        return self.indices[_ranges(self.indptr[sites], self.indptr[sites + 1])]

    def covered_by_all(self, villages: IntArray) -> NDArray[np.int32]:
        """``covered_by(u)`` of each of *villages*, concatenated in order."""
        return self.t_indices[_ranges(self.t_indptr[villages], self.t_indptr[villages + 1])]

    @property
    def nnz(self) -> int:
        return len(self.indices)


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of ``arange(starts[i], ends[i])`` for every i (CSR slices at once)."""
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total))


def _csr(src: IntArray, dst: IntArray, n: int) -> tuple[IntArray, NDArray[np.int32]]:
    """Rows *src*, columns *dst* (each pair once) as CSR, each row's columns ascending.

    The pairs sorted as one key, src·n + dst (unique, so any sort gives the order of sorting
    by src then dst): ~4x quicker than ``lexsort`` of the two at 192,000 villages."""
    key = np.sort(src.astype(np.int64) * n + dst)
    counts = np.bincount(src, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, (key % max(n, 1)).astype(np.int32)


def _cell_pairs(xy: NDArray[np.float64], side: float, reach: int) -> int:
    """Σ over points of the number of points in the (2·reach+1)² block of grid cells (of the
    given side) around the point's own cell: O(n log n), no pair is formed."""
    cells = np.floor((xy - xy.min(axis=0)) / side).astype(np.int64)
    keys, counts = np.unique(cells[:, 0] * 2 * _MAX_CELLS + cells[:, 1], return_counts=True)
    near = np.zeros(len(keys), dtype=np.int64)
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            # A row holds 2**21 keys but at most 2**20 + 1 cells: a neighbour key off the end
            # of a row lands in the gap, never on a cell of the next row.
            want = keys + dx * 2 * _MAX_CELLS + dy
            at = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
            near += np.where(keys[at] == want, counts[at], 0)
    return int((counts * near).sum())


def too_many_pairs(xy: NDArray[np.float64], radius_km: float, limit: int) -> bool:
    """Are there more than *limit* ordered pairs of points (each with itself included) at most
    *radius_km* apart? Never forms the pairs, so it is safe to ask before
    :func:`build_coverage_index`, whose memory grows with them.

    Two grid counts bracket the answer in O(n log n): every point within r of another lies in
    the 3 × 3 cells of side r around it (an upper bound, about 3 times the answer for even
    densities), and every two points in one cell of side r/√2 are within r (a lower bound).
    Only between the two is the pairs' exact number counted (KD-tree, up to a few times
    *limit*: a second or two).
    """
    if len(xy) == 0:
        return False
    floor_side = float(np.ptp(xy, axis=0).max()) / _MAX_CELLS  # finer cells overflow the keys
    if _cell_pairs(xy, max(radius_km, floor_side), 1) <= limit:
        return False
    inner = radius_km / np.sqrt(2.0)
    if inner >= floor_side and _cell_pairs(xy, inner, 0) > limit:
        return True
    tree = cKDTree(xy)
    return int(tree.count_neighbors(tree, radius_km)) > limit


def build_coverage_index(
    xy: NDArray[np.float64],
    radius_km: NDArray[np.float64],
    *,
    terrain: Terrain | None = None,
    ruggedness_m_per_km: NDArray[np.float64] | None = None,
    rng: np.random.Generator | None = None,
    query_km: float | None = None,
) -> CoverageIndex:
    """Coverage table for sites at every village; *radius_km* is per village (its zone's).

    Without *terrain*, flat discs. With it, *ruggedness_m_per_km* (per village, default 0) and
    *rng* (the world's generator, required) give the terrain model of the module doc.
    *query_km* (at least what the radii need) fixes the set of pairs drawn for: two tables
    built with the same one and the same seed share every pair's line-of-sight draw.

    O(n log n + p) time and O(p) memory for p village pairs within the largest reach (with
    terrain: within the largest cut-off distance).
    """
    n = len(xy)
    if n == 0:
        empty = np.zeros(1, dtype=np.int64)
        none = np.zeros(0, dtype=np.int32)
        return CoverageIndex(empty, none, empty, none)
    rmax = max(coverage_query_km(radius_km, ruggedness_m_per_km, terrain), query_km or 0.0)
    pairs = cKDTree(xy).query_pairs(rmax, output_type="ndarray").astype(np.int64)
    if terrain is not None:
        if rng is None:
            raise ValueError("terrain coverage draws from the world's generator: pass rng")
        # query_pairs gives i < j but in an order of its own: sort the pairs so that the k-th
        # uniform always belongs to the same pair (a cached world and a fresh build agree).
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(*(xy[i] - xy[j]).T)
    if terrain is None:
        fwd = d <= radius_km[i]  # a site at i reaches j
        bwd = d <= radius_km[j]  # a site at j reaches i
    else:
        assert rng is not None
        rugged = np.zeros(n) if ruggedness_m_per_km is None else ruggedness_m_per_km
        reach = terrain.reach_km(radius_km, rugged)
        cut = terrain.cutoff
        # One uniform per unordered pair, shared by both directions: line of sight is
        # symmetric, so if the better-reaching site does not serve the other village, the
        # worse-reaching one does not either.
        u = rng.random(len(d))
        fwd = (d <= cut * reach[i]) & (u < terrain.serve_probability(d, reach[i]))
        bwd = (d <= cut * reach[j]) & (u < terrain.serve_probability(d, reach[j]))
    self_ = np.arange(n, dtype=np.int64)
    src = np.concatenate([self_, i[fwd], j[bwd]])
    dst = np.concatenate([self_, j[fwd], i[bwd]])
    indptr, indices = _csr(src, dst, n)
    t_indptr, t_indices = _csr(dst, src, n)
    return CoverageIndex(indptr, indices, t_indptr, t_indices)
