"""Calibration: recovering known parameters, observed series, errors, the CLI."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml

from rollout_sim import load_scenario, simulate
from rollout_sim.errors import ScenarioError
from rollout_sim.experiments.calibrate import (
    MetricRef,
    calibrate,
    read_observed,
    resolve_metric,
)
from rollout_sim.experiments.replications import run_replications
from rollout_sim.metrics import availability
from rollout_sim.report.calibration import roundtrip_edit
from rollout_sim.results import FOOTPRINT_COLUMNS, TIMESERIES_COLUMNS
from rollout_sim.scenario.calibration import FOOTPRINT_METRICS, SeriesTarget, daily_metrics

from _worlds import operator as hand_operator
from _worlds import scenario as handmade
from conftest import run_cli

ZONES = ("coast", "highlands", "jungle")


def base(crews: int = 7) -> dict[str, Any]:
    return {
        "name": "cal",
        "seed": 11,
        "start_date": "2020-01-01",
        "horizon_years": 2,
        "geography": {"synthetic": {"villages": 3000, "width_km": 400, "height_km": 300}},
        "maintenance": {"failures": {"enabled": False}},
        "operators": [{"name": "op", "cash_usd": 1e9, "build_crews": crews}],
    }


def window_rate(data: dict[str, Any], reps: int) -> float:
    """Mean new villages a day over days 30..699, averaged over replications."""
    vals: list[float] = []
    run_replications(
        load_scenario(data),
        reps,
        on_done=lambda k, r: vals.append(float(r.daily["new_villages_covered"][30:700].mean())),
    )
    return float(np.mean(vals))


@pytest.mark.parametrize("held_out", [False, True], ids=["alone", "beside-a-held-out-figure"])
def test_recovers_known_build_crews(held_out: bool) -> None:
    # Simulate with 7 crews, forget it (start from 20), calibrate it back from the rate. A
    # figure held out (weight 0, listed first) is reported, not fitted: still bisection.
    rate = window_rate(base(7), reps=3)
    data = base(20)
    data["calibration"] = {
        "targets": [
            {
                "metric": "new_villages_covered",
                "start": "2020-01-31",  # day 30
                "end": "2021-11-30",  # day 699
                "value": rate,
                "tolerance": 1e-9,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 30], "integer": True}],
        "replications": 3,
    }
    if held_out:
        data["calibration"]["targets"].insert(
            0,
            {
                "kind": "point", "metric": "villages_covered", "date": "2021-06-30",
                "value": 1000, "weight": 0,
            },
        )  # fmt: skip
    seen: list[float] = []
    res = calibrate(
        load_scenario(data), on_eval=lambda e: seen.append(e.params["operators.0.build_crews"])
    )
    assert res.method == "bisection"
    assert res.best.params == {"operators.0.build_crews": 7.0}
    assert res.best.ok and res.converged
    assert res.initial.params == {"operators.0.build_crews": 20.0}
    assert res.calibrated.operators[0].build_crews == 7
    assert len(seen) == len(res.evaluations) <= 10  # bisection, not a scan
    assert seen[:3] == [20.0, 1.0, 30.0]


def test_recovers_a_float_parameter_from_a_series(tmp_path: Path) -> None:
    # Fit the build-time scale... here: the coast build time of a fixed-duration world, from an
    # observed villages_covered series produced with the true value.
    truth = base(10)
    truth["operators"][0]["build_days"] = {
        z: {"distribution": "fixed", "days": 40.0} for z in ZONES
    }
    sc = load_scenario(truth)
    series: list[np.ndarray] = []
    run_replications(sc, 2, on_done=lambda k, r: series.append(r.daily["villages_covered"]))
    mean = np.mean(series, axis=0)
    days = [60, 200, 400, 700]
    csv = tmp_path / "observed.csv"
    csv.write_text(
        "date,value\n"
        + "".join(
            f"{sc.start_date + np.timedelta64(d, 'D').astype(object)},{mean[d]}\n" for d in days
        )
    )
    data = dict(truth)
    data["operators"] = [dict(truth["operators"][0])]
    data["operators"][0]["build_days"] = {z: {"distribution": "fixed", "days": 70.0} for z in ZONES}
    data["calibration"] = {
        "targets": [{"kind": "series", "metric": "villages_covered", "file": str(csv)}],
        "parameters": [
            {"path": f"operators.0.build_days.{z}.days", "bounds": [10, 120]}
            for z in ("highlands",)
        ],
        "replications": 2,
        "max_evaluations": 30,
    }
    # Only highlands is fitted; set coast and jungle to the truth so one parameter decides.
    for z in ("coast", "jungle"):
        data["operators"][0]["build_days"][z] = {"distribution": "fixed", "days": 40.0}
    res = calibrate(load_scenario(data))
    assert res.method == "nelder-mead"
    assert res.best.params["operators.0.build_days.highlands.days"] == pytest.approx(40.0, abs=2.0)
    assert res.best.objective < res.initial.objective / 100


def test_read_observed_checks_its_input(tmp_path: Path) -> None:
    good = tmp_path / "a.csv"
    good.write_text("# a comment\ndate,value,source\n2020-01-01,5,x\n2020-02-01,7.5,y\n")
    dates, values = read_observed(str(good), "t")
    assert [d.isoformat() for d in dates] == ["2020-01-01", "2020-02-01"]
    assert values.tolist() == [5.0, 7.5]
    for text, fragment in (
        ("day,value\n2020-01-01,5\n", "expected columns date,value"),
        ("date,value\n2020-02-01,5\n2020-01-01,6\n", "increasing order"),
        ("date,value\n2020-13-01,5\n", "expected an ISO date"),
        ("date,value\n2020-01-01,nan\n", "must be finite"),
        ("date,value\n", "no rows"),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(ScenarioError, match=fragment):
            read_observed(str(bad), "t")


def test_calibration_input_errors(tmp_path: Path) -> None:
    data = base(5)
    data["calibration"] = {
        "targets": [
            {
                "metric": "new_villages_covered",
                "start": "2025-01-01",
                "end": "2025-02-01",
                "value": 3,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 9], "integer": True}],
    }
    with pytest.raises(ScenarioError, match="outside the simulated days"):
        calibrate(load_scenario(data))
    data["calibration"]["targets"][0].update(start="2020-02-01", end="2020-03-01")
    data["calibration"]["parameters"][0]["path"] = "operators.0.no_such_key"
    with pytest.raises(ScenarioError, match="no such key"):
        calibrate(load_scenario(data))
    with pytest.raises(ScenarioError, match="no calibration"):
        calibrate(load_scenario(base(5)))


def test_cli_calibrate(tmp_path: Path) -> None:
    data = base(12)
    data["geography"]["synthetic"]["villages"] = 1500
    data["calibration"] = {
        "targets": [
            {
                "metric": "new_villages_covered",
                "start": "2020-03-01",
                "end": "2021-06-30",
                "value": 1.0,
                "tolerance": 0.2,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 40], "integer": True}],
        "replications": 2,
    }
    import yaml

    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    code, _, err = run_cli("calibrate", str(path), "--out", str(out), "--quiet")
    assert code == 0, err
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["method"] == "bisection"
    after = summary["parameters"][0]["after"]
    assert abs(summary["targets"][0]["after"] - 1.0) <= 0.2 and summary["within_tolerance"]
    calibrated = load_scenario(out / "scenario.calibrated.yaml")
    assert calibrated.operators[0].build_crews == after
    assert (out / "plots" / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    # A scenario without a calibration block is bad input: exit 2, one line, nothing written.
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(base(3), sort_keys=False))
    code, _, err = run_cli("calibrate", str(plain), "--out", str(tmp_path / "none"))
    assert code == 2 and "no calibration: block" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "none").exists()


# --- joint calibration: several parameters, several targets -----------------------------------

TRUTH = {"crews": 7, "cash": 1.5e6}
#: Three points: the early ones are set by the crews' pace, the last by the money (the rollout
#: stalls once the equity is spent): together they identify both parameters.
POINTS = (
    ("op.places_first_covered", "2020-04-30"),  # day 120
    ("op.people_first_covered", "2020-08-31"),  # day 243
    ("op.places_first_covered", "2021-12-01"),  # day 700
)


def money_world(crews: int, cash: float) -> dict[str, Any]:
    return {
        "name": "cal",
        "seed": 11,
        "start_date": "2020-01-01",
        "horizon_years": 2,
        "geography": {"synthetic": {"villages": 1500, "width_km": 300, "height_km": 200}},
        "maintenance": {"failures": {"enabled": False}},
        "operators": [{"name": "op", "cash_usd": cash, "build_crews": crews}],
        "outputs": {"plots": False},
    }


def observe(data: dict[str, Any], points: tuple[tuple[str, str], ...], reps: int) -> list[float]:
    """The model's own values of *points* (mean over the replications calibration uses)."""
    sc = load_scenario(data)
    rows: list[list[float]] = []

    def record(_k: int, r: Any) -> None:
        row = []
        for metric, when in points:
            op, column = metric.split(".")
            day = (date.fromisoformat(when) - sc.start_date).days
            row.append(float(r.operator_daily[op][column][day]))
        rows.append(row)

    run_replications(sc, reps, on_done=record)
    return [float(v) for v in np.mean(rows, axis=0)]


def point_targets(
    values: list[float], rel: float = 0.02, points: tuple[tuple[str, str], ...] = POINTS
) -> list[dict[str, Any]]:
    return [
        {
            "kind": "point",
            "metric": metric,
            "date": when,
            "value": value,
            "rel_tolerance": rel,
            "label": f"synthetic ({metric} on {when})",
        }
        for (metric, when), value in zip(points, values, strict=True)
    ]


CREWS = {"path": "operators.0.build_crews", "bounds": [2, 20], "integer": True}
CASH = {"path": "operators.0.cash_usd", "bounds": [5e5, 4e6]}


@pytest.fixture(scope="module")
def truth_values() -> list[float]:
    return observe(money_world(TRUTH["crews"], TRUTH["cash"]), POINTS, reps=2)


def test_recovers_crews_and_cash_jointly(truth_values: list[float]) -> None:
    data = money_world(12, 3e6)  # start away from the truth, inside the bounds
    data["calibration"] = {
        "targets": point_targets(truth_values),
        "parameters": [CREWS, CASH],
        "replications": 2,
        "max_evaluations": 40,
    }
    res = calibrate(load_scenario(data))
    assert res.method == "nelder-mead"
    assert res.initial.params == {CREWS["path"]: 12.0, CASH["path"]: 3e6}
    assert res.best.params[CREWS["path"]] == TRUTH["crews"]
    # Cash is known only to within about one site: sites cost about US$45k (3% of the truth),
    # and equity that buys the same sites builds the same places. 5% allows for that step.
    assert res.best.params[CASH["path"]] == pytest.approx(TRUTH["cash"], rel=0.05)
    assert res.best.ok and all(w == [True] for w in res.best.within)
    assert res.best.objective < res.initial.objective / 1000
    assert len(res.evaluations) <= 40
    ident = res.identification
    assert ident is not None and ident.insensitive == [] and ident.collinear == []
    assert all(s is not None and s > 10 for s in ident.sensitivity.values())
    # The crews move the early points, the cash the late one (the columns are near orthogonal).
    crews, cash = ident.jacobian[CREWS["path"]], ident.jacobian[CASH["path"]]
    assert crews is not None and cash is not None
    assert abs(crews[0]) > 10 and crews[2] == 0.0 and cash[0] == 0.0 and abs(cash[2]) > 10
    assert res.warnings == []
    assert res.calibrated.operators[0].build_crews == TRUTH["crews"]


def test_stop_when_within_and_powell(truth_values: list[float]) -> None:
    data = money_world(12, 3e6)
    data["calibration"] = {
        "targets": point_targets(truth_values, rel=0.05),
        "parameters": [CREWS, CASH],
        "replications": 2,
        "max_evaluations": 40,
        "stop_when_within": True,
        "identification": False,
    }
    res = calibrate(load_scenario(data))
    assert res.converged and res.message == "every target is within its tolerance"
    oks = [e.ok for e in res.evaluations]
    assert oks[-1] and not any(oks[:-1])  # stopped at the first evaluation within tolerance
    assert res.best is res.evaluations[-1] and res.identification is None
    data["calibration"].update(method="powell", stop_when_within=False, max_evaluations=15)
    res = calibrate(load_scenario(data))
    assert res.method == "powell" and len(res.evaluations) <= 15
    assert res.best.objective < res.initial.objective / 10


def test_a_parameter_that_cannot_matter_is_not_identified(truth_values: list[float]) -> None:
    # Equity of US$1e9 never binds, so revenue (and so ARPU) cannot change what is built.
    arpu = "operators.0.revenue.arpu_usd_month"
    data = money_world(12, 1e9)
    data["calibration"] = {
        "targets": point_targets(observe(money_world(7, 1e9), POINTS[:2], 2), points=POINTS[:2]),
        "parameters": [CREWS, {"path": arpu, "bounds": [1, 20]}],
        "replications": 2,
        "max_evaluations": 15,
    }
    res = calibrate(load_scenario(data))
    ident = res.identification
    assert ident is not None
    assert ident.insensitive == [arpu]
    assert ident.sensitivity[arpu] == 0.0  # common random numbers: exactly no effect
    assert ident.jacobian[arpu] == [0.0, 0.0]
    sens = ident.sensitivity[CREWS["path"]]
    assert sens is not None and sens > 1
    assert any(w.startswith(f"{arpu} is not identified") for w in res.warnings)
    assert not any(w.startswith(CREWS["path"]) for w in res.warnings)
    assert len(ident.evaluations) == 4  # ±5% of each range, on the same replications


# --- the metric registry ----------------------------------------------------------------------

#: tests/_worlds.py's ABCDE line (radius 4 km, PoP at A, US$10k sites, 10-day builds), with C
#: already on 4G (covering C and D at day 0) and zones A coast, B–D highlands, E jungle.
HAND_XY = [(0, 0), (3, 0), (10, 0), (13.5, 0), (100, 0)]
HAND_POP = [100, 50, 200, 30, 1000]


@pytest.fixture
def hand_run(tmp_path: Path) -> Any:
    sc = handmade(
        tmp_path,
        HAND_XY,
        HAND_POP,
        service=["none", "none", "4g", "none", "none"],
        zones=["coast", "highlands", "highlands", "highlands", "jungle"],
        operators=[hand_operator("op", build_crews=1)],
    )
    return simulate(sc)


def metric(name: str) -> MetricRef:
    return resolve_metric(name, ["op"], ["coast", "highlands", "jungle"])


def test_metric_registry_on_a_hand_built_run(hand_run: Any) -> None:
    r = hand_run
    # The one crew builds A (fibre, covers A and B: 150 people) from day 0 to day 10; B and D
    # would cover nobody new and E has no backhaul, so A is the only site.
    assert r.sites.village.tolist() == [0] and r.sites.on_air_day.tolist() == [10.0]
    assert metric("villages_covered").series(r)[[9, 10, 99]].tolist() == [2, 4, 4]
    assert metric("villages_covered").window(r, 0, 19) == 3.0  # 10 days of 2, 10 of 4
    expected = {
        "op.sites_built": [0, 1],
        "op.sites_in_service": [0, 1],
        "op.places_served": [0, 2],
        "op.people_served": [0, 150],
        "op.places_first_covered": [0, 2],
        "op.people_first_covered": [0, 150],
        "op.fibre_share_of_sites": [0.0, 1.0],  # no site yet counts as 0
    }
    for name, (day9, day10) in expected.items():
        s = metric(name).series(r)
        assert len(s) == 100 and s[9] == day9 and s[10] == day10 and s[-1] == day10, name
    avail = metric("op.availability")
    assert avail.kind == "availability"
    s = avail.series(r)
    assert np.isnan(s[9]) and s[10] == 1.0 and s[-1] == 1.0  # no outages in this world
    assert math.isnan(avail.window(r, 0, 9)) and avail.window(r, 5, 60) == 1.0
    # The starting network: C's site covers C and D (200 + 30 of the highlands' 280 people).
    assert metric("start.places_4g").start_value(r) == 2.0
    assert metric("start.people_share.highlands").start_value(r) == 230 / 280
    assert metric("start.people_share.coast").start_value(r) == 0.0
    assert metric("start.people_share.jungle").series(r).tolist() == [0.0] * 100


def test_window_availability_by_hand() -> None:
    # Two sites on air at t=10 and t=20; one is down from 30 to 40; horizon 50 days.
    fake = SimpleNamespace(
        horizon_days=50,
        footprints=[
            SimpleNamespace(
                service_time=np.array([10.0, 20, 30, 40]), service=np.array([1.0, 2, 1, 2])
            )
        ],
        sites=SimpleNamespace(on_air_day=np.array([10.0, 20.0]), operator=np.array([0, 0])),
    )
    avail = metric("op.availability")
    # Days 0..49: in service 1×10 + 2×10 + 1×10 + 2×10 = 60 site-days of 1×10 + 2×30 = 70.
    assert avail.window(fake, 0, 49) == 60 / 70  # type: ignore[arg-type]
    # Days 25..34: in service 2×5 + 1×5 = 15 of 2×10 = 20 site-days.
    assert avail.window(fake, 25, 34) == 0.75  # type: ignore[arg-type]
    series = avail.series(fake)  # type: ignore[arg-type]
    assert np.isnan(series[9]) and series[10] == 1.0 and series[-1] == 60 / 70


def test_availability_over_the_horizon_matches_the_summary() -> None:
    data = base(10)
    data["geography"]["synthetic"]["villages"] = 800
    data["maintenance"] = {"failures": {"enabled": True, "mtbf_days": {z: 60 for z in ZONES}}}
    r = simulate(load_scenario(data))
    assert r.maintenance[0]["failures"] > 0
    h = r.horizon_days
    expected = availability(r, 0)
    assert expected is not None and expected < 0.999
    assert metric("op.availability").window(r, 0, h - 1) == pytest.approx(expected, rel=1e-12)
    assert metric("op.availability").series(r)[-1] == pytest.approx(expected, rel=1e-12)


def test_metric_names_are_resolved_with_one_line_errors() -> None:
    zones = ["coast", "highlands", "jungle"]
    assert resolve_metric("a.b.places_served", ["a", "a.b"], zones).operator == 1
    assert resolve_metric("a.b.places_served", ["a", "a.b"], zones).operator_name == "a.b"
    ref = resolve_metric("a.availability", ["a", "a.b"], zones)
    assert (ref.kind, ref.operator) == ("availability", 0)
    assert resolve_metric("start.people_share.jungle", ["a"], zones).zone == 2
    with pytest.raises(ValueError, match="no zone 'mars'; the zones are coast, highlands, jungle"):
        resolve_metric("start.people_share.mars", ["a"], zones)
    with pytest.raises(ValueError) as err:
        resolve_metric("nobody.places_served", ["ipt", "bitel"], zones)
    text = str(err.value)
    assert "\n" not in text and text.startswith("unknown metric; expected a daily series (")
    assert "with operator one of ipt, bitel and column one of sites_built," in text
    assert "start.people_share.<zone> with zone one of coast, highlands, jungle" in text


def test_daily_metrics_are_the_timeseries_columns() -> None:
    assert set(daily_metrics()) == set(TIMESERIES_COLUMNS) - {"date"}
    assert daily_metrics()[:2] == ("new_villages_covered", "villages_covered")
    assert FOOTPRINT_METRICS == FOOTPRINT_COLUMNS


def test_validate_names_an_unknown_operator_in_one_line(tmp_path: Path) -> None:
    data = base(5)
    data["calibration"] = {
        "targets": [
            {
                "kind": "point",
                "metric": "ipt.places_served",
                "date": "2020-06-30",
                "value": 10,
                "rel_tolerance": 0.1,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 9], "integer": True}],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, err = run_cli("validate", path)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(
        f"error: {path}: calibration.targets[0].metric: 'ipt.places_served': unknown metric; "
        "expected a daily series (new_villages_covered, villages_covered,"
    )
    assert "with operator one of op and column one of" in err


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        (
            {"kind": "point", "metric": "op.places_served", "value": 3},
            "date is required (only the start.* metrics take none)",
        ),
        (
            {"kind": "point", "metric": "start.places_4g", "date": "2020-02-01", "value": 3},
            "start.places_4g is the starting network's value at day 0: give no date",
        ),
        (
            {
                "kind": "point",
                "metric": "villages_covered",
                "date": "2020-02-01",
                "value": 3,
                "tolerance": 1,
                "rel_tolerance": 0.1,
            },
            "give tolerance (absolute",
        ),
        (
            {"kind": "point", "metric": "villages_covered", "date": "2020-02-01", "value": 0},
            "a target value of 0 needs an absolute tolerance above 0",
        ),
        (
            {"kind": "point", "metric": "happiness", "date": "2020-02-01", "value": 1},
            "'happiness': input should be 'new_villages_covered', 'villages_covered',",
        ),
        (
            {
                "kind": "point",
                "metric": "villages_covered",
                "date": "2020-02-01",
                "value": 3,
                "weight": 0,
            },
            "every target has weight 0",
        ),
        (
            {"kind": "point", "metric": "villages_covered", "date": "2029-02-01", "value": 3},
            "calibration.targets[0]: date 2029-02-01 is outside the simulated days",
        ),
        (
            {"metric": "start.places_4g", "start": "2020-02-01", "end": "2020-03-01", "value": 3},
            "start.places_4g is the starting network's value at day 0: use kind: point",
        ),
    ],
)
def test_bad_targets_are_refused_in_one_line(
    target: dict[str, Any], fragment: str, tmp_path: Path
) -> None:
    data = base(5)
    data["calibration"] = {
        "targets": [target],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 9], "integer": True}],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, err = run_cli("validate", path)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert fragment in err


# --- the calibrated scenario file, jobs -------------------------------------------------------

COMMENTED = """\
# Synthetic region for the calibration tests: every comment here must survive.
name: cal            # the scenario's name
seed: 11
start_date: 2020-01-01
horizon_years: 2
geography:
  synthetic: {villages: 1500, width_km: 300, height_km: 200}   # small and quick

maintenance:
  failures: {enabled: false}   # no outages: places move only with builds
operators:
  - name: op
    cash_usd: 3_000_000          # equity at day 0: fitted below
    # a comment line between keys
    build_crews: 12              # crews: fitted below
outputs: {plots: false}
calibration:
  targets:               # the model's own values at crews 7 and US$1.5M
    - kind: point
      metric: op.places_first_covered
      date: 2020-04-30
      value: {v0}
      rel_tolerance: 0.02
      label: "synthetic: day 120"
    - {kind: point, metric: op.people_first_covered, date: 2020-08-31, value: {v1},
       rel_tolerance: 0.02}
    - {kind: point, metric: op.places_first_covered, date: 2021-12-01, value: {v2},
       rel_tolerance: 0.02}
    - {kind: point, metric: start.places_4g, value: 5, tolerance: 5, weight: 0}   # shown only
  parameters:
    - {path: operators.0.build_crews, bounds: [2, 20], integer: true}
    - {path: operators.0.cash_usd, bounds: [500_000, 4_000_000]}
  replications: 2
  max_evaluations: 40
"""


@pytest.fixture(scope="module")
def commented_runs(
    truth_values: list[float], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Path]:
    """The commented scenario calibrated with --jobs 1 and with --jobs 2."""
    folder = tmp_path_factory.mktemp("commented")
    text = COMMENTED
    for k, value in enumerate(truth_values):
        text = text.replace(f"{{v{k}}}", repr(value))
    path = folder / "cal.yaml"
    path.write_text(text, encoding="utf-8")
    outs = []
    for jobs in ("1", "2"):
        out = folder / f"out{jobs}"
        code, _, err = run_cli("calibrate", path, "--out", out, "--jobs", jobs, "--quiet")
        assert code == 0 and err == "", err
        outs.append(out)
    return text, outs[0], outs[1]


def test_calibrated_file_keeps_every_comment(commented_runs: tuple[str, Path, Path]) -> None:
    text, out, _ = commented_runs
    summary = json.loads((out / "calibration.json").read_text())
    after = {p["path"]: p["after"] for p in summary["parameters"]}
    assert after["operators.0.build_crews"] == 7
    written = (out / "scenario.calibrated.yaml").read_text().splitlines()
    original = text.splitlines()
    k = len(written) - len(original)
    assert k == 2 and written[0].startswith("# cal, calibrated by rollout-sim")
    assert written[1] == (
        f"# Fitted: operators.0.build_crews 12 -> 7; operators.0.cash_usd 3,000,000 -> "
        f"{after['operators.0.cash_usd']:,.0f}."
    )
    body = written[k:]
    changed = [i for i, (a, b) in enumerate(zip(original, body, strict=True)) if a != b]
    assert [original[i] for i in changed] == [
        "    cash_usd: 3_000_000          # equity at day 0: fitted below",
        "    build_crews: 12              # crews: fitted below",
    ]
    cash = f"{int(after['operators.0.cash_usd']):_}"
    assert [body[i] for i in changed] == [
        f"    cash_usd: {cash:<19}# equity at day 0: fitted below",
        "    build_crews: 7               # crews: fitted below",
    ]
    reloaded = load_scenario(out / "scenario.calibrated.yaml")
    assert reloaded.operators[0].build_crews == 7
    assert reloaded.operators[0].cash_usd == after["operators.0.cash_usd"]
    resolved = load_scenario(out / "scenario.resolved.yaml")
    assert resolved.model_dump() == reloaded.model_dump()
    rows = summary["rows"]
    assert [r["date"] for r in rows] == ["2020-04-30", "2020-08-31", "2021-12-01", "start"]
    assert rows[0]["label"] == "synthetic: day 120" and rows[0]["within"] is True
    assert rows[3]["weight"] == 0 and rows[3]["after"] == 0.0 and rows[3]["within"] is True


def test_jobs_2_gives_the_same_files_as_jobs_1(commented_runs: tuple[str, Path, Path]) -> None:
    _, one, two = commented_runs
    for name in ("calibration.json", "scenario.calibrated.yaml", "scenario.resolved.yaml"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert json.loads((two / "manifest.json").read_text())["jobs"] == 2


def test_roundtrip_edit_inserts_and_formats() -> None:
    text = "a: 1   # keep me\nb:\n  c: [1, 2]   # and me\n  n: 1_000\nflow: {x: 1}\n"
    out, off = roundtrip_edit(
        text,
        [
            (("b", "d"), 1e-05),
            (("b", "n"), 2500),
            (("flow", "y"), 2.5),
            (("e", "f"), 2),
        ],
    )
    assert off == 0
    assert out == (
        "a: 1   # keep me\nb:\n  c: [1, 2]   # and me\n  n: 2_500\n  d: 1.0e-05\n"
        "flow: {x: 1, y: 2.5}\ne:\n  f: 2\n"
    )
    assert yaml.safe_load(out) == {
        "a": 1,
        "b": {"c": [1, 2], "n": 2500, "d": 1e-05},
        "flow": {"x": 1, "y": 2.5},
        "e": {"f": 2},
    }


def test_relative_paths_and_overrides_follow_the_calibrated_file(tmp_path: Path) -> None:
    sub = tmp_path / "scenarios"
    sub.mkdir()
    (sub / "obs.csv").write_text("date,value\n2020-06-30,40\n2021-06-30,120\n")
    data = base(8)
    data["geography"]["synthetic"]["villages"] = 800
    data["calibration"] = {
        "targets": [{"kind": "series", "metric": "villages_covered", "file": "obs.csv"}],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 20], "integer": True}],
        "replications": 1,
        "max_evaluations": 4,
        "identification": False,
    }
    path = sub / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "results" / "s-cal"
    code, _, err = run_cli("calibrate", path, "--out", out, "--seed", "5", "--quiet")
    assert code == 0 and err == "", err
    text = (out / "scenario.calibrated.yaml").read_text()
    assert "# From the command line: --set seed=5" in text
    assert (
        "# Relative file paths rewritten to point from this folder: calibration.targets.0.file"
        in text
    )
    assert "\nseed: 5\n" in text and "file: ../../scenarios/obs.csv\n" in text
    again = load_scenario(out / "scenario.calibrated.yaml")
    target = again.calibration.targets[0] if again.calibration else None
    assert isinstance(target, SeriesTarget)
    assert Path(target.file).resolve() == (sub / "obs.csv").resolve()
    assert again.seed == 5


def test_a_world_parameter_moves_the_starting_network(tmp_path: Path) -> None:
    # C (x=10) starts on 4G. Its radius decides what it covers at day 0: C and D (3.5 km) at
    # 6 km; B too (7 km) from 7 km; A (10 km) from 10 km. Three places need 7 ≤ radius < 10.
    # Each evaluation builds the world its radius makes.
    sc = handmade(
        tmp_path, HAND_XY, HAND_POP, service=["none", "none", "4g", "none", "none"], radius_km=6
    )
    data = sc.model_dump(mode="json")
    data["calibration"] = {
        "targets": [
            {"kind": "point", "metric": "start.places_4g", "value": 3, "tolerance": 0.5},
        ],
        "parameters": [{"path": "coverage.radius_km.highlands", "bounds": [2, 9.5]}],
        "replications": 1,
        "max_evaluations": 12,
        "stop_when_within": True,
    }
    res = calibrate(load_scenario(data))
    assert res.initial.simulated == [2.0] and res.best.simulated == [3.0] and res.best.ok
    assert res.converged and len(res.evaluations) == 2  # 6 km, then 6 + a quarter of the range
    assert 7 <= res.best.params["coverage.radius_km.highlands"] < 9.5
    assert (
        res.calibrated.coverage.radius_km["highlands"]
        == res.best.params["coverage.radius_km.highlands"]
    )


def test_a_bound_is_flagged_only_when_the_fit_would_go_beyond_it() -> None:
    """Bisection ends on a bound in two ways: the target lies between the bound and the next
    whole number (met at 7 crews with bounds 7..30: nothing beyond 7 could fit better), or
    beyond it (bounds 8..30 for a target met at 7): only the second deserves the warning."""
    rate = window_rate(base(7), reps=3)

    def notes(low: int) -> list[str]:
        data = base(20)
        data["calibration"] = {
            "targets": [
                {
                    "metric": "new_villages_covered", "start": "2020-01-31",
                    "end": "2021-11-30", "value": rate, "tolerance": 1e-9,
                }
            ],
            "parameters": [
                {"path": "operators.0.build_crews", "bounds": [low, 30], "integer": True}
            ],
            "replications": 3,
            "identification": False,
        }  # fmt: skip
        res = calibrate(load_scenario(data))
        assert res.method == "bisection" and res.best.params["operators.0.build_crews"] == low
        return [w for w in res.warnings if "bound" in w]

    assert notes(7) == []
    assert notes(8) == [
        "operators.0.build_crews ended at its lower bound 8: the best fit may lie beyond it; "
        "widen the bounds if that value is plausible"
    ]
