"""Funding instruments and policies: budgets, timing, eligibility, public cost, pairing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_sim import load_scenario, simulate
from rollout_sim.experiments import compare_policies, run_replications
from rollout_sim.experiments.stats import band, interval, paired_band, paired_difference
from rollout_sim.model.funding import site_npv
from rollout_sim.results import Results

from _worlds import operator, scenario
from conftest import QUICKSTART, run_cli

ZONES = ("coast", "highlands", "jungle")
ROOT = Path(__file__).resolve().parents[1]
FUNDING = ROOT / "scenarios" / "funding_policies.yaml"


def small_funding(**over: Any) -> Any:
    """The shipped funding_policies scenario on 400 villages over two years."""
    sets = [
        "geography.synthetic.villages=400",
        "horizon_years=2",
        "operators.0.cash_usd=400000",
        "operators.0.capex_reserve_usd=50000",
        *[f"{k}={v}" for k, v in over.items()],
    ]
    return load_scenario(FUNDING, sets)


def public_rows(r: Results, kind: str | None = None) -> np.ndarray:
    m = np.ones(len(r.public), dtype=bool) if kind is None else r.public.kind == kind
    return np.flatnonzero(m)


def ledger_public_sum(r: Results) -> float:
    """Operator ledger rows whose counterparty is a policy instrument (payments to operators
    positive, repayments and interest to funders negative)."""
    labels = set(r.public.instrument.tolist())
    m = np.isin(r.ledger.counterparty, list(labels))
    return float(r.ledger.amount[m].sum())


# --- public cost and budgets ---------------------------------------------------------------


@st.composite
def policies(draw: st.DrawFn) -> list[dict[str, Any]]:
    budget = draw(st.sampled_from([1000.0, 50000.0, 300000.0, None]))
    kinds = draw(
        st.lists(
            st.sampled_from(["equity", "credit", "capex", "output", "opex", "guarantee"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    out: list[dict[str, Any]] = []
    for k in kinds:
        base: dict[str, Any] = {"budget_usd": budget}
        if k == "equity":
            out.append(base | {"type": "equity", "amount_usd": 200000.0})
        elif k == "credit":
            out.append(
                base
                | {
                    "type": "credit_line",
                    "limit_usd": 500000.0,
                    "annual_rate": draw(st.sampled_from([0.0, 0.05, 0.6])),
                    "grace_months": draw(st.integers(0, 6)),
                    "tenor_months": draw(st.integers(1, 24)),
                }
            )
        elif k == "capex":
            out.append(base | {"type": "capex_subsidy", "share": draw(st.sampled_from([0.3, 1.0]))})
        elif k == "output":
            out.append(
                base | {"type": "output_based", "usd_per_person": 20.0, "verification_days": 30}
            )
        elif k == "opex":
            out.append(base | {"type": "opex_fund", "share": 0.5, "years": 1.0})
        else:
            out.append(
                base | {"type": "loan_guarantee", "rate_reduction": 0.02, "first_loss_share": 0.8}
            )
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.integers(0, 50))
def test_budgets_hold_and_public_cost_is_the_ledger(instruments: list[Any], seed: int) -> None:
    data = {
        "name": "budgets",
        "seed": seed,
        "start_date": "2020-01-01",
        "horizon_years": 1.5,
        "geography": {"synthetic": {"villages": 200}},
        "maintenance": {"failures": {"mtbf_days": {z: 90.0 for z in ZONES}}},
        "operators": [
            {
                "name": "op",
                "cash_usd": 150000,
                "build_crews": 4,
                "credit_lines": [
                    {"lender": "bank", "limit_usd": 3e5, "annual_rate": 0.3, "tenor_months": 6}
                ],
            }
        ],
        "policies": [{"name": "p", "instruments": instruments}],
    }
    sc = load_scenario(data)
    r = simulate(sc)
    pub = r.public
    for inst in sc.policies[0].instruments:
        label = f"{inst.funder}:p.{inst.name}"
        mine = pub.instrument == label
        paid = float(pub.amount[mine & (pub.amount > 0)].sum())
        cap = inst.budget_usd if inst.budget_usd is not None else np.inf
        if inst.type == "credit_line":
            cap = min(cap, inst.limit_usd)
        assert paid <= cap + 0.005, (inst.type, paid, cap)
    guarantee = float(pub.amount[pub.kind == "guarantee_call"].sum())
    # Public cost = instruments' rows in the operators' ledgers (net of repayments) + calls
    # on guarantees (paid to lenders, not to the operator), to the cent.
    assert round(pub.amount.sum(), 2) == round(ledger_public_sum(r) + guarantee, 2)
    assert round(r.daily["public_cost_cumulative_usd"][-1], 2) == round(pub.amount.sum(), 2)


# --- instruments, one by one -----------------------------------------------------------------

XY = [(0, 0), (3, 0), (10, 0), (13.5, 0), (40, 0), (70, 0)]
POP = [100, 50, 200, 30, 1500, 15]  # the jungle town (1,500) is viable on its own


def handmade(tmp_path: Path, instruments: list[dict[str, Any]], **op: Any) -> Results:
    sc = scenario(
        tmp_path,
        XY,
        POP,
        operators=[operator(**op)],
        satellite=True,
        days=400,
        zones=["coast", "coast", "highlands", "highlands", "jungle", "jungle"],
        policies=[{"name": "p", "instruments": instruments}],
    )
    return simulate(sc)


def test_output_based_pays_after_verification_for_newly_covered_people(tmp_path: Path) -> None:
    inst = {
        "type": "output_based",
        "usd_per_person": 2.0,
        "usd_per_village": 100.0,
        "verification_days": 45,
    }
    r = handmade(tmp_path, [inst])
    rows = public_rows(r, "output_based")
    s = r.sites
    on = np.flatnonzero(np.isfinite(s.on_air_day))
    assert len(rows) == len(on) > 0
    ids = r.world.villages.ids
    for i in rows:
        site = int(np.flatnonzero(ids[s.village] == r.public.ref[i])[0])
        assert r.public.time[i] == pytest.approx(s.on_air_day[site] + 45.0)
        assert r.public.amount[i] == 2.0 * s.people_new[site] + 100.0 * s.villages_new[site]
    # Nothing is paid before anything could be verified.
    assert r.public.time[rows].min() >= s.on_air_day[on].min() + 45.0


def test_output_based_budget_cuts_the_last_payment(tmp_path: Path) -> None:
    inst = {
        "type": "output_based",
        "usd_per_person": 10.0,
        "verification_days": 0,
        "budget_usd": 2500.0,
    }
    r = handmade(tmp_path, [inst])
    amounts = r.public.amount[public_rows(r, "output_based")]
    assert amounts.sum() == 2500.0
    assert np.all(amounts[:-1] == amounts[:-1].round(0))  # whole payments until the cap


@pytest.mark.parametrize(
    ("eligibility", "allowed"),
    [
        ({"zones": ["jungle"]}, lambda zone, pop: zone == "jungle"),
        ({"max_village_population": 100}, lambda zone, pop: pop <= 100),
    ],
    ids=["zone", "population"],
)
def test_capex_subsidy_only_for_eligible_sites(
    tmp_path: Path, eligibility: dict[str, Any], allowed: Any
) -> None:
    inst = {"type": "capex_subsidy", "share": 0.5, "eligibility": eligibility}
    r = handmade(tmp_path, [inst])
    v = r.world.villages
    paid = {str(x) for x in r.public.ref[public_rows(r, "capex_subsidy")]}
    built = np.isfinite(r.sites.build_start_day)
    assert paid
    for i in np.flatnonzero(built):
        vi = int(r.sites.village[i])
        ok = allowed(v.zone_names[int(v.zone[vi])], int(v.population[vi]))
        assert (str(v.ids[vi]) in paid) == ok
    for i in public_rows(r, "capex_subsidy"):
        site = int(np.flatnonzero(v.ids[r.sites.village] == r.public.ref[i])[0])
        assert r.public.amount[i] == round(0.5 * r.sites.capex_usd[site], 2)


def test_capex_subsidy_negative_viability(tmp_path: Path) -> None:
    rule = {"negative_viability": {"years": 10, "discount_rate": 0.15}}
    op = {"revenue": {"arpu_usd_month": 5.0}, "opex_usd_year": {z: 3000.0 for z in ZONES}}
    r = handmade(tmp_path, [{"type": "capex_subsidy", "share": 0.5, "eligibility": rule}], **op)
    sc = r.scenario
    revenue = sc.operators[0].revenue
    viability = sc.policies[0].instruments[0].eligibility.negative_viability  # type: ignore[union-attr]
    v = r.world.villages
    paid = {str(x) for x in r.public.ref[public_rows(r, "capex_subsidy")]}
    backhaul_opex = {1: 1000.0, 2: 3000.0, 3: 12000.0}
    seen = {True: 0, False: 0}
    for i in np.flatnonzero(np.isfinite(r.sites.build_start_day)):
        npv = site_npv(
            float(r.sites.people_planned[i]),
            float(r.sites.capex_usd[i]),
            3000.0 + backhaul_opex[int(r.sites.backhaul[i])],
            revenue,
            viability,
        )
        subsidised = str(v.ids[int(r.sites.village[i])]) in paid
        assert subsidised == (npv < 0)
        seen[subsidised] += 1
    assert seen[True] and seen[False]  # the case covers both kinds of site


def test_funding_rules_read_a_sites_facts(tmp_path: Path) -> None:
    """An operator's view of the funding desk (its FundingPort) prices a capex subsidy from a
    site's facts: the zone and host-village rules, the share, and the budget when committed."""
    import simpy

    from rollout_sim.model.finance import Ledger, Treasury
    from rollout_sim.model.funding import FundingDesk, SiteFacts

    rule = {"zones": ["highlands"], "max_village_population": 500}
    inst = {"type": "capex_subsidy", "funder": "m", "share": 0.5, "budget_usd": 8000.0}
    sc = scenario(
        tmp_path, XY, POP, zones=["coast", "coast", "highlands", "highlands", "jungle", "jungle"],
        policies=[{"name": "p", "instruments": [inst | {"eligibility": rule}]}],
    )  # fmt: skip
    env = simpy.Environment()
    desk = FundingDesk(env, sc.policy("p"), sc.operators, sc.start_date, 100, ZONES)
    port = desk.port(0)
    assert port.has_capex_subsidy

    def site(zone: str, population: int) -> SiteFacts:
        return SiteFacts(ZONES.index(zone), population, 300.0, 10_000.0, 4000.0, "v9")

    assert port.capex_support(site("highlands", 500), 10_000.0, commit=False) == 5000.0
    assert port.capex_support(site("highlands", 501), 10_000.0, commit=False) == 0.0
    assert port.capex_support(site("coast", 100), 10_000.0, commit=False) == 0.0
    treasury = Treasury(env, Ledger(("op",)), 0)
    assert port.capex_support(site("highlands", 80), 10_000.0, True, treasury) == 5000.0
    # The budget's last 3,000 go to the next site; the subsidy is booked, and is public cost.
    assert port.capex_support(site("highlands", 80), 10_000.0, True, treasury) == 3000.0
    assert treasury.cash == 8000.0 and desk.flows.amount == [5000.0, 3000.0]
    assert desk.flows.ref == ["v9", "v9"] and desk.flows.kind == ["capex_subsidy"] * 2


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.sampled_from([None, 12_000.0, 40_000.0, 1e9]),
    zones=st.sampled_from([None, ["highlands"], ["coast", "jungle"]]),
    limit=st.sampled_from([None, 300]),
    viability=st.booleans(),
    second=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_expected_capex_support_of_many_candidates_is_the_scalar_one(
    tmp_path: Path,
    budget: float | None,
    zones: list[str] | None,
    limit: int | None,
    viability: bool,
    second: bool,
    seed: int,
) -> None:
    """The siting queue's first heap asks every candidate's expected subsidy at once
    (:meth:`FundingDesk.expected_capex_support`): each number must be :meth:`capex_support`'s
    for that candidate, bit for bit, whatever the rules, budgets and overlapping subsidies."""
    import simpy

    from rollout_sim.model.funding import FundingDesk, SiteColumns, SiteFacts

    rule: dict[str, Any] = {"zones": zones, "max_village_population": limit}
    if viability:
        rule["negative_viability"] = {"years": 10, "discount_rate": 0.15}
    first = {"type": "capex_subsidy", "funder": "m", "share": 0.37, "budget_usd": budget}
    other = {"type": "capex_subsidy", "funder": "n", "share": 0.61, "budget_usd": 25_000.0}
    instruments = [first | {"name": "a", "eligibility": rule}]
    if second:
        instruments.append(other | {"name": "b"})
    sc = scenario(
        tmp_path, XY, POP, policies=[{"name": "p", "instruments": instruments}],
        operators=[operator(revenue={"arpu_usd_month": 4.5})],
    )  # fmt: skip
    desk = FundingDesk(simpy.Environment(), sc.policy("p"), sc.operators, sc.start_date, 100, ZONES)
    rng = np.random.default_rng(seed)
    n = 200
    cols = SiteColumns(
        zone=rng.integers(0, 3, n),
        village_population=rng.integers(10, 700, n),
        people=rng.integers(0, 3000, n).astype(np.float64),
        capex_usd=rng.uniform(5_000, 90_000, n).round(rng.integers(0, 4)),
        opex_usd_year=rng.uniform(1_000, 15_000, n),
    )
    many = desk.expected_capex_support(0, cols)
    one = [
        desk.capex_support(
            0,
            SiteFacts(int(z), int(p), float(pe), float(c), float(o), "x"),
            float(c),
            commit=False,
        )
        for z, p, pe, c, o in zip(*cols, strict=True)
    ]
    assert many.tolist() == one
    assert any(x > 0 for x in one) or zones == ["coast", "jungle"] or viability


def test_capex_waiting_for_money_is_paid_the_day_a_subsidy_opens(tmp_path: Path) -> None:
    """A capex bill the operator cannot pay waits; a full capex subsidy opening on day 10 pays
    it that day (the opening calls on the treasury, as a credit line's does), not when money
    next arrives."""
    import simpy

    from rollout_sim.model.finance import Ledger, Treasury
    from rollout_sim.model.funding import FundingDesk, SiteFacts

    inst = {"type": "capex_subsidy", "share": 1.0, "start_date": "2020-01-11"}
    sc = scenario(tmp_path, XY, POP, policies=[{"name": "p", "instruments": [inst]}])
    assert sc.start_date.isoformat() == "2020-01-01"
    env = simpy.Environment()
    port = FundingDesk(env, sc.policy("p"), sc.operators, sc.start_date, 100, ZONES).port(0)
    facts = SiteFacts(0, 100, 300.0, 10_000.0, 4000.0, "v3")
    treasury = Treasury(
        env,
        Ledger(("op",)),
        0,
        capex_support=lambda _v, amount, commit: port.capex_support(
            facts, amount, commit, treasury if commit else None
        ),
    )
    port.start_flows(treasury)
    paid = treasury.pay(10_000.0, "capex", "contractor", "v3", village=3)
    env.run(until=5)
    assert not paid.triggered and treasury.waiting == 1
    env.run(until=paid)
    assert env.now == 10.0 and treasury.cash == 0.0 and treasury.waiting == 0


def test_opex_fund_shares_running_and_repair_costs_for_its_years(tmp_path: Path) -> None:
    inst = {"type": "opex_fund", "share": 0.4, "years": 0.5}
    op = {"opex_usd_year": {z: 3650.0 for z in ZONES}}
    r = handmade(tmp_path, [inst], **op)
    rows = public_rows(r, "opex_fund")
    assert len(rows) > 0
    assert r.public.time[rows].max() < 0.5 * 365.25
    opex_t, opex = r.ledger.time, r.ledger.amount
    m = (r.ledger.category == "opex") & (opex_t < 0.5 * 365.25)
    assert r.public.amount[rows].sum() == pytest.approx(-0.4 * opex[m].sum(), abs=0.01 * m.sum())


def test_equity_schedule_and_budget(tmp_path: Path) -> None:
    inst = {
        "type": "equity",
        "funder": "state",
        "budget_usd": 250000.0,
        "schedule": [
            {"date": "2020-01-11", "amount_usd": 100000.0},
            {"date": "2020-03-01", "amount_usd": 100000.0},
            {"date": "2020-06-01", "amount_usd": 100000.0},
        ],
    }
    r = handmade(tmp_path, [inst])
    rows = public_rows(r, "equity")
    assert r.public.time[rows].tolist() == [10.0, 60.0, 152.0]
    assert r.public.amount[rows].tolist() == [100000.0, 100000.0, 50000.0]
    eq = (r.ledger.category == "equity") & (r.ledger.counterparty == "state:p.equity1")
    assert r.ledger.amount[eq].tolist() == [100000.0, 100000.0, 50000.0]


def test_loan_guarantee_cuts_the_rate_and_pays_first_loss(tmp_path: Path) -> None:
    line = {"lender": "bank", "limit_usd": 1e6, "annual_rate": 0.5, "tenor_months": 2}
    g = {
        "type": "loan_guarantee",
        "funder": "dfi",
        "rate_reduction": 0.2,
        "first_loss_share": 0.6,
        "budget_usd": 20000.0,
    }
    plain = handmade(tmp_path, [], cash_usd=20000, credit_lines=[line])
    guaranteed = handmade(tmp_path, [g], cash_usd=20000, credit_lines=[line])
    for r in (plain, guaranteed):
        assert any(k == "default" for _, _, k, _ in r.events)
    calls = public_rows(guaranteed, "guarantee_call")
    assert len(calls) == 1
    debt = guaranteed.daily["debt_usd"][-1]
    assert guaranteed.public.amount[calls[0]] == min(round(0.6 * debt, 2), 20000.0)
    assert len(public_rows(plain)) == 0


# --- replications, pairing and aggregates ------------------------------------------------------


def test_identical_policies_differ_by_exactly_zero() -> None:
    sc = small_funding()
    twin = sc.policies[3].model_copy(update={"name": "output_based_twin"})
    sc.policies.append(twin)
    sc.baseline_policy = "output_based"
    comp = compare_policies(sc, ["output_based", "output_based_twin"], reps=3)
    names = comp.metric_names()
    assert "people_covered" in names and "public_cost_usd" in names
    for metric in names:
        d = comp.difference("output_based_twin", metric)
        base = comp.sets["output_based"].metrics[metric]
        if np.all(np.isnan(base)):
            assert d.n == 0
            continue
        assert (d.mean, d.lo, d.hi) == (0.0, 0.0, 0.0), metric
    a = comp.sets["output_based"].series["people_covered"]
    b = comp.sets["output_based_twin"].series["people_covered"]
    assert np.array_equal(a, b)


def test_common_random_numbers_across_policies() -> None:
    sc = small_funding()
    k = 2
    seeds = np.random.SeedSequence(sc.seed).spawn(3)
    runs = [simulate(sc, seeds[k], policy=p) for p in ("equity_only", "concessional_credit")]
    a, b = runs
    common = np.intersect1d(
        a.sites.village[np.isfinite(a.sites.built_day)],
        b.sites.village[np.isfinite(b.sites.built_day)],
    )
    assert len(common) > 10
    for v in common:
        ia = int(np.flatnonzero(a.sites.village == v)[0])
        ib = int(np.flatnonzero(b.sites.village == v)[0])
        da = a.sites.built_day[ia] - a.sites.build_start_day[ia]
        db = b.sites.built_day[ib] - b.sites.build_start_day[ib]
        assert da == db  # the same draw for the same site, whatever the policy
    # ...and the policies really did build differently.
    assert not np.array_equal(a.sites.village, b.sites.village)
    rs = run_replications(sc, 3, policy="equity_only")
    assert rs.seeds == [(0,), (1,), (2,)]
    assert rs.metrics["people_covered"][k] == a.daily["people_covered"][-1]


def test_aggregates_match_numpy() -> None:
    m = np.array([[1.0, 10.0, 5.0], [2.0, 20.0, 5.0], [3.0, 60.0, 5.0], [10.0, 30.0, 5.0]])
    b = band(m, (0.1, 0.9))
    assert b.mean.tolist() == m.mean(axis=0).tolist()
    assert b.median.tolist() == np.median(m, axis=0).tolist()
    assert b.lo.tolist() == np.quantile(m, 0.1, axis=0).tolist()
    assert b.hi.tolist() == np.quantile(m, 0.9, axis=0).tolist()
    iv = interval(np.array([4.0, np.nan, 1.0, 3.0, 2.0]), 0.5)
    assert (iv.mean, iv.lo, iv.hi, iv.n) == (2.5, 1.75, 3.25, 4)
    # Paired differences: d = [1, 2, 3, 6], mean 3, sd √(14/3), t(0.975, 3) = 3.18245.
    base = np.array([10.0, 20.0, 30.0, 40.0])
    other = base + np.array([1.0, 2.0, 3.0, 6.0])
    d = paired_difference(base, other, 0.95)
    half = 3.182446305284263 * np.sqrt(14 / 3) / 2
    assert d.mean == 3.0 and d.n == 4
    assert d.lo == pytest.approx(3.0 - half) and d.hi == pytest.approx(3.0 + half)
    pb = paired_band(base[:, None], other[:, None], 0.95)
    assert pb.lo[0] == pytest.approx(d.lo) and pb.hi[0] == pytest.approx(d.hi)
    nan_pair = paired_difference(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, np.nan]))
    assert (nan_pair.mean, nan_pair.n) == (1.0, 1)


# --- the command line ------------------------------------------------------------------------


def test_cli_run_reps_and_compare(tmp_path: Path) -> None:
    small = [
        "--set",
        "geography.synthetic.villages=300",
        "--set",
        "horizon_years=1.5",
        "--set",
        "operators.0.cash_usd=400000",
        "--set",
        "operators.0.capex_reserve_usd=50000",
    ]
    code, _, err = run_cli(
        "run",
        str(FUNDING),
        "--reps",
        "3",
        "--out",
        str(tmp_path / "reps"),
        "--quiet",
        "--policy",
        "output_based",
        *small,
    )
    assert code == 0, err
    reps = (tmp_path / "reps" / "replications.csv").read_text().splitlines()
    assert len(reps) == 4 and reps[0].startswith("replication,seed_spawn_key,people_covered")
    summary = (tmp_path / "reps" / "timeseries_summary.csv").read_text().splitlines()
    assert summary[0] == "date,series,mean,median,p10,p90"
    assert (tmp_path / "reps" / "plots" / "coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "cmp"
    code, _, err = run_cli(
        "compare",
        str(FUNDING),
        "--reps",
        "2",
        "--out",
        str(out),
        "--quiet",
        "--policies",
        "capex_subsidy,output_based",
        *small,
    )
    assert code == 0, err
    rows = (out / "comparison.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["equity_only", "capex_subsidy", "output_based"]
    assert "public_cost_per_person_reached_usd_p5" in rows[0]
    diffs = (out / "differences.csv").read_text().splitlines()
    assert diffs[0] == (
        "policy,baseline,metric,baseline_mean,policy_mean,difference,ci95_lo,ci95_hi,n"
    )
    assert {r.split(",")[0] for r in diffs[1:]} == {"capex_subsidy", "output_based"}
    for f in ("coverage.png", "public_cost_per_person.png", "difference_people_covered.png"):
        assert (out / "plots" / f).exists()
    again = tmp_path / "cmp2"
    code, _, _ = run_cli(
        "compare",
        str(FUNDING),
        "--reps",
        "2",
        "--out",
        str(again),
        "--quiet",
        "--no-plots",
        "--policies",
        "capex_subsidy,output_based",
        *small,
    )
    for f in ("comparison.csv", "differences.csv", "replications.csv", "timeseries_summary.csv"):
        assert (out / f).read_bytes() == (again / f).read_bytes(), f


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["compare", str(FUNDING), "--policies", "nope"], "--policies: 'nope': unknown policy"),
        (["run", str(FUNDING), "--policy", "nope"], "--policy: 'nope': unknown policy"),
        (["compare", str(QUICKSTART)], "has no policies"),
        (["run", str(FUNDING), "--reps", "0"], "--reps: '0': expected a whole number"),
    ],
    ids=["compare-unknown", "run-unknown", "no-policies", "zero-reps"],
)
def test_cli_policy_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    code, _, err = run_cli(*args, "--out", str(tmp_path / "x"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert not (tmp_path / "x").exists()


def test_a_port_says_which_running_costs_its_funds_may_pay(tmp_path: Path) -> None:
    """Maintenance crews ask a policy's opex funds towards a repair only if one covers repairs:
    a fund of running costs alone, or no fund, never pays towards one."""
    import simpy

    from rollout_sim.model.funding import FundingDesk

    fund = {"type": "opex_fund", "share": 0.5, "years": 5, "budget_usd": 1000.0}
    grant = {"type": "capex_subsidy", "share": 0.5}
    policies = [
        {"name": "both", "instruments": [fund]},
        {"name": "opex", "instruments": [fund | {"covers": ["opex"]}, grant]},
        {"name": "repairs", "instruments": [grant, fund | {"covers": ["repair"]}]},
        {"name": "none", "instruments": [grant]},
    ]
    sc = scenario(tmp_path, XY, POP, policies=policies)
    covered = {}
    for name in ("both", "opex", "repairs", "none"):
        port = FundingDesk(
            simpy.Environment(), sc.policy(name), sc.operators, sc.start_date, 100, ZONES
        ).port(0)
        covered[name] = (port.funds_cover("repair"), port.funds_cover("opex"))
    assert covered == {
        "both": (True, True),
        "opex": (False, True),
        "repairs": (True, False),
        "none": (False, False),
    }
