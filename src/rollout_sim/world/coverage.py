"""The site → covered-villages table (CSR) and its transpose, built once per world.

A site at village *v* covers every village within its zone's radius of *v* (itself included).
Built from one ``cKDTree.query_pairs`` at the largest radius, then filtered per site zone, so the
cost is O(n log n + pairs) and never all pairs. The transpose (village → sites covering it) lets
the engine update every candidate's "newly covered people" in one vectorised step when coverage
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["CoverageIndex", "build_coverage_index"]

IntArray = NDArray[np.int64]


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

    @property
    def nnz(self) -> int:
        return len(self.indices)


def _csr(src: IntArray, dst: IntArray, n: int) -> tuple[IntArray, NDArray[np.int32]]:
    order = np.lexsort((dst, src))
    counts = np.bincount(src, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, dst[order].astype(np.int32)


def build_coverage_index(xy: NDArray[np.float64], radius_km: NDArray[np.float64]) -> CoverageIndex:
    """Coverage table for sites at every village; *radius_km* is per village (its zone's).

    O(n log n + p) time and O(p) memory for p village pairs within the largest radius.
    """
    n = len(xy)
    if n == 0:
        empty = np.zeros(1, dtype=np.int64)
        none = np.zeros(0, dtype=np.int32)
        return CoverageIndex(empty, none, empty, none)
    rmax = float(radius_km.max())
    pairs = cKDTree(xy).query_pairs(rmax, output_type="ndarray").astype(np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(*(xy[i] - xy[j]).T)
    fwd = d <= radius_km[i]  # a site at i reaches j
    bwd = d <= radius_km[j]  # a site at j reaches i
    self_ = np.arange(n, dtype=np.int64)
    src = np.concatenate([self_, i[fwd], j[bwd]])
    dst = np.concatenate([self_, j[fwd], i[bwd]])
    indptr, indices = _csr(src, dst, n)
    t_indptr, t_indices = _csr(dst, src, n)
    return CoverageIndex(indptr, indices, t_indptr, t_indices)
