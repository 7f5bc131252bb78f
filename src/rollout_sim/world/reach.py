"""Which villages a relay at a site could serve by one microwave hop, remembered per world.

Asked each time a site is funded (it becomes a relay). Over the replications and policies that
one process runs on one world, the same few thousand sites are funded again and again: in a
national five-policy comparison, 3,837 distinct sites answer the 17,214 questions of the first
replication and only 56 new ones the next three. So an answer asked for a second time is kept,
up to a memory bound (a single run asks once a site, and keeps nothing); an answer is the same
whether it was kept or not, so results never depend on what was kept.

What the backhaul planner asks is narrower: :meth:`HopReach.better`, the candidates a relay
gives a shorter hop. Where the optional C extension ``rollout_sim._reach`` is built (and
``ROLLOUT_SIM_PURE_PYTHON`` unset: :mod:`rollout_sim.compiled`) that is one pass over the
same grid in C, without keeping answers; the numpy of this module is the reference, with the
same villages, order and distances to the bit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..arrays import FloatArray
from ..compiled import pure_python

try:
    from .. import _reach
except ImportError:  # built without a C compiler: the numpy path
    _reach = None  # type: ignore[assignment]

__all__ = ["HopReach", "compiled"]

#: Bytes of answers kept (a national comparison's ~4,000 relay sites take ~25 MB).
DEFAULT_MAX_BYTES = 64 * 2**20

#: Grid cells per longest hop: a square of 2·CELLS + 1 cells a side around a site's cell holds
#: its reach. Two cells per hop fetch 6.25 hop² of candidates against 9 hop² for one.
CELLS = 2


def compiled() -> bool:
    """Whether :meth:`HopReach.better` runs in C (built, and the Python path not asked for)."""
    return _reach is not None and not pure_python()


class HopReach:
    """``reach(site)`` → (villages, distances km): every village within its own zone's hop
    range of *site* (*site* itself included, at 0 km), in a fixed order.

    The villages are binned once on a square grid of half the longest hop, stored row by row
    (CSR): the villages of the 5 × 5 cells around a site are five contiguous slices, and those
    within range are settled by exact distances (``np.hypot`` of the coordinate differences,
    which the backhaul planner compares to the last bit). Build O(n log n); a question
    O(k) for the k villages of its cells, ~6 hop² of them, with a handful of numpy calls
    (a KD-tree's ball query per hop range was 1.5× slower, in Python-list answers); O(1) from
    the third asking on, while the answers fit in *max_bytes*.
    """

    def __init__(
        self, xy: FloatArray, hop_km: FloatArray, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        # Contiguous columns: the distances gather ~1,000 villages' x and y, twice as quick
        # as rows of xy (the same numbers, so the same bits).
        self._x = x = np.ascontiguousarray(xy[:, 0], dtype=np.float64)
        self._y = y = np.ascontiguousarray(xy[:, 1], dtype=np.float64)
        self._hop_km = hop_km
        longest = float(hop_km.max()) if len(hop_km) else 1.0
        # A hair over half the longest hop: a village within range of a site (|dx|, |dy| ≤
        # the hop) is then at most CELLS cells away, whatever the rounding of the division.
        cell = max(longest, 1e-9) / CELLS * (1 + 1e-6)
        x0 = float(x.min()) if len(x) else 0.0
        y0 = float(y.min()) if len(y) else 0.0
        cx = ((x - x0) // cell).astype(np.int64)
        cy = ((y - y0) // cell).astype(np.int64)
        self._nx = nx = int(cx.max()) + 1 if len(x) else 1
        self._ny = int(cy.max()) + 1 if len(y) else 1
        cells = cy * nx + cx
        # int32: half the memory of kept answers, and as quick to index with.
        self._order = np.argsort(cells, kind="stable").astype(np.int32)
        # start[c]: where cell c's villages begin in _order (row-major, so a row's run of
        # cells is one slice).
        self._start = np.searchsorted(cells[self._order], np.arange(self._ny * nx + 1))
        self._site_cx, self._site_cy = cx, cy
        self._compile()
        self.max_bytes = max_bytes
        self.kept_bytes = 0
        self._kept: dict[int, tuple[NDArray[np.int32], FloatArray]] = {}
        self._asked: set[int] = set()  # sites asked for once (answers kept from the second)

    def _compile(self) -> None:
        """The compiled pass over the same grid, writing into buffers of its own (see
        :meth:`better`); None where the extension is not built."""
        self._grid: _reach.Grid | None = None
        if _reach is None:
            return
        n = len(self._x)
        self._near_out = np.empty(n, dtype=np.int32)
        self._d_out = np.empty(n, dtype=np.float64)
        order = self._order
        at = np.empty(n, dtype=np.int32)
        at[order] = np.arange(n, dtype=np.int32)
        # Coordinates and ranges in grid order: the pass reads them in sequence.
        self._grid = _reach.Grid(
            self._x[order], self._y[order], np.asarray(self._hop_km, dtype=np.float64)[order],
            order, at, self._start.astype(np.int64), self._site_cx, self._site_cy, self._nx,
            self._ny, CELLS, self._near_out, self._d_out,
        )  # fmt: skip

    def __getstate__(self) -> dict[str, object]:
        # A world pickles with its reach (a notebook's copy, a cache of one's own): the
        # compiled grid does not, and is built again on unpickling.
        state = dict(vars(self))
        for name in ("_grid", "_near_out", "_d_out"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state)
        self._compile()

    def __call__(self, site: int) -> tuple[NDArray[np.int32], FloatArray]:
        """The villages in reach of a relay at *site* and their distances (read-only)."""
        kept = self._kept.get(site)
        if kept is not None:
            return kept
        cx, cy, nx = int(self._site_cx[site]), int(self._site_cy[site]), self._nx
        lo, hi = max(cx - CELLS, 0), min(cx + CELLS, nx - 1) + 1
        start, order = self._start, self._order
        near = np.concatenate(
            [
                order[start[row * nx + lo] : start[row * nx + hi]]
                for row in range(max(cy - CELLS, 0), min(cy + CELLS, self._ny - 1) + 1)
            ]
        )
        x, y = self._x, self._y
        d = np.hypot(x[near] - x[site], y[near] - y[site])
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

    def better(
        self, site: int, mw_dist: FloatArray, candidates: NDArray[np.bool_]
    ) -> tuple[NDArray[np.int32], FloatArray]:
        """The villages in reach of a relay at *site* that are *candidates* and whose hop it
        would shorten (its distance below their *mw_dist*), with those distances: the
        :meth:`__call__` answer filtered, in its order (new arrays).

        In C where ``rollout_sim._reach`` is built: one pass over the ~6 hop² of villages
        around the site that computes a distance only for candidates the squares leave in
        doubt, ~4× quicker than numpy's dozen calls over all of them (whose answers a
        process keeps from their second asking, as :meth:`__call__` says; the pass keeps
        nothing and needs not).
        """
        grid = self._grid
        if grid is not None and not pure_python():  # compiled(), without a call
            k = grid.better(site, mw_dist, candidates)
            return self._near_out[:k].copy(), self._d_out[:k].copy()
        near, d = self(site)
        keep = (d < mw_dist[near]) & candidates[near]
        return near[keep], d[keep]
