"""Units of the model: distributions, the treasury and ledger, random streams."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from scipy import stats

from rollout_sim.model.distributions import mean_days, ppf
from rollout_sim.model.finance import Ledger, Treasury
from rollout_sim.model.streams import Streams, replication_seeds
from rollout_sim.scenario.schema import (
    FixedDays,
    GammaDays,
    LogNormalDays,
    TriangularDays,
    UniformDays,
)

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
