"""The build pipeline on hand-built worlds, with every number worked out by hand.

World "ABCDE" (all on a line, radius 4 km, hop 12 km, fibre spur 1 km, PoP at A):
    A x=0 pop 100 | B x=3 pop 50 | C x=10 pop 200 | D x=13.5 pop 30 | E x=100 pop 1000
Coverage: A→{A,B}, B→{A,B}, C→{C,D}, D→{C,D}, E→{E}.
Backhaul: A fibre 0 km (US$5,000); B, C microwave to the PoP (3 and 10 km ≤ 12); D at
13.5 km from the PoP needs a relay (B or C); E (100 km) has no option unless satellite is allowed.
Site capex US$10,000, so A costs 15,000 and B, C 30,000. Builds take exactly 10 days.
People per dollar: A 150/15000 = .0100, C 230/30000 = .0077, B 150/30000 = .0050.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rollout_sim import simulate
from rollout_sim.model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_SATELLITE

from _worlds import operator, scenario

XY = [(0, 0), (3, 0), (10, 0), (13.5, 0), (100, 0)]
POP = [100, 50, 200, 30, 1000]


def ids(results, rows=None):  # type: ignore[no-untyped-def]
    v = results.sites.village if rows is None else results.sites.village[rows]
    return [f"v{i}" for i in v.tolist()]


def test_two_crews_exact(tmp_path: Path) -> None:
    sc = scenario(tmp_path, XY, POP, operators=[operator(build_crews=2, cash_usd=100000)])
    r = simulate(sc)
    s = r.sites
    # Both crews start at day 0: A (best), then C; B and D then cover nobody new; E unreachable.
    assert ids(r) == ["v0", "v2"]
    assert s.backhaul.tolist() == [BH_FIBRE, BH_MICROWAVE]
    assert s.parent.tolist()[1] == -1  # PoP 0
    assert s.capex_usd.tolist() == [15000.0, 30000.0]
    assert s.build_start_day.tolist() == [0.0, 0.0]
    assert s.on_air_day.tolist() == [10.0, 10.0]
    assert s.villages_new.tolist() == [2, 2]
    assert s.people_new.tolist() == [150, 230]
    d = r.daily
    assert d["villages_covered"][9] == 0 and d["villages_covered"][10] == 4
    assert d["people_covered"][10] == 380 and d["people_covered"][-1] == 380
    assert d["new_villages_covered"][10] == 4 and d["new_villages_covered"].sum() == 4
    assert d["rural_people_covered_share"][-1] == pytest.approx(380 / 1380)
    assert d["people_covered_share"][-1] == pytest.approx(380 / 1380)
    assert d["initially_uncovered_reached_share"][-1] == pytest.approx(380 / 1380)
    assert d["capex_cumulative_usd"][0] == 45000.0
    # Backhaul running costs: fibre US$1,000 + microwave US$3,000 a year, for 90 days each.
    assert d["opex_cumulative_usd"][-1] == pytest.approx(4000 * 90 / 365.25, abs=0.02)
    assert d["cash_usd"][-1] == pytest.approx(55000.0 - d["opex_cumulative_usd"][-1], abs=1e-6)
    assert d["sites_built"][-1] == 2 and d["sites_on_air"][-1] == 2
    assert np.isnan(r.first_covered_day[4])


def test_one_crew_builds_in_priority_order(tmp_path: Path) -> None:
    sc = scenario(tmp_path, XY, POP, operators=[operator(build_crews=1)])
    r = simulate(sc)
    assert ids(r) == ["v0", "v2"]
    assert r.sites.on_air_day.tolist() == [10.0, 20.0]
    assert r.daily["villages_covered"][10] == 2 and r.daily["villages_covered"][20] == 4


def test_no_backhaul_never_on_air_satellite_reaches_it(tmp_path: Path) -> None:
    r = simulate(scenario(tmp_path, XY, POP))
    assert "v4" not in ids(r)
    assert np.isnan(r.first_covered_day[4])
    r2 = simulate(scenario(tmp_path, XY, POP, satellite=True))
    # E has 1000 people for 10,000 + 15,000: 0.04 per dollar, so it goes first.
    assert ids(r2)[0] == "v4"
    assert r2.sites.backhaul[0] == BH_SATELLITE
    assert r2.sites.capex_usd[0] == 25000.0
    assert r2.daily["people_covered"][-1] == 1380


def test_cash_limits_builds_and_jobs_wait_for_cash(tmp_path: Path) -> None:
    # Cash for A (15,000) but not for C (30,000): C is claimed and waits for money forever.
    r = simulate(scenario(tmp_path, XY, POP, operators=[operator(build_crews=2, cash_usd=40000)]))
    s = r.sites
    assert ids(r) == ["v0", "v2"]
    assert s.build_start_day[0] == 0.0 and np.isnan(s.build_start_day[1])
    assert np.isnan(s.on_air_day[1])
    assert r.daily["capex_cumulative_usd"][-1] == 15000.0
    # Less the fibre spur's running cost (US$1,000 a year) from day 10.
    assert r.daily["cash_usd"][-1] == pytest.approx(25000.0 - 1000 * 90 / 365.25, abs=0.02)
    assert r.daily["people_covered"][-1] == 150


def test_no_cash_builds_nothing(tmp_path: Path) -> None:
    r = simulate(scenario(tmp_path, XY, POP, operators=[operator(build_crews=3, cash_usd=0)]))
    assert np.isnan(r.sites.build_start_day).all()
    assert r.daily["people_covered"][-1] == 0
    assert r.daily["capex_cumulative_usd"][-1] == 0


def test_microwave_chain_grows_outward(tmp_path: Path) -> None:
    # Villages every 10 km; radius 4 (no overlap); hop 12: each site relays the next one.
    xy = [(10.0 * i, 0.0) for i in range(8)]
    pop = [100] * 8
    ops = [operator(build_crews=3, build_days={z: _lognormal() for z in _ZONES})]
    r = simulate(scenario(tmp_path, xy, pop, operators=ops, days=2000))
    s = r.sites
    order = np.argsort(s.village)
    assert sorted(s.village.tolist()) == list(range(8))
    by_v = {int(v): i for i, v in enumerate(s.village.tolist())}
    assert s.backhaul[by_v[0]] == BH_FIBRE
    assert s.parent[by_v[1]] == -1  # v1 hops to the PoP at v0
    for v in range(2, 8):
        i, p = by_v[v], by_v[v - 1]
        assert s.backhaul[i] == BH_MICROWAVE
        assert s.parent[i] == v - 1  # the chain: each site hangs off its western neighbour
        assert s.claim_day[i] >= s.build_start_day[p]  # the parent was funded first
        # On air when both it is built and its parent is on air.
        assert s.on_air_day[i] == max(s.built_day[i], s.on_air_day[p])
    assert np.all(np.diff(s.on_air_day[order][1:]) >= 0)


_ZONES = ("coast", "highlands", "jungle")


def _lognormal() -> dict[str, object]:
    return {"distribution": "lognormal", "mean_days": 30, "sd_days": 20}


def test_upgrade_is_cheaper_and_faster(tmp_path: Path) -> None:
    service = ["none", "none", "2g", "none", "none"]
    r = simulate(scenario(tmp_path, XY, POP, service=service))
    i = ids(r).index("v2")
    assert bool(r.sites.upgrade[i])
    assert r.sites.capex_usd[i] == 4000.0 + 20000.0  # upgrade + microwave link
    assert r.sites.built_day[i] - r.sites.build_start_day[i] == 5.0  # 10 days × 0.5


def test_existing_4g_counts_as_initial_coverage_and_relay(tmp_path: Path) -> None:
    # C already has 4G: C and D are covered at day 0, and C relays D's neighbour F (x=21).
    xy = [*XY, (21, 0)]
    pop = [*POP, 70]
    service = ["none", "none", "4g", "none", "none", "none"]
    r = simulate(scenario(tmp_path, xy, pop, service=service))
    assert r.initial_villages_covered == 2 and r.initial_people_covered == 230
    assert "v2" not in ids(r)
    f = ids(r).index("v5")
    assert r.sites.backhaul[f] == BH_MICROWAVE and r.sites.parent[f] == 2
    d = r.daily
    assert d["villages_covered"][0] == 2
    assert d["new_villages_covered"].sum() == d["villages_covered"][-1] - 2


def test_two_operators_never_claim_one_village(tmp_path: Path) -> None:
    xy = [(5.0 * (i % 6), 5.0 * (i // 6)) for i in range(36)]
    pop = [10 + 7 * i % 50 for i in range(36)]
    ops = [operator("a", build_crews=3), operator("b", build_crews=3)]
    r = simulate(scenario(tmp_path, xy, pop, operators=ops, satellite=True, days=200))
    v = r.sites.village.tolist()
    assert len(v) == len(set(v))
    assert set(r.sites.operator.tolist()) == {0, 1}


def test_region_filter(tmp_path: Path) -> None:
    xy = [(0, 0), (5, 0), (10, 0), (15, 0)]
    regions = ["north", "north", "south", "south"]
    ops = [operator(regions=["south"], build_crews=2)]
    r = simulate(
        scenario(tmp_path, xy, [10, 10, 10, 10], regions=regions, operators=ops, satellite=True)
    )
    assert sorted(ids(r)) == ["v2", "v3"]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("largest_population", ["v4", "v3", "v2", "v1", "v0"]),
        ("nearest_backhaul", ["v0", "v1"]),  # then satellite sites, in tie-break order
        ("list", ["v2", "v0"]),
    ],
)
def test_strategies_order(tmp_path: Path, strategy: str, expected: list[str]) -> None:
    # Far apart (no shared coverage), all reachable by satellite; the PoP is at v0 and
    # microwave reaches v1 (8 km) only.
    xy = [(0, 0), (8, 0), (30, 0), (60, 0), (90, 0)]
    pop = [10, 20, 30, 40, 50]
    siting: dict[str, object] = {"strategy": strategy}
    if strategy == "list":
        siting["villages"] = ["v2", "v0"]
    ops = [operator(siting=siting)]
    r = simulate(scenario(tmp_path, xy, pop, operators=ops, satellite=True, hop_km=10))
    assert ids(r)[: len(expected)] == expected
    assert len(r.sites) == (2 if strategy == "list" else 5)
    assert np.all(np.diff(r.sites.claim_day) >= 0)


def test_random_strategy_depends_on_seed(tmp_path: Path) -> None:
    xy = [(30.0 * i, 0.0) for i in range(12)]
    ops = [operator(siting={"strategy": "random"})]
    sc = scenario(tmp_path, xy, [10] * 12, operators=ops, satellite=True, days=60)
    first = [ids(simulate(sc, seed=s)) for s in range(4)]
    assert len({tuple(x) for x in first}) > 1
    assert ids(simulate(sc, seed=2)) == first[2]


def test_satellite_cap(tmp_path: Path) -> None:
    xy = [(0, 0)] + [(30.0 * i, 0.0) for i in range(1, 6)]
    sc = scenario(tmp_path, xy, [10] * 6, satellite=True, days=200)
    sc.backhaul.satellite.max_sites = 2
    r = simulate(sc)
    assert int((r.sites.backhaul == BH_SATELLITE).sum()) == 2
    assert len(r.sites) == 3  # the fibre site at the PoP + 2 satellite sites
