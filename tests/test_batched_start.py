"""The starting network set up at once exactly as one site at a time: existing sites become
relays (``BackhaulPlanner.add_roots`` against ``add_relay(..., root=True)`` in village order:
same parents, distances, options) and are planned (``CoverageState.plan_all`` against
``plan``: same counts and gains)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.model.backhaul import BackhaulPlanner
from rollout_sim.model.coverage_state import CoverageState
from rollout_sim.world.build import build_world

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("mw_dist", "parent", "kind", "capex", "hops")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_add_roots_matches_one_by_one(seed: int) -> None:
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(seed)
    xy = world.villages.xy
    # Ties and sites at one spot: some villages moved onto others (before any tree is built).
    src = rng.choice(n, size=n // 10, replace=False)
    xy[src[: len(src) // 2]] = xy[src[len(src) // 2 : 2 * (len(src) // 2)]]
    roots = np.sort(rng.choice(n, size=n // 4, replace=False))
    candidates = rng.random(n) < 0.8
    candidates[roots] = False
    one, batch = BackhaulPlanner(world, sc.backhaul), BackhaulPlanner(world, sc.backhaul)
    for s in roots.tolist():
        one.add_relay(s, candidates, root=True)
    batch.add_roots(roots, candidates)
    assert (one.parent[candidates] >= 0).any()  # some relays were taken
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(batch, name), getattr(one, name), err_msg=name)


def test_add_roots_of_nothing_changes_nothing() -> None:
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    planner, fresh = BackhaulPlanner(world, sc.backhaul), BackhaulPlanner(world, sc.backhaul)
    planner.add_roots(np.zeros(0, dtype=np.int64), np.ones(len(world), dtype=bool))
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(planner, name), getattr(fresh, name))


@pytest.mark.parametrize("seed", [0, 1])
def test_plan_all_matches_one_by_one(seed: int) -> None:
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    n = len(world)
    sites = np.sort(np.random.default_rng(seed).choice(n, size=n // 5, replace=False))
    one = CoverageState(world.coverage, world.villages.population)
    batch = CoverageState(world.coverage, world.villages.population)
    for v in sites.tolist():
        one.plan(v)
    batch.plan_all(sites)
    assert (one.gain < CoverageState(world.coverage, world.villages.population).gain).any()
    for name in ("planned", "gain", "gain_places"):
        a, b = getattr(batch, name), getattr(one, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
