"""The starting network set up at once exactly as one site at a time: existing sites become
relays (``BackhaulPlanner.add_roots`` against ``add_relay(..., root=True)`` in village order:
same parents, distances, options) and are planned (``CoverageState.plan_all`` against
``plan``: same counts and gains)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

from rollout_sim import load_scenario
from rollout_sim.model.backhaul import BH_NONE, BackhaulPlanner
from rollout_sim.model.coverage_state import CoverageState
from rollout_sim.model.siting import STRATEGIES, CandidateQueue
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


@pytest.mark.parametrize("strategy", [*STRATEGIES])
@pytest.mark.parametrize("with_relief", [False, True])
def test_first_heap_priorities_match_one_by_one(strategy: str, with_relief: bool) -> None:
    """The candidate queue's first heap is built from whole columns: every candidate's priority
    must equal, bit for bit, what the per-site function gives (which later pops compare with)."""
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(7)
    cov = CoverageState(world.coverage, world.villages.population)
    cov.plan_all(np.sort(rng.choice(n, size=n // 6, replace=False)))  # gains below the start
    backhaul = BackhaulPlanner(world, sc.backhaul)
    relief_usd = rng.uniform(0.0, 5e4, n)
    queue = CandidateQueue(
        simpy.Environment(),
        strategy,
        rng.random(n) < 0.9,
        cov,
        backhaul,
        rng.uniform(2e4, 9e4, n),
        rng.random(n),
        list_rank=rng.permutation(n).astype(np.float64),
        relief=(lambda v: float(relief_usd[v])) if with_relief else None,
        people_per_place=None if with_relief else 180.0,
    )
    villages = np.flatnonzero(queue.eligible & (backhaul.kind != BH_NONE))
    assert len(villages) > n // 2
    one_by_one = np.array([queue.priority(int(v)) for v in villages])
    np.testing.assert_array_equal(queue.priorities(villages), one_by_one)
    assert sorted(queue._heap.entries()) == sorted(queue._entry(int(v)) for v in villages)


@pytest.mark.parametrize("seed", [0, 1])
def test_switch_on_all_matches_one_by_one(seed: int) -> None:
    """The starting network switched on at once leaves the coverage exactly as site by site:
    counts, totals, first-covered days and the change log, block for block."""
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(seed)
    earlier = rng.choice(n, size=n // 20, replace=False)  # some cover already on air
    sites = rng.choice(np.setdiff1d(np.arange(n), earlier), size=n // 4, replace=False)
    one = CoverageState(world.coverage, world.villages.population)
    batch = CoverageState(world.coverage, world.villages.population)
    for state in (one, batch):
        for v in earlier.tolist():
            state.switch_on(v, 0.0)
    covered_before = one.villages_covered
    for v in sites.tolist():
        one.switch_on(v, 3.0)
    batch.switch_on_all(sites, 3.0)
    assert covered_before > 0 and one.villages_covered > covered_before
    assert (batch.villages_covered, batch.people_covered) == (
        one.villages_covered,
        one.people_covered,
    )
    np.testing.assert_array_equal(batch.on_air, one.on_air)
    np.testing.assert_array_equal(batch.first_covered, one.first_covered)
    np.testing.assert_array_equal(batch.first_op, one.first_op)
    for got, want in zip(batch.changes(), one.changes(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert list(batch.change_count) == list(one.change_count)


def test_the_day0_planner_is_kept_per_world_and_each_run_gets_its_own_copy() -> None:
    from rollout_sim.model.backhaul import MAX_KEPT_STARTS, starting_planner

    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(4)
    roots = np.sort(rng.choice(n, size=n // 8, replace=False))
    candidates = rng.random(n) < 0.9
    candidates[roots] = False
    start = sc.start_date.toordinal()
    fresh = BackhaulPlanner(world, sc.backhaul, None)
    fresh.open_pops(start, np.ones(n, dtype=bool))
    fresh.add_roots(roots, candidates)
    first = starting_planner(world, sc.backhaul, None, start, roots, candidates)
    assert len(world.setups) == 1
    for name in (*FIELDS, "pop_open", "pop_dist_km", "pop_nearest", "fibre_capex"):
        np.testing.assert_array_equal(getattr(first, name), getattr(fresh, name), err_msg=name)
    # A run's relays change its copy only: the next run starts from day 0 again.
    candidates_now = candidates.copy()
    for site in np.flatnonzero(candidates)[:50].tolist():
        candidates_now[site] = False
        first.add_relay(site, candidates_now)
    assert not np.array_equal(first.mw_dist, fresh.mw_dist)
    second = starting_planner(world, sc.backhaul, None, start, roots, candidates)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(second, name), getattr(fresh, name), err_msg=name)
    assert second.mw_dist is not first.mw_dist and len(world.setups) == 1
    # Another start (a cap on satellites, other candidates) is another entry; the oldest go.
    capped = starting_planner(world, sc.backhaul, 0, start, roots, candidates)
    assert not capped.satellite_open and len(world.setups) == 2
    for k in range(MAX_KEPT_STARTS + 2):
        other = candidates.copy()
        other[k] = not other[k]
        starting_planner(world, sc.backhaul, None, start, roots, other)
    assert len(world.setups) == MAX_KEPT_STARTS
