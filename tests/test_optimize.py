"""Policy optimisation: the optimize: block's checks, a seeded search whose Pareto rows are
mutually non-dominated, and a best.yaml that reproduces its trial when run again."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.experiments.optimize import Trial, check_optimize, dominates, pareto
from rollout_sim.experiments.replications import replicate

from conftest import run_cli, small_scenario_dict, write_yaml

POLICIES: list[dict[str, Any]] = [
    {"name": "none", "instruments": []},
    {
        "name": "obi",
        "instruments": [
            {"type": "output_based", "funder": "gov", "usd_per_person": 20, "budget_usd": 500_000}
        ],
    },
]


def optimize_block(**kw: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "policy": "obi",
        "variables": [
            {"path": "policies.obi.instruments.0.usd_per_person", "low": 0, "high": 80},
            {"path": "policies.obi.instruments.0.budget_usd", "low": 50_000, "high": 600_000},
        ],
        "objectives": [
            {"metric": "people_reached", "direction": "maximize", "date": "2019-12-31"},
            {"metric": "public_cost_usd", "direction": "minimise"},
        ],
        "constraints": [{"metric": "public_cost_usd", "max": 400_000}],
        "trials": 8,
        "replications": 2,
        "parallel_trials": 4,
    }
    block.update(kw)
    return block


def scenario_dict(**kw: Any) -> dict[str, Any]:
    data = small_scenario_dict(horizon_years=1, policies=POLICIES, optimize=optimize_block())
    data["geography"]["synthetic"]["villages"] = 150
    data["operators"][0]["cash_usd"] = 200_000
    data.update(kw)
    return data


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_dominance_by_hand() -> None:
    up_down = [True, False]  # maximise the first, minimise the second
    assert dominates([10, 5], [9, 5], up_down)
    assert dominates([10, 4], [10, 5], up_down)
    assert not dominates([10, 5], [10, 5], up_down)  # equal: neither dominates
    assert not dominates([10, 6], [9, 5], up_down)  # better on one, worse on the other
    trials = [
        Trial(0, {}, [10, 5], [], True),
        Trial(1, {}, [9, 5], [], True),  # dominated by 0
        Trial(2, {}, [12, 8], [], True),
        Trial(3, {}, [20, 1], [], False),  # would dominate all, but infeasible
        Trial(4, {}, [12, 8], [], True),  # a tie with 2: both stay
    ]
    assert [t.number for t in pareto(trials, up_down)] == [0, 2, 4]


def test_optimize_writes_a_front_and_a_reproducible_best(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, scenario_dict())
    text = path.read_text()
    path.write_text("# my comment survives\n" + text)
    out = tmp_path / "opt"
    code, stdout, err = run_cli("optimize", path, "--out", out, "--jobs", "2")
    assert code == 0, err
    assert "NSGA-II" in stdout
    trials = _rows(out / "trials.csv")
    assert len(trials) == 8
    obj = ["objective_1:people_reached@2019-12-31", "objective_2:public_cost_usd"]
    assert list(trials[0])[:3] == ["trial", *(v["path"] for v in optimize_block()["variables"])]
    assert obj[0] in trials[0] and obj[1] in trials[0]
    front = _rows(out / "pareto.csv")
    assert front, "some trial is feasible"
    points = [(float(r[obj[0]]), float(r[obj[1]])) for r in front]
    for i, a in enumerate(points):  # mutually non-dominated
        for j, b in enumerate(points):
            if i != j:
                assert not (a[0] >= b[0] and a[1] <= b[1] and a != b), (a, b)
    for r in front:
        assert r["feasible"] == "yes"
        assert float(r["constraint_1:public_cost_usd"]) <= 400_000
    # ... and no feasible trial outside the front dominates one on it.
    for t in trials:
        if t["feasible"] == "yes":
            p = (float(t[obj[0]]), float(t[obj[1]]))
            assert not any(p[0] >= a[0] and p[1] <= a[1] and p != a for a in points)
    best_row = next(t for t in trials if t["best"] == "yes")
    best = out / "best.yaml"
    body = best.read_text()
    assert "# my comment survives" in body
    # best.yaml run again on the same replications gives its trial's values.
    sc = load_scenario(best)
    rset = replicate(sc, 2, policy="obi")
    day = (np.datetime64("2019-12-31") - np.datetime64("2019-07-01")).astype(int)
    reached = rset.metrics["people_reached"] - (
        rset.series["people_covered"][:, -1] - rset.series["people_covered"][:, day]
    )
    assert float(np.mean(reached)) == pytest.approx(float(best_row[obj[0]]), rel=1e-9)
    cost = float(np.mean(rset.metrics["public_cost_usd"]))
    assert cost == pytest.approx(float(best_row[obj[1]]), rel=1e-9)
    # Seeded: the same scenario gives the same trials, whatever runs them.
    again = tmp_path / "again"
    code, _, err = run_cli("optimize", path, "--out", again, "--executor", "serial", "-q")
    assert code == 0, err
    assert (again / "trials.csv").read_bytes() == (out / "trials.csv").read_bytes()
    assert (again / "best.yaml").read_bytes() == best.read_bytes()


def test_one_objective_uses_tpe(tmp_path: Path) -> None:
    block = optimize_block(
        objectives=[{"metric": "people_reached", "direction": "maximize"}], trials=4
    )
    path = write_yaml(tmp_path, scenario_dict(optimize=block))
    out = tmp_path / "opt"
    code, stdout, err = run_cli("optimize", path, "--out", out, "--executor", "serial")
    assert code == 0, err
    assert "TPE" in stdout
    trials = _rows(out / "trials.csv")
    feasible = [t for t in trials if t["feasible"] == "yes"]
    best = max(float(t["objective_1:people_reached"]) for t in feasible)
    chosen = next(t for t in trials if t["best"] == "yes")
    assert float(chosen["objective_1:people_reached"]) == best
    assert len(_rows(out / "pareto.csv")) >= 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"policy": "nope"}, "optimize.policy: 'nope': unknown policy"),
        (
            {
                "variables": [
                    {"path": "policies.obi.instruments.0.usd_per_persn", "low": 0, "high": 5}
                ]
            },
            "optimize.variables[0].path: 'policies.obi.instruments.0.usd_per_persn': no key "
            "'usd_per_persn' in policies[1].instruments[0]; did you mean 'usd_per_person'?",
        ),
        (
            {
                "variables": [
                    {"path": "policies.obi.instruments.0.usd_per_person", "low": -5, "high": 5}
                ]
            },
            "optimize.variables[0].low: -5.0: outside what "
            "policies[1].instruments[0].usd_per_person allows (>= 0 and <= 1e+12)",
        ),
        (
            {"objectives": [{"metric": "people_reach", "direction": "maximize"}]},
            "optimize.objectives[0].metric: 'people_reach': not an outcome; expected one of:",
        ),
        (
            {
                "objectives": [
                    {"metric": "availability", "direction": "maximize", "date": "2019-12-31"}
                ]
            },
            "optimize.objectives[0].metric: 'availability': a metric on a date must be a daily "
            "series",
        ),
    ],
)
def test_a_bad_optimize_block_is_one_line(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    path = write_yaml(tmp_path, scenario_dict(optimize=optimize_block(**change)))
    out = tmp_path / "opt"
    code, _, err = run_cli("optimize", path, "--out", out)
    assert code == 2
    assert re.match(rf"error: {re.escape(str(path))}:\d+: {re.escape(expected)}", err), err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_a_chosen_value_cannot_also_be_drawn() -> None:
    data = scenario_dict(
        uncertainties=[
            {
                "path": "policies.obi.instruments.0.usd_per_person",
                "distribution": "uniform",
                "low": 1,
                "high": 5,
            }
        ]
    )
    from rollout_sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="either chosen or drawn"):
        check_optimize(load_scenario(data))


def test_an_interrupted_search_resumes_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rollout_sim.experiments import executors
    from rollout_sim.experiments.tasks import RunRecord, Task
    from rollout_sim.experiments.tasks import run_task as real

    ran: list[Task] = []
    stop = {"at": 0}

    def run(task: Task) -> RunRecord:
        if stop["at"] and len(ran) + 1 == stop["at"]:
            raise KeyboardInterrupt
        ran.append(task)
        return real(task)

    monkeypatch.setattr(executors, "run_task", run)
    path = write_yaml(tmp_path, scenario_dict(optimize=optimize_block(trials=6)))
    common = ("optimize", path, "--executor", "serial", "-q", "--no-plots")
    assert run_cli(*common, "--out", tmp_path / "whole")[0] == 0
    total = len(ran)  # 6 trials × 2 replications
    assert total == 12
    ran.clear()
    stop["at"] = 10  # in the second round of trials
    code, _, err = run_cli(*common, "--out", tmp_path / "cut")
    assert code == 130 and "9 replications are saved" in err
    ran.clear()
    stop["at"] = 0
    code, _, err = run_cli(*common, "--out", tmp_path / "cut", "--resume")
    assert code == 0, err
    assert len(ran) == total - 9  # the saved replications were not run again
    for name in ("trials.csv", "pareto.csv", "best.yaml"):
        whole = (tmp_path / "whole" / name).read_bytes()
        assert (tmp_path / "cut" / name).read_bytes() == whole, name
