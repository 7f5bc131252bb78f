"""The coverage index on regular grids and asymmetric radii (counts worked out by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from rollout_sim.world.coverage import build_coverage_index


def grid(n: int, step: float = 1.0) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    return np.column_stack([xs.ravel(), ys.ravel()])


@pytest.mark.parametrize(
    ("radius", "centre_count", "corner_count"),
    [
        (0.5, 1, 1),  # only itself
        (1.0, 5, 3),  # itself + 4 orthogonal neighbours (corner: 2)
        (1.5, 9, 4),  # + 4 diagonals at √2 (corner: 2 orthogonal + 1 diagonal)
        (2.0, 13, 6),  # + 4 at distance 2 (corner: + 2 at distance 2)
    ],
)
def test_grid_counts(radius: float, centre_count: int, corner_count: int) -> None:
    xy = grid(5)
    idx = build_coverage_index(xy, np.full(len(xy), radius))
    centre = 12  # (2, 2)
    assert len(idx.covers(centre)) == centre_count
    assert len(idx.covers(0)) == corner_count
    assert centre in idx.covers(centre)


def test_asymmetric_radii_and_transpose() -> None:
    # A (radius 2) and B (radius 0.5) are 1 km apart: A's site reaches B, B's does not reach A.
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    idx = build_coverage_index(xy, np.array([2.0, 0.5, 10.0]))
    assert idx.covers(0).tolist() == [0, 1]
    assert idx.covers(1).tolist() == [1]
    assert idx.covers(2).tolist() == [0, 1, 2]
    assert idx.covered_by(0).tolist() == [0, 2]
    assert idx.covered_by(1).tolist() == [0, 1, 2]
    assert idx.covered_by(2).tolist() == [2]
    assert idx.nnz == 6  # 2 + 1 + 3


def test_empty_world() -> None:
    idx = build_coverage_index(np.zeros((0, 2)), np.zeros(0))
    assert idx.nnz == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 30), st.floats(0, 30), st.floats(0.1, 8)),
        min_size=1,
        max_size=60,
    )
)
def test_matches_brute_force(points: list[tuple[float, float, float]]) -> None:
    arr = np.array(points)
    xy, radius = arr[:, :2], arr[:, 2]
    idx = build_coverage_index(xy, radius)
    d = cdist(xy, xy)
    for i in range(len(xy)):
        expected = np.flatnonzero(d[i] <= radius[i])
        # Points exactly at the radius may fall either side of float rounding; ignore them.
        edge = np.isclose(d[i], radius[i], rtol=1e-9, atol=1e-9)
        got = set(idx.covers(i).tolist())
        assert set(expected[~edge[expected]].tolist()) <= got
        assert got <= set(np.flatnonzero((d[i] <= radius[i]) | edge).tolist())
    # The transpose holds the same pairs.
    pairs = {(s, int(u)) for s in range(len(xy)) for u in idx.covers(s)}
    tpairs = {(int(s), u) for u in range(len(xy)) for s in idx.covered_by(u)}
    assert pairs == tpairs
    # Several at once: each one's slice, concatenated in the order asked (repeats kept).
    n = len(xy)
    some = np.array([i % n for i in (3, 0, 3, 7, 1)], dtype=np.int64)
    np.testing.assert_array_equal(
        idx.covers_all(some), np.concatenate([idx.covers(int(s)) for s in some])
    )
    np.testing.assert_array_equal(
        idx.covered_by_all(some), np.concatenate([idx.covered_by(int(u)) for u in some])
    )
    assert len(idx.covers_all(np.zeros(0, dtype=np.int64))) == 0
