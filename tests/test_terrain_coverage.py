"""Coverage that falls with distance and ruggedness: reach L = radius / (1 + R / S), service
probability p = 1 / (1 + (d / L) ** k), drawn once per unordered pair of villages."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

import rollout_sim.world.coverage as coverage_module
from rollout_sim import build_world, load_scenario
from rollout_sim.errors import InputError
from rollout_sim.world.cache import load_world, save_world
from rollout_sim.world.coverage import (
    CoverageIndex,
    Terrain,
    build_coverage_index,
    coverage_query_km,
)
from rollout_sim.world.peru import capital_kind, district_ruggedness
from rollout_sim.world.peru_data import load_peru_places
from rollout_sim.world.village_files import read_villages
from rollout_sim.world.villages import Villages

from _worlds import scenario, village_csv


def grid(n: int, step: float = 1.0) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    return np.column_stack([xs.ravel(), ys.ravel()])


def rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


def rugged_of(v: Villages) -> np.ndarray:
    assert v.ruggedness_m_per_km is not None  # filled in by Villages itself
    return v.ruggedness_m_per_km


def same(a: CoverageIndex, b: CoverageIndex) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("indptr", "indices", "t_indptr", "t_indices")
    )


def test_the_formulas() -> None:
    t = Terrain(ruggedness_scale_m_per_km=20.0, steepness=4.0)
    radius = np.array([4.0, 4.0, 4.0, 6.0])
    rugged = np.array([0.0, 20.0, 60.0, 10.0])
    assert t.reach_km(radius, rugged).tolist() == [4.0, 2.0, 1.0, 4.0]
    p = t.serve_probability(np.array([0.0, 1.0, 2.0, 4.0]), np.full(4, 2.0))
    # d = 0: always; d = L/2: 1 / (1 + 1/16) = 16/17; d = L: 1/2; d = 2 L: 1/17.
    assert p.tolist() == pytest.approx([1.0, 16 / 17, 0.5, 1 / 17], rel=1e-12)
    # Cut-off where p = 1%: (99) ** (1/4) = 3.154 L; the query reaches the largest L times it.
    assert t.cutoff == pytest.approx(99**0.25)
    assert coverage_query_km(radius, rugged, t) == pytest.approx(4.0 * 99**0.25)
    assert coverage_query_km(radius) == 6.0  # flat: the largest radius


@pytest.mark.parametrize("spacing", [1.0, 0.7])
def test_flat_ground_and_a_huge_steepness_is_the_disc(spacing: float) -> None:
    """No ruggedness and k = 1000: p is 1 inside the radius and 0 beyond (no grid distance lies
    within 0.5% of a radius), so the draws change nothing and the table is the flat disc."""
    xy = grid(14, spacing)
    radius = np.where(np.arange(len(xy)) % 2 == 0, 2.5, 1.5)
    disc = build_coverage_index(xy, radius)
    hard = build_coverage_index(
        xy, radius, terrain=Terrain(5.0, 1000.0), ruggedness_m_per_km=np.zeros(len(xy)), rng=rng()
    )
    assert same(disc, hard)
    assert disc.nnz > 10 * len(xy)


def test_half_served_at_the_reach() -> None:
    """On a 100 × 100 grid of 1 km, flat, radius 1 km, k = 4: neighbours at d = L = 1 are
    served with p = 1/2, diagonals (√2) with 1/5, at 2 km with 1/17, at 3 km with 1/82, and
    never at √10 km (beyond the cut-off 3.154 L). Each count is within 4 standard deviations of
    its expectation (binomial, one draw per pair: both directions share it)."""
    n = 100
    xy = grid(n)
    idx = build_coverage_index(
        xy,
        np.ones(n * n),
        terrain=Terrain(20.0, 4.0),
        ruggedness_m_per_km=np.zeros(n * n),
        rng=rng(),
    )
    src = np.repeat(np.arange(n * n), np.diff(idx.indptr))
    dst = idx.indices.astype(np.int64)
    d2 = np.rint(((xy[src] - xy[dst]) ** 2).sum(axis=1)).astype(int)
    pairs_at = {1: 2 * n * (n - 1), 2: 2 * (n - 1) ** 2, 4: 2 * n * (n - 2), 9: 2 * n * (n - 3)}
    for sq, p in ((1, 1 / 2), (2, 1 / 5), (4, 1 / 17), (9, 1 / 82)):
        m = pairs_at[sq]
        served = int((d2 == sq).sum()) // 2  # each served pair appears once per direction
        assert abs(served - m * p) <= 4 * math.sqrt(m * p * (1 - p)), (sq, served, m * p)
    assert int((d2 == 10).sum()) == 0
    assert int((d2 == 0).sum()) == n * n  # every site serves its own village


def test_reach_shrinks_with_ruggedness_as_the_formula_says(tmp_path: Path) -> None:
    """Three villages, radius 4 km, S = 20 m/km, k = 1000 (a hard edge at L):
        A (0, 0)   R = 20  → L = 4 / (1 + 1) = 2 km
        B (1.9, 0) R = 0   → L = 4 km
        C (0, 3)   R = 60  → L = 4 / (1 + 3) = 1 km
    Distances AB 1.9, AC 3, BC √(1.9² + 3²) = 3.55 km. A reaches B only; B reaches A and C;
    C reaches nobody. Flat discs of 4 km would have each site cover all three."""
    path = tmp_path / "rugged.csv"
    village_csv(path, [(0, 0), (1.9, 0), (0, 3)], [10, 20, 30])
    text = path.read_text().splitlines()
    rows = [text[0] + ",ruggedness_m_per_km"] + [
        line + f",{r}" for line, r in zip(text[1:], (20, 0, 60), strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    data = scenario(tmp_path, [(0, 0)], [1]).model_dump(mode="json")
    data["geography"]["file"]["path"] = str(path)
    data["coverage"] = {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}}
    flat = build_world(load_scenario(data))
    assert rugged_of(flat.villages).tolist() == [20.0, 0.0, 60.0]
    assert [flat.coverage.covers(i).tolist() for i in range(3)] == [[0, 1, 2]] * 3
    data["coverage"]["terrain"] = {"ruggedness_scale_m_per_km": 20, "steepness": 1000}
    w = build_world(load_scenario(data))
    assert [w.coverage.covers(i).tolist() for i in range(3)] == [[0, 1], [0, 1, 2], [2]]
    assert [w.coverage.covered_by(i).tolist() for i in range(3)] == [[0, 1], [0, 1], [1, 2]]


def test_the_draw_is_symmetric() -> None:
    """One uniform per pair: with equal reaches a pair is served both ways or neither; with
    unequal ones, whenever the shorter-reaching site serves the other village, the
    longer-reaching one serves it back."""
    g = rng(3)
    xy = g.uniform(0, 20, size=(400, 2))
    rugged = g.choice([0.0, 10.0, 40.0], size=400)
    t = Terrain(20.0, 4.0)
    idx = build_coverage_index(
        xy, np.full(400, 3.0), terrain=t, ruggedness_m_per_km=rugged, rng=rng()
    )
    served = {(s, int(v)) for s in range(400) for v in idx.covers(s)}
    reach = t.reach_km(np.full(400, 3.0), rugged)
    for s, v in served:
        if reach[s] <= reach[v]:
            assert (v, s) in served
    flat_r = build_coverage_index(
        xy, np.full(400, 3.0), terrain=t, ruggedness_m_per_km=np.zeros(400), rng=rng()
    )
    both = {(s, int(v)) for s in range(400) for v in flat_r.covers(s)}
    assert all((v, s) in both for s, v in both)
    assert len(both) > 400  # some pairs are served


def test_same_seed_same_table_other_seed_another(monkeypatch: pytest.MonkeyPatch) -> None:
    xy = rng(5).uniform(0, 30, size=(800, 2))
    rugged = rng(6).uniform(0, 50, size=800)
    t = Terrain(20.0, 4.0)

    def build(seed: int) -> CoverageIndex:
        return build_coverage_index(
            xy, np.full(800, 4.0), terrain=t, ruggedness_m_per_km=rugged, rng=rng(seed)
        )

    first = build(1)
    assert same(first, build(1))
    assert not np.array_equal(first.indices, build(2).indices)

    # The k-th uniform belongs to the same pair whatever order the KD-tree lists the pairs in
    # (it may differ between scipy versions): shuffle them, get the same table.
    class Shuffled(cKDTree):  # type: ignore[misc]
        def query_pairs(self, r: float, **kw: object) -> np.ndarray:
            pairs = super().query_pairs(r, output_type="ndarray")
            return np.asarray(pairs[rng(11).permutation(len(pairs))])

    monkeypatch.setattr(coverage_module, "cKDTree", Shuffled)
    assert same(first, build(1))


def test_world_seed_and_cache(tmp_path: Path) -> None:
    """A synthetic world with terrain: the same seed gives the same table, another seed
    another; the cached world and a fresh build agree byte for byte."""
    radius = {"coast": 6, "highlands": 4, "jungle": 4}
    base: dict[str, Any] = {
        "name": "t",
        "start_date": "2020-01-01",
        "horizon_years": 1,
        "geography": {"synthetic": {"villages": 1500, "seed": 4}},
        "coverage": {
            "radius_km": radius,
            "terrain": {"ruggedness_scale_m_per_km": 20},
        },
        "operators": [{"name": "op", "cash_usd": 1e6, "build_crews": 2}],
    }
    w1 = build_world(load_scenario(base))
    w2 = build_world(load_scenario(base))
    assert same(w1.coverage, w2.coverage)
    # The default synthetic ruggedness: 8 / 15 / 6 m per km in coast / highlands / jungle.
    v = w1.villages
    assert {v.zone_names[z]: float(r) for z, r in zip(v.zone, rugged_of(v), strict=True)} == {
        "coast": 8.0,
        "highlands": 15.0,
        "jungle": 6.0,
    }
    other = {**base, "geography": {"synthetic": {"villages": 1500, "seed": 5}}}
    assert not same(w1.coverage, build_world(load_scenario(other)).coverage)
    flat = build_world(load_scenario({**base, "coverage": {"radius_km": radius}}))
    assert flat.coverage.nnz > w1.coverage.nnz  # rugged sites reach less
    assert flat.key != w1.key
    save_world(w1, tmp_path)
    again = load_world(w1.key, tmp_path)
    assert again is not None
    assert same(again.coverage, w1.coverage)
    assert np.array_equal(rugged_of(again.villages), rugged_of(v))


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.parametrize(
    ("district", "neighbours", "by_hand"),
    [
        # Cusco (3,439 m): Santiago, Wanchaq, San Sebastián, Poroy, San Jerónimo, Cachimayo.
        # Slopes 25.0, 13.6, 30.9, 8.8, 14.3, 1.4 m/km: median (13.6 + 14.3) / 2 ≈ 13.98.
        ("080101", ["080106", "080108", "080105", "080103", "080104", "080303"], 13.98),
        # Iquitos (107 m): Punchana, Belén, San Juan, Tamshiyacu, Mazán, Indiana.
        # Slopes 7.8, 3.1, 2.8, 0.74, 0.03, 0.25 m/km: median (0.74 + 2.76) / 2 ≈ 1.75.
        ("160101", ["160108", "160112", "160113", "160103", "160106", "160104"], 1.75),
    ],
)
def test_peru_ruggedness_by_hand(district: str, neighbours: list[str], by_hand: float) -> None:
    """A district's ruggedness is the median |Δaltitude| / distance to its 6 nearest other
    district capitals. By hand with great-circle distances (the model measures them in its
    projection, within 0.5%)."""
    p = load_peru_places()
    caps = np.flatnonzero(capital_kind(p.code) >= 1)
    at = {str(p.district_code[i]): int(i) for i in caps}
    me = at[district]
    slopes = []
    for code in neighbours:
        j = at[code]
        d = _haversine_km(p.lat[me], p.lon[me], p.lat[j], p.lon[j])
        slopes.append(abs(int(p.altitude_m[j]) - int(p.altitude_m[me])) / d)
    # The six are the nearest: every other capital is farther than the farthest of them.
    farthest = max(
        _haversine_km(p.lat[me], p.lon[me], p.lat[at[c]], p.lon[at[c]]) for c in neighbours
    )
    others = [i for c, i in at.items() if c not in neighbours and c != district]
    d_others = [_haversine_km(p.lat[me], p.lon[me], p.lat[i], p.lon[i]) for i in others]
    assert min(d_others) > farthest
    expected = float(np.median(slopes))
    assert expected == pytest.approx(by_hand, abs=0.005)
    codes, values = district_ruggedness()
    model = float(values[np.searchsorted(codes, district)])
    assert model == pytest.approx(expected, rel=0.005)
    # Every place of the district takes the district's value.
    w = build_world(
        load_scenario(
            {
                "name": "p",
                "start_date": "2019-07-01",
                "horizon_years": 1,
                "geography": {"dataset": "peru", "departments": ["CUSCO", "LORETO"]},
                "coverage": {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}},
                "operators": [{"name": "ipt", "cash_usd": 1e6, "build_crews": 2}],
            }
        )
    )
    mine = np.char.startswith(w.villages.ids, district)
    assert mine.sum() > 1 and np.all(rugged_of(w.villages)[mine] == model)


def test_peru_ruggedness_distribution() -> None:
    codes, values = district_ruggedness()
    assert len(codes) == 1874 and np.all(values >= 0)
    q = np.percentile(values, [5, 25, 50, 75, 95])
    assert q.round(1).tolist() == [0.6, 5.2, 14.7, 29.8, 64.3]


def test_village_file_ruggedness_column(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        "id,name,lat,lon,population,ruggedness_m_per_km\n"
        "a,A,0,0,10,12.5\n"
        "b,B,0,0.1,10,\n"  # empty: flat
    )
    v = read_villages(path, default_zone="highlands", default_region="all")
    assert rugged_of(v).tolist() == [12.5, 0.0]
    path.write_text("id,name,lat,lon,population,ruggedness_m_per_km\na,A,0,0,10,-1\n")
    with pytest.raises(InputError) as err:
        read_villages(path, default_zone="highlands", default_region="all")
    assert str(err.value) == (
        f"{path}: line 2, column ruggedness_m_per_km: '-1': ruggedness must be from 0 to "
        "10,000 m per km"
    )
    # Without the column every village is flat.
    path.write_text("id,name,lat,lon,population\na,A,0,0,10\n")
    flat = read_villages(path, default_zone="x", default_region="y")
    assert rugged_of(flat).tolist() == [0.0]
