"""Credit, revenue, running costs and maintenance: hand-checked cases and invariants."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_sim import build_world, load_scenario, simulate
from rollout_sim.model.demand import revenue_usd
from rollout_sim.model.finance import Ledger
from rollout_sim.model.loans import LoanBook
from rollout_sim.model.network import Network
from rollout_sim.results import Results

from _worlds import operator, scenario

ZONES = ("coast", "highlands", "jungle")


def rows(r: Results, category: str) -> tuple[np.ndarray, np.ndarray]:
    m = r.ledger.category == category
    return r.ledger.time[m], r.ledger.amount[m]


def spaced(n: int, km: float = 30.0) -> list[tuple[float, float]]:
    return [(km * i, 0.0) for i in range(n)]


# --- the ledger ------------------------------------------------------------------------------


@st.composite
def money_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    ops = []
    for i in range(draw(st.integers(1, 2))):
        line = {
            "lender": f"bank{i}",
            "limit_usd": draw(st.sampled_from([0, 3e5, 2e6])),
            "annual_rate": draw(st.sampled_from([0.0, 0.06, 0.4])),
            "grace_months": draw(st.integers(0, 12)),
            "tenor_months": draw(st.integers(1, 48)),
            "max_debt_to_capex": draw(st.sampled_from([None, 0.5, 2.0])),
        }
        ops.append(
            {
                "name": f"op{i}",
                "cash_usd": draw(st.sampled_from([0, 1e5, 1e6, 5e6])),
                "build_crews": draw(st.integers(1, 5)),
                "maintenance_crews": draw(st.integers(0, 3)),
                "credit_lines": draw(st.sampled_from([[], [line]])),
                "capex_reserve_usd": draw(st.sampled_from([0, 5e4])),
                "preventive_usd_per_site_year": draw(st.sampled_from([0, 1000])),
                "on_default": draw(st.sampled_from(["continue_maintenance", "stop_maintenance"])),
                "revenue": {"operator_share": draw(st.sampled_from([0.3, 1.0]))},
            }
        )
    return {
        "name": "money",
        "seed": draw(st.integers(0, 1000)),
        "start_date": "2020-03-15",
        "horizon_years": draw(st.sampled_from([1.0, 3.0])),
        "geography": {"synthetic": {"villages": draw(st.integers(30, 300)), "regions": 2}},
        "maintenance": {"failures": {"mtbf_days": {z: 120.0 for z in ZONES}}},
        "operators": ops,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_scenarios())
def test_cash_is_the_ledger_sum_to_the_cent(data: dict[str, Any]) -> None:
    r = simulate(load_scenario(data))
    lg = r.ledger
    for op in range(len(r.operators)):
        mine = lg.operator == op
        running = np.round(np.cumsum(lg.amount[mine]), 2)
        assert np.allclose(lg.balance[mine], running, atol=0.005)
        assert np.all(lg.balance[mine] >= -0.005)  # nothing is ever paid without the cash
        assert np.all(np.round(lg.amount[mine], 2) == lg.amount[mine])
    day_end = np.arange(1, r.horizon_days + 1, dtype=float)
    day_end[-1] = np.nextafter(day_end[-1], np.inf)
    cum = np.concatenate([[0.0], np.cumsum(lg.amount)])
    expect = cum[np.searchsorted(lg.time, day_end, side="left")]
    assert np.allclose(r.daily["cash_usd"], expect, atol=0.01)
    d = r.daily
    # Debt equals drawdowns less principal repaid, and is never negative.
    assert np.all(d["debt_usd"] >= -0.005)
    for col in ("revenue_cumulative_usd", "opex_cumulative_usd", "repair_cumulative_usd"):
        assert np.all(np.diff(d[col]) >= -1e-9)
    assert np.all(d["people_covered_net"] <= d["people_covered"])
    assert np.all(d["sites_down"] <= d["sites_on_air"])


# --- credit ------------------------------------------------------------------------------------


def test_loan_schedule_in_the_ledger_matches_the_hand_annuity(tmp_path: Path) -> None:
    # US$1 M tranche on day 0 at 12% a year (1% a month), 6 months' grace, then 24 months.
    # Level payment 1e6 × 0.01 / (1 − 1.01^−24) = 47,073.47.
    line = {
        "lender": "devbank",
        "limit_usd": 1e6,
        "annual_rate": 0.12,
        "grace_months": 6,
        "tenor_months": 24,
        "drawdown": "tranches",
        "tranches": [{"date": "2020-01-01", "amount_usd": 1e6}],
    }
    ops = [operator(credit_lines=[line], cash_usd=1e6)]
    r = simulate(scenario(tmp_path, [(0, 0)], [10], operators=ops, days=1000))
    t_draw, drawn = rows(r, "loan_drawdown")
    assert t_draw.tolist() == [0.0] and drawn.tolist() == [1e6]
    t_int, interest = rows(r, "interest")
    _, principal = rows(r, "principal")
    assert len(interest) == 30 and len(principal) == 24
    assert interest[:6].tolist() == [-10000.0] * 6
    payments = -(interest[6:] + principal)
    assert np.all(np.round(payments[:-1], 2) == 47073.47)
    assert abs(payments[-1] - 47073.47) < 0.10  # the last one clears the cents
    assert round(-principal.sum(), 2) == 1_000_000.00
    # Debt service falls on the first of each month: 2020-02-01 is day 31.
    first = [(date(2020, 1, 1) + timedelta(days=int(t))) for t in t_int]
    assert first[0] == date(2020, 2, 1) and all(d.day == 1 for d in first)
    assert r.daily["debt_usd"][-1] == 0.0
    assert r.daily["interest_cumulative_usd"][-1] == pytest.approx(-interest.sum(), abs=1e-6)
    # The same schedule from the loan book directly.
    book = LoanBook(limit_usd=1e6, annual_rate=0.12, grace_months=6, tenor_months=24)
    book.draw(1e6)
    sched = book.schedule(30)
    assert [round(i, 2) for _, i, _, _ in sched] == (-interest).tolist()


DEFAULT_XY = [(0, 0), (30, 0), (60, 0), (90, 0), (120, 0), (150, 0), (180, 0)]


def defaulting(
    tmp_path: Path,
    on_default: str = "continue_maintenance",
    maintenance: dict[str, Any] | None = None,
    **kw: Any,
) -> Results:
    # Cash for the first site only; the rest on credit at 50% a year over 2 months, with no
    # revenue. Each drawdown also covers what it adds to next month's debt service (the
    # reserve keeps it back), so the first instalment (day 31) is paid; in the last month a
    # dollar drawn adds more than a dollar of service, nothing more is drawn, and the second
    # instalment (day 60) cannot be paid.
    # A reserve of US$5,000 stays for running costs (the fibre spur's US$1,000 a year).
    line = {"lender": "loanshark", "limit_usd": 1e6, "annual_rate": 0.5, "tenor_months": 2}
    ops = [
        operator(
            cash_usd=20000,
            capex_reserve_usd=5000,
            credit_lines=[line],
            on_default=on_default,
            **kw,
        )
    ]
    extra = {"maintenance": maintenance} if maintenance else {}
    sc = scenario(
        tmp_path,
        DEFAULT_XY,
        [100] * 7,
        operators=ops,
        satellite=True,
        satellite_opex_usd=0.0,
        days=200,
        **extra,
    )
    return simulate(sc)


def test_default_freezes_the_line_and_stops_builds(tmp_path: Path) -> None:
    r = defaulting(tmp_path)
    kinds = [(t, k) for t, _, k, _ in r.events]
    assert (60.0, "default") in kinds
    t_draw, drawn = rows(r, "loan_drawdown")
    t_cap, _ = rows(r, "capex")
    assert len(t_draw) >= 2 and np.all(t_draw < 31)  # none in the last month, none frozen
    assert np.all(t_cap < 60)
    starts = r.sites.build_start_day[np.isfinite(r.sites.build_start_day)]
    assert np.all(starts < 60)
    # The first instalment was kept back and paid; nothing after the default.
    assert rows(r, "interest")[0].tolist() == [31.0]
    t_principal, principal = rows(r, "principal")
    assert t_principal.tolist() == [31.0]
    assert r.maintenance[0]["defaulted"] is True
    assert r.daily["debt_usd"][-1] == pytest.approx(drawn.sum() + principal.sum())


def test_no_cash_no_credit_builds_nothing(tmp_path: Path) -> None:
    ops = [operator(cash_usd=0, build_crews=4)]
    r = simulate(scenario(tmp_path, DEFAULT_XY, [100] * 7, operators=ops, satellite=True))
    assert len(rows(r, "capex")[0]) == 0
    assert np.isnan(r.sites.build_start_day).all()


@pytest.mark.parametrize(("ratio", "blocked"), [(0.5, True), (0.7, False)])
def test_covenant_caps_debt_to_capex(tmp_path: Path, ratio: float, blocked: bool) -> None:
    # A (15,000) is paid in cash; C (30,000) needs 30,000 of credit: debt/capex = 30/45 = 0.67.
    xy = [(0, 0), (3, 0), (10, 0)]
    line = {
        "lender": "bank",
        "limit_usd": 1e6,
        "annual_rate": 0.0,
        "tenor_months": 120,
        "grace_months": 100,
        "max_debt_to_capex": ratio,
    }
    ops = [operator(cash_usd=15000, credit_lines=[line])]
    r = simulate(scenario(tmp_path, xy, [100, 50, 200], operators=ops))
    kinds = [k for _, _, k, _ in r.events]
    assert ("covenant_block" in kinds) is blocked
    assert r.daily["debt_usd"][-1] == (0.0 if blocked else 30000.0)
    assert r.daily["capex_cumulative_usd"][-1] == (15000.0 if blocked else 45000.0)


def test_line_opens_later_and_pays_waiting_capex(tmp_path: Path) -> None:
    xy = [(0, 0), (3, 0), (10, 0)]
    line = {
        "lender": "bank",
        "limit_usd": 1e6,
        "annual_rate": 0.0,
        "tenor_months": 120,
        "grace_months": 100,
        "start_date": "2020-01-21",
    }
    ops = [operator(cash_usd=15000, credit_lines=[line])]
    r = simulate(scenario(tmp_path, xy, [100, 50, 200], operators=ops))
    t_draw, drawn = rows(r, "loan_drawdown")
    assert t_draw.tolist() == [20.0] and drawn.tolist() == [30000.0]
    assert r.sites.build_start_day.tolist() == [0.0, 20.0]


# --- revenue and running costs -------------------------------------------------------------------


def test_revenue_and_opex_match_the_closed_forms(tmp_path: Path) -> None:
    # One village of 1,000 people at the PoP: fibre site on air on day 10.
    adoption = {"p": 0.05, "q": 0.6, "ceiling_share": 0.5}
    ops = [
        operator(
            revenue={"arpu_usd_month": 5.0, "operator_share": 0.4, "adoption": adoption},
            opex_usd_year={z: 3650.0 for z in ZONES},
        )
    ]
    r = simulate(scenario(tmp_path, [(0, 0)], [1000], operators=ops, days=400))
    t_rev, rev = rows(r, "revenue")
    expect = revenue_usd(
        10.0,
        400.0,
        np.array([10.0]),
        np.array([1000.0]),
        ceiling_share=0.5,
        p=0.05,
        q=0.6,
        arpu_usd_month=5.0,
        share=0.4,
    ).sum()
    assert rev.sum() == pytest.approx(expect, abs=0.005 * len(rev))
    assert t_rev[-1] == 400.0  # the last partial month is booked at the horizon
    _, opex = rows(r, "opex")
    # Site 3,650 + fibre 1,000 a year, from day 10 to day 400.
    assert -opex.sum() == pytest.approx(4650.0 * 390 / 365.25, abs=0.005 * len(opex))
    assert r.daily["subscribers"][-1] == pytest.approx(
        500 * (1 - np.exp(-0.65 * 390 / 365.25)) / (1 + 12 * np.exp(-0.65 * 390 / 365.25)),
        abs=0.05,
    )


# --- maintenance -------------------------------------------------------------------------------


def maint_scenario(tmp_path: Path, *, crews: int, mtbf: float, years: float = 3.0, **m: Any) -> Any:
    n = 40
    ops = [operator(build_crews=n, maintenance_crews=crews, cash_usd=1e9)]
    ops[0]["build_days"] = {z: {"distribution": "fixed", "days": 1} for z in ZONES}
    sc = scenario(
        tmp_path, spaced(n), [100] * n, operators=ops, satellite=True, days=round(years * 365.25)
    )
    data = sc.model_dump(mode="json")
    data["maintenance"] = {
        "failures": {"enabled": True, "mtbf_days": {z: mtbf for z in ZONES}, "seasonal": None},
        "repair_days": {
            z: {"distribution": "lognormal", "mean_days": 2.0, "sd_days": 1.0} for z in ZONES
        },
        "travel": False,
        **m,
    }
    return load_scenario(data)


def test_failures_off_nothing_is_ever_down(tmp_path: Path) -> None:
    sc = maint_scenario(tmp_path, crews=1, mtbf=5.0)
    sc.maintenance.failures.enabled = False
    r = simulate(sc)
    d = r.daily
    assert d["sites_down"].max() == 0
    assert np.array_equal(d["people_covered_net"], d["people_covered"])
    assert r.maintenance[0]["failures"] == 0 and len(rows(r, "repair")[0]) == 0


def test_unlimited_crews_zero_travel_downtime_is_the_repair_time(tmp_path: Path) -> None:
    r = simulate(maint_scenario(tmp_path, crews=1000, mtbf=20.0))
    m = r.maintenance[0]
    n = len(m["downtime_days"])
    assert n > 1500
    assert max(m["wait_days"]) == 0.0
    # Log-normal repairs: mean 2 days, sd 1 day; the mean of n is within 4 standard errors.
    assert abs(np.mean(m["downtime_days"]) - 2.0) < 4 * 1.0 / np.sqrt(n)


def test_one_crew_many_failures_repairs_queue(tmp_path: Path) -> None:
    r = simulate(maint_scenario(tmp_path, crews=1, mtbf=10.0, years=1.0))
    m = r.maintenance[0]
    assert np.mean(m["wait_days"]) > 1.0
    assert np.mean(m["downtime_days"]) > 2.0 + 1.0
    assert r.daily["sites_down"].max() > 5
    from rollout_sim.metrics import availability

    assert availability(r) is not None and availability(r) < 0.95  # type: ignore[operator]


def test_seasonal_factor_and_preventive_spending(tmp_path: Path) -> None:
    base = maint_scenario(tmp_path, crews=1000, mtbf=30.0, years=4.0)
    rainy = copy.deepcopy(base)
    rainy.maintenance.failures.seasonal = (
        type(base.maintenance.failures).model_fields["seasonal"].default_factory()
    )  # type: ignore[misc]
    rainy.maintenance.failures.seasonal.factor = 3.0  # type: ignore[union-attr]
    r0, r1 = simulate(base), simulate(rainy)

    def rainy_share(r: Results) -> float:
        days = np.array(r.maintenance[0]["failure_days"])
        months = np.array([(date(2020, 1, 1) + timedelta(days=int(t))).month for t in days])
        return float(np.isin(months, [12, 1, 2, 3]).mean())

    assert abs(rainy_share(r0) - 1 / 3) < 0.04  # 4 of 12 months
    assert abs(rainy_share(r1) - 0.6) < 0.04  # 3 × 4 / (3 × 4 + 8)
    prevented = copy.deepcopy(base)
    prevented.operators[0].preventive_usd_per_site_year = 2000.0  # full effect: −50%
    r2 = simulate(prevented)
    ratio = r2.maintenance[0]["failures"] / r0.maintenance[0]["failures"]
    assert 0.42 < ratio < 0.58
    _, opex = rows(r2, "opex")
    assert -opex.sum() > 2000.0 * 40 * 3.9  # the preventive budget is spent


def test_stop_maintenance_after_default(tmp_path: Path) -> None:
    maint = {
        "failures": {"enabled": True, "mtbf_days": {z: 10.0 for z in ZONES}, "seasonal": None},
        "repair_cost_usd": {z: 0.0 for z in ZONES},  # repairs need no cash
        "travel": False,
    }
    kw = {"maintenance_crews": 5, "preventive_usd_per_site_year": 1000.0}
    stop = defaulting(tmp_path, "stop_maintenance", maint, **kw)
    go = defaulting(tmp_path, "continue_maintenance", maint, **kw)
    assert any(k == "maintenance_stopped" for _, _, k, _ in stop.events)
    assert not any(k == "maintenance_stopped" for _, _, k, _ in go.events)
    # After the default (day 60) and the repairs then under way, nothing is repaired any more.
    assert (60.0, "default") in [(t, k) for t, _, k, _ in stop.events]
    after = stop.daily["sites_down"][70:]
    assert np.all(np.diff(after) >= 0) and after[-1] == stop.daily["sites_on_air"][-1]
    assert np.any(np.diff(go.daily["sites_down"][70:]) < 0)
    assert stop.maintenance[0]["repairs"] < go.maintenance[0]["repairs"]

    # Nor is its preventive budget spent after the default.
    def preventive_days(r: Results) -> list[float]:
        lg = r.ledger
        mask = lg.counterparty == "preventive maintenance"
        return [float(t) for t in lg.time[mask]]

    assert preventive_days(stop) and max(preventive_days(stop)) <= 60.0
    assert max(preventive_days(go)) > 60.0


def test_failed_relay_takes_its_subtree_down_and_back(tmp_path: Path) -> None:
    # A chain 0 (fibre) ← 1 ← 2 ← 3, 10 km apart, radius 4: disjoint coverage.
    sc = scenario(tmp_path, spaced(4, 10.0), [100, 200, 300, 400])
    world = build_world(sc)
    env = simpy.Environment()
    net = Network(env, world, Ledger(("op",)))
    for v, parent in ((0, -1), (1, 0), (2, 1), (3, 2)):
        site = net.sites.add(v, 0, False, 2, parent, 0.0, 0.0)
        net.claim(v, site, 0, parent)
        net.finish_build(v)
    assert net.coverage.people_covered == 1000
    assert net.fail(1) == 900  # 1, 2 and 3 lose service; exactly their people
    assert net.in_service.tolist() == [True, False, False, False]
    assert net.coverage.people_covered == 100 and net.down_count == 3
    assert net.fail(3) == 0  # already off air
    net.repair(1)
    assert net.in_service.tolist() == [True, True, True, False]  # 3's own fault remains
    assert net.coverage.people_covered == 600
    net.repair(3)
    assert net.coverage.people_covered == 1000 and net.down_count == 0
    assert net.coverage.villages_covered == 4


def test_same_seed_gives_byte_identical_outputs(tmp_path: Path, quickstart_path: Path) -> None:
    from conftest import run_cli

    outs = []
    for name in ("a", "b", "c"):
        seed = "9" if name == "c" else "5"
        code, _, _ = run_cli(
            "run",
            str(quickstart_path),
            "--out",
            str(tmp_path / name),
            "--quiet",
            "--no-plots",
            "--seed",
            seed,
            "--set",
            "geography.synthetic.villages=600",
        )
        assert code == 0
        outs.append(tmp_path / name)
    for f in ("timeseries.csv", "sites.csv", "ledger.csv", "events.csv"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    assert (outs[0] / "ledger.csv").read_bytes() != (outs[2] / "ledger.csv").read_bytes()


def _three_lone_sites(
    tmp_path: Path, repair_cost_usd: float
) -> tuple[Any, Any, simpy.Environment, Network, Any]:
    """Three lone sites of 10, 1,000 and 100 people, built and on air; maintenance with
    1-day repairs at *repair_cost_usd* each. Returns (scenario, world, env, network,
    maintenance spec)."""
    sc = scenario(tmp_path, spaced(3, 30.0), [10, 1000, 100])
    world = build_world(sc)
    env = simpy.Environment()
    net = Network(env, world, Ledger(("op",)))
    for v in range(3):
        net.claim(v, net.sites.add(v, 0, False, 3, -1, 0.0, 0.0), 0, -1)
        net.finish_build(v)
    maint = type(sc.maintenance).model_validate(
        {
            **sc.maintenance.model_dump(mode="json"),
            "repair_days": {z: {"distribution": "fixed", "days": 1.0} for z in ZONES},
            "repair_cost_usd": {z: repair_cost_usd for z in ZONES},
        }
    )
    return sc, world, env, net, maint


def _crews(sc: Any, world: Any, env: simpy.Environment, net: Network, maint: Any, n: int) -> Any:
    """*n* maintenance crews for the three lone sites, paying from a treasury of their own."""
    from datetime import date

    from rollout_sim.model.finance import Treasury
    from rollout_sim.model.maintenance import MaintenanceCrews, VillageDraws

    spec = sc.operators[0].model_copy(update={"maintenance_crews": n})
    seed = np.random.SeedSequence(1)
    return MaintenanceCrews(
        net, 0, spec, maint, Treasury(env, net.ledger, 0), world.depots, date(2020, 1, 1),
        100, VillageDraws(seed, 3, 4), VillageDraws(seed, 3, 4),
    )  # fmt: skip


def test_repairs_go_to_the_most_people_first(tmp_path: Path) -> None:
    # Three lone sites of 10, 1,000 and 100 people fail at once; one crew, 1-day repairs, no
    # travel, no cost: it repairs 1,000 (day 1), then 100 (day 2), then 10 (day 3).
    sc, world, env, net, maint = _three_lone_sites(tmp_path, repair_cost_usd=0.0)
    crews = _crews(sc, world, env, net, maint, 1)
    repaired: dict[int, float] = {}
    for v in range(3):
        crews.fail(v).callbacks.append(lambda _e, v=v: repaired.__setitem__(v, env.now))
    assert net.coverage.people_covered == 0
    env.run(until=10)
    assert repaired == {1: 1.0, 2: 2.0, 0: 3.0}
    assert crews.wait_days.tolist() == [0.0, 1.0, 2.0]
    assert net.coverage.people_covered == 1110


def test_own_failures_of_one_instant_are_weighed_together(tmp_path: Path) -> None:
    # The three sites' own failure clocks fire at day 1 together (scheduled as the crews
    # schedule them); one crew, 1-day repairs, no travel: the first failure of the instant is
    # not dispatched before the others are known, so 1,000 goes first (taken at 1), then 100
    # (2), then 10 (3). A lone failure later (10 people, day 7.5) is taken at once.
    sc, world, env, net, maint = _three_lone_sites(tmp_path, repair_cost_usd=0.0)
    crews = _crews(sc, world, env, net, maint, 1)
    for t, v in ((1.0, 0), (1.0, 1), (1.0, 2), (7.5, 0)):
        env.timeout(t, v).callbacks.append(crews._on_failure)
    env.run(until=8.6)
    log = crews.log
    assert log.failed.tolist()[:4] == [1.0, 1.0, 1.0, 7.5]
    assert log.village.tolist()[:4] == [0, 1, 2, 0]
    assert log.taken.tolist()[:4] == [3.0, 1.0, 2.0, 7.5]
    assert log.repaired.tolist()[:4] == [4.0, 2.0, 3.0, 8.5]


@pytest.mark.parametrize("pure", [True, False], ids=["python", "compiled"])
def test_a_repair_waits_for_the_first_crew_back_not_for_the_next_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pure: bool
) -> None:
    """One crew, 1-day repairs, no travel. The 1,000-people site fails at day 1 (taken at 1,
    the crew back at 2); the 100-people site fails at 1.5, when the crew is out and nothing
    waits: it is taken when the crew is back (2) and repaired at 3, not left until a later
    failure (the 10-people site at day 6) finds the crew free."""
    from rollout_sim.compiled import PURE_PYTHON_ENV
    from rollout_sim.model import netcore

    if pure:
        monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    else:
        monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
        if not netcore.available():
            pytest.skip("no compiled accelerator in this install")
    sc, world, env, net, maint = _three_lone_sites(tmp_path, repair_cost_usd=0.0)
    # Failure clocks on (the compiled cycle runs only then), too slow to fire by day 10.
    maint = maint.model_copy(
        update={
            "failures": maint.failures.model_copy(
                update={"enabled": True, "mtbf_days": {z: 1e9 for z in ZONES}}
            )
        }
    )
    crews = _crews(sc, world, env, net, maint, 1)
    assert (crews._cycle is None) == pure
    for t, v in ((1.0, 1), (1.5, 2), (6.0, 0)):
        env.timeout(t, v).callbacks.append(crews._on_failure)
    env.run(until=10)
    log = crews.log
    assert log.village.tolist()[:3] == [1, 2, 0]
    assert log.taken.tolist()[:3] == [1.0, 2.0, 6.0]
    assert log.repaired.tolist()[:3] == [2.0, 3.0, 7.0]
    assert crews.wait_days.tolist()[:3] == [0.0, 0.5, 0.0]


def test_two_crews_take_the_most_people_first_and_stop_with_maintenance(tmp_path: Path) -> None:
    """Three lone sites of 10, 1,000 and 100 people fail at day 0.5; two crews, 1-day repairs,
    no travel: the crews take 1,000 and 100 at once, the first crew back takes 10 at 1.5.
    Maintenance stops at day 2: the repair under way finishes (2.5), a failure after it (the
    1,000-people site again, day 2.2) is never repaired and its site stays down."""
    sc, world, env, net, maint = _three_lone_sites(tmp_path, repair_cost_usd=0.0)
    crews = _crews(sc, world, env, net, maint, 2)
    repaired: dict[int, float] = {}

    def outages():  # type: ignore[no-untyped-def]
        yield env.timeout(0.5)
        for v in range(3):
            crews.fail(v).callbacks.append(lambda _e, v=v: repaired.__setitem__(v, env.now))
        yield env.timeout(1.5)
        crews.stop()
        yield env.timeout(0.2)
        crews.fail(1)

    env.process(outages())
    env.run(until=10)
    assert repaired == {1: 1.5, 2: 1.5, 0: 2.5}
    assert crews.wait_days.tolist() == [0.0, 0.0, 1.0]
    assert (crews.failures, crews.repairs) == (4, 3)
    assert np.isnan(crews.log.taken[3]) and np.isnan(crews.log.repaired[3])
    assert net.in_service.tolist() == [True, False, True]
    assert net.coverage.people_covered == 110


def test_maintenance_crews_ask_their_funding_for_a_share_of_each_repair(tmp_path: Path) -> None:
    """Crews are built with the operator's view of the funding desk: a fund's share of each
    repair is asked for as the bill is queued, and booked before the bill is paid."""
    from rollout_sim.model.finance import Treasury
    from rollout_sim.model.maintenance import MaintenanceCrews, VillageDraws

    class RepairFund:  # the part of a FundingPort that crews use
        def __init__(self) -> None:
            self.asked: list[tuple[str, float, str]] = []

        def funds_cover(self, kind: str) -> bool:
            return kind == "repair"

        def running_cost_support(
            self, kind: str, amount: float, treasury: Treasury, ref: str = ""
        ) -> float:
            self.asked.append((kind, amount, ref))
            return treasury.book(0.4 * amount, "subsidy", "fund", ref)

    sc, world, env, net, maint = _three_lone_sites(tmp_path, repair_cost_usd=1000.0)
    spec = sc.operators[0].model_copy(update={"maintenance_crews": 1})
    treasury = Treasury(env, net.ledger, 0)
    treasury.receive(5000.0, "equity", "shareholders")
    fund = RepairFund()
    seed = np.random.SeedSequence(1)
    crews = MaintenanceCrews(
        net, 0, spec, maint, treasury, world.depots, date(2020, 1, 1), 100,
        VillageDraws(seed, 3, 4), VillageDraws(seed, 3, 4), funding=fund,  # type: ignore[arg-type]
    )  # fmt: skip
    for v in range(3):
        crews.fail(v)
    env.run(until=10)
    assert fund.asked == [
        ("repair", 1000.0, "v1"),
        ("repair", 1000.0, "v2"),
        ("repair", 1000.0, "v0"),
    ]
    assert net.ledger.category == ["equity"] + ["subsidy", "repair"] * 3
    assert treasury.cash == 5000.0 - 3 * 600.0


def test_credit_crunch_shows_what_the_readme_says() -> None:
    """The example users learn the credit model from: covenant blocks, then a default that
    stops the builds, in most replications, and fewer sites than the quickstart."""
    from rollout_sim.model.streams import replication_seeds
    from rollout_sim.world.build import build_world

    root = Path(__file__).resolve().parents[1]
    sc = load_scenario(root / "scenarios" / "credit_crunch.yaml")
    world = build_world(sc)
    runs = [simulate(sc, ss, world=world) for ss in replication_seeds(sc.seed, 4)]
    kinds = [[e[2] for e in r.events] for r in runs]
    assert sum("default" in k for k in kinds) >= 3
    assert sum("builds_stopped" in k for k in kinds) >= 3
    assert all(k.count("covenant_block") >= 5 for k in kinds)
    quick = simulate(load_scenario(root / "scenarios" / "quickstart.yaml"), world=world)
    assert max(r.daily["sites_on_air"][-1] for r in runs) < 0.75 * quick.daily["sites_on_air"][-1]
