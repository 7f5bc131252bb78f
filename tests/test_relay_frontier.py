"""The relay frontier as sites are funded one by one (``BackhaulPlanner.add_relay``): after
every relay each village's option is still its best (what weighing every village again gives),
and the villages returned are exactly those whose option or capex changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_sim import load_scenario
from rollout_sim.model.backhaul import BH_MICROWAVE, BackhaulPlanner
from rollout_sim.world.build import build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("satellite", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_each_relay_leaves_every_village_its_best_option(seed: int, satellite: bool) -> None:
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    spec = sc.backhaul.model_copy(
        update={"satellite": sc.backhaul.satellite.model_copy(update={"allowed": satellite})}
    )
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(seed)
    planner = BackhaulPlanner(world, spec)
    candidates = rng.random(n) < 0.8
    first_hops = shortened = 0
    for site in rng.choice(n, size=80, replace=False).tolist():
        candidates[site] = False  # a funded site is no longer a candidate
        kind, capex, mw = planner.kind.copy(), planner.capex.copy(), planner.mw_dist.copy()
        got = planner.add_relay(site, candidates)
        # Weighing every village again changes nothing: each keeps its best option.
        again = BackhaulPlanner(world, spec)
        for name in ("mw_dist", "parent", "hops", "satellite_open"):
            setattr(again, name, np.copy(getattr(planner, name)))
        again.refresh(np.arange(n))
        np.testing.assert_array_equal(planner.kind, again.kind)
        np.testing.assert_array_equal(planner.capex, again.capex)
        changed = np.flatnonzero((planner.kind != kind) | (planner.capex != capex))
        assert sorted(got.tolist()) == changed.tolist()
        hopped = planner.mw_dist < mw
        first_hops += int((hopped & np.isinf(mw)).sum())
        shortened += int((hopped & np.isfinite(mw)).sum())
        # A hop only ever gets shorter, and only for candidates, to this site.
        assert not hopped[~candidates].any()
        assert (planner.parent[hopped] == site).all()
    # Both cases were exercised: villages given their first hop, and hops made shorter.
    assert first_hops > 0 and shortened > 0
    assert (planner.kind == BH_MICROWAVE).any()


def test_hop_reach_is_every_village_in_its_own_range_and_kept_within_its_bound() -> None:
    from rollout_sim.world.reach import HopReach

    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    xy, hop_km = world.villages.xy, world.hop_km
    assert len(np.unique(hop_km)) > 1  # zones of different hop ranges
    reach, bare = HopReach(xy, hop_km), HopReach(xy, hop_km, max_bytes=0)
    sites = np.random.default_rng(3).choice(len(world), size=25, replace=False).tolist()
    for site in sites:
        d_all = np.hypot(xy[:, 0] - xy[site, 0], xy[:, 1] - xy[site, 1])
        near, d = reach(site)
        assert sorted(near.tolist()) == np.flatnonzero(d_all <= hop_km).tolist()
        np.testing.assert_array_equal(d, d_all[near])  # the same bits as hypot
        assert site in near.tolist() and not near.flags.writeable and not d.flags.writeable
        second = reach(site)  # asked again: kept from now on
        assert second[0] is not near
        np.testing.assert_array_equal(second[0], near)
        again = reach(site)
        assert again[0] is second[0] and again[1] is second[1]  # kept
        b_near, b_d = bare(site)  # kept nothing, the same answer
        np.testing.assert_array_equal(b_near, near)
        np.testing.assert_array_equal(b_d, d)
    assert bare.kept_bytes == 0 and reach.kept_bytes > 0
    # The bound holds: answers beyond it are computed, not kept; asked once, none is kept.
    small = HopReach(xy, hop_km, max_bytes=reach.kept_bytes // 2)
    for site in sites:
        small(site)
    assert small.kept_bytes == 0
    for site in sites:
        small(site)
    assert 0 < small.kept_bytes <= reach.kept_bytes // 2


_HOPS = [20.0, 30.0, 40.0]
_OFFSETS = [-40.0, -30.0, -20.0, -10.0, 0.0, 9.99, 19.99999, 20.0, 29.9, 30.0, 40.0, 40.000001]


@settings(max_examples=150, deadline=None)
@given(
    origin=st.tuples(st.floats(-100.0, 100.0), st.floats(-100.0, 100.0)),
    # Steps of 50 m over 100 km: the site falls anywhere in its cell, edges included (floats
    # drawn by hypothesis crowd at a few round values).
    site_at=st.tuples(*[st.integers(0, 2000).map(lambda i: i / 20)] * 2),
    villages=st.lists(
        st.tuples(st.sampled_from(_OFFSETS), st.sampled_from(_OFFSETS), st.sampled_from(_HOPS)),
        min_size=1,
        max_size=40,
    ),
)
def test_hop_reach_grid_finds_exactly_the_villages_in_range(
    origin: tuple[float, float],
    site_at: tuple[float, float],
    villages: list[tuple[float, float, float]],
) -> None:
    """Villages exactly one hop away along an axis or a diagonal, from a site anywhere in its
    grid cell (the cases a binned search could miss), are found as a scan of every village
    finds them. The first village is the grid's origin (the lowest x and y)."""
    from rollout_sim.world.reach import HopReach

    ox, oy = origin
    sx, sy = ox + 50 + site_at[0], oy + 50 + site_at[1]  # the origin stays the lowest
    rows = [(ox, oy, 20.0), (sx, sy, 40.0)] + [(sx + dx, sy + dy, h) for dx, dy, h in villages]
    xy = np.array([[x, y] for x, y, _ in rows])
    hop_km = np.array([h for _, _, h in rows])
    near, d = HopReach(xy, hop_km)(1)
    d_all = np.hypot(xy[:, 0] - xy[1, 0], xy[:, 1] - xy[1, 1])
    assert sorted(near.tolist()) == np.flatnonzero(d_all <= hop_km).tolist()
    np.testing.assert_array_equal(d, d_all[near])
