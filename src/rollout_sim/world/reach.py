"""Which villages a relay at a site could serve by one microwave hop, remembered per world.

Asked each time a site is funded (it becomes a relay). Over the replications and policies that
one process runs on one world, the same few thousand sites are funded again and again: in a
national five-policy comparison, 3,837 distinct sites answer the 17,214 questions of the first
replication and only 56 new ones the next three. So an answer asked for a second time is kept,
up to a memory bound (a single run asks once a site, and keeps nothing); an answer is the same
whether it was kept or not, so results never depend on what was kept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..arrays import FloatArray

__all__ = ["HopReach"]

#: Bytes of answers kept (a national comparison's ~4,000 relay sites take ~25 MB).
DEFAULT_MAX_BYTES = 64 * 2**20


class HopReach:
    """``reach(site)`` → (villages, distances km): every village within its own zone's hop
    range of *site* (*site* itself included, at 0 km), in a fixed order.

    One KD-tree ball query per distinct hop range (a highlands village 35 km away is out of
    range, so it is never fetched), then exact distances (``np.hypot`` of the coordinate
    differences, which the backhaul planner compares to the last bit). O(k log n) for k
    villages found; O(1) from the third asking on, while the answers fit in *max_bytes*.
    """

    def __init__(
        self, xy: FloatArray, hop_km: FloatArray, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._xy = xy
        # Contiguous columns: the distances gather ~600 villages' x and y, twice as quick as
        # rows of xy (the same numbers, so the same bits).
        self._x = np.ascontiguousarray(xy[:, 0])
        self._y = np.ascontiguousarray(xy[:, 1])
        self._hop_km = hop_km
        self._trees: list[tuple[float, NDArray[np.int64], cKDTree]] = []
        for hop in np.unique(hop_km).tolist():
            idx = np.flatnonzero(hop_km == hop)
            self._trees.append((float(hop), idx, cKDTree(xy[idx])))
        self.max_bytes = max_bytes
        self.kept_bytes = 0
        self._kept: dict[int, tuple[NDArray[np.int32], FloatArray]] = {}
        self._asked: set[int] = set()  # sites asked for once (answers kept from the second)

    def __call__(self, site: int) -> tuple[NDArray[np.int32], FloatArray]:
        """The villages in reach of a relay at *site* and their distances (read-only)."""
        kept = self._kept.get(site)
        if kept is not None:
            return kept
        at = self._xy[site]
        parts = []
        for hop, idx, tree in self._trees:
            found = tree.query_ball_point(at, hop)
            # fromiter: a list of ints to an index array ~10 µs quicker than idx[found].
            parts.append(idx[np.fromiter(found, np.intp, len(found))])
        # int32: half the memory of kept answers, and as quick to index with.
        near = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)
        x, y = self._x, self._y
        d = np.hypot(x[near] - x[site], y[near] - y[site])
        # The tree's own distances may differ from hypot's in the last bits: the range is
        # settled by hypot's.
        keep = d <= self._hop_km[near]
        near, d = near[keep], d[keep]
        near.flags.writeable = False
        d.flags.writeable = False
        if site not in self._asked:
            self._asked.add(site)
            return near, d
        size = near.nbytes + d.nbytes
        if self.kept_bytes + size <= self.max_bytes:
            self._kept[site] = (near, d)
            self.kept_bytes += size
        return near, d
