"""Fibre that arrives when it did: PoPs with opening dates, in the planner, the run and Peru.

Hand-built world (radius 0.2 km so that no site covers another village; hop 12 km; fibre spur
1 km; satellite US$15,000 + 12,000 a year, microwave US$20,000 + 3,000 a year, life 10 years):

    A  x=0    pop 1     PoP 0, open from the start
    B  x=50   pop 1000  PoP 1, opens on day 100
    B2 x=50.5 pop 10    0.5 km from B: a fibre spur of US$5,500 once B is open
    C  x=80   pop 500   30 km from B: beyond every hop, satellite only

Before day 100 only A has a terrestrial option (B, B2, C are 50+ km from it); from day 100 B
and B2 have fibre. People per dollar with US$10,000 sites: B by satellite 1000/25,000 = .040,
C .020, B2 by satellite .0004, A 1/15,000 = .000067; B by fibre 1000/15,000 = .067, B2 by fibre
10/15,500 = .00065.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import build_world, load_scenario, simulate
from rollout_sim.model.backhaul import (
    BH_FIBRE,
    BH_MICROWAVE,
    BH_NONE,
    BH_SATELLITE,
    BackhaulPlanner,
)
from rollout_sim.scenario.schema import PERU_REGIONAL_FIBRE, Scenario
from rollout_sim.world.cache import load_world, save_world
from rollout_sim.world.peru import OPEN_FROM_START, capital_kind

from _worlds import operator, scenario

XY = [(0, 0), (50, 0), (50.5, 0), (80, 0)]
POP = [1, 1000, 10, 500]
START = date(2020, 1, 1)  # the _worlds scenarios start here


def _world(tmp_path: Path, *, satellite: bool, opens_day: int | None = 100, **op: Any) -> Scenario:
    sc = scenario(
        tmp_path,
        XY,
        POP,
        pops=(0, 1),
        radius_km=0.2,
        satellite=satellite,
        days=300,
        operators=[operator(**op)],
    )
    data = sc.model_dump(mode="json")
    if opens_day is not None:
        data["geography"]["pops"]["open_dates"] = {
            "v1": (START + timedelta(days=opens_day)).isoformat()
        }
    return load_scenario(data)


def _days(build: int) -> dict[str, Any]:
    return {z: {"distribution": "fixed", "days": build} for z in ("coast", "highlands", "jungle")}


def test_world_stores_opening_ordinals(tmp_path: Path) -> None:
    w = build_world(_world(tmp_path, satellite=False))
    assert w.pops.tolist() == [0, 1]
    assert w.pop_open_ordinal.tolist() == [OPEN_FROM_START, date(2020, 4, 10).toordinal()]
    # The world's nearest PoP is any PoP, open or not: B2 is 0.5 km from PoP 1.
    assert w.pop_nearest[2] == 1 and w.pop_dist_km[2] == pytest.approx(0.5, rel=1e-6)
    # The dates survive the world cache.
    save_world(w, tmp_path / "cache")
    again = load_world(w.key, tmp_path / "cache")
    assert again is not None
    assert np.array_equal(again.pop_open_ordinal, w.pop_open_ordinal)


def test_planner_opens_pops_later(tmp_path: Path) -> None:
    w = build_world(_world(tmp_path, satellite=True))
    sc = _world(tmp_path, satellite=True)
    bh = BackhaulPlanner(w, sc.backhaul)
    # From the start only PoP 0 is open: B, B2 and C can only use satellite.
    assert bh.pop_open.tolist() == [True, False]
    assert bh.kind.tolist() == [BH_FIBRE, BH_SATELLITE, BH_SATELLITE, BH_SATELLITE]
    assert bh.opening_ordinals() == [date(2020, 4, 10).toordinal()]
    everyone = np.ones(4, dtype=bool)
    assert bh.open_pops(date(2020, 4, 9).toordinal(), everyone).tolist() == []  # not yet due
    improved = bh.open_pops(date(2020, 4, 10).toordinal(), everyone)
    assert improved.tolist() == [1, 2]  # C is 30 km away: beyond the spur and every hop
    assert bh.kind.tolist() == [BH_FIBRE, BH_FIBRE, BH_FIBRE, BH_SATELLITE]
    assert bh.capex.tolist() == pytest.approx([5000.0, 5000.0, 5500.0, 15000.0], rel=1e-6)
    # Only villages within reach of an option (12 km) look the new PoP up: C's nearest stays A.
    assert bh.pop_nearest.tolist() == [0, 1, 1, 0]
    assert bh.opening_ordinals() == []
    assert bh.open_pops(date(2030, 1, 1).toordinal(), everyone).tolist() == []  # nothing left


def test_planner_only_updates_candidates_and_hops_to_new_pop(tmp_path: Path) -> None:
    """A village 8 km from B gets a microwave hop to PoP 1 (``parent`` -1 - 1); a village that
    is not a candidate (already claimed) keeps the option it had."""
    sc = scenario(tmp_path, [*XY, (58, 0)], [*POP, 7], pops=(0, 1), radius_km=0.2, satellite=True)
    data = sc.model_dump(mode="json")
    data["geography"]["pops"]["open_dates"] = {"v1": "2020-04-10"}
    sc = load_scenario(data)
    w = build_world(sc)
    bh = BackhaulPlanner(w, sc.backhaul)
    assert bh.kind[4] == BH_SATELLITE
    candidates = np.array([True, True, False, True, True])  # B2 is taken
    improved = bh.open_pops(date(2020, 4, 10).toordinal(), candidates)
    assert improved.tolist() == [1, 4]
    assert bh.kind[4] == BH_MICROWAVE and bh.parent[4] == -2 and bh.mw_dist[4] == pytest.approx(8)
    assert bh.kind[2] == BH_SATELLITE  # not a candidate: unchanged


def test_without_dates_the_planner_is_as_before(tmp_path: Path) -> None:
    sc = _world(tmp_path, satellite=True, opens_day=None)
    w = build_world(sc)
    bh = BackhaulPlanner(w, sc.backhaul)
    assert bh.pop_open.all() and bh.opening_ordinals() == []
    assert np.array_equal(bh.pop_dist_km, w.pop_dist_km)
    assert bh.kind.tolist() == [BH_FIBRE, BH_FIBRE, BH_FIBRE, BH_SATELLITE]


def test_waits_for_the_pop_then_uses_fibre(tmp_path: Path) -> None:
    """No satellite: A (fibre) at day 0; B, B2 and C have no option until B opens on day 100,
    when the idle crew is woken and takes B, then B2, both by fibre. C never gets one."""
    r = simulate(_world(tmp_path, satellite=False, build_days=_days(60)))
    s = r.sites
    assert s.village.tolist() == [0, 1, 2]
    assert s.claim_day.tolist() == [0.0, 100.0, 160.0]
    assert s.backhaul.tolist() == [BH_FIBRE, BH_FIBRE, BH_FIBRE]
    assert s.capex_usd.tolist() == pytest.approx([15000.0, 15000.0, 15500.0], abs=0.01)
    assert s.on_air_day.tolist() == [60.0, 160.0, 220.0]


def test_satellite_before_the_pop_opens_fibre_after(tmp_path: Path) -> None:
    """With satellite: B is taken at day 0 by satellite (its PoP is not open yet), C at day 60;
    at day 120 B2 is taken by fibre (B opened on day 100); A last."""
    r = simulate(_world(tmp_path, satellite=True, build_days=_days(60)))
    s = r.sites
    assert s.village.tolist() == [1, 3, 2, 0]
    assert s.claim_day.tolist() == [0.0, 60.0, 120.0, 180.0]
    assert s.backhaul.tolist() == [BH_SATELLITE, BH_SATELLITE, BH_FIBRE, BH_FIBRE]
    # The same world with B open from the start: B is built by fibre at once.
    r0 = simulate(_world(tmp_path, satellite=True, opens_day=None, build_days=_days(60)))
    assert r0.sites.village.tolist()[0] == 1 and r0.sites.backhaul.tolist()[0] == BH_FIBRE


def test_opening_after_the_horizon_never_happens(tmp_path: Path) -> None:
    r = simulate(_world(tmp_path, satellite=False, opens_day=400, build_days=_days(60)))
    assert r.sites.village.tolist() == [0]
    assert BackhaulPlanner(r.world, r.scenario.backhaul).kind[1] == BH_NONE


def _operating(day: date) -> list[str]:
    return sorted(d for d, opens in PERU_REGIONAL_FIBRE.items() if opens and opens <= day)


def test_peru_regional_network_dates() -> None:
    """PRONATEL via ebiz.pe: 3 networks operating in 2019 (at the 2019-07-01 start), 7 by
    end-2021, 9 in Sep 2023; Piura, Tumbes and Cajamarca never (contracts terminated)."""
    assert _operating(date(2019, 7, 1)) == ["APURIMAC", "AYACUCHO", "HUANCAVELICA"]
    assert _operating(date(2019, 6, 30)) == []
    end_2021 = _operating(date(2021, 12, 31))
    assert len(end_2021) == 7
    assert {"LAMBAYEQUE", "CUSCO", "LIMA"} <= set(end_2021)
    assert len(_operating(date(2023, 9, 30))) == 9
    for gone in ("PIURA", "TUMBES", "CAJAMARCA"):
        assert PERU_REGIONAL_FIBRE[gone] is None


@pytest.fixture(scope="module")
def peru_world():  # type: ignore[no-untyped-def]
    return build_world(
        load_scenario(
            {
                "name": "peru",
                "start_date": "2019-07-01",
                "horizon_years": 1,
                "geography": {"dataset": "peru", "pops": {"capitals": "district"}},
                "coverage": {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}},
                "operators": [{"name": "ipt", "cash_usd": 1e6, "build_crews": 2}],
            }
        )
    )


def test_peru_pops_open_by_department(peru_world) -> None:  # type: ignore[no-untyped-def]
    w = peru_world
    v = w.villages
    kinds = capital_kind(v.ids[w.pops])
    dept = np.array(v.region_names)[v.region[w.pops]]
    # The backbone's 180 provincial capitals are open from the start.
    assert int((kinds == 2).sum()) == 180
    assert np.all(w.pop_open_ordinal[kinds == 2] == OPEN_FROM_START)
    # Regional PoPs only in the 9 departments whose network operated by Sep 2023, each on its
    # department's date.
    regional = kinds == 1
    assert sorted(set(dept[regional].tolist())) == _operating(date(2023, 9, 30))
    for name in set(dept[regional].tolist()):
        opens = PERU_REGIONAL_FIBRE[name]
        assert opens is not None
        assert np.all(w.pop_open_ordinal[regional & (dept == name)] == opens.toordinal())
    assert not np.isin(dept[regional], ["PIURA", "TUMBES", "CAJAMARCA"]).any()
    # Open at the start: the backbone plus Apurímac, Ayacucho and Huancavelica (77 + 101 + 88
    # district capitals among the 1,516 nearest the backbone).
    start = date(2019, 7, 1).toordinal()
    assert int((w.pop_open_ordinal <= start).sum()) == 180 + 77 + 101 + 88
    assert len(w.pops) == 870


def test_peru_regional_fibre_override() -> None:
    sc = load_scenario(
        {
            "name": "peru",
            "start_date": "2019-07-01",
            "horizon_years": 1,
            "geography": {
                "dataset": "peru",
                "departments": ["Piura"],
                "pops": {"capitals": "district"},
                "peru": {"regional_fibre": {"Piura": "2020-01-01"}},
            },
            "operators": [{"name": "ipt", "cash_usd": 1e6, "build_crews": 2}],
        }
    )
    # Departments not named keep their default; names match without case or accents.
    assert sc.geography.peru.regional_fibre["PIURA"] == date(2020, 1, 1)
    assert sc.geography.peru.regional_fibre["CUSCO"] == date(2021, 7, 1)
    w = build_world(sc)
    kinds = capital_kind(w.villages.ids[w.pops])
    # Piura alone keeps all its 57 district capitals (the 1,516 nearest the backbone are
    # chosen among the capitals of the villages there are), all opening on 2020-01-01.
    assert int((kinds == 1).sum()) == 57
    assert set(w.pop_open_ordinal[kinds == 1].tolist()) == {date(2020, 1, 1).toordinal()}
