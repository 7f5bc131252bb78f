"""Operators as they report and run: footprints, initial assets, permits apart from works, the
cash rules of a going concern, and the payment-order regression. Every number by hand.

World "ABCDE" (as in test_engine_handmade): villages on a line, radius 4 km, hop 12 km,
fibre spur 1 km, PoP at A.
    A x=0 pop 100 | B x=3 pop 50 | C x=10 pop 200 | D x=13.5 pop 30 | E x=100 pop 1000
Coverage: A→{A,B}, B→{A,B}, C→{C,D}, D→{C,D}, E→{E}. Site capex US$10,000 (upgrade US$4,000),
fibre at A US$5,000, microwave US$20,000; builds take 10 days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

from rollout_sim import simulate
from rollout_sim.model.finance import CapexReserve, Ledger, Treasury
from rollout_sim.results import FOOTPRINT_COLUMNS

from _worlds import operator, scenario

XY = [(0, 0), (3, 0), (10, 0), (13.5, 0), (100, 0)]
POP = [100, 50, 200, 30, 1000]


def fixed(days: float) -> dict[str, dict[str, object]]:
    return {z: {"distribution": "fixed", "days": days} for z in ("coast", "highlands", "jungle")}


# --- the payment-order regression ------------------------------------------------------------


def test_a_funds_share_never_pays_capex_before_the_bill_it_is_for() -> None:
    """The trace of the issue: cash 329k with a 300k reserve and 80k of capex waiting; a
    104.6k opex bill arrives with a 52k fund share. Before the fix the share arrived first and
    paid the capex (cash 381k − 80k = 301k ≥ reserve), then the opex left 196.4k, under the
    reserve. Now the bill is queued first: opex is paid, the capex keeps waiting."""
    env = simpy.Environment()
    ledger = Ledger(("op",))
    t = Treasury(env, ledger, 0, reserve=CapexReserve(300_000))
    t.receive(329_000, "equity", "shareholders")
    capex = t.pay(80_000, "capex", "contractors")
    assert not capex.triggered and t.cash == 329_000  # 329k − 80k < 300k reserve
    opex = t.pay(
        104_600, "opex", "site running costs",
        support=lambda: t.book(52_000, "subsidy", "fund", "opex"),
    )  # fmt: skip
    assert opex.triggered and not capex.triggered
    assert list(ledger.category) == ["equity", "subsidy", "opex"]
    assert t.cash == 329_000 + 52_000 - 104_600 == 276_400


def test_capex_never_jumps_ahead_of_running_costs_in_a_funded_run() -> None:
    """funding_policies.yaml's maintenance fund, where the issue found the bug: a capex payment
    made at an instant whose running-cost bills then took cash below the reserve (the capex
    was paid with money those bills needed: a fund's share, or the month's revenue that
    arrived before the bills were queued). 51 such payments before the fix on this world."""
    from rollout_sim import load_scenario

    root = Path(__file__).resolve().parents[1]
    sc = load_scenario(
        root / "scenarios" / "funding_policies.yaml",
        ["geography.synthetic.villages=1500", "horizon_years=4"],
    )
    r = simulate(sc, policy="maintenance_fund")
    lg = r.ledger
    reserve = sc.operators[0].capex_reserve_usd
    capex = np.flatnonzero(lg.category == "capex")
    assert len(capex) > 50 and (r.public.kind == "opex_fund").sum() > 10
    jumped = []
    for i in capex.tolist():
        j = i + 1
        while j < len(lg) and lg.time[j] == lg.time[i]:
            if lg.category[j] in ("opex", "repair") and lg.balance[j] < reserve - 0.01:
                jumped.append((float(lg.time[i]), float(lg.amount[i])))
                break
            j += 1
    assert jumped == []


# --- footprints --------------------------------------------------------------------------------


def test_a_place_two_operators_serve_counts_for_both_and_once_first(tmp_path: Path) -> None:
    # Operator a may build only at A, operator b only at B: both sites cover {A, B}.
    ops = [
        operator("a", siting={"strategy": "list", "villages": ["v0"]}),
        operator(
            "b",
            siting={"strategy": "list", "villages": ["v1"]},
            build_days=fixed(20),
        ),
    ]
    sc = scenario(tmp_path, XY, POP, operators=ops)
    r = simulate(sc)
    a, b = r.operator_daily["a"], r.operator_daily["b"]
    assert set(a) == set(FOOTPRINT_COLUMNS)
    # a is on air on day 10, b on day 20 (microwave to the PoP at A, 3 km).
    assert a["places_served"][9] == 0 and a["places_served"][10] == 2
    assert a["people_served"][10] == 150
    assert b["places_served"][19] == 0 and b["places_served"][20] == 2
    assert b["people_served"][-1] == 150 == a["people_served"][-1]
    assert a["places_first_covered"][-1] == 2 and a["people_first_covered"][-1] == 150
    assert b["places_first_covered"][-1] == 0 and b["people_first_covered"][-1] == 0
    assert a["sites_built"][-1] == b["sites_built"][-1] == 1
    assert a["sites_in_service"][-1] == b["sites_in_service"][-1] == 1
    assert r.first_op.tolist() == [0, 0, -1, -1, -1]
    # The union is counted once in the world's series.
    assert r.daily["villages_covered"][-1] == 2 and r.daily["people_covered"][-1] == 150


def test_footprint_follows_outages(tmp_path: Path) -> None:
    """A failed site leaves its operator's footprint until repaired; first-covered stays."""
    from rollout_sim.model.network import Network

    sc = scenario(tmp_path, XY, POP, operators=[operator(build_crews=2)])
    r = simulate(sc)
    assert r.operator_daily["op"]["places_served"][-1] == 4
    # Drive a network by hand to check the decrement.
    from rollout_sim.model.finance import Ledger as L
    from rollout_sim.world.build import build_world

    world = build_world(sc)
    env = simpy.Environment()
    net = Network(env, world, L(("op",)))
    for v in (0, 2):
        site = net.sites.add(v, 0, False, 1, 0, 0.0, 0.0)
        net.claim(v, site, 0, -1)
        net.finish_build(v)
    fp = net.coverage.footprints[0]
    assert (fp.places, fp.people) == (4, 380)
    net.fail(2)
    assert (fp.places, fp.people) == (2, 150) and net.op_in_service == [1]
    net.repair(2)
    assert (fp.places, fp.people) == (4, 380) and net.op_in_service == [2]


# --- initial assets ----------------------------------------------------------------------------


def test_initial_assets_are_in_service_on_day_zero(tmp_path: Path) -> None:
    # B and E have 2G sites; the operator owns one initial site: the one that covers the most
    # people newly (E: 1,000 > B: 150). E has no terrestrial backhaul: an existing site has
    # some, so it is counted on satellite. No capex for it: it was paid before the start.
    service = ["none", "2g", "none", "none", "2g"]
    sc = scenario(
        tmp_path, XY, POP, service=service, operators=[operator(initial_sites=1, build_crews=1)]
    )
    r = simulate(sc)
    s = r.sites
    assert s.village.tolist()[0] == 4 and s.on_air_day.tolist()[0] == 0.0
    assert s.capex_usd.tolist()[0] == 0.0 and bool(s.upgrade[0])
    assert r.daily["capex_cumulative_usd"][0] == 15000.0  # only A's build, started day 0
    d = r.operator_daily["op"]
    assert d["places_served"][0] == 1 and d["people_served"][0] == 1000
    assert d["sites_in_service"][0] == 1 and d["sites_built"][0] == 1
    assert r.first_covered_day[4] == 0.0 and r.first_op[4] == 0
    # Covered before the start, so part of it: not newly reached, not a new place on day 0
    # (A's site, started on day 0, is not on air by its end).
    assert (r.initial_villages_covered, r.initial_people_covered) == (1, 1000)
    assert r.daily["new_villages_covered"][0] == 0.0
    assert r.daily["people_covered"][0] == 1000.0


def test_a_policy_does_not_change_the_initial_sites(tmp_path: Path) -> None:
    """A capex subsidy of 99% for small villages would make B (150 people for 1% of its
    capex) the best site per own dollar; the initial site was built before the policy, so it
    is E (1,000 people) as without the policy. The subsidy pays for A, built after the start
    (it was B, an upgrade before the start, when the subsidy chose the initial site)."""
    service = ["none", "2g", "none", "none", "2g"]
    policy = {
        "name": "subsidy",
        "instruments": [
            {
                "type": "capex_subsidy", "funder": "m", "share": 0.99,
                "eligibility": {"max_village_population": 100},
            }
        ],
    }  # fmt: skip
    sc = scenario(
        tmp_path, XY, POP, service=service, policies=[policy],
        operators=[operator(initial_sites=1, build_crews=1)],
    )  # fmt: skip
    without = simulate(sc)
    r = simulate(sc, policy="subsidy")
    assert without.sites.village.tolist()[0] == r.sites.village.tolist()[0] == 4
    assert r.sites.on_air_day.tolist()[0] == 0.0
    assert r.initial_people_covered == without.initial_people_covered == 1000
    assert r.public.ref.tolist() == ["v0"]  # A (100 people), built after the start


def test_initial_assets_are_relays_and_get_no_output_based_aid(tmp_path: Path) -> None:
    # Initial site at C (2G, 230 people) relays D's microwave hop; D is then built next to it.
    service = ["none", "none", "2g", "none", "none"]
    policy = {
        "name": "oba",
        "instruments": [
            {"type": "output_based", "funder": "m", "usd_per_person": 1.0, "budget_usd": 1e6}
        ],
    }
    sc = scenario(
        tmp_path, XY, POP, service=service, pops=(4,), days=400,
        operators=[operator(initial_sites=1, build_crews=1)], policies=[policy],
    )  # fmt: skip
    r = simulate(sc, policy="oba")
    # C (initial, day 0); E (fibre at its PoP, day 10); B through C's relay (7 km, day 20).
    assert r.sites.village.tolist() == [2, 4, 1]
    assert r.sites.on_air_day.tolist() == [0.0, 10.0, 20.0]
    assert r.sites.parent.tolist()[2] == 2
    # Paid after the 90-day verification for E (1,000 people) and B (150 newly: A and B), not
    # for the 230 people of the existing site at C.
    assert r.public.ref.tolist() == ["v4", "v1"]
    assert r.public.amount.tolist() == [1000.0, 150.0]


# --- permits apart from works ------------------------------------------------------------------


def test_permits_hold_no_crew(tmp_path: Path) -> None:
    """One crew, permits of 30 days, works of 10 days, capacity 2: A and C are permitted in
    parallel (days 0–30), the crew builds A (30–40) then C (40–50). Turnkey, one crew would
    take 40 days per site: C on air on day 80."""
    ops = [operator(build_crews=1, permit_days=fixed(30), permit_capacity=2)]
    r = simulate(scenario(tmp_path, XY, POP, operators=ops))
    s = r.sites
    assert s.village.tolist() == [0, 2]
    assert s.claim_day.tolist() == [0.0, 0.0]
    assert s.build_start_day.tolist() == [30.0, 40.0]
    assert s.on_air_day.tolist() == [40.0, 50.0]
    turnkey = [operator(build_crews=1, build_days=fixed(40))]
    r2 = simulate(scenario(tmp_path, XY, POP, operators=turnkey))
    assert r2.sites.on_air_day.tolist() == [40.0, 80.0]


def test_permit_capacity_limits_what_is_prepared(tmp_path: Path) -> None:
    ops = [operator(build_crews=2, permit_days=fixed(30), permit_capacity=1)]
    r = simulate(scenario(tmp_path, XY, POP, operators=ops))
    # One site in preparation at a time: A is permitted 0–30 and handed to a crew at 30,
    # which frees the desk: C is permitted 30–60, built 60–70.
    assert r.sites.claim_day.tolist() == [0.0, 30.0]
    assert r.sites.on_air_day.tolist() == [40.0, 70.0]


def test_upgrades_need_no_permit(tmp_path: Path) -> None:
    service = ["2g", "none", "none", "none", "none"]
    ops = [operator(build_crews=1, permit_days=fixed(30), upgrade_time_factor=0.5)]
    r = simulate(scenario(tmp_path, XY, POP, service=service, operators=ops))
    # A is an upgrade (US$4,000 + fibre): no permit, works 5 days.
    assert r.sites.village.tolist()[0] == 0
    assert r.sites.build_start_day[0] == 0.0 and r.sites.on_air_day[0] == 5.0


# --- a going concern's cash --------------------------------------------------------------------


def test_reserve_in_months_of_running_costs_holds_capex_back(tmp_path: Path) -> None:
    """Site opex US$12,000 a year; fibre US$1,000, microwave 3,000. Claiming A makes the
    running costs 13,000 a year, so a 12-month reserve keeps 13,000 back: A (15,000) is paid
    from 35,000 (15,000 + 13,000 ≤ 35,000), leaving 20,000. Claiming C raises them to 28,000:
    C (30,000) would need 58,000, so it waits — capex stops first when money is short."""
    opex = {"coast": 12000, "highlands": 12000, "jungle": 12000}
    ops = [
        operator(
            cash_usd=35000, build_crews=2, opex_usd_year=opex, capex_reserve_months=12,
        )
    ]  # fmt: skip
    r = simulate(scenario(tmp_path, XY, POP, operators=ops, days=30))
    assert r.sites.village.tolist() == [0, 2]
    assert np.isfinite(r.sites.on_air_day[0]) and np.isnan(r.sites.build_start_day[1])
    no_reserve = [operator(cash_usd=60000, build_crews=2, opex_usd_year=opex)]
    r2 = simulate(scenario(tmp_path, XY, POP, operators=no_reserve, days=30))
    assert np.isfinite(r2.sites.on_air_day).all()


def test_repairs_are_booked_as_payable_and_the_crew_goes(tmp_path: Path) -> None:
    """No cash at all after capex: the repair still happens (the crew does not wait for
    money); its bill waits in the queue and is paid first when revenue comes in."""
    ops = [
        operator(
            cash_usd=15000, build_crews=1, maintenance_crews=1,
            revenue={"arpu_usd_month": 10, "operator_share": 1.0,
                     "adoption": {"p": 0.5, "q": 0.0, "ceiling_share": 1.0}},
        )
    ]  # fmt: skip
    sc = scenario(
        tmp_path, XY, POP, operators=ops, days=200,
        maintenance={
            "failures": {"enabled": True, "mtbf_days": {"coast": 30, "highlands": 30,
                                                        "jungle": 30}},
            "repair_days": fixed(2),
            "repair_cost_usd": {"coast": 500, "highlands": 500, "jungle": 500},
            "travel": False,
        },
    )  # fmt: skip
    r = simulate(sc)
    m = r.maintenance[0]
    assert m["failures"] >= 2 and m["repairs"] >= m["failures"] - 1
    # Each repair takes exactly its 2 days after a crew takes it (one site, one crew).
    assert min(m["downtime_days"]) == pytest.approx(2.0)
    assert max(w for w in m["wait_days"]) == 0.0
    repairs = r.ledger.category == "repair"
    assert repairs.sum() >= 1  # paid once revenue came in


def test_maintenance_log_has_every_failure_with_its_repair(tmp_path: Path) -> None:
    from rollout_sim.report.writer import MAINTENANCE_COLUMNS, maintenance_rows

    # A (with B: 150 people) and C (with D: 230) on air on day 10; then they fail and are
    # repaired, one crew, 3 days each, no travel.
    sc = scenario(
        tmp_path, XY, POP, operators=[operator(build_crews=2, maintenance_crews=1)], days=300,
        maintenance={
            "failures": {"enabled": True, "mtbf_days": {"coast": 40, "highlands": 40,
                                                        "jungle": 40}},
            "repair_days": fixed(3),
            "repair_cost_usd": {"coast": 0, "highlands": 0, "jungle": 0},
            "travel": False,
        },
    )  # fmt: skip
    r = simulate(sc)
    rows = maintenance_rows(r)
    m = r.maintenance[0]
    assert len(rows) == m["failures"] > 5
    col = {c: i for i, c in enumerate(MAINTENANCE_COLUMNS)}
    assert [row[col["failed_day"]] for row in rows] == [
        f"{t:.4f}" for t in sorted(m["failure_days"])
    ]
    people = {"v0": 150, "v2": 230}
    for row in rows:
        assert row[col["people_cut_off"]] == people[row[col["village_id"]]]
        assert row[col["sites_down"]] == 1
        if row[col["repaired_day"]]:
            failed = float(row[col["failed_day"]])
            took = float(row[col["crew_took_day"]])
            done = float(row[col["repaired_day"]])
            assert done == pytest.approx(took + 3.0, abs=1e-9)  # 3-day repairs, no travel
            assert float(row[col["downtime_days"]]) == pytest.approx(done - failed, abs=2e-4)
    assert sum(1 for row in rows if row[col["repaired_day"]]) == m["repairs"]


def test_microwave_chains_stop_at_max_hops(tmp_path: Path) -> None:
    """Villages every 10 km from the PoP, hops of 12 km: each site relays the next. With at
    most 2 hops the chain stops at 20 km; without a limit it reaches 30 km."""
    xy = [(0, 0), (10, 0), (20, 0), (30, 0)]
    pop = [100, 100, 100, 100]

    def built(max_hops: int | None) -> list[int]:
        sc = scenario(
            tmp_path, xy, pop, operators=[operator(build_crews=1)],
            backhaul={"fibre": {"spur_max_km": 1.0}, "satellite": {"allowed": False},
                      "microwave": {"hop_range_km": {"coast": 12, "highlands": 12, "jungle": 12},
                                    "max_hops": max_hops}},
        )  # fmt: skip
        return sorted(simulate(sc).sites.village.tolist())

    assert built(2) == [0, 1, 2]
    assert built(None) == [0, 1, 2, 3]


# --- the pieces the pipeline is built from ---------------------------------------------------


def test_siting_queue_serves_crews_first_come_and_closes(tmp_path: Path) -> None:
    """The siting queue as a SimPy resource: a request is served with the best candidate,
    claimed at once (``take``); requests wait, first come first served, until candidates are
    put back; a closed queue fails every request with Halted."""
    from rollout_sim.model.backhaul import BackhaulPlanner
    from rollout_sim.model.finance import Halted
    from rollout_sim.model.network import Network
    from rollout_sim.model.siting import CandidateQueue
    from rollout_sim.world.build import build_world

    sc = scenario(tmp_path, XY, POP)  # no satellite: D and E have no backhaul yet
    world = build_world(sc)
    env = simpy.Environment()
    net = Network(env, world, Ledger(("op",)))
    backhaul = BackhaulPlanner(world, sc.backhaul)
    eligible = np.ones(len(world), dtype=bool)
    taken: list[tuple[float, int]] = []

    def take(v: int) -> int:
        taken.append((env.now, v))
        queue.discard(v)
        return v

    queue = CandidateQueue(
        env, "largest_population", eligible, net.coverage, backhaul, np.full(5, 1e4),
        np.zeros(5), claimed=net.claimed, take=take,
    )  # fmt: skip
    got: list[tuple[float, str, object]] = []

    def crew(name: str):  # type: ignore[no-untyped-def]
        while True:
            try:
                v = yield queue.get()
            except Halted:
                got.append((env.now, name, "stopped"))
                return
            got.append((env.now, name, v))
            yield env.timeout(10.0)

    def planner():  # type: ignore[no-untyped-def]
        yield env.timeout(15.0)
        # C is funded: a relay for D (3.5 km away), which now has a microwave hop.
        queue.put(backhaul.add_relay(2, eligible).tolist())
        yield env.timeout(10.0)
        queue.close()

    for name in ("a", "b", "c"):
        env.process(crew(name))
    env.process(planner())
    env.run()
    # C (200 people), A (100), B (50) at once; at 10 a and b ask again and wait (a first);
    # at 15 D comes back and goes to a; at 25 the queue closes.
    assert taken == [(0.0, 2), (0.0, 0), (0.0, 1), (15.0, 3)]
    assert got == [
        (0.0, "a", 2), (0.0, "b", 0), (0.0, "c", 1), (15.0, "a", 3),
        (25.0, "b", "stopped"), (25.0, "c", "stopped"), (25.0, "a", "stopped"),
    ]  # fmt: skip


def test_network_tells_its_listener_of_each_first_day_on_air(tmp_path: Path) -> None:
    from rollout_sim.model.network import Network
    from rollout_sim.world.build import build_world

    world = build_world(scenario(tmp_path, XY, POP))
    env = simpy.Environment()
    net = Network(env, world, Ledger(("a", "b")))
    heard: list[tuple[str, int]] = []
    net.on_first_air(0, lambda v: heard.append(("a", v)))
    with pytest.raises(ValueError, match="already listens"):
        net.on_first_air(0, lambda v: None)
    for v, op in ((0, 0), (2, 1)):
        net.claim(v, net.sites.add(v, op, False, 1, 0, 0.0, 0.0), op, -1)
        net.finish_build(v)
    net.fail(0)
    net.repair(0)  # back in service: not a first day on air
    assert heard == [("a", 0)]  # operator b has no listener
    on_air = net.sites.on_air_day
    assert on_air[0] == on_air[2] == 0.0 and np.isnan(on_air[[1, 3, 4]]).all()
    with pytest.raises(ValueError, match="is not operator 1's site"):
        net.claim(4, net.sites.add(4, 0, False, 3, 0, 0.0, 0.0), 1, -1)
