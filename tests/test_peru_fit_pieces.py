"""The pieces the Peru fit relies on: the starting network's own reach, siting by places, and
one calibration parameter tied to several keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rollout_sim import load_scenario, simulate
from rollout_sim.experiments.calibrate import with_params
from rollout_sim.world.build import build_world
from rollout_sim.world.villages import SERVICE_CODES

from _worlds import operator, scenario


def tacna(**coverage: object) -> object:
    return load_scenario(
        {
            "name": "tacna",
            "seed": 2019,
            "start_date": "2019-07-01",
            "horizon_years": 0.5,
            "geography": {
                "dataset": "peru",
                "departments": ["TACNA"],
                "peru": {
                    "start_4g_people_share": {"coast": 0.9, "highlands": 0.8, "jungle": 0.5},
                    "start_signal_places": 400,
                },
                "pops": {"capitals": "provincial"},
            },
            "coverage": {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}, **coverage},
            "operators": [{"name": "op", "cash_usd": 1e6, "build_crews": 2}],
        }
    )


def test_the_starting_networks_sites_keep_their_own_reach() -> None:
    sc = tacna(start_radius_km={"coast": 1, "highlands": 1, "jungle": 1})
    w = build_world(sc)  # type: ignore[arg-type]
    xy = w.villages.xy
    existing = np.flatnonzero(w.villages.service == SERVICE_CODES.index("4g"))
    others = np.flatnonzero(w.villages.service != SERVICE_CODES.index("4g"))
    assert len(existing) > 20
    for hosts, reach in ((existing[:30], 1.0), (others[:30], 4.0)):
        for v in hosts.tolist():
            d = np.hypot(*(xy - xy[v]).T)
            assert set(w.coverage.covers(v).tolist()) == set(np.flatnonzero(d <= reach).tolist())
    # Smaller cells need more sites and leave more places without 4G.
    flat = build_world(tacna())  # type: ignore[arg-type]
    n_flat = int((flat.villages.service == SERVICE_CODES.index("4g")).sum())
    assert len(existing) > n_flat


XY = [(0, 0), (20, 0), (-20, 0), (-21, 0), (-22, 0)]
POP = [10, 1000, 10, 10, 10]


def test_places_per_dollar_prefers_many_places_and_people_per_place_trades(tmp_path: Path) -> None:
    # Microwave to the PoP at v0 (hop 30 km) for every site: costs are equal, US$30,000.
    # v1 covers 1,000 people in one place; v3 covers v2, v3, v4: three places, 30 people.
    def first(**siting: object) -> int:
        sc = scenario(
            tmp_path, XY, POP, hop_km=30, radius_km=1.5,
            operators=[operator(build_crews=1, siting=siting)], days=15,
        )  # fmt: skip
        return int(simulate(sc).sites.village[0])

    assert first(strategy="people_per_dollar") == 1
    assert first(strategy="places_per_dollar") == 3
    # 3 + 30/100 = 3.3 against 1 + 1000/100 = 11: the big place wins; at 1,000 people a place
    # the cluster does (3.03 against 2).
    assert first(strategy="places_per_dollar", people_per_place=100) == 1
    assert first(strategy="places_per_dollar", people_per_place=1000) == 3


def test_a_parameter_can_set_several_keys(tmp_path: Path) -> None:
    sc = scenario(tmp_path, XY, POP)
    also = {
        "coverage.radius_km.highlands": ["coverage.radius_km.coast", "coverage.radius_km.jungle"]
    }
    out = with_params(sc, {"coverage.radius_km.highlands": 2.5}, set(), also)
    assert out.coverage.radius_km == {"coast": 2.5, "highlands": 2.5, "jungle": 2.5}
