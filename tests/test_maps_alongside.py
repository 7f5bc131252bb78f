"""The main job's maps drawn in a forked child while the rest is written (``maps_alongside``):
the same files as drawn in turn, and an interruption or a failure leaves nothing behind."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.plots import folders
from rollout_sim.report.writer import write_run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux")


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(
        load_scenario(
            "scenarios/quickstart.yaml",
            ["geography.synthetic.villages=300", "horizon_years=2", "seed=5"],
        )
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _nothing_left(tmp_path: Path) -> None:
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
    assert [c for c in multiprocessing.active_children() if c.name == "rollout-sim maps"] == []


def test_same_files_with_and_without_the_child(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if folders._fork_context() is None:
        pytest.skip("no child is forked here (other threads are alive)")
    write_run(results, tmp_path / "forked")
    with monkeypatch.context() as m:
        m.setattr(folders, "_fork_context", lambda: None)
        write_run(results, tmp_path / "in_turn")
    forked, in_turn = _files(tmp_path / "forked"), _files(tmp_path / "in_turn")
    assert "plots/map.png" in forked and "plots/rollout.gif" in forked
    assert forked == in_turn
    _nothing_left(tmp_path)


def test_interruption_while_the_child_draws_leaves_nothing(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rollout_sim.plots.run_charts", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_run(results, tmp_path / "res")
    assert not (tmp_path / "res").exists()
    _nothing_left(tmp_path)


def test_a_failing_child_fails_the_run(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: object) -> None:
        raise ValueError("no map today")

    monkeypatch.setattr(folders, "snapshots_figure", broken)
    # Forked: the child's traceback is on stderr and the run fails; in turn (no fork where
    # other threads are alive, as after some tests), the error itself.
    with pytest.raises((RuntimeError, ValueError), match=r"drawing the maps failed|no map today"):
        write_run(results, tmp_path / "res")
    assert not (tmp_path / "res").exists()
    _nothing_left(tmp_path)
