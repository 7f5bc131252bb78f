"""Uncertain inputs: validation of the uncertainties: block, the Latin hypercube drawn per
replication (deterministic, paired across policies, executor-independent), the sampled values
in replications.csv, and regret.csv recomputed from replications.csv."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.errors import ScenarioError
from rollout_sim.experiments.compare import compare_policies
from rollout_sim.experiments.executors import PoolExecutor
from rollout_sim.experiments.regret import regrets
from rollout_sim.experiments.replications import replicate
from rollout_sim.experiments.runner import Batch
from rollout_sim.experiments.uncertainty import (
    lhs_unit,
    replication_sample,
    resolve_uncertainties,
)

from conftest import run_cli, small_scenario_dict, write_yaml

UNCERTAIN: list[dict[str, Any]] = [
    {
        "path": "operators.0.build_crews",
        "distribution": "uniform",
        "low": 2,
        "high": 6,
        "integer": True,
    },
    {
        "path": "operators.ruralco.capex_usd.greenfield.highlands",
        "distribution": "triangular",
        "low": 35000,
        "mode": 50000,
        "high": 80000,
    },
    {
        "path": "maintenance.failures.mtbf_days.jungle",
        "distribution": "lognormal",
        "median": 270,
        "sigma": 0.4,
    },
    {
        "path": "operators.0.revenue.adoption.ceiling_share",
        "distribution": "normal",
        "mean": 0.9,
        "sd": 0.3,
    },
]

POLICIES: list[dict[str, Any]] = [
    {"name": "none", "instruments": []},
    {
        "name": "obi",
        "instruments": [
            {"type": "output_based", "funder": "gov", "usd_per_person": 20, "budget_usd": 500_000}
        ],
    },
    {
        "name": "credit",
        "instruments": [
            {
                "type": "credit_line",
                "funder": "bank",
                "limit_usd": 1_000_000,
                "annual_rate": 0.02,
                "tenor_months": 60,
            }
        ],
    },
]


def scenario_dict(**kw: Any) -> dict[str, Any]:
    data = small_scenario_dict(horizon_years=1, uncertainties=UNCERTAIN, policies=POLICIES)
    data["geography"]["synthetic"]["villages"] = 150
    data["operators"][0]["cash_usd"] = 300_000
    data.update(kw)
    return data


# --------------------------------------------------------------------------------------------
# Validation: one line naming the file, the key path, the value and what is expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"path": "operators.0.build_crew", "distribution": "uniform", "low": 1, "high": 3},
            "uncertainties[0].path: 'operators.0.build_crew': no key 'build_crew' in "
            "operators[0]; did you mean 'build_crews'?",
        ),
        (
            {"path": "operators.0.capex_usd", "distribution": "uniform", "low": 1, "high": 3},
            "uncertainties[0].path: 'operators.0.capex_usd': expected a path to a number; "
            "operators[0].capex_usd is a mapping",
        ),
        (
            {
                "path": "operators.0.build_crews",
                "distribution": "uniform",
                "low": 0,
                "high": 8,
                "integer": True,
            },
            "uncertainties[0].low: 0.0: outside what operators[0].build_crews allows "
            "(>= 1 and <= 100000)",
        ),
        (
            {"path": "operators.0.build_crews", "distribution": "uniform", "low": 1, "high": 8},
            "uncertainties[0].path: 'operators.0.build_crews': operators[0].build_crews "
            "takes whole numbers: add integer: true",
        ),
        (
            {
                "path": "operators.nobody.build_crews",
                "distribution": "uniform",
                "low": 1,
                "high": 8,
                "integer": True,
            },
            "uncertainties[0].path: 'operators.nobody.build_crews': no item named 'nobody' in "
            "operators; expected one of: ruralco",
        ),
        (
            {
                "path": "operators.0.revenue.adoption.ceiling_share",
                "distribution": "triangular",
                "low": 0.5,
                "mode": 0.9,
                "high": 1.2,
            },
            "uncertainties[0].high: 1.2: outside what "
            "operators[0].revenue.adoption.ceiling_share allows (>= 0 and <= 1)",
        ),
    ],
)
def test_a_bad_uncertainty_is_one_line_and_exit_2(
    tmp_path: Path, item: dict[str, Any], expected: str
) -> None:
    path = write_yaml(tmp_path, scenario_dict(uncertainties=[item]))
    out = tmp_path / "out"
    code, _, err = run_cli("run", path, "--reps", "2", "--out", out)
    assert code == 2
    # The file, the line of the item (yaml.safe_dump writes a block per item), the key path.
    assert re.fullmatch(rf"error: {re.escape(str(path))}:\d+: {re.escape(expected)}\n", err), err
    assert not out.exists()


def test_schema_checks_of_the_block(tmp_path: Path) -> None:
    bad = {"path": "operators.0.cash_usd", "distribution": "uniform", "low": 5, "high": 1}
    path = write_yaml(tmp_path, scenario_dict(uncertainties=[bad]))
    code, _, err = run_cli("validate", path)
    assert code == 2
    assert err.startswith(f"error: {path}:")
    assert err.rstrip().endswith("uncertainties[0]: need low < high")
    twice = [UNCERTAIN[0], {**UNCERTAIN[0], "high": 5}]
    path = write_yaml(tmp_path, scenario_dict(uncertainties=twice), "twice.yaml")
    code, _, err = run_cli("validate", path)
    assert code == 2
    items = [
        i + 1
        for i, text in enumerate(path.read_text().splitlines())
        if text == "- path: operators.0.build_crews"
    ]
    line = items[1]  # the second item's line
    assert err == (
        f"error: {path}:{line}: uncertainties[1].path: 'operators.0.build_crews': drawn twice "
        "(also uncertainties[0])\n"
    )


def test_a_set_that_breaks_an_uncertainty_is_blamed(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, scenario_dict())
    code, _, err = run_cli("validate", path, "--set", "uncertainties.0.path=operators.0.crews")
    assert code == 2
    assert err.startswith("error: --set uncertainties.0.path=operators.0.crews: ")


# --------------------------------------------------------------------------------------------
# The Latin hypercube


def test_latin_hypercube_is_stratified_and_seeded() -> None:
    u = lhs_unit(8, 3, seed=42)
    assert u.shape == (8, 3)
    for j in range(3):  # one value in each eighth of 0..1, per input
        assert sorted(np.floor(u[:, j] * 8).astype(int).tolist()) == list(range(8))
    assert np.array_equal(u, lhs_unit(8, 3, seed=42))
    assert not np.array_equal(u, lhs_unit(8, 3, seed=43))


def test_drawn_values_respect_distributions_and_field_bounds() -> None:
    sc = load_scenario(scenario_dict())
    sample = replication_sample(sc, 40)
    assert sample is not None
    cols = sample.columns()
    crews = cols["operators.0.build_crews"]
    assert set(crews.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}  # every whole number, all drawn
    assert np.bincount(crews.astype(int))[2:].tolist() == [8, 8, 8, 8, 8]  # equally often
    capex = cols["operators.ruralco.capex_usd.greenfield.highlands"]
    assert capex.min() >= 35000 and capex.max() <= 80000
    share = cols["operators.0.revenue.adoption.ceiling_share"]
    assert share.max() <= 1.0  # normal(0.9, 0.3) truncated to the field's 0..1
    assert (share > 0.95).sum() >= 3  # ... but it still reaches up there (10% of draws)
    mtbf = cols["maintenance.failures.mtbf_days.jungle"]
    assert 150 < float(np.median(mtbf)) < 400  # median 270
    # The field's limits are read from the schema.
    first = resolve_uncertainties(sc)[0]
    assert (first.field.low, first.field.high, first.field.whole) == (1.0, 100_000.0, True)


def test_inverse_distribution_functions_by_hand() -> None:
    sc = load_scenario(scenario_dict())
    crews, capex, mtbf, share = resolve_uncertainties(sc)
    # Uniform whole numbers 2..6: five equal slices of 0..1.
    assert crews.value(np.array([0.0, 0.19, 0.2, 0.5, 0.999])).tolist() == [2, 2, 3, 4, 6]
    # Triangular 35k, 50k, 80k: the mode is at F = 15/45 = 1/3.
    assert capex.value(np.array([1 / 3]))[0] == pytest.approx(50000)
    assert capex.value(np.array([0.0, 1.0])).tolist() == [35000, 80000]
    # Log-normal: the median at 0.5.
    assert mtbf.value(np.array([0.5]))[0] == pytest.approx(270)
    # Normal(0.9, 0.3) truncated to 0..1: its median solves Φ((x-0.9)/0.3) halfway between
    # Φ(-3) and Φ(1/3).
    from scipy.stats import norm

    a, b = norm.cdf(-3), norm.cdf(1 / 3)
    expect = 0.9 + 0.3 * norm.ppf((a + b) / 2)
    assert share.value(np.array([0.5]))[0] == pytest.approx(expect)


def test_every_policy_sees_the_same_draws_and_results_repeat() -> None:
    sc = load_scenario(scenario_dict())
    comp = compare_policies(sc, reps=4)
    draws = [comp.sets[p].inputs for p in comp.policies]
    for other in draws[1:]:
        assert other.keys() == draws[0].keys()
        for name in draws[0]:
            assert np.array_equal(other[name], draws[0][name])
    again = compare_policies(sc, reps=4)
    for p in comp.policies:
        for name, values in comp.sets[p].metrics.items():
            assert np.array_equal(values, again.sets[p].metrics[name], equal_nan=True), name
    # The drawn inputs move the outcomes: replications differ by more than event noise.
    days = comp.sets["none"].metrics["days_to_reach_50pct"]
    assert len(set(days.tolist())) == 4
    # run --reps draws the same values as compare's replications.
    rset = replicate(sc, 4, policy="none")
    assert np.array_equal(rset.metrics["days_to_reach_50pct"], days)


def test_without_uncertainties_nothing_is_drawn() -> None:
    sc = load_scenario(scenario_dict(uncertainties=[]))
    assert replication_sample(sc, 3) is None
    rset = replicate(sc, 2, policy="none")
    assert rset.inputs == {}


def test_the_same_results_on_a_process_pool() -> None:
    sc = load_scenario(scenario_dict())
    serial = compare_policies(sc, reps=3)
    pool = PoolExecutor(2)
    try:
        parallel = compare_policies(sc, reps=3, batch=Batch(pool))
    finally:
        pool.close()
    for p in serial.policies:
        for name, values in serial.sets[p].metrics.items():
            assert np.array_equal(values, parallel.sets[p].metrics[name], equal_nan=True)


# --------------------------------------------------------------------------------------------
# compare's files: the drawn values in replications.csv, regret.csv from them


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_compare_writes_drawn_values_and_regret(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, scenario_dict())
    out = tmp_path / "cmp"
    code, _, err = run_cli("compare", path, "--reps", "5", "--jobs", "2", "-q", "--out", out)
    assert code == 0, err
    reps = _rows(out / "replications.csv")
    names = [u["path"] for u in UNCERTAIN]
    assert all(n in reps[0] for n in names)
    by_rep: dict[str, dict[str, str]] = {}
    for row in reps:  # the same drawn values on replication k, whatever the policy
        drawn = {n: row[n] for n in names}
        assert by_rep.setdefault(row["replication"], drawn) == drawn
    regret = _rows(out / "regret.csv")
    policies = [p["name"] for p in POLICIES]
    for metric, better in (("people_reached", "higher"), ("public_cost_usd", "lower")):
        values = np.array([[float(r[metric]) for r in reps if r["policy"] == p] for p in policies])
        r = regrets(values, better == "higher")
        # ... and by hand: best − own (higher is better) or own − best (lower is better).
        best = values.max(axis=0) if better == "higher" else values.min(axis=0)
        hand = best - values if better == "higher" else values - best
        assert np.allclose(r, hand)
        for i, p in enumerate(policies):
            row = next(x for x in regret if x["policy"] == p and x["metric"] == metric)
            assert row["better"] == better
            assert float(row["mean_regret"]) == pytest.approx(hand[i].mean(), rel=1e-5)
            assert float(row["max_regret"]) == pytest.approx(hand[i].max(), rel=1e-5)
            assert float(row["share_best"]) == pytest.approx((hand[i] == 0).mean())
            assert row["n"] == "5"
    # Every replication has a best policy, so the shares of being best add up to at least 1.
    shares = [float(x["share_best"]) for x in regret if x["metric"] == "people_reached"]
    assert sum(shares) >= 1.0
    # sites_on_air has no better direction: no regret for it.
    assert not any(x["metric"] == "sites_on_air" for x in regret)


def test_regret_by_hand() -> None:
    values = np.array([[10.0, 5.0, 7.0], [8.0, 9.0, 7.0]])  # 2 policies × 3 replications
    assert regrets(values, True).tolist() == [[0, 4, 0], [2, 0, 0]]
    assert regrets(values, False).tolist() == [[2, 0, 0], [0, 4, 0]]
    from rollout_sim.experiments.regret import regret_table

    rows = regret_table(
        {"a": {"people_reached": values[0]}, "b": {"people_reached": values[1]}},
        ["people_reached", "sites_on_air"],
    )
    assert [(r.policy, r.mean_regret, r.max_regret, r.share_best, r.n) for r in rows] == [
        ("a", 4 / 3, 4.0, 2 / 3, 3),
        ("b", 2 / 3, 2.0, 2 / 3, 3),
    ]
    gap = {
        "a": {"people_reached": np.array([1.0, math.nan])},
        "b": {"people_reached": np.array([2.0, 3.0])},
    }
    nan = regret_table(gap, ["people_reached"])
    assert [r.n for r in nan] == [1, 1]


@pytest.mark.parametrize(
    ("higher", "reads"),
    [
        (True, "regret (people): the best policy's value in that replication minus its own"),
        (False, "regret (usd): its own value minus the best policy's in that replication"),
    ],
)
def test_the_regret_axis_says_which_way_it_was_taken(higher: bool, reads: str) -> None:
    """A cost's regret is the policy's own cost minus the cheapest: the axis must not say
    the reverse, as it did for every metric."""
    import matplotlib.pyplot as plt

    from rollout_sim.plots.uncertainty import regret_figure

    unit = "people" if higher else "usd"
    fig = regret_figure("t", {"a": np.array([0.0, 4.0])}, unit, {"a": 0.5}, higher=higher)
    assert fig.axes[0].get_xlabel() == reads
    plt.close(fig)


def test_validation_error_type() -> None:
    with pytest.raises(ScenarioError, match="drawn twice"):
        resolve_uncertainties(
            load_scenario(scenario_dict(uncertainties=[UNCERTAIN[0], UNCERTAIN[0]]))
        )


def test_compare_files_are_byte_identical_on_every_executor(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, scenario_dict())
    runs = {"serial": ("--executor", "serial"), "processes": ("--jobs", "2")}
    try:
        import distributed  # noqa: F401

        runs["dask"] = ("--executor", "dask", "--jobs", "2")
    except ImportError:
        pass
    for name, options in runs.items():
        code, _, err = run_cli("compare", path, "--reps", "3", "-q", *options,
                               "--out", tmp_path / name)  # fmt: skip
        assert code == 0, f"{name}: {err}"
    for file in ("replications.csv", "regret.csv", "comparison.csv", "differences.csv"):
        serial = (tmp_path / "serial" / file).read_bytes()
        for name in runs:
            assert (tmp_path / name / file).read_bytes() == serial, (name, file)


def test_commands_that_do_not_draw_say_so(tmp_path: Path) -> None:
    """A single run uses the values as written and says so in one note; replications draw
    and say nothing of it."""
    path = write_yaml(tmp_path, scenario_dict(uncertainties=UNCERTAIN))
    code, _, err = run_cli("run", path, "--no-plots", "--out", tmp_path / "one")
    assert code == 0
    assert (
        f"note: a single run uses the scenario's values as written; its {len(UNCERTAIN)} "
        "uncertainties: are drawn only by run --reps, compare, sensitivity and optimize\n"
    ) in err
    code, _, err = run_cli("run", path, "--reps", "2", "--no-plots", "--out", tmp_path / "two")
    assert code == 0 and "values as written" not in err
