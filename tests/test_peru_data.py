"""Tests for the packaged Peru places file and its loader.

The totals are INEI Census 2017 figures (docs/sources.md section 3); the imputation is built to hit
them exactly. The zone shares and Cusco/Tacna figures are the build's own outputs as quoted in
docs/peru_data.md, pinned here so the docs cannot silently drift from the data.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from rollout_sim.world import peru_data
from rollout_sim.world.peru_data import ZONES, PeruPlaces, load_peru_places

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_peru_data.py"

CENSUS_TOTAL = 29_381_884
CENSUS_URBAN = 23_311_893
CENSUS_RURAL = 6_069_991


def _packaged_bytes() -> bytes:
    return resources.files("rollout_sim.data").joinpath("peru_places.csv.gz").read_bytes()


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_peru_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def places() -> PeruPlaces:
    return load_peru_places()


def test_codes_unique_sorted_and_complete(places: PeruPlaces) -> None:
    assert len(places) == 94_922
    assert len(np.unique(places.code)) == 94_922
    assert places.code.tolist() == sorted(places.code.tolist())
    assert all(len(c) == 10 and c.isdigit() for c in places.code.tolist())
    # Leading zeros survive: Amazonas (department 01) comes first.
    assert places.code[0] == "0101010001"
    assert places.name[0] == "CHACHAPOYAS"


def test_census_totals_are_exact(places: PeruPlaces) -> None:
    assert int(places.population.sum()) == CENSUS_TOTAL
    assert int(places.population[~places.urban].sum()) == CENSUS_RURAL
    assert int(places.population[places.urban].sum()) == CENSUS_URBAN
    assert int(places.urban.sum()) == 3_747
    assert int((~places.urban).sum()) == 91_175


def test_every_place_is_well_formed(places: PeruPlaces) -> None:
    assert set(places.zone.tolist()) == set(ZONES)
    assert all(len(d) == 6 and d.isdigit() for d in places.district_code.tolist())
    assert all(c.startswith(d) for c, d in zip(places.code, places.district_code, strict=True))
    assert int(places.population.min()) >= 1
    assert len(np.unique(places.district_code)) == 1_874
    # Coordinate ranges stated in the raw data's README.
    assert float(places.lat.min()) > -18.34 and float(places.lat.max()) < -0.09
    assert float(places.lon.min()) > -81.32 and float(places.lon.max()) < -68.65
    for pct in (places.poverty_pct, places.extreme_poverty_pct):
        assert not bool(np.isnan(pct).any())
        assert float(pct.min()) >= 0.0 and float(pct.max()) <= 100.0
    # The source publishes extreme poverty above total poverty for 46 districts; the data keep
    # the published values (see docs/peru_data.md), so pin that count rather than hide it.
    odd = places.extreme_poverty_pct > places.poverty_pct
    assert len(set(places.district_code[odd].tolist())) == 46
    assert bool(np.all(places.zone[places.altitude_m >= 2000] == "highlands"))
    assert bool(np.all(places.zone[places.altitude_m < 2000] != "highlands"))


def test_every_district_capital_is_urban(places: PeruPlaces) -> None:
    capital = np.char.endswith(places.code, "0001")
    assert int(capital.sum()) == 1_874
    assert bool(np.all(places.urban[capital]))


def test_zone_population_shares_match_docs(places: PeruPlaces) -> None:
    # docs/peru_data.md: coast 57.5%, highlands 27.7%, jungle 14.8% (INEI: 58.0 / 28.1 / 13.9).
    shares = {
        z: round(100.0 * int(places.population[places.zone == z].sum()) / CENSUS_TOTAL, 1)
        for z in ZONES
    }
    assert shares == {"coast": 57.5, "highlands": 27.7, "jungle": 14.8}
    counts = {z: int((places.zone == z).sum()) for z in ZONES}
    assert counts == {"coast": 10_187, "highlands": 69_568, "jungle": 15_167}


def test_place_size_figures_match_docs(places: PeruPlaces) -> None:
    rural = places.population[~places.urban]
    assert int((rural < 150).sum()) == 80_565  # 88.4% of 91,175
    assert int((places.population < 150).sum()) == 80_756
    cusco = places.department == "CUSCO"
    capital = np.char.endswith(places.code, "0001")
    assert int(cusco.sum()) == 8_968
    assert int((cusco & ~capital & (places.population < 150)).sum()) == 7_891
    tacna = places.population[places.department == "TACNA"]
    assert int((tacna < 50).sum()) == 697  # 73.8% of 944
    assert int((tacna >= 2000).sum()) == 7


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "peru_places.csv.gz"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == _packaged_bytes()
    # Only the output file is left behind (the temporary file was renamed over it).
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_loader_matches_a_plain_csv_parse(places: PeruPlaces) -> None:
    # The loader converts district-level columns once per district run; check every cell
    # against a straightforward parse of the same file.
    text = gzip.decompress(_packaged_bytes()).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    columns = dict(zip(header, zip(*body, strict=True), strict=True))
    for name in ("code", "name", "district_code", "department", "province", "district", "zone"):
        assert getattr(places, name).tolist() == list(columns[name]), name
    for name in ("population", "altitude_m"):
        assert getattr(places, name).tolist() == [int(v) for v in columns[name]], name
    for name in ("lat", "lon", "poverty_pct", "extreme_poverty_pct"):
        assert getattr(places, name).tolist() == [float(v) for v in columns[name]], name
    assert places.urban.tolist() == [v == "1" for v in columns["urban"]]
    assert places.code.dtype.kind == "U" and places.lat.dtype == np.float64
    assert places.urban.dtype == np.bool_ and places.population.dtype == np.int64


def test_department_filter() -> None:
    tacna = load_peru_places(["TACNA"])
    assert len(tacna) == 944
    assert int(tacna.urban.sum()) == 64
    assert set(tacna.department.tolist()) == {"TACNA"}
    # Case- and accent-insensitive; a bare string is one name.
    assert load_peru_places(["tacna"]).code.tolist() == tacna.code.tolist()
    assert len(load_peru_places("Tacna")) == 944
    assert len(load_peru_places(["Junín"])) == 4_530
    both = load_peru_places(["Cusco", "huancavelica", "CUSCO"])
    assert len(both) == 8_968 + 6_702
    assert both.code.tolist() == sorted(both.code.tolist())


def test_filtered_copy_is_writable_and_cache_is_read_only() -> None:
    places = load_peru_places()
    assert load_peru_places() is places
    with pytest.raises(ValueError):
        places.population[0] = 0
    tacna = load_peru_places(["Tacna"])
    tacna.population[0] += 1  # a copy: must not touch the cache
    assert load_peru_places(["Tacna"]).population[0] == tacna.population[0] - 1


def test_unknown_or_empty_department_raises() -> None:
    with pytest.raises(ValueError, match=r"unknown department\(s\) 'Narnia'.*TACNA"):
        load_peru_places(["Lima", "Narnia"])
    with pytest.raises(ValueError, match="no departments"):
        load_peru_places([])


def test_full_load_is_fast() -> None:
    # The requirement is "well under 2 s"; it takes about 0.5 s here. Generous bound for CI.
    peru_data._load_all.cache_clear()
    start = time.perf_counter()
    everything = load_peru_places()
    elapsed = time.perf_counter() - start
    assert len(everything) == 94_922
    assert elapsed < 2.0


def test_apportion_is_exact_and_deterministic() -> None:
    build = _load_script()
    # Everyone gets the minimum 1; the 3 left go 0.5 / 0.5 / 2.0; the tie goes to index 0.
    assert build.apportion(np.array([1.5, 1.5, 3.0]), 6, 1).tolist() == [2, 1, 3]
    got = build.apportion(np.array([0.2, 0.2, 0.2, 10.0]), 20, np.array([1, 1, 1, 5]))
    assert got.tolist() == [1, 1, 1, 17]
    with pytest.raises(build.BuildError):
        build.apportion(np.array([1.0, 1.0]), 1, 1)
    assert build.SEED == 2017
