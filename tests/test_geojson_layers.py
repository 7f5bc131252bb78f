"""The GeoJSON fast path: :func:`write_layer` writes the bytes :func:`write_geojson` writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.report.geojson import (
    Layer,
    backhaul_layer,
    sites_layer,
    villages_layer,
    write_geojson,
    write_layer,
)


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(
        load_scenario(
            "scenarios/quickstart.yaml",
            ["geography.synthetic.villages=400", "horizon_years=2", "seed=11"],
        )
    )


def _same_bytes(layer: Layer, tmp_path: Path) -> None:
    fast, slow = tmp_path / "fast.geojson", tmp_path / "slow.geojson"
    write_layer(layer, fast)
    write_geojson(layer.collection(), slow)
    assert fast.read_bytes() == slow.read_bytes()


@pytest.mark.parametrize("which", ["all", "reached"])
def test_layers_write_what_json_dumps_writes(results: Results, which: str, tmp_path: Path) -> None:
    for layer in (sites_layer(results), villages_layer(results, which), backhaul_layer(results)):
        assert layer.coordinates
        _same_bytes(layer, tmp_path)


def test_odd_values_are_written_as_json_writes_them(tmp_path: Path) -> None:
    props: dict[str, list[str | int | float | bool | None]] = {
        "name": ['Quote " and \\ back', "tab\there", "ñandú 山", "\u2028", "%s %d"],
        "mixed": [None, True, False, 3, -0.0],
        "count": [0, -1, 2**70, 5, 7],
        "value": [1e-7, 123456789.123456, 0.1, -2.5, 1e22],
        "flag": [True, False, True, True, False],
        "maybe": ["2025-01-01", None, "x", None, "y"],
    }
    coords = [[-70.123456, -12.5], [0.0, -0.0], [1e-7, 2.0], [180.0, -90.0], [-1.5, 3.25]]
    _same_bytes(Layer("Point", coords, dict(props)), tmp_path)
    lines = [[[0.5, 1.5], [2.5, 3.5]] for _ in range(5)]
    _same_bytes(Layer("LineString", lines, dict(props)), tmp_path)
    _same_bytes(Layer("Point", [], {}), tmp_path)


def test_nan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON"):
        write_layer(Layer("Point", [[0.0, 0.0]], {"x": [float("nan")]}), tmp_path / "x.geojson")
    with pytest.raises(ValueError, match="JSON"):
        write_layer(Layer("Point", [[float("inf"), 0.0]], {}), tmp_path / "y.geojson")
