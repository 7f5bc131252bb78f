"""The starting network fitted to OSIPTEL's Sep 2018 counts: a 4G layer placed greedily to each
zone's share of people, then a pre-4G layer placed greedily to a count of places with signal.

Hand-built world (a line, flat, radius 1 km; zones sort coast before highlands):

    id  x     pop  zone        site there covers (radius 1 km)
    0   0     100  highlands   0, 1            150 people
    1   0.8   50   highlands   0, 1, 2         210
    2   1.6   60   highlands   1, 2            110
    3   5     120  highlands   3, 4            130
    4   5.9   10   highlands   3, 4            130
    5   10    30   highlands   5               30
    6   20    40   coast       6, 7            80
    7   20.5  40   coast       6, 7            80
    8   30    5    highlands   8               5
    9   40    7    highlands   9               7
    10  50    1    highlands   10, 11          2
    11  50.5  1    highlands   10, 11          2

Highlands people: 384. Greedy: site 1 (210), then 3 or 4 (130 each: 3, the first), then 5
(30), ... Coast: 80 people; 6 and 7 tie (80): 6.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import build_world, load_scenario
from rollout_sim.errors import ScenarioError
from rollout_sim.scenario.schema import PeruOptions
from rollout_sim.world.coverage import CoverageIndex, build_coverage_index
from rollout_sim.world.peru import fitted_start, greedy_4g_sites, greedy_signal_sites
from rollout_sim.world.village_files import read_villages
from rollout_sim.world.villages import Villages

from _worlds import village_csv

X = [0, 0.8, 1.6, 5, 5.9, 10, 20, 20.5, 30, 40, 50, 50.5]
POP = [100, 50, 60, 120, 10, 30, 40, 40, 5, 7, 1, 1]
ZONES = ["highlands"] * 6 + ["coast"] * 2 + ["highlands"] * 4


@pytest.fixture
def line(tmp_path: Path) -> tuple[Villages, CoverageIndex]:
    path = village_csv(tmp_path / "v.csv", [(x, 0.0) for x in X], POP, zones=ZONES)
    v = read_villages(path, default_zone="highlands", default_region="all")
    assert v.zone_names == ("coast", "highlands")
    return v, build_coverage_index(v.xy, np.full(len(v), 1.0))


def covered_by(cov: CoverageIndex, sites: list[int], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for s in sites:
        out[cov.covers(s)] = True
    return out


@pytest.mark.parametrize(
    ("share", "sites"),
    [
        (0.5, [1]),  # 192 people: site 1 alone covers 210
        (0.88, [1, 3]),  # 337.92: 210 + 130 = 340 (3 before 4: a tie goes to the first)
        (0.95, [1, 3, 5]),  # 364.8: 340 + 30 = 370
        (1.0, [1, 3, 5, 9, 8, 10]),  # everyone: the rest by people (9: 7, 8: 5, 10: 2)
    ],
)
def test_4g_greedy_picks_by_hand(
    line: tuple[Villages, CoverageIndex], share: float, sites: list[int]
) -> None:
    v, cov = line
    covered = np.zeros(len(v), dtype=bool)
    picks = greedy_4g_sites(v, cov, {"highlands": share}, covered)
    assert picks.tolist() == sites
    hl = v.zone == 1
    people = v.population[hl & covered].sum()
    assert people >= share * v.population[hl].sum()
    # It stops at the share: without its last site the zone is below it.
    fewer = covered_by(cov, sites[:-1], len(v))
    assert v.population[hl & fewer].sum() < share * v.population[hl].sum()
    assert np.array_equal(covered, covered_by(cov, sites, len(v)))


def test_4g_greedy_zone_by_zone(line: tuple[Villages, CoverageIndex]) -> None:
    v, cov = line
    covered = np.zeros(len(v), dtype=bool)
    picks = greedy_4g_sites(v, cov, {"coast": 0.5, "highlands": 0.88}, covered)
    assert picks.tolist() == [6, 1, 3]  # coast first (zone order), 6 before 7 (tie)
    # A zone already at its share gets no site; a zone not named gets none either.
    again = greedy_4g_sites(v, cov, {"coast": 0.9}, covered)
    assert again.tolist() == []
    assert greedy_4g_sites(v, cov, {}, np.zeros(len(v), dtype=bool)).tolist() == []


@pytest.mark.parametrize(
    ("places", "sites"),
    [
        (7, []),  # the 4G layer already gives 7 places a signal
        (9, [10]),  # 10 newly covers 2 places (2 people) — more places beat more people
        (10, [10, 5]),  # then 5: 1 place, 30 people
        (11, [10, 5, 9]),  # 9 (7 people) before 8 (5 people): a tie on places goes to people
        (12, [10, 5, 9, 8]),
        (100, [10, 5, 9, 8]),  # every place has a signal: it stops short of the count
    ],
)
def test_signal_greedy_picks_by_hand(
    line: tuple[Villages, CoverageIndex], places: int, sites: list[int]
) -> None:
    v, cov = line
    signal = covered_by(cov, [6, 1, 3], len(v))  # the 4G layer above: 0,1,2,3,4,6,7
    assert int(signal.sum()) == 7
    eligible = ~np.isin(np.arange(len(v)), [6, 1, 3])
    picks = greedy_signal_sites(v, cov, places, signal, eligible)
    assert picks.tolist() == sites
    assert int(signal.sum()) == min(max(places, 7), 12)
    if sites and places <= 12:
        before = covered_by(cov, [6, 1, 3, *sites[:-1]], len(v))
        assert int(before.sum()) < places  # it stops at the count


def test_fitted_start_writes_the_service(line: tuple[Villages, CoverageIndex]) -> None:
    v, cov = line
    v.service[:] = 1  # whatever was there is replaced
    options = PeruOptions(
        start_4g_people_share={"coast": 0.5, "highlands": 0.88}, start_signal_places=10
    )
    fitted_start(v, cov, options)
    assert np.flatnonzero(v.service == 2).tolist() == [1, 3, 6]
    assert np.flatnonzero(v.service == 1).tolist() == [5, 10]
    only_4g = PeruOptions(start_4g_people_share={"highlands": 0.5})
    fitted_start(v, cov, only_4g)
    assert np.flatnonzero(v.service == 2).tolist() == [1]
    assert np.flatnonzero(v.service == 1).tolist() == []


def _peru(coverage: dict[str, Any], peru: dict[str, Any], **geo: object) -> dict[str, Any]:
    return {
        "name": "peru",
        "start_date": "2019-07-01",
        "horizon_years": 1,
        "geography": {"dataset": "peru", "peru": peru, **geo},
        "coverage": coverage,
        "operators": [{"name": "ipt", "cash_usd": 1e6, "build_crews": 2}],
    }


FLAT_4KM: dict[str, Any] = {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}}
TERRAIN: dict[str, Any] = {**FLAT_4KM, "terrain": {"ruggedness_scale_m_per_km": 20, "steepness": 4}}
#: OSIPTEL via sociedadtelecom.pe (Feb 2019): share of people with 4G in Sep 2018 by natural
#: region; OSIPTEL via El Comercio (2018): > 54,000 of the 94,922 places with no signal.
OSIPTEL_2018: dict[str, Any] = {
    "start_4g_people_share": {"coast": 0.92, "highlands": 0.88, "jungle": 0.58},
    "start_signal_places": 94_922 - 54_000,
}


def test_mutually_exclusive_with_the_old_options() -> None:
    both = _peru(FLAT_4KM, {"existing_2g_sites": 100, "start_signal_places": 40_000})
    with pytest.raises(ScenarioError) as err:
        load_scenario(both)
    assert str(err.value) == (
        "<scenario>: geography.peru: give urban_service / existing_2g_sites / "
        "existing_2g_spacing_km or start_4g_people_share / start_signal_places, not both"
    )
    # Without the new options the old ones keep their defaults; with them they stay unset, and
    # either resolved scenario loads again.
    old = load_scenario(_peru(FLAT_4KM, {})).geography.peru
    assert (old.urban_service, old.existing_2g_sites, old.existing_2g_spacing_km) == (
        "4g",
        1300,
        8.0,
    )
    new = load_scenario(_peru(FLAT_4KM, OSIPTEL_2018))
    assert new.geography.peru.urban_service is None and new.geography.peru.fitted_start
    assert load_scenario(new.model_dump(mode="json")).geography.peru == new.geography.peru


def test_a_department_reaches_its_shares() -> None:
    """Tacna (944 places): every zone at or above its share, and below it without the zone's
    last site; the 2G layer stops at the place count."""
    opts = {"start_4g_people_share": {"coast": 0.9, "highlands": 0.8}, "start_signal_places": 500}
    w = build_world(load_scenario(_peru(TERRAIN, opts, departments=["TACNA"])))
    v, cov = w.villages, w.coverage
    four = np.flatnonzero(v.service == 2)
    two = np.flatnonzero(v.service == 1)
    c4 = covered_by(cov, four.tolist(), len(v))
    for z, share in ((0, 0.9), (1, 0.8)):
        zone = v.zone == z
        assert v.population[zone & c4].sum() >= share * v.population[zone].sum()
    # The greedy again, to know the order: the last site of each zone is needed.
    order = greedy_4g_sites(v, cov, {"coast": 0.9, "highlands": 0.8}, np.zeros(len(v), bool))
    assert sorted(order.tolist()) == four.tolist()
    for z, share in ((0, 0.9), (1, 0.8)):
        zone = v.zone == z
        last = int(np.flatnonzero(v.zone[order] == z)[-1])
        without = covered_by(cov, np.delete(order, last).tolist(), len(v))
        assert v.population[zone & without].sum() < share * v.population[zone].sum()
    signal = covered_by(cov, [*four.tolist(), *two.tolist()], len(v))
    assert int(signal.sum()) >= 500 and len(two) > 0
    assert not np.isin(two, four).any()


@pytest.mark.parametrize(
    ("coverage", "expect"),
    [
        # places with 4G, people share coast/highlands/jungle, places with signal, 4G sites,
        # 2G sites
        (FLAT_4KM, (37_397, (0.9208, 0.8801, 0.5807), 40_938, 1_772, 70)),
        (TERRAIN, (34_132, (0.9204, 0.8801, 0.5803), 40_934, 2_850, 328)),
    ],
)
def test_peru_starting_network(
    coverage: dict[str, Any], expect: tuple[int, tuple[float, ...], int, int, int]
) -> None:
    """The fitted starting network on all of Peru (the figures docs/peru_model.md reports)."""
    w = build_world(load_scenario(_peru(coverage, OSIPTEL_2018)))
    v, cov = w.villages, w.coverage
    four = np.flatnonzero(v.service == 2)
    two = np.flatnonzero(v.service == 1)
    c4 = covered_by(cov, four.tolist(), len(v))
    signal = c4 | covered_by(cov, two.tolist(), len(v))
    shares = tuple(
        round(float(v.population[(v.zone == z) & c4].sum() / v.population[v.zone == z].sum()), 4)
        for z in range(3)
    )
    got = (int(c4.sum()), shares, int(signal.sum()), len(four), len(two))
    assert got == expect
    assert all(s >= t for s, t in zip(shares, (0.92, 0.88, 0.58), strict=True))


def test_village_files_read_3g_as_pre_4g(tmp_path: Path) -> None:
    """sources have no 3G counts: a 3G site, like a 2G one, is a pre-4G site to upgrade."""
    path = village_csv(
        tmp_path / "v.csv", [(0, 0), (5, 0), (10, 0)], [1, 2, 3], service=["3g", "2G", "4g"]
    )
    v = read_villages(path, default_zone="highlands", default_region="all")
    assert v.service.tolist() == [1, 1, 2]
