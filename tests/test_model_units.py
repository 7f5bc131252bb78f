"""Units of the model: distributions, the treasury and ledger, random streams, the records and
queues the engine runs on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from rollout_sim.engine import CountingEnvironment
from rollout_sim.model.distributions import mean_days, ppf
from rollout_sim.model.finance import CapexReserve, Halted, Ledger, Treasury
from rollout_sim.model.funding import SiteFacts
from rollout_sim.model.records import SiteRegister
from rollout_sim.model.streams import Streams, replication_seeds
from rollout_sim.scenario.schema import (
    FixedDays,
    GammaDays,
    LogNormalDays,
    TriangularDays,
    UniformDays,
)
from rollout_sim.units import DAYS_PER_YEAR, cents

U = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])


@pytest.mark.parametrize(
    ("dist", "frozen"),
    [
        (UniformDays(distribution="uniform", low_days=10, high_days=30), stats.uniform(10, 20)),
        (
            TriangularDays(distribution="triangular", low_days=10, mode_days=15, high_days=40),
            stats.triang(c=5 / 30, loc=10, scale=30),
        ),
        (
            LogNormalDays(distribution="lognormal", mean_days=60, sd_days=20),
            stats.lognorm(
                s=np.sqrt(np.log1p((20 / 60) ** 2)),
                scale=60 / np.sqrt(1 + (20 / 60) ** 2),
            ),
        ),
        (
            GammaDays(distribution="gamma", mean_days=90, sd_days=30),
            stats.gamma(a=9, scale=10),
        ),
    ],
    ids=["uniform", "triangular", "lognormal", "gamma"],
)
def test_ppf_matches_scipy(dist: object, frozen: object) -> None:
    assert np.allclose(ppf(dist, U), frozen.ppf(U), rtol=1e-9)  # type: ignore[arg-type, attr-defined]
    assert mean_days(dist) == pytest.approx(frozen.mean())  # type: ignore[arg-type, attr-defined]


def test_fixed_and_degenerate_lognormal() -> None:
    assert ppf(FixedDays(distribution="fixed", days=7), U).tolist() == [7.0] * len(U)
    flat = LogNormalDays(distribution="lognormal", mean_days=12, sd_days=0)
    assert ppf(flat, U).tolist() == [12.0] * len(U)


def test_treasury_pays_in_order_and_waits_for_cash() -> None:
    env = simpy.Environment()
    ledger = Ledger(("op",))
    t = Treasury(env, ledger, 0)
    paid: list[tuple[str, float]] = []

    def buyer(name: str, amount: float, delay: float):  # type: ignore[no-untyped-def]
        yield env.timeout(delay)
        yield t.pay(amount, "capex", "contractors", name)
        paid.append((name, env.now))

    def funder():  # type: ignore[no-untyped-def]
        t.receive(100.0, "equity", "shareholders")
        yield env.timeout(10)
        t.receive(150.0, "equity", "shareholders")
        yield env.timeout(10)
        t.receive(1000.0, "equity", "shareholders")

    env.process(funder())
    env.process(buyer("a", 60.0, 1))  # paid at once (cash 100)
    env.process(buyer("b", 200.0, 2))  # waits: 40 < 200; at t=10 cash 190 still short
    env.process(buyer("c", 10.0, 3))  # behind b in the queue although affordable (FIFO)
    env.run()
    assert paid == [("a", 1.0), ("b", 20.0), ("c", 20.0)]
    assert t.cash == pytest.approx(100 + 150 + 1000 - 60 - 200 - 10)
    assert t.cash == ledger.row_sum(0)
    assert ledger.balance[-1] == t.cash
    assert ledger.category == ["equity", "capex", "equity", "equity", "capex", "capex"]


def test_bills_owed_are_paid_in_turn_behind_waiting_ones() -> None:
    """A bill booked as payable (``owe``) is paid at once only when nothing of its class or
    above waits and cash covers it; else it waits its turn, first come first served, and is
    paid when money arrives — before capex, even capex queued earlier."""
    env = simpy.Environment()
    ledger = Ledger(("op",))
    t = Treasury(env, ledger, 0)
    t.receive(100.0, "equity", "shareholders")
    capex = t.pay(90.0, "capex", "contractors", "site")  # paid: cash 100
    t.owe(5.0, "repair", "maintenance", "r1")  # paid at once: cash 10 → 5
    assert capex.triggered and (t.cash, t.waiting) == (5.0, 0)
    t.owe(30.0, "repair", "maintenance", "r2")  # short: waits
    t.owe(1.0, "repair", "maintenance", "r3")  # affordable, but behind r2
    later = t.pay(2.0, "capex", "contractors", "site2")  # capex waits behind the repairs
    assert (t.cash, t.waiting) == (5.0, 3)
    t.owe(0.5, "opex", "staff", "o1")  # a class below repairs waits too
    t.receive(40.0, "equity", "shareholders")  # 45: r2, r3, o1 and site2 paid, in order
    assert later.triggered and t.waiting == 0
    assert ledger.ref[-5:] == ["", "r2", "r3", "o1", "site2"]
    assert list(ledger.amount)[-4:] == [-30.0, -1.0, -0.5, -2.0]
    assert t.cash == 11.5 == ledger.row_sum(0) == ledger.balance[-1]
    with pytest.raises(ValueError, match="not queued"):
        t.owe(1.0, "revenue", "x")


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_an_amount_in_cents_rounds_to_itself_and_so_does_its_negation(x: float) -> None:
    """What ``Ledger.record_cents`` relies on to skip rounding a bill again: up to a trillion
    US$, ``cents`` gives back a ``cents()`` result and its negation, to the bit."""
    c = cents(x)
    assert cents(c) == c and cents(-c) == -c
    assert math.copysign(1.0, cents(-c)) == math.copysign(1.0, -c)


def test_a_bill_booked_through_the_shortcut_is_the_row_record_appends() -> None:
    """``owe`` with nothing waiting books through ``record_cents``: the same row, cash and
    balance as ``record`` of the amount, whatever its fraction of a cent."""
    env = simpy.Environment()
    quick, plain = Ledger(("op",)), Ledger(("op",))
    t = Treasury(env, quick, 0)
    t.receive(1000.0, "equity", "shareholders")
    plain.record(0.0, 0, "equity", 1000.0, "shareholders")
    for amount in (0.125, 2.675, 1.005, 33.3333, 0.004):
        t.owe(amount, "repair", "maintenance", "r")
        plain.record(0.0, 0, "repair", -cents(amount), "maintenance", "r")
    for column in ("time", "operator", "category", "amount", "counterparty", "ref", "balance"):
        assert list(getattr(quick, column)) == list(getattr(plain, column)), column
    assert quick.category[-1] is plain.category[-1]  # the shared string
    assert quick.cash(0) == plain.cash(0) == 962.88  # 0.125 → 0.12 (half to even), 0.004 → 0


def test_ledger_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="unknown ledger category"):
        Ledger(("op",)).record(0.0, 0, "gift", 1.0, "x")


def test_streams_are_independent_and_reproducible() -> None:
    a, b = Streams(5), Streams(5)
    assert a["build_times"].random() == b["build_times"].random()
    # Drawing from one stream never shifts another.
    c = Streams(5)
    c["siting"].random(1000)
    assert c["build_times"].random() == Streams(5)["build_times"].random()
    assert Streams(5)["build_times"].random() != Streams(6)["build_times"].random()
    assert Streams(5)["build_times"].random() != Streams(5)["siting"].random()
    # A single run is replication 0 of the scenario seed.
    rep0 = Streams(replication_seeds(5, 3)[0])["failures"].random()
    assert rep0 == Streams(5)["failures"].random()
    with pytest.raises(KeyError, match="unknown random stream"):
        Streams(5)["weather"]


def test_the_treasury_is_built_with_its_reserve_and_credit() -> None:
    """The reserve (a fixed part plus parts computed when capex is weighed) and the credit it
    draws on are given when the treasury is built; the credit's dated flows start then."""
    env = simpy.Environment()
    ledger = Ledger(("op",))

    class Bank:
        def __init__(self) -> None:
            self.started: list[Treasury] = []
            self.draws: list[tuple[float, float]] = []

        def start(self, treasury: Treasury) -> None:
            self.started.append(treasury)

        def draw_for_capex(self, treasury: Treasury, shortfall: float, amount: float) -> bool:
            self.draws.append((shortfall, amount))
            treasury.book(shortfall, "loan_drawdown", "bank", "capex")
            return True

    bank = Bank()
    debt_service = [20.0]
    t = Treasury(
        env, ledger, 0, reserve=CapexReserve(30.0, (lambda: debt_service[0],)), credit=bank
    )
    assert bank.started == [t]
    t.receive(100.0, "equity", "shareholders")
    # 80 of capex with 30 + 20 kept back needs 130: the bank lends the 30 short.
    assert t.pay(80.0, "capex", "contractors").triggered
    assert bank.draws == [(30.0, 80.0)] and t.cash == 50.0
    # Running costs may use the reserve; capex may not.
    assert t.pay(40.0, "opex", "power").triggered and t.cash == 10.0
    assert CapexReserve(30.0, (lambda: 20.0, lambda: 5.5)).usd() == 55.5


def test_a_stopped_class_is_paid_no_more() -> None:
    """After a default the treasury stops paying capex: what waits fails with Halted, and so
    does every later capex bill; other classes are paid as before."""
    env = simpy.Environment()
    ledger = Ledger(("op",))
    t = Treasury(env, ledger, 0)
    stopped: list[tuple[str, float]] = []

    def buyer(name: str, delay: float):  # type: ignore[no-untyped-def]
        yield env.timeout(delay)
        try:
            yield t.pay(500.0, "capex", "contractors", name)
        except Halted:
            stopped.append((name, env.now))

    def default():  # type: ignore[no-untyped-def]
        yield env.timeout(2)
        assert t.stop("capex") == 1
        t.receive(1000.0, "equity", "shareholders")

    env.process(buyer("waiting", 1))
    env.process(buyer("later", 3))
    env.process(default())
    env.run()
    assert stopped == [("waiting", 2.0), ("later", 3.0)]
    assert t.pay(10.0, "opex", "power").triggered
    assert ledger.category == ["equity", "opex"] and t.cash == 990.0


def test_counting_environment_counts_every_scheduled_event() -> None:
    env = CountingEnvironment()

    def ticker(n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(ticker(10))
    env.run()
    assert env.scheduled == 12  # ten timeouts; the process's start and its end add two

    env = CountingEnvironment()
    env.process(ticker(30))
    env.run(until=2.5)
    # The start, the timeouts due at 1, 2 and 3 (scheduled, though the run stops before the
    # last), and the event that stops the run at 2.5, which SimPy schedules again as it stops.
    assert env.scheduled == 1 + 3 + 2
    assert env.scheduled == next(env._eid)  # SimPy's own numbering, read here only to check


def test_site_facts_are_a_frozen_record() -> None:
    facts = SiteFacts(
        zone=1, village_population=120, people=300.0, capex_usd=5e4, opex_usd_year=5e3, ref="v7"
    )
    with pytest.raises(AttributeError):
        facts.people = 1.0  # type: ignore[misc]
    assert not hasattr(facts, "__dict__")  # a small record, made per candidate weighed
    assert facts == SiteFacts(1, 120, 300.0, 5e4, 5e3, "v7")
    assert (facts.zone, facts.village_population, facts.ref) == (1, 120, "v7")


def test_site_register_keeps_each_fact_once_by_village() -> None:
    sites = SiteRegister(5)
    assert sites.add(3, 0, False, 2, 1, 4.0, 30_000.0) == 0
    assert sites.add(1, 1, True, 1, -1, 6.0, 15_000.0) == 1
    assert list(sites.rows) == [3, 1] and len(sites) == 2
    assert sites.operator.tolist() == [-1, 1, -1, 0, -1]
    assert sites.capex_usd[3] == 30_000.0 and bool(sites.upgrade[1])
    assert np.isnan(sites.built_day).all()  # filled in as the sites progress
    with pytest.raises(ValueError, match="already has a site"):
        sites.add(3, 1, False, 3, 0, 7.0, 1.0)


def test_units_are_defined_once() -> None:
    from rollout_sim.model import accounting, demand, funding, maintenance

    for module in (accounting, demand, funding, maintenance):
        assert module.DAYS_PER_YEAR is DAYS_PER_YEAR
    assert DAYS_PER_YEAR == 365.25
    assert cents(2.675) == round(2.675, 2) and cents(-0.004) == 0.0
