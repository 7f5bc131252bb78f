"""The main job's drawings shared with a forked child while the rest is written
(``drawings_alongside``): the same files as drawn in turn, each drawing drawn once, and an
interruption or a failure (even a child killed outright) leaves nothing behind.

A child is forked only from a process without other threads: these tests are marked
``forks`` and run first in the suite (tests/conftest.py), before any test starts Dask (whose
offload thread lives on).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.plots import folders
from rollout_sim.report.writer import write_run

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux"),
    pytest.mark.forks,
]


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
    assert [c for c in multiprocessing.active_children() if c.name == "rollout-sim drawings"] == []


def _fork() -> multiprocessing.context.ForkContext:
    ctx = folders._fork_context()
    if ctx is None:
        pytest.skip("no child is forked here (other threads are alive)")
    return ctx


def test_same_files_with_and_without_the_child(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fork()
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

    monkeypatch.setattr("rollout_sim.report.geojson.write_layer", interrupt)  # here only
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
    # Drawn by the child: its traceback is on stderr and the run fails; drawn here (the child
    # late under load, or no fork where other threads are alive), the error itself.
    with pytest.raises((RuntimeError, ValueError), match=r"drawing failed|no map today"):
        write_run(results, tmp_path / "res")
    assert not (tmp_path / "res").exists()
    _nothing_left(tmp_path)


def _log_drawing(log: Path, name: str) -> None:
    with open(log, "a") as f:  # one short line a write: appends do not interleave
        f.write(f"{name} {os.getpid()}\n")


def test_every_drawing_is_drawn_once_by_one_process(tmp_path: Path) -> None:
    """Each drawing is taken by one process, whichever: none twice, none left out (whether
    the child or this process takes more depends on the machine's load)."""
    ctx = _fork()
    log = tmp_path / "log"
    names = [f"d{i}" for i in range(40)]
    shared = folders.SharedDrawings(
        [(n, lambda _folder, n=n: _log_drawing(log, n)) for n in names], tmp_path, ctx
    )
    child = ctx.Process(target=shared.draw_here)
    child.start()
    shared.child = child
    here = shared.draw_here()
    child.join()
    assert child.exitcode == 0
    lines = [line.split() for line in log.read_text().splitlines()]
    assert sorted(n for n, _ in lines) == sorted(names)  # each once
    assert {int(pid) for n, pid in lines if n in here} <= {os.getpid()}


def test_a_child_killed_outright_fails_the_run_without_hanging(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fork()
    parent = os.getpid()

    def die(_folder: Path) -> None:
        """In the child: killed at once. Here: hold on until the child is gone, so that it
        takes one of these whatever the load (then the rest are drawn here)."""
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(
            c.name == "rollout-sim drawings" for c in multiprocessing.active_children()
        ):
            time.sleep(0.01)

    def deadly(res: Results) -> list[folders.Drawing]:
        return [(f"die{i}", die) for i in range(4)]

    monkeypatch.setattr(folders, "run_drawings", deadly)
    with pytest.raises(RuntimeError, match=r"drawing failed \(child process exit code -9\)"):
        write_run(results, tmp_path / "res")
    assert not (tmp_path / "res").exists()
    _nothing_left(tmp_path)


def test_a_lock_left_held_by_a_dead_child_is_noticed(tmp_path: Path) -> None:
    """Should the child die while it holds the lock that hands out drawings, this process
    sees it gone (in about a second) instead of waiting for the lock for ever."""
    ctx = _fork()
    shared = folders.SharedDrawings([("d", lambda _folder: None)], tmp_path, ctx)
    assert shared._next is not None
    child = ctx.Process(target=shared._next.get_lock().acquire)  # takes it, never gives back
    child.start()
    child.join()
    shared.child = child
    with pytest.raises(RuntimeError, match=r"drawing failed \(child process exit code 0\)"):
        shared.draw_here()
