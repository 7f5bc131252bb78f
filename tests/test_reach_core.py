"""The compiled relay reach (``rollout_sim._reach``) against the numpy reference.

``HopReach.better`` must name the same villages, in the same order, with the same distances
to the bit, on either path: on a country's worth of villages (the quickstart world and a
dense random one) and on the hand-placed edge cases of ``test_relay_frontier``. Skipped where
the extension was not built (no C compiler): the numpy path is then the only one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_sim import build_world, load_scenario
from rollout_sim.compiled import PURE_PYTHON_ENV
from rollout_sim.world.reach import CELLS, HopReach

pytest.importorskip("rollout_sim._reach")

ROOT = Path(__file__).resolve().parents[1]


def _both(
    reach: HopReach, site: int, mw: np.ndarray, cand: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    compiled = reach.better(site, mw, cand)
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    reference = reach.better(site, mw, cand)
    monkeypatch.delenv(PURE_PYTHON_ENV)
    return compiled, reference


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    assert a[0].dtype == b[0].dtype == np.int32 and a[1].dtype == b[1].dtype == np.float64
    np.testing.assert_array_equal(a[0], b[0])  # the same villages, in the same order
    assert a[1].tobytes() == b[1].tobytes()  # the same distances, to the bit


def _check_brute(xy: np.ndarray, hop: np.ndarray, site: int, mw: np.ndarray, cand: np.ndarray,
                 got: tuple[np.ndarray, np.ndarray]) -> None:  # fmt: skip
    d_all = np.hypot(xy[:, 0] - xy[site, 0], xy[:, 1] - xy[site, 1])
    want = np.flatnonzero((d_all <= hop) & (d_all < mw) & cand)
    assert sorted(got[0].tolist()) == want.tolist()
    np.testing.assert_array_equal(got[1], d_all[got[0]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_reach_is_the_numpy_answer_on_a_dense_world(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 villages on 300 × 300 km with three hop ranges, hops of every length so far
    (none, shorter and longer than the new relay's), most villages still candidates."""
    rng = np.random.default_rng(seed)
    n = 20_000
    xy = rng.random((n, 2)) * 300.0
    xy[: n // 4] = np.round(xy[: n // 4] / 5.0) * 5.0  # on cell edges and at equal distances
    hop = rng.choice([20.0, 30.0, 40.0], size=n)
    reach = HopReach(xy, hop)
    mw = np.where(rng.random(n) < 0.5, np.inf, rng.random(n) * 45.0)
    cand = rng.random(n) < 0.7
    found = 0
    for site in rng.choice(n, size=200, replace=False).tolist():
        compiled, reference = _both(reach, site, mw, cand, monkeypatch)
        _same(compiled, reference)
        _check_brute(xy, hop, site, mw, cand, compiled)
        found += len(compiled[0])
    assert found > 10_000  # the answers were not all empty


def test_compiled_reach_is_the_numpy_answer_on_the_quickstart_world(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(load_scenario(ROOT / "scenarios" / "quickstart.yaml"))
    xy, hop = world.villages.xy, world.hop_km
    rng = np.random.default_rng(4)
    mw = np.full(len(world), np.inf)
    cand = np.ones(len(world), dtype=bool)
    reach = HopReach(xy, hop)
    for site in rng.permutation(len(world))[:60].tolist():
        compiled, reference = _both(reach, site, mw, cand, monkeypatch)
        _same(compiled, reference)
        _check_brute(xy, hop, site, mw, cand, compiled)
        # As the planner does: the relay's hops become the villages' own.
        mw[compiled[0]] = compiled[1]
        cand[site] = False


_OFFSETS = [-40.0, -30.0, -20.0, -10.0, 0.0, 9.99, 19.99999, 20.0, 29.9, 30.0, 40.0, 40.000001]


@settings(max_examples=100, deadline=None)
@given(
    site_at=st.tuples(*[st.integers(0, 2000).map(lambda i: i / 20)] * 2),
    villages=st.lists(
        st.tuples(
            st.sampled_from(_OFFSETS),
            st.sampled_from(_OFFSETS),
            st.sampled_from([20.0, 30.0, 40.0]),
            st.sampled_from([np.inf, 0.0, 10.0, 20.0, 30.0, 40.0, 40.000001]),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_compiled_reach_on_cell_edges_and_range_limits(
    site_at: tuple[float, float], villages: list[tuple[float, float, float, float, bool]]
) -> None:
    """Villages exactly at a hop's range or at their current hop's length, on cell edges."""
    sx, sy = 50.0 + site_at[0], 50.0 + site_at[1]
    rows = [(0.0, 0.0, 20.0, np.inf, True), (sx, sy, 40.0, np.inf, False)]
    rows += [(sx + dx, sy + dy, h, m, c) for dx, dy, h, m, c in villages]
    xy = np.array([[r[0], r[1]] for r in rows])
    hop = np.array([r[2] for r in rows])
    mw = np.array([r[3] for r in rows])
    cand = np.array([r[4] for r in rows])
    reach = HopReach(xy, hop)
    with pytest.MonkeyPatch.context() as mp:
        compiled, reference = _both(reach, 1, mw, cand, mp)
    _same(compiled, reference)
    _check_brute(xy, hop, 1, mw, cand, compiled)


def test_bad_grids_and_questions_are_refused() -> None:
    from rollout_sim import _reach

    n = 3
    x = np.zeros(n)
    order = np.arange(n, dtype=np.int32)
    start = np.array([0, n], dtype=np.int64)
    cell = np.zeros(n, dtype=np.int64)
    out_i, out_d = np.empty(n, dtype=np.int32), np.empty(n)

    def grid(**change: object) -> _reach.Grid:
        args: dict[str, object] = dict(
            x=x, y=x, hop=x + 1, order=order, at=order, start=start, cx=cell, cy=cell,
            nx=1, ny=1, span=CELLS, near=out_i, d=out_d,
        )  # fmt: skip
        args.update(change)
        return _reach.Grid(*args.values())  # type: ignore[arg-type]

    g = grid()
    assert g.better(0, np.full(n, np.inf), np.ones(n, dtype=bool)) == 3
    np.testing.assert_array_equal(out_i, [0, 1, 2])
    with pytest.raises(ValueError, match="order or at"):
        grid(order=np.array([0, 1, 5], dtype=np.int32))
    with pytest.raises(ValueError, match="start"):
        grid(start=np.array([0, 4], dtype=np.int64))
    with pytest.raises(ValueError, match="off the grid"):
        grid(cx=np.array([0, 1, 0], dtype=np.int64))
    with pytest.raises(ValueError, match="wrong item size or length"):
        grid(order=np.arange(n, dtype=np.int64))
    with pytest.raises(ValueError, match="wrong item size or length"):
        g.better(0, np.zeros(n + 1), np.ones(n, dtype=bool))
    with pytest.raises(IndexError):
        g.better(n, np.zeros(n), np.ones(n, dtype=bool))
    with pytest.raises(TypeError):
        g.better(0, np.zeros(n))  # type: ignore[call-arg]


def test_the_manifest_says_which_reach_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_sim.report.writer import versions

    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    assert versions()["relay_reach"] == "python"
    monkeypatch.delenv(PURE_PYTHON_ENV)
    assert versions()["relay_reach"] == "compiled"


def test_a_reach_pickles_and_answers_the_same_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """A world pickles with its reach (the compiled grid is built again on unpickling)."""
    import pickle

    rng = np.random.default_rng(9)
    xy = rng.random((3000, 2)) * 200.0
    hop = rng.choice([20.0, 30.0, 40.0], size=3000)
    reach = HopReach(xy, hop)
    reach(5)
    reach(5)  # kept from its second asking: the copy keeps it too
    copy = pickle.loads(pickle.dumps(reach))
    assert copy.kept_bytes == reach.kept_bytes > 0
    mw, cand = np.full(3000, np.inf), np.ones(3000, dtype=bool)
    for site in (0, 5, 2999):
        _same(copy.better(site, mw, cand), reach.better(site, mw, cand))
        compiled, reference = _both(copy, site, mw, cand, monkeypatch)
        _same(compiled, reference)
