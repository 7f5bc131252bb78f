"""Village files as people really have them: Excel's semicolons and decimal commas, other
header names, and coordinates that are exchanged or mistyped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rollout_sim.world.village_files import read_villages, sniff_delimiter
from rollout_sim.world.warnings import coordinate_warnings

from conftest import run_cli, small_scenario_dict, write_yaml


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    f = tmp_path / "v.csv"
    f.write_text(
        "ID;Name;Latitude;Longitude;Population;Zone\n"
        "v1;Uno;-12,05;-75,2;1.234;highlands\n"
        "v2;Dos;-12,10;-75,25;80;coast\n",
        encoding="utf-8",
    )
    assert sniff_delimiter(f.read_text()) == ";"
    v = read_villages(f, default_zone="highlands", default_region="all")
    assert v.lat.tolist() == [-12.05, -12.1] and v.lon.tolist() == [-75.2, -75.25]
    assert v.population.tolist() == [1234, 80]


def test_tabs_and_lng_headers() -> None:
    assert sniff_delimiter("id\tname\tlat\tlng\tpopulation\n") == "\t"
    assert sniff_delimiter("id,name,lat,lon,population\n") == ","


def test_exchanged_and_stray_coordinates() -> None:
    ids = [f"v{i}" for i in range(20)]
    lat = np.full(20, -75.0) + np.arange(20) * 0.01
    lon = np.full(20, -12.0)
    (line,) = coordinate_warnings(lat, lon, ids, None)
    assert line.startswith("latitude and longitude look exchanged: 100% of the villages")
    lat, lon = lon.copy(), lat.copy()
    assert coordinate_warnings(lat, lon, ids, None) == []
    lat[7] = 12.0  # a lost minus sign
    (line,) = coordinate_warnings(lat, lon, ids, None)
    assert line == (
        "1 village(s) lie far from all the others (e.g. v7 at lat 12, lon -74.93): "
        "check their coordinates"
    )
    box = (-18.5, 0.1, -81.5, -68.5)
    lines = coordinate_warnings(lat, lon, ids, box)
    assert (
        lines[0] == "1 of 20 villages lie outside the expected box (e.g. v7 at lat 12, lon -74.93)"
    )


def test_validate_prints_the_box_and_warns(tmp_path: Path) -> None:
    f = tmp_path / "v.csv"
    rows = [f"v{i};V{i};-75,{i:02d};-12,0{i % 10};{50 + i}" for i in range(12)]
    f.write_text("id;name;lat;lon;population\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = small_scenario_dict(geography={"file": {"path": str(f)}})
    sc = write_yaml(tmp_path, data)
    code, out, err = run_cli("validate", sc, "--no-cache")
    assert code == 0, err
    assert "latitude and longitude look exchanged" in err
    assert "villages by zone: highlands 12; latitude -75.1100 to -75.0000" in out
