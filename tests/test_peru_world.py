"""Peru on its real places: the starting network, the capitals, the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from rollout_sim import build_world, load_scenario
from rollout_sim.errors import ScenarioError
from rollout_sim.experiments.calibrate import read_observed
from rollout_sim.experiments.replications import run_replications
from rollout_sim.world.peru import capital_kind

ROOT = Path(__file__).resolve().parents[1]


def peru(**geo: object) -> dict[str, object]:
    return {
        "name": "peru",
        "start_date": "2019-07-01",
        "horizon_years": 1,
        "geography": {"dataset": "peru", **geo},
        "coverage": {"radius_km": {"coast": 4, "highlands": 4, "jungle": 4}},
        "operators": [{"name": "ipt", "cash_usd": 1e6, "build_crews": 2}],
    }


@pytest.fixture(scope="module")
def world_district():  # type: ignore[no-untyped-def]
    return build_world(load_scenario(peru(pops={"capitals": "district"})))


def test_starting_network(world_district) -> None:  # type: ignore[no-untyped-def]
    v = world_district.villages
    assert len(v) == 94_922
    assert v.rural_population == 6_069_991
    assert int(v.urban.sum()) == 3_747
    assert np.array_equal(v.service == 2, v.urban)  # towns start with 4G
    two_g = np.flatnonzero(v.service == 1)
    assert len(two_g) == 1300 and not v.urban[two_g].any()
    # The 2G sites are at least 8 km from each other and from every town.
    d, _ = cKDTree(v.xy[two_g]).query(v.xy[two_g], k=2)
    assert d[:, 1].min() >= 8.0
    d_town, _ = cKDTree(v.xy[v.urban]).query(v.xy[two_g])
    assert d_town.min() > 8.0
    assert set(v.zone_names) == {"coast", "highlands", "jungle"}
    assert len(v.region_names) == 25 and "CUSCO" in v.region_names


def test_fibre_at_capitals(world_district) -> None:  # type: ignore[no-untyped-def]
    v = world_district.villages
    kinds = capital_kind(v.ids)
    assert int((kinds == 2).sum()) == 196 and int((kinds >= 1).sum()) == 1874
    pops = world_district.pops
    assert len(pops) == 180 + 690  # the backbone and the 9 regional networks with a date
    prov = build_world(load_scenario(peru(pops={"capitals": "provincial"}))).pops
    assert len(prov) == 180 and np.all(kinds[prov] == 2)
    missing = set(np.flatnonzero(kinds == 2)) - set(prov.tolist())
    names = {str(v.ids[i]) for i in missing}
    assert "1601010001" in names  # Iquitos (Loreto): the backbone did not reach Loreto
    assert all(v.zone_names[int(v.zone[i])] == "jungle" for i in missing)
    assert set(prov.tolist()) <= set(pops.tolist())


def test_department_filter_and_errors() -> None:
    w = build_world(load_scenario(peru(departments=["tacna"])))
    assert len(w) == 944 and w.villages.region_names == ("TACNA",)
    with pytest.raises(ScenarioError, match=r"geography\.departments"):
        build_world(load_scenario(peru(departments=["ATLANTIS"])))
    with pytest.raises(ScenarioError, match="departments is only used with dataset"):
        load_scenario(
            {**peru(), "geography": {"synthetic": {"villages": 10}, "departments": ["TACNA"]}}
        )
    with pytest.raises(ScenarioError, match="capitals is only used with dataset"):
        load_scenario({**peru(), "geography": {"pops": {"capitals": "provincial"}}})


def test_observed_ipt_series_is_well_formed() -> None:
    dates, values = read_observed(str(ROOT / "data" / "observed" / "ipt_reported.csv"), "t")
    assert [d.isoformat() for d in dates] == ["2020-05-31", "2021-12-31", "2022-12-31"]
    assert values.tolist() == [10000.0, 13485.0, 16700.0]


@pytest.mark.slow
def test_peru_ipt_meets_27_a_day() -> None:
    """The shipped plan scenario: mean new localities a day over 2019-07-01..2021-12-31 is
    27 ± 1.5 over 10 replications (as its calibration: block asks)."""
    sc = load_scenario(ROOT / "scenarios" / "peru_ipt.yaml")
    assert sc.calibration is not None
    target = sc.calibration.targets[0]
    rates: list[float] = []
    run_replications(
        sc, 10, on_done=lambda k, r: rates.append(float(r.daily["new_villages_covered"].mean()))
    )
    assert (target.start, target.end) == (sc.start_date, sc.end_date)
    assert abs(np.mean(rates) - 27.0) <= 1.5, rates
