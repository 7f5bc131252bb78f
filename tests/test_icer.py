"""The incremental cost-effectiveness ratio: public US$ per *additional* person reached.

Checked by hand on exact numbers, against Fieller's defining inequality, and recomputed from
the replications.csv of a real comparison."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from rollout_sim.experiments.stats import paired_ratio

from conftest import ROOT, run_cli


def test_perfectly_proportional_differences_give_a_point_interval() -> None:
    # Δcost = 10 × Δpeople on every replication: the ratio is 10 and, the effect being
    # clearly non-zero (b² = 9 > t²·v_b = 2.776² · 0.5), Fieller's interval is exactly {10}.
    people_base = np.zeros(5)
    people = np.array([1.0, 2, 3, 4, 5])
    iv = paired_ratio(np.zeros(5), 10 * people, people_base, people)
    assert iv.mean == 10.0 and iv.n == 5
    assert np.isclose(iv.lo, 10.0) and np.isclose(iv.hi, 10.0)


def test_bounds_solve_fiellers_equation_and_enclose_the_ratio() -> None:
    rng = np.random.default_rng(3)
    dd = rng.normal(1000, 150, 12)
    dn = 50 * dd + rng.normal(0, 8000, 12)
    iv = paired_ratio(np.zeros(12), dn, np.zeros(12), dd, 0.95)
    a, b, n = dn.mean(), dd.mean(), 12
    cov = np.cov(dn, dd) / n
    t2 = stats.t.ppf(0.975, n - 1) ** 2

    def excess(r: float) -> float:  # ≤ 0 inside the confidence set
        return float((a - r * b) ** 2 - t2 * (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]))

    assert iv.lo < a / b < iv.hi
    assert abs(excess(iv.lo)) < 1e-6 * a * a and abs(excess(iv.hi)) < 1e-6 * a * a
    assert excess(iv.mean) < 0 and excess(iv.lo - 1) > 0 and excess(iv.hi + 1) > 0


def test_an_effect_that_may_be_zero_has_an_unbounded_interval() -> None:
    dd = np.array([5.0, -4, 3, -6, 1])  # mean −0.2: people reached barely change
    iv = paired_ratio(np.zeros(5), np.full(5, 1000.0), np.zeros(5), dd)
    assert iv.mean == 1000.0 / -0.2
    assert np.isnan(iv.lo) and np.isnan(iv.hi)


def test_icer_in_differences_csv_recomputed_from_replications(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    code, _, err = run_cli(
        "compare", ROOT / "scenarios" / "funding_policies.yaml", "--reps", "4",
        "--policies", "capex_subsidy,output_based", "--executor", "serial", "--out", out,
        "--quiet", "--no-plots",
        "--set", "geography.synthetic.villages=800", "--set", "horizon_years=2",
    )  # fmt: skip
    assert code == 0, err
    with (out / "replications.csv").open() as fh:
        reps = list(csv.DictReader(fh))
    with (out / "differences.csv").open() as fh:
        rows = [
            r for r in csv.DictReader(fh) if r["metric"] == "public_cost_per_additional_person_usd"
        ]
    assert {r["policy"] for r in rows} == {"capex_subsidy", "output_based"}

    def column(policy: str, name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in reps if r["policy"] == policy])

    base = "equity_only"
    for row in rows:
        pol = row["policy"]
        dc = column(pol, "public_cost_usd") - column(base, "public_cost_usd")
        dp = column(pol, "people_reached") - column(base, "people_reached")
        assert row["baseline_mean"] == "" and row["policy_mean"] == "" and row["n"] == "4"
        assert float(row["difference"]) == round(dc.mean() / dp.mean(), 4)
        iv = paired_ratio(
            column(base, "public_cost_usd"), column(pol, "public_cost_usd"),
            column(base, "people_reached"), column(pol, "people_reached"),
        )  # fmt: skip
        for key, value in (("ci95_lo", iv.lo), ("ci95_hi", iv.hi)):
            assert row[key] == ("" if not np.isfinite(value) else f"{value:.4f}")
