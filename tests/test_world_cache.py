"""The on-disk world cache: same world back, keyed by what it depends on, never fatal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rollout_sim import load_scenario, simulate
from rollout_sim.world.build import world_key
from rollout_sim.world.cache import load_world, prepared_world


def scenario(**geo: object) -> object:
    return load_scenario(
        {
            "name": "cache",
            "start_date": "2020-01-01",
            "horizon_years": 1,
            "geography": {"synthetic": {"villages": 800, **geo}},
            "operators": [{"name": "op", "cash_usd": 2e6, "build_crews": 3}],
        }
    )


def test_cached_world_is_the_same_world(tmp_path: Path) -> None:
    sc = scenario()
    built, cached = prepared_world(sc, tmp_path)  # type: ignore[arg-type]
    assert not cached
    again, cached = prepared_world(sc, tmp_path)  # type: ignore[arg-type]
    assert cached and again.key == built.key
    for name in ("ids", "population", "zone", "service", "lat", "lon", "xy"):
        assert np.array_equal(getattr(again.villages, name), getattr(built.villages, name)), name
    assert np.array_equal(again.coverage.indices, built.coverage.indices)
    assert np.array_equal(again.pops, built.pops) and np.array_equal(again.edges.u, built.edges.u)
    a = simulate(sc, world=built)  # type: ignore[arg-type]
    b = simulate(sc, world=again)  # type: ignore[arg-type]
    assert np.array_equal(a.daily["people_covered"], b.daily["people_covered"])
    assert a.extra["events"] == b.extra["events"] > 100


def test_key_changes_with_what_the_world_depends_on(tmp_path: Path) -> None:
    base = world_key(scenario())  # type: ignore[arg-type]
    assert world_key(scenario(villages=801)) != base  # type: ignore[arg-type]
    assert world_key(scenario()) == base  # type: ignore[arg-type]
    sc = scenario()
    sc.operators[0].build_crews = 9  # type: ignore[attr-defined]
    assert world_key(sc) == base  # type: ignore[arg-type]  # operators are not the world


def test_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    sc = scenario()
    world, _ = prepared_world(sc, tmp_path)  # type: ignore[arg-type]
    path = tmp_path / "worlds" / f"{world.key}.npz"
    path.write_bytes(b"not a zip file")
    assert load_world(world.key, tmp_path) is None
    again, cached = prepared_world(sc, tmp_path)  # type: ignore[arg-type]
    assert not cached and len(again) == len(world)
