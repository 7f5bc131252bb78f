"""Global sensitivity: the wiring checked on the Ishigami function (known indices), then on a
small world where money never binds (build crews drive reach; ARPU cannot), and the command's
files, errors and resumption."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.experiments.metric_refs import MetricRef
from rollout_sim.experiments.sensitivity import indices_of, run_sensitivity

from conftest import run_cli, small_scenario_dict, write_yaml

#: The Ishigami function's indices for a = 7, b = 0.1 (Saltelli et al. 2008, Sobol' 1990).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(unit: np.ndarray) -> dict[str, np.ndarray]:
    x = -math.pi + 2 * math.pi * unit  # each input uniform on -π..π
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    return {"y": y}


def test_sobol_reproduces_ishigami_within_its_confidence_intervals() -> None:
    rows = indices_of("sobol", ["x1", "x2", "x3"], ishigami, 1024, seed=7)
    assert [r.parameter for r in rows] == ["x1", "x2", "x3"]
    for r, s1, st in zip(rows, ISHIGAMI_S1, ISHIGAMI_ST, strict=True):
        assert abs(r.S1 - s1) <= r.S1_conf, r
        assert abs(r.ST - st) <= r.ST_conf, r
        assert 0 < r.S1_conf < 0.1 and 0 < r.ST_conf < 0.1  # informative intervals
    # Seeded: the same design and bootstrap give the same numbers.
    again = indices_of("sobol", ["x1", "x2", "x3"], ishigami, 1024, seed=7)
    assert [(r.S1, r.ST, r.S1_conf) for r in rows] == [(r.S1, r.ST, r.S1_conf) for r in again]


def test_morris_on_ishigami_by_hand() -> None:
    rows = indices_of("morris", ["x1", "x2", "x3"], ishigami, 20, seed=7)
    by = {r.parameter: r for r in rows}
    # On a 4-level grid x2 takes -π, -π/3, π/3, π: every step of 2/3 (4π/3) moves 7 sin²(x2)
    # between 0 and 5.25, so each elementary effect is ±5.25 / (2/3) = ±7.875 exactly.
    assert by["x2"].mu_star == pytest.approx(7.875)
    assert by["x2"].mu_star_conf == pytest.approx(0.0, abs=1e-9)
    assert by["x1"].mu_star > by["x3"].mu_star > 0
    assert math.isnan(by["x1"].S1)


def test_a_constant_or_undefined_output_gets_no_indices() -> None:
    def f(unit: np.ndarray) -> dict[str, np.ndarray]:
        y = np.zeros(len(unit))
        return {"flat": y, "gap": np.where(unit[:, 0] > 0.5, np.nan, unit[:, 1])}

    rows = indices_of("sobol", ["a", "b"], f, 8, seed=1)
    assert all(math.isnan(r.ST) for r in rows)


def rich_world(**kw: Any) -> dict[str, Any]:
    """Money never binds (US$1 bn of equity): only crews can change how fast it builds."""
    data = small_scenario_dict(horizon_years=1)
    data["operators"][0]["cash_usd"] = 1e9
    data["uncertainties"] = [
        {
            "path": "operators.0.build_crews",
            "distribution": "uniform",
            "low": 1,
            "high": 6,
            "integer": True,
        },
        {
            "path": "operators.0.revenue.arpu_usd_month",
            "distribution": "uniform",
            "low": 1,
            "high": 10,
        },
    ]
    data.update(kw)
    return data


def test_build_crews_dominate_reach_when_money_never_binds() -> None:
    sc = load_scenario(rich_world())
    res = run_sensitivity(sc, "sobol", 16, [MetricRef("people_reached")])
    crews, arpu = res.ranked("people_reached")
    assert crews.parameter == "operators.0.build_crews"
    assert crews.ST > 0.8
    # ARPU cannot change coverage when money never binds: every design row that differs from
    # another only in ARPU reaches exactly the same people (common random numbers).
    assert arpu.ST == 0.0 and arpu.S1 == 0.0
    assert len(res.unit) == 16 * (2 + 2)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_sensitivity_command_writes_its_folder_and_resumes(tmp_path: Path) -> None:
    data = rich_world(outputs={"plots": True})
    arpu = {"distribution": "lognormal", "median": 5.0, "sigma": 0.3, "source": "a guess"}
    data["uncertainties"][1] = {"path": "operators.0.revenue.arpu_usd_month", **arpu}
    path = write_yaml(tmp_path, data)
    out = tmp_path / "sens"
    args = (
        "sensitivity",
        path,
        "--method",
        "morris",
        "--samples",
        "3",
        "--metric",
        "people_reached",
        "--metric",
        "people_covered@2019-12-31",
        "--out",
        out,
    )
    code, stdout, err = run_cli(*args, "--jobs", "2", "--report")
    assert code == 0, err
    report = (out / "report.html").read_text()
    assert '<section id="uncertainty">' in report and "Which uncertain inputs matter" in report
    assert report.count("data:image/png") == 2  # a ranked bar chart per metric
    rows = _rows(out / "sensitivity.csv")
    assert list(rows[0]) == ["parameter", "metric", "mu_star", "mu_star_conf", "sigma"]
    assert [r["metric"] for r in rows] == ["people_reached"] * 2 + ["people_covered@2019-12-31"] * 2
    assert rows[0]["parameter"] == "operators.0.build_crews"  # ranked: largest mu* first
    # The report gives effects in the outcome's unit: people as a count, not "720.000".
    from rollout_sim.outcomes import show_long

    for r in rows[:2]:  # build crews, and ARPU with no effect (it read "0.000 ± 0.000")
        mu, conf = float(r["mu_star"]), float(r["mu_star_conf"])
        cell = f"{show_long('people_reached', mu)} ± {show_long('people_reached', conf)}"
        assert cell in report
    assert "0.000" not in report
    assert float(rows[1]["mu_star"]) == 0.0  # ARPU
    design = _rows(out / "design.csv")
    assert len(design) == 3 * 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] and "sensitivity.csv" in manifest["files"]
    assert "Morris effects" in stdout
    # The inputs as the scenario gives them (it had kept only a truncated low..high).
    crews, arpu_in = json.loads((out / "sensitivity.json").read_text())["inputs"]
    assert crews == {
        "distribution": "uniform", "low": 1, "high": 6, "integer": True, "source": "",
        "path": "operators.0.build_crews", "support": [1.0, 6.0],
    }  # fmt: skip
    assert {k: arpu_in[k] for k in arpu} == arpu and "low" not in arpu_in
    assert arpu_in["support"][0] >= 0.0
    before = (out / "sensitivity.csv").read_bytes()
    code, _, err = run_cli(*args, "--resume", "--executor", "serial", "-q")
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed"] is True
    assert (out / "sensitivity.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--samples", "10"), "--samples: 10: Sobol' designs need a power of 2 (try 8 or 16)"),
        (("--metric", "people"), "--metric: 'people': not an outcome; expected one of:"),
        (
            ("--metric", "people_served@2030-01-01"),
            "--metric: 'people_served@2030-01-01': the date is outside the simulated days",
        ),
        (("--policy", "nope"), "--policy: 'nope': unknown policy"),
    ],
)
def test_sensitivity_refuses_bad_options_before_writing(
    tmp_path: Path, extra: tuple[str, ...], expected: str
) -> None:
    path = write_yaml(tmp_path, rich_world())
    out = tmp_path / "sens"
    code, _, err = run_cli("sensitivity", path, "--out", out, *extra)
    assert code == 2
    assert err.startswith(f"error: {expected}"), err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_sensitivity_needs_uncertainties(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, rich_world(uncertainties=[]))
    code, _, err = run_cli("sensitivity", path, "--out", tmp_path / "x")
    assert code == 2
    assert err.startswith(f"error: {path}: uncertainties: the scenario has no uncertainties")
