"""What validate must refuse so that run never crashes, and the fixes that let run take the rest.

Each crash found by hand before the bounds existed has a regression test here (validate now
refuses the value in one line, or run now takes it), next to the checks behind them: strict
whole numbers and booleans, the village-file limits (size, devices, pipes), per-zone tables
that must name every zone, the coverage-pair limit, and error lines that name the ``--set``
that caused them. ``tests/test_fuzz_numeric.py`` tries every numeric key; the bad-input corpus
(``tests/data/bad/``) holds the file-based cases.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
from scipy.spatial import cKDTree

from rollout_sim.errors import ScenarioError, SimulationError, format_value
from rollout_sim.model.demand import bass_fraction, bass_integral
from rollout_sim.model.finance import Ledger
from rollout_sim.model.invariants import check_network
from rollout_sim.model.loans import LoanBook, annuity_payment
from rollout_sim.model.network import Network
from rollout_sim.scenario.load import load_scenario, parse_scenario
from rollout_sim.scenario.schema import Scenario
from rollout_sim.world import village_files
from rollout_sim.world.build import build_world, world_key
from rollout_sim.world.coverage import too_many_pairs

from conftest import QUICKSTART, run_cli, small_scenario_dict, write_yaml

#: A small world for the quickstart (it has 5,000 villages over 250 × 200 km).
SMALL = (
    "--set",
    "geography.synthetic.villages=250",
    "--set",
    "geography.synthetic.width_km=60",
    "--set",
    "geography.synthetic.height_km=50",
)


def one_line(code: int, out: str, err: str) -> str:
    """The bad-input rule: exit 2, one line on stderr, no traceback, nothing on stdout."""
    assert "Traceback" not in err, err
    assert (code, out) == (2, ""), err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def validate(*args: str | Path) -> str:
    return one_line(*run_cli("validate", *args, "--no-cache"))


def run_ok(tmp_path: Path, *args: str | Path) -> dict[str, Any]:
    """Run the quickstart on the small world; exit 0, nothing on stderr; its summary."""
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "run", QUICKSTART, *SMALL, *args, "--quiet", "--no-plots", "--no-cache", "--out", out
    )
    assert (code, stdout, err) == (0, "", "")
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


# --- the crashes found by hand -----------------------------------------------------------------


def test_q_zero_pure_innovation_runs(tmp_path: Path) -> None:
    # Was: validate ok, run "internal error: ValueError: Bass coefficients must be ... > 0".
    summary = run_ok(tmp_path, "--set", "operators.0.revenue.adoption.q=0")
    assert summary["final"]["subscribers"] > 0
    assert summary["final"]["revenue_cumulative_usd"] > 0


def test_bass_curve_with_q_zero_is_the_exponential() -> None:
    tau = np.array([-1.0, 0.0, 1e-6, 0.5, 3.0, 100.0])
    p = 0.15
    f = bass_fraction(tau, p, 0.0)
    g = bass_integral(tau, p, 0.0)
    pos = np.maximum(tau, 0.0)
    np.testing.assert_allclose(f, -np.expm1(-p * pos), rtol=1e-15, atol=0)
    # G(τ) = τ − (1 − e^{−pτ})/p, accurate even where it is ≈ pτ²/2.
    np.testing.assert_allclose(g[3:], pos[3:] + np.expm1(-p * pos[3:]) / p, rtol=1e-12)
    assert g[2] == pytest.approx(p * 1e-12 / 2, rel=1e-9)
    assert (g[0], g[1]) == (0.0, 0.0)
    # A q far below any real one gives the same curve, not a division by a subnormal.
    np.testing.assert_allclose(bass_integral(tau, p, 1e-300), g, rtol=1e-15)
    with pytest.raises(ValueError, match="q >= 0"):
        bass_integral(tau, p, -0.1)


def test_missing_zone_in_a_per_zone_table_is_refused() -> None:
    # Was: validate ok, run "internal error: KeyError: 'highlands'".
    line = validate(QUICKSTART, *SMALL, "--set", "maintenance.failures.mtbf_days={coast: 540}")
    assert line == (
        "error: --set maintenance.failures.mtbf_days={coast: 540}: "
        "maintenance.failures.mtbf_days: no value for zone 'highlands'; the villages have "
        "zones coast, highlands, jungle"
    )


@pytest.mark.parametrize(
    ("table", "value"),
    [
        ("maintenance.repair_cost_usd", "{coast: 1000, jungle: 2500}"),
        ("maintenance.repair_days", "{coast: {distribution: fixed, days: 1}}"),
        ("operators.0.opex_usd_year", "{coast: 4000}"),
        ("operators.0.capex_usd.upgrade", "{coast: 4000}"),
        ("operators.0.permit_days", "{coast: {distribution: fixed, days: 30}}"),
    ],
)
def test_every_per_zone_table_needs_every_zone(table: str, value: str) -> None:
    line = validate(QUICKSTART, *SMALL, "--set", f"{table}={value}")
    where = table.replace(".0.", "[0].")
    assert line == (
        f"error: --set {table}={value}: {where}: no value for zone 'highlands'; the villages "
        "have zones coast, highlands, jungle"
    )


def test_year_9999_is_refused() -> None:
    # Was: validate ok, run "internal error: OverflowError: date value out of range".
    line = validate(QUICKSTART, *SMALL, "--set", "start_date=9999-01-01")
    assert line == (
        "error: --set start_date=9999-01-01: start_date: 9999-01-01: expected a start date "
        "from 1900-01-01 to 2200-12-31"
    )
    reference = "{label: x, metric: people_reached, date: 9999-12-31, value: 1}"
    line = validate(QUICKSTART, *SMALL, "--set", f"references=[{reference}]")
    assert line.endswith(
        ": references[0].date: 9999-12-31: expected a date from 1900-01-01 to 2300-12-31"
    )


def test_the_last_start_date_with_the_longest_horizon_runs(tmp_path: Path) -> None:
    summary = run_ok(
        tmp_path,
        "--set",
        "start_date=2200-12-31",
        "--set",
        "horizon_years=100",
        "--set",
        "geography.synthetic.villages=30",
        "--set",
        "maintenance.failures.enabled=false",
    )
    assert (summary["start_date"], summary["end_date"]) == ("2200-12-31", "2300-12-31")
    assert summary["horizon_days"] == 36525


def test_a_horizon_beyond_100_years_is_refused() -> None:
    line = validate(QUICKSTART, *SMALL, "--set", "horizon_years=100.5")
    assert line == (
        "error: --set horizon_years=100.5: horizon_years: 100.5: input should be less than "
        "or equal to 100"
    )


def test_money_beyond_a_trillion_is_refused() -> None:
    # Was: validate ok, run "internal error: invariant violated ... cash 999999997004004.25 !=
    # ledger sum 999999997004004.50": float64 cannot keep the cents of a quadrillion.
    line = validate(QUICKSTART, *SMALL, "--set", "operators.0.cash_usd=1.0e+15")
    assert line == (
        "error: --set operators.0.cash_usd=1.0e+15: operators[0].cash_usd: 1000000000000000.0: "
        "input should be less than or equal to 1000000000000"
    )


def test_a_trillion_a_year_for_decades_runs(tmp_path: Path) -> None:
    # Cash grows past 1e13 US$, where a cent is below float64's resolution: the ledger check
    # must not call that rounding an invariant violation.
    summary = run_ok(
        tmp_path,
        "--set",
        "operators.0.cash_usd=1.0e+12",
        "--set",
        "operators.0.equity_usd_per_year=1.0e+12",
        "--set",
        "horizon_years=30",
        "--set",
        "geography.synthetic.villages=60",
        "--set",
        "maintenance.failures.enabled=false",
    )
    assert summary["final"]["cash_usd"] > 2.9e13


def _network() -> Network:
    world = build_world(
        load_scenario(small_scenario_dict(geography={"synthetic": {"villages": 20}}))
    )
    return Network(simpy.Environment(), world, Ledger(("a",)))


def test_ledger_check_tolerates_rounding_at_quadrillions_only() -> None:
    network = _network()
    ledger = network.ledger
    rng = np.random.default_rng(1)
    for k in range(2000):
        ledger.record(float(k), 0, "equity", 999_999_999_999.99, "shareholders")
        ledger.record(float(k), 0, "capex", -round(float(rng.uniform(1, 1e5)), 2), "builder")
    drift = abs(round(float(np.sum(ledger.amount)), 2) - ledger.cash(0))
    assert drift > 0.005  # the rounding the old absolute tolerance reported as a bug
    check_network(network, seed=0)

    # A real discrepancy of one dollar at ordinary amounts is still caught.
    network = _network()
    network.ledger.record(0.0, 0, "equity", 2_000_000.0, "shareholders")
    network.ledger.record(1.0, 0, "capex", -40_000.0, "builder")
    network.ledger._cash[0] += 1.0
    with pytest.raises(SimulationError) as info:
        check_network(network, seed=0)
    assert "operator 0: cash 1960001.00 != ledger sum 1960000.00" in str(info.value)


def test_a_tiny_interest_rate_runs(tmp_path: Path) -> None:
    # Was: validate ok, run "internal error: ZeroDivisionError" once repayments began
    # (1 − (1 + r)^−n is exactly 0 when 1 + r == 1). Four years: past the 24-month grace.
    summary = run_ok(
        tmp_path,
        "--set",
        "operators.0.credit_lines.0.annual_rate=1.0e-300",
        "--set",
        "horizon_years=4",
    )
    (op,) = summary["operators"]
    assert op["interest_usd"] == 0.0
    assert op["principal_repaid_usd"] > 0


def test_annuity_tends_to_the_plain_instalment_as_the_rate_goes_to_zero() -> None:
    assert annuity_payment(960_000.0, 0.0, 96) == 10_000.0
    assert annuity_payment(960_000.0, 1e-300 / 12, 96) == 10_000.0
    # Full precision on both sides of the switch to the series (r·n = 1e-9), and in the
    # closed form: 6% a year, and 1e-8 a month, over 8 years.
    for rate in (0.999e-9 / 96, 1.001e-9 / 96, 1e-8, 0.005):
        with localcontext() as ctx:
            ctx.prec = 50
            exact = Decimal(10**6) * Decimal(rate) / (1 - (1 + Decimal(rate)) ** -96)
        assert annuity_payment(1e6, rate, 96) == pytest.approx(float(exact), rel=1e-14)
    book = LoanBook(limit_usd=1e6, annual_rate=1e-300, grace_months=0, tenor_months=4)
    book.draw(1000.0)
    assert book.schedule(4) == [
        (1, 0.0, 250.0, 750.0),
        (2, 0.0, 250.0, 500.0),
        (3, 0.0, 250.0, 250.0),
        (4, 0.0, 250.0, 0.0),
    ]


def test_a_tiny_mtbf_is_refused_and_the_shortest_runs(tmp_path: Path) -> None:
    # Was: validate ok, run "internal error: ValueError: Negative delay -2.8e-14".
    line = validate(QUICKSTART, *SMALL, "--set", "maintenance.failures.mtbf_days.coast=1.0e-300")
    assert line == (
        "error: --set maintenance.failures.mtbf_days.coast=1.0e-300: "
        "maintenance.failures.mtbf_days.coast: 1e-300: input should be greater than or equal to 1"
    )
    summary = run_ok(
        tmp_path,
        *("--set", "horizon_years=1"),
        *("--set", "maintenance.failures.mtbf_days={coast: 1, highlands: 1, jungle: 1}"),
    )
    assert summary["operators"][0]["failures"] > 500  # at the default mtbf: about 50


def test_a_region_wider_than_the_earth_is_refused() -> None:
    # Was: validate "data must be finite" internal error (coordinates overflowed).
    line = validate(QUICKSTART, *SMALL, "--set", "geography.synthetic.width_km=1.0e+308")
    assert line == (
        "error: --set geography.synthetic.width_km=1.0e+308: geography.synthetic.width_km: "
        "1e+308: input should be less than or equal to 20000"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("100000000", "100000000: input should be less than or equal to 10000"),
        ("1000000000000000", "1000000000000000: input should be less than or equal to 10000"),
        # YAML 1.1 reads 1e15 (no decimal point) as text: not a whole number either way.
        ("1e15", "'1e15': input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_a_hundred_million_regions_are_refused_at_once(value: str, message: str) -> None:
    # Was: 9.5 GB and minutes (1e8), or a MemoryError (1e15).
    started = time.perf_counter()
    line = validate(QUICKSTART, *SMALL, "--set", f"geography.synthetic.regions={value}")
    assert line == (
        f"error: --set geography.synthetic.regions={value}: geography.synthetic.regions: " + message
    )
    assert time.perf_counter() - started < 2.0


def test_a_dense_world_with_a_wide_radius_is_refused_before_building() -> None:
    # Each value is within its bounds; together they would put 1e10 village pairs in the
    # coverage index (with a million villages: a MemoryError): refused from a count that
    # forms no pair.
    started = time.perf_counter()
    line = validate(
        QUICKSTART,
        *SMALL,
        *("--set", "geography.synthetic.villages=100000"),
        *("--set", "coverage.radius_km.coast=100"),
    )
    assert line == (
        "error: --set coverage.radius_km.coast=100: coverage.radius_km: sites would reach more "
        "than 50,000,000 village pairs (100,000 villages, radius up to 100 km in coast); "
        "expected at most that many: use smaller radii, or fewer villages over a larger region"
    )
    assert time.perf_counter() - started < 10.0


def test_pair_count_is_exact_at_the_limit() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 250, size=(5000, 2))
    tree = cKDTree(xy)
    tree_count = int(tree.count_neighbors(tree, 6.0))  # self-pairs included
    assert not too_many_pairs(xy, 6.0, tree_count)
    assert too_many_pairs(xy, 6.0, tree_count - 1)
    same = np.zeros((1000, 2))  # all at one point: every pair is within any radius
    assert too_many_pairs(same, 1e-300, 999_999)
    assert not too_many_pairs(same, 1e-300, 1_000_000)


# --- strict whole numbers and booleans ---------------------------------------------------------


def load_error(data: dict[str, Any], *overrides: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data, overrides)
    return info.value.line()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "True: input should be a valid integer, not a boolean (true/false)"),
        (4.0, "4.0: input should be a valid integer, written without a decimal point"),
        (4.5, "4.5: input should be a valid integer, got a number with a fractional part"),
        ("8", "'8': input should be a valid integer, not text (write it without quotes)"),
        ("many", "'many': input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_counts_are_strict_whole_numbers(value: Any, message: str) -> None:
    data = small_scenario_dict()
    data["operators"][0]["build_crews"] = value
    assert load_error(data) == f"<scenario>: operators[0].build_crews: {message}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no", "'no': input should be a valid boolean: true or false, without quotes"),
        ("false", "'false': input should be a valid boolean: true or false, without quotes"),
        (0, "0: input should be a valid boolean: true or false"),
        (1.0, "1.0: input should be a valid boolean: true or false"),
    ],
)
def test_switches_are_strict_booleans(value: Any, message: str) -> None:
    data = small_scenario_dict(outputs={"plots": value})
    assert load_error(data) == f"<scenario>: outputs.plots: {message}"


def test_amounts_take_numbers_and_numeric_text_but_not_booleans() -> None:
    data = small_scenario_dict()
    data["operators"][0]["cash_usd"] = True
    assert load_error(data) == (
        "<scenario>: operators[0].cash_usd: True: input should be a valid number, not a boolean"
    )
    for value, expected in ((4_000_000, 4e6), ("1e6", 1e6), (2.5e6, 2.5e6)):
        data["operators"][0]["cash_usd"] = value  # "1e6" is how YAML 1.1 reads 1e6
        cash = load_scenario(data).operators[0].cash_usd
        assert (type(cash), cash) == (float, expected)


def test_yaml_booleans_and_set_overrides_keep_their_types(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = write_yaml(tmp_path, small_scenario_dict()).read_text(encoding="utf-8")
    path.write_text(text.replace("plots: false", "plots: no"), encoding="utf-8")
    assert load_scenario(path).outputs.plots is False  # YAML 1.1: an unquoted no is false
    sc = load_scenario(path, ["outputs.plots=true", "operators.0.build_crews=12"])
    assert sc.outputs.plots is True
    assert (type(sc.operators[0].build_crews), sc.operators[0].build_crews) == (int, 12)
    assert load_scenario(path, ["outputs.plots=false"]).outputs.plots is False
    line = load_error(small_scenario_dict(), "outputs.plots='no'")
    assert line == (
        "--set outputs.plots='no': outputs.plots: 'no': input should be a valid boolean: "
        "true or false, without quotes"
    )


def test_huge_integers_are_shown_by_their_size() -> None:
    data = small_scenario_dict()
    data["operators"][0]["build_crews"] = 10**4999
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    assert info.value.line() == (
        "<scenario>: operators[0].build_crews: <a number of about 5,000 digits>: input should "
        "be less than or equal to 100000"
    )
    assert format_value(10**4999) == "<a number of about 5,000 digits>"


def test_a_5000_digit_integer_in_a_file_is_refused(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, small_scenario_dict())
    text = path.read_text(encoding="utf-8").replace("build_crews: 4", "build_crews: 1" + "0" * 4999)
    path.write_text(text, encoding="utf-8")
    row = text.splitlines().index("  build_crews: 1" + "0" * 4999) + 1
    line = validate(path)
    assert line.startswith(f"error: {path}:{row}:16: operators[0].build_crews: '1000")
    assert line.endswith(": expected a whole number (5,000 digits; expected at most 4,300)")


def test_every_number_in_the_schema_is_bounded_on_both_sides() -> None:
    # The rule behind this file: no numeric key is open-ended (a new key without bounds fails
    # here). Lower bounds of 0 count; so does a maximum like 1e15 for published figures.
    schema = Scenario.model_json_schema()
    unbounded: list[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer"):
                low = "minimum" in node or "exclusiveMinimum" in node
                high = "maximum" in node or "exclusiveMaximum" in node
                if not (low and high):
                    unbounded.append(where)
            for key, value in node.items():
                visit(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, f"{where}[{i}]")

    visit(schema, "schema")
    assert unbounded == []


# --- village files: size, devices and pipes ----------------------------------------------------


def village_scenario(tmp_path: Path, path: str | Path) -> Path:
    data = small_scenario_dict()
    data["geography"] = {
        "file": {"path": str(path)},
        "pops": {"largest_villages": 1},
        "depots": {"largest_villages": 1},
    }
    return write_yaml(tmp_path, data)


def validate_in_a_subprocess(scenario: Path, *extra: str) -> tuple[int, str, str]:
    """Run validate in a child process that is killed after 60 s: a loader that opened a FIFO
    would wait for a writer for ever, and must fail this test, not hang it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rollout_sim", "validate", str(scenario), *extra],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("validate hung on a village file that is not a regular file")
    return done.returncode, done.stdout, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
def test_a_fifo_village_file_is_refused_without_opening_it(
    tmp_path: Path, cache: list[str]
) -> None:
    # With the cache, world_key hashes the file before anything is built: it must not open it.
    fifo = tmp_path / "villages.csv"
    os.mkfifo(fifo)
    code, out, err = validate_in_a_subprocess(village_scenario(tmp_path, fifo), *cache)
    assert (code, out, err) == (
        2,
        "",
        f"error: {fifo}: is a named pipe (FIFO); expected a regular village file (CSV or "
        "GeoJSON)\n",
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_village_file_is_refused_even_through_a_link(tmp_path: Path) -> None:
    link = tmp_path / "villages.csv"
    link.symlink_to("/dev/zero")
    for target in (Path("/dev/zero"), link):
        started = time.perf_counter()
        code, out, err = run_cli("validate", village_scenario(tmp_path, target))
        assert one_line(code, out, err) == (
            f"error: {target}: is a device; expected a regular village file (CSV or GeoJSON)"
        )
        assert time.perf_counter() - started < 5.0


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_world_key_does_not_read_a_device() -> None:
    data = small_scenario_dict(geography={"file": {"path": "/dev/zero"}})
    started = time.perf_counter()
    assert len(world_key(load_scenario(data))) == 16
    assert time.perf_counter() - started < 5.0


def test_an_oversized_village_file_is_refused_before_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "villages.csv"
    with big.open("wb") as fh:  # sparse: 300 MB on paper, nothing on disk
        fh.write(b"id,name,lat,lon,population\n")
        fh.truncate(300_000_000)
    started = time.perf_counter()
    line = validate(village_scenario(tmp_path, big))
    assert line == (
        f"error: {big}: village file is 300.0 MB; expected at most 200 MB (about a million "
        "villages)"
    )
    assert time.perf_counter() - started < 5.0


def test_a_file_with_too_many_villages_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(village_files, "MAX_VILLAGES", 2)
    path = tmp_path / "v.csv"
    path.write_text("id,name,lat,lon,population\na,A,-12,-75,1\nb,B,-12.1,-75,1\nc,C,-12,-75.1,1\n")
    line = validate(village_scenario(tmp_path, path))
    assert line == f"error: {path}: line 4: more than 2 villages; expected at most that many"


def test_a_file_with_too_many_zones_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(village_files, "MAX_ZONES", 1)
    path = tmp_path / "v.csv"
    path.write_text(
        "id,name,lat,lon,population,zone\na,A,-12,-75,1,coast\nb,B,-12.1,-75,1,jungle\n"
    )
    line = validate(village_scenario(tmp_path, path))
    assert line == (
        f"error: {path}: 2 different zones; expected at most 1 (each needs a value in every "
        "per-zone table of the scenario)"
    )


# --- --set blame -------------------------------------------------------------------------------


def test_a_set_that_changes_the_distribution_is_blamed_with_the_keys_it_needs(
    tmp_path: Path,
) -> None:
    bad = ("--set", "operators.0.build_days.coast.distribution=triangular")
    code, _, err = run_cli("run", QUICKSTART, *bad, "--no-cache", "--out", tmp_path / "x")
    assert code == 2 and err.splitlines() == [
        "error: --set operators.0.build_days.coast.distribution=triangular: "
        "operators[0].build_days.coast.mean_days: unknown key 'mean_days': with distribution "
        "'triangular' the keys are low_days, mode_days, high_days (and 4 more problems)"
    ]
    assert "did you mean" not in err
    # validate lists the five, each blamed on the --set.
    code, _, err = run_cli("validate", QUICKSTART, *bad, "--no-cache")
    lines = err.splitlines()
    assert code == 2 and len(lines) == 5
    assert all(
        x.startswith("error: --set operators.0.build_days.coast.distribution=") for x in lines
    ), err
    assert [x.split(": ")[2] for x in lines] == [
        f"operators[0].build_days.coast.{k}"
        for k in ("mean_days", "sd_days", "low_days", "mode_days", "high_days")
    ]


def test_a_typo_inside_a_distribution_still_gets_a_suggestion(tmp_path: Path) -> None:
    data = small_scenario_dict()
    data["operators"][0]["build_days"] = {
        z: {"distribution": "triangular", "low_days": 1, "mode_day": 2, "high_days": 3}
        for z in ("coast", "highlands", "jungle")
    }
    line = load_error(data)
    assert line.startswith(
        "<scenario>: operators[0].build_days.coast.mode_day: unknown key 'mode_day'; "
        "did you mean 'mode_days'?"
    )


def test_a_set_that_breaks_a_check_of_its_mapping_is_blamed() -> None:
    line = validate(QUICKSTART, *SMALL, "--set", "operators.0.build_days.jungle.low_days=150")
    assert line == (
        "error: --set operators.0.build_days.jungle.low_days=150: "
        "operators[0].build_days.jungle: need low_days <= mode_days <= high_days and "
        "low_days < high_days"
    )


def test_a_set_that_breaks_a_check_across_keys_is_blamed(tmp_path: Path) -> None:
    data = small_scenario_dict()
    del data["horizon_years"]
    data["end_date"] = "2021-06-30"
    path = write_yaml(tmp_path, data)
    line = validate(path, "--set", "seed=3", "--set", "start_date=2030-01-01")
    assert line == (
        "error: --set start_date=2030-01-01: end_date 2021-06-30 is before start_date 2030-01-01"
    )


def test_problems_of_the_file_stay_blamed_on_the_file(tmp_path: Path) -> None:
    data = small_scenario_dict()
    data["operators"][0]["build_days"] = {
        z: {"distribution": "lognormal", "mean_days": -5 if z == "coast" else 60, "sd_days": 20}
        for z in ("coast", "highlands", "jungle")
    }
    path = write_yaml(tmp_path, data)
    # a --set in the same mapping, and one elsewhere in the same operator, are not to blame
    line = validate(
        path,
        *("--set", "operators.0.build_days.coast.sd_days=10"),
        *("--set", "operators.0.cash_usd=5"),
    )
    assert line.startswith(f"error: {path}:")
    assert line.endswith(
        ": operators[0].build_days.coast.mean_days: -5: input should be greater than or equal "
        "to 0.001"
    )
    bad = Path(__file__).resolve().parent / "data" / "bad" / "missing-zone-mtbf.yaml"
    line = validate(bad, "--set", "seed=3", "--set", "maintenance.failures.mtbf_days.coast=600")
    assert line == (
        f"error: {bad}: maintenance.failures.mtbf_days: no value for zone 'highlands'; the "
        "villages have zones coast, highlands, jungle"
    )


def test_a_long_set_is_cut_short_in_the_error_line() -> None:
    value = "1" + "0" * 4999
    line = validate(QUICKSTART, *SMALL, "--set", f"operators.0.build_crews={value}")
    label = f"operators.0.build_crews={value}"[:97] + "..."
    assert line == (
        f"error: --set {label}: operators[0].build_crews: {format_value(value)}: input should "
        "be a valid integer of at most 4,300 digits"
    )
    assert len(line) < 300


def test_every_bound_leaves_the_shipped_scenarios_valid() -> None:
    root = Path(__file__).resolve().parents[1] / "scenarios"
    for path in sorted(root.glob("*.yaml")):
        assert load_scenario(path).name, path
    assert math.isfinite(load_scenario(QUICKSTART).operators[0].cash_usd)
