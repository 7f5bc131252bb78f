"""The one batch runner: saving, resuming, interruptions, measured values; calibration through
it (its --resume, its run store, its typed summary); the command line as a package."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rollout_sim.experiments.runner import Batch, Interrupted, run_batch, store_for
from rollout_sim.experiments.store import DamagedRecord, RunStore
from rollout_sim.experiments.tasks import RunRecord, Task
from rollout_sim.results import Results
from rollout_sim.summaries import CalibrationSummary

from conftest import run_cli, small_scenario_dict, write_yaml

# --- run_batch with a stand-in executor --------------------------------------------------------


def record_for(task: Task) -> RunRecord:
    values = {} if task.measure is None else {"x": np.array([float(task.rep)])}
    series = {} if task.measure is not None else {"s": np.arange(3.0) + task.rep}
    metrics = {} if task.measure is not None else {"m": float(task.rep)}
    return RunRecord(
        task.point, task.policy, task.rep, metrics, series, 0.01, 50.0 + task.rep, values
    )


class Stand:
    """An executor that makes records without simulating, and can be 'interrupted'."""

    name = "stand-in"
    workers = 1

    def __init__(self, stop_after: int | None = None) -> None:
        self.ran: list[str] = []
        self.stop_after = stop_after

    def run(self, tasks: list[Task], done: Callable[[Task, RunRecord], None]) -> None:
        for t in tasks:
            if self.stop_after is not None and len(self.ran) >= self.stop_after:
                raise KeyboardInterrupt  # what Ctrl-C or SIGTERM raise in the main thread
            self.ran.append(t.key)
            done(t, record_for(t))

    def close(self) -> None:
        return None


def tasks(n: int, scenario: str = '{"a": 1}', **kw: Any) -> list[Task]:
    return [Task(scenario, None, k, **kw) for k in range(n)]


def test_records_are_saved_and_resumed_without_running_again(tmp_path: Path) -> None:
    store = RunStore(tmp_path / ".out.runs")
    todo = tasks(3)
    first = Stand()
    records = run_batch(todo, executor=first, store=store)
    assert first.ran == [t.key for t in todo] and sorted(records) == sorted(first.ran)
    again = Stand(stop_after=0)  # would be 'interrupted' by any task it had to run
    resumed = run_batch(todo, executor=again, store=store, resume=True, tick=lambda: None)
    assert again.ran == []
    for t in todo:
        assert resumed[t.key].metrics == records[t.key].metrics
        assert resumed[t.key].series["s"].tolist() == records[t.key].series["s"].tolist()
    fresh = Stand()
    run_batch(todo, executor=fresh, store=store)  # without --resume: everything runs again
    assert len(fresh.ran) == 3


def test_an_interruption_says_what_is_saved(tmp_path: Path) -> None:
    store = RunStore(tmp_path / ".out.runs")
    with pytest.raises(Interrupted) as caught:
        run_batch(tasks(3), executor=Stand(stop_after=2), store=store)
    assert str(caught.value) == (
        "interrupted: 2 of 3 replications are saved; run the same command with --resume to finish"
    )
    assert len(list(store.folder.glob("*.npz"))) == 2
    with pytest.raises(KeyboardInterrupt):  # nothing saved, nothing to promise
        run_batch(tasks(3), executor=Stand(stop_after=2))


def test_a_batch_keeps_its_earlier_rounds(tmp_path: Path) -> None:
    """A calibration runs one round per evaluation: each round keeps what the others saved."""
    store = RunStore(tmp_path / ".out.runs")
    store.folder.mkdir()
    stale = tasks(1, scenario='{"old": 1}')
    run_batch(stale, executor=Stand(), store=store)
    batch = Batch(Stand(), store)
    batch.run(tasks(2, scenario='{"e": 1}'))  # the first round empties the store
    assert not store.has(stale[0])
    batch.run(tasks(2, scenario='{"e": 2}'))
    assert len(list(store.folder.glob("*.npz"))) == 4
    assert batch.done == 4 and batch.peak_rss_mb == 51.0
    batch.executor = Stand(stop_after=1)
    with pytest.raises(Interrupted) as caught:
        batch.run(tasks(2, scenario='{"e": 3}'))
    assert str(caught.value).startswith("interrupted: 5 replications are saved;")
    idle = Stand()
    Batch(idle, store, resume=True).run(tasks(2, scenario='{"e": 1}'))
    assert idle.ran == []


@dataclass(frozen=True)
class Twice:
    """A measure: what a task reads from the full results in the worker."""

    factor: float

    def __call__(self, r: Results) -> dict[str, np.ndarray]:
        return {"people": self.factor * np.asarray(r.daily["people_covered"][-1:], float)}


def test_measured_values_are_stored_and_checked(tmp_path: Path) -> None:
    store = RunStore(tmp_path / ".out.runs")
    (task,) = tasks(1, measure=Twice(2.0))
    run_batch([task], executor=Stand(), store=store)
    assert store.load(task).values["x"].tolist() == [0.0]
    other = Task(task.scenario_json, None, 0, measure=Twice(3.0))
    assert other.key == task.key  # the same run, measured for other targets
    with pytest.raises(DamagedRecord, match="measured for other targets"):
        store.load(other)


def test_a_task_with_a_measure_carries_its_values_only() -> None:
    from rollout_sim import load_scenario
    from rollout_sim.experiments.tasks import replication_tasks, run_task

    scenario = load_scenario(small_scenario_dict(horizon_years=1))
    plain, measured = (
        replication_tasks(scenario, None, 1)[0],
        replication_tasks(scenario, None, 1, measure=Twice(2.0))[0],
    )
    a, b = run_task(plain), run_task(measured)
    assert b.metrics == {} and b.series == {} and a.values == {}
    assert b.values["people"].tolist() == [2.0 * a.series["people_covered"][-1]]


_LEFT_BEHIND = """
import gc, json, sys
from rollout_sim import load_scenario
from rollout_sim.experiments import tasks
from rollout_sim.model.network import Network
gc.disable()  # no collection but the task's own
if sys.argv[1] == "worker":
    tasks.collect_after_each_run()
scenario = load_scenario(json.loads(sys.argv[2]))
for task in tasks.replication_tasks(scenario, None, 2):
    tasks.run_task(task)
print(sum(isinstance(o, Network) for o in gc.get_objects()))
"""


def test_a_pool_worker_keeps_no_run_it_has_finished() -> None:
    """A run's state is reference cycles (SimPy's processes, the network and its compiled
    core). A pool worker frees each run's as soon as its record is taken, so that it holds one
    run's state at a time, not as many as the collector leaves behind; elsewhere (this test's
    control) the collector decides. In a child process: the worker's setting freezes what the
    process holds."""
    import subprocess
    import sys

    data = json.dumps(small_scenario_dict(horizon_years=1))
    left = {
        kind: int(
            subprocess.run(
                [sys.executable, "-c", _LEFT_BEHIND, kind, data],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        for kind in ("worker", "elsewhere")
    }
    assert left == {"worker": 0, "elsewhere": 2}


# --- calibration through the batch runner ------------------------------------------------------


def calibration_scenario(tmp_path: Path) -> Path:
    data = small_scenario_dict(horizon_years=1)
    data["calibration"] = {
        "targets": [
            {
                "kind": "point",
                "metric": "villages_covered",
                "date": "2020-03-31",
                "value": 60,
                "rel_tolerance": 0.05,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 12], "integer": True}],
        "method": "nelder-mead",
        "max_evaluations": 5,
        "replications": 2,
    }
    return write_yaml(tmp_path, data, "cal.yaml")


def counting(monkeypatch: pytest.MonkeyPatch, stop_at: int | None = None) -> list[Task]:
    """Count the tasks the serial executor runs; 'interrupt' at the *stop_at*-th."""
    from rollout_sim.experiments import executors
    from rollout_sim.experiments.tasks import run_task as real

    ran: list[Task] = []

    def run(task: Task) -> RunRecord:
        if stop_at is not None and len(ran) + 1 == stop_at:
            raise KeyboardInterrupt
        ran.append(task)
        return real(task)

    monkeypatch.setattr(executors, "run_task", run)
    return ran


def test_calibrate_interrupted_resumes_its_finished_evaluations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = calibration_scenario(tmp_path)
    common = ("calibrate", path, "--executor", "serial", "--quiet", "--no-plots")
    whole = tmp_path / "whole"
    ran = counting(monkeypatch)
    assert run_cli(*common, "--out", whole)[0] == 0
    total = len(ran)
    assert total >= 6  # 3 evaluations or more, 2 replications each
    out = tmp_path / "cut"
    counting(monkeypatch, stop_at=5)  # in the third evaluation
    code, _, err = run_cli(*common, "--out", out)
    assert code == 130 and not out.exists()
    assert err == (
        "interrupted: 4 replications are saved; run the same command with --resume to finish\n"
    )
    assert len(list((tmp_path / ".cut.runs").glob("*.npz"))) == 4
    ran = counting(monkeypatch)
    code, _, err = run_cli(*common, "--out", out, "--resume")
    assert code == 0, err
    assert len(ran) == total - 4  # the saved evaluations were not run again
    for name in ("calibration.json", "scenario.calibrated.yaml"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed"] is True and manifest["executor"] == "serial"


def test_calibrate_on_every_executor_gives_the_same_fit(tmp_path: Path) -> None:
    path = calibration_scenario(tmp_path)
    common = ("calibrate", path, "--quiet", "--no-plots")
    runs = {"serial": ("--executor", "serial"), "processes": ("--jobs", "2")}
    try:
        import distributed  # noqa: F401

        runs["dask"] = ("--executor", "dask", "--jobs", "2")
    except ImportError:
        pass
    for name, options in runs.items():
        code, _, err = run_cli(*common, *options, "--out", tmp_path / name)
        assert code == 0, err
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["executor"] == name
    serial = (tmp_path / "serial" / "calibration.json").read_bytes()
    for name in runs:
        assert (tmp_path / name / "calibration.json").read_bytes() == serial, name
    # calibration.json is the typed summary, written and read back whole.
    data = json.loads(serial)
    assert CalibrationSummary.model_validate(data).model_dump(mode="json") == data


def test_calibrate_checks_its_run_store_before_any_work(tmp_path: Path) -> None:
    path = calibration_scenario(tmp_path)
    store = tmp_path / ".res.runs"
    store.mkdir()
    (store / "thesis.tex").write_text("chapter 1")
    code, out, err = run_cli("calibrate", path, "--out", tmp_path / "res", "--quiet")
    assert code == 2 and out == "" and ".res.runs" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.runs", "cal.yaml"]
    assert [p.name for p in store.iterdir()] == ["thesis.tex"]
    assert store_for(tmp_path / "res").folder == store


# --- the command line --------------------------------------------------------------------------


def test_the_entry_point_is_the_package_program() -> None:
    from importlib.metadata import entry_points

    from rollout_sim.cli import program

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "rollout-sim"]
    assert script.value == "rollout_sim.cli:program" and script.load() is program


def test_one_policies_parser() -> None:
    from rollout_sim.cli.arguments import build_parser, policy_names

    assert policy_names(" a, ,b ,") == ["a", "b"]
    for command in ("compare", "sweep"):
        args = build_parser().parse_args([command, "s.yaml", "--policies", "x,y"])
        assert args.policies == ["x", "y"]


def test_sweep_refuses_policies_of_a_scenario_without_any(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, small_scenario_dict())
    code, _, err = run_cli(
        "sweep", path, "--grid", "operators.0.build_crews=2,3", "--policies", "a,b",
        "--out", tmp_path / "x",
    )  # fmt: skip
    assert code == 2 and err == "error: --policies: 'a': unknown policy; it defines none\n"
    assert not (tmp_path / "x").exists()
