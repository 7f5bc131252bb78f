"""Calibration: recovering known parameters, observed series, errors, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.errors import ScenarioError
from rollout_sim.experiments.calibrate import calibrate, read_observed
from rollout_sim.experiments.replications import run_replications

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


def test_recovers_known_build_crews() -> None:
    # Simulate with 7 crews, forget it (start from 20), calibrate it back from the rate.
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
