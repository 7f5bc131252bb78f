"""A run's drawings shared with forked processes while the rest is written
(``report.drawers``): forked when writing starts (``drawings_alongside``) or before the run
(``drawers_for``, as the ``run`` command does), the same files as drawn in turn, each drawing
drawn once, and an interruption or a failure (even a child killed outright) leaves nothing
behind.

A child is forked only from a process without other threads: these tests are marked
``forks`` and run first in the suite (tests/conftest.py), before any test starts Dask (whose
offload thread lives on).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.plots import folders
from rollout_sim.report import drawers
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
    ctx = drawers.fork_context()
    if ctx is None:
        pytest.skip("no child is forked here (other threads are alive)")
    return ctx


def test_same_files_with_and_without_the_child(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fork()
    write_run(results, tmp_path / "forked")
    with monkeypatch.context() as m:
        m.setattr(drawers, "fork_context", lambda: None)
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
    shared = drawers.SharedDrawings(
        [(n, lambda _folder, n=n: _log_drawing(log, n)) for n in names], tmp_path, ctx.Value("i", 0)
    )
    child = ctx.Process(target=shared.draw_here)
    child.start()
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

    def deadly(res: Results) -> list[drawers.Drawing]:
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
    counter = ctx.Value("i", 0)
    child = ctx.Process(target=counter.get_lock().acquire)  # takes it, never gives back
    child.start()
    child.join()
    shared = drawers.SharedDrawings(
        [("d", lambda _folder: None)], tmp_path, counter, lambda: child.exitcode is None
    )
    with pytest.raises(RuntimeError, match="a process drawing alongside ended"):
        shared.draw_here()


# --- drawers forked before the run (the run command) -------------------------------------------


def _quick() -> tuple[object, object]:
    sc = load_scenario(
        "scenarios/quickstart.yaml",
        ["geography.synthetic.villages=300", "horizon_years=2", "seed=5"],
    )
    from rollout_sim import build_world

    return sc, build_world(sc)


def test_drawers_forked_before_the_run_draw_the_same_files(tmp_path: Path) -> None:
    """Forked before the run, before a thread starts (the run command's spinner is one: a
    child forked later would not be), the drawers draw everything: the same files as drawn
    in turn here, the results sent to them without their world."""
    import threading

    _fork()
    sc, world = _quick()
    stop = threading.Event()
    with drawers.drawers_for(world) as forked:  # type: ignore[arg-type]
        assert forked is not None and len(forked.children) == drawers.drawer_count()
        spinner = threading.Thread(target=stop.wait)  # a thread from here on, as in a terminal
        spinner.start()
        try:
            results = simulate(sc, world=world)  # type: ignore[arg-type]
            write_run(results, tmp_path / "forked", drawers=forked)
        finally:
            stop.set()
            spinner.join()
    timing = json.loads((tmp_path / "forked" / "manifest.json").read_text())["timing"]
    assert timing["drawing_here_seconds"] == 0.0 and timing["plots_seconds"] > 0
    write_run(results, tmp_path / "in_turn")
    assert _files(tmp_path / "forked") == _files(tmp_path / "in_turn")
    _nothing_left(tmp_path)


def test_drawers_get_the_results_without_the_world() -> None:
    import io
    import pickle

    sc, world = _quick()
    results = simulate(sc, world=world)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    drawers._Pickler(buffer, world).dump(results)
    assert len(buffer.getvalue()) < len(pickle.dumps(results)) / 2  # the world left out
    back = drawers._Unpickler(io.BytesIO(buffer.getvalue()), world).load()
    assert back.world is world
    assert np.array_equal(back.first_covered_day, results.first_covered_day, equal_nan=True)


def test_drawers_end_quietly_when_the_run_fails(tmp_path: Path) -> None:
    """An error (or an interruption) before the results exist: the drawers, still waiting,
    end with the context and nothing is left."""
    _fork()
    _sc, world = _quick()
    seen: list[drawers.Drawers | None] = []
    failed = pytest.raises(ValueError, match="the run failed")
    with failed, drawers.drawers_for(world) as forked:  # type: ignore[arg-type]
        seen.append(forked)
        raise ValueError("the run failed")
    assert seen[0] is not None and all(c.exitcode is not None for c in seen[0].children)
    _nothing_left(tmp_path)


def _drawers_fail_the_run(results: Results, tmp_path: Path, exit_code: int) -> None:
    """A run drawn by drawers forked before it fails with the drawer's exit code, leaving no
    folder and no process behind."""
    failed = pytest.raises(
        RuntimeError, match=rf"drawing failed \(child process exit code {exit_code}\)"
    )
    with drawers.drawers_for(results.world) as forked, failed:
        write_run(results, tmp_path / "res", drawers=forked)
    assert not (tmp_path / "res").exists()
    _nothing_left(tmp_path)


def test_a_failing_drawer_fails_the_run(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fork()

    def broken(*_a: object) -> None:
        raise ValueError("no map today")

    monkeypatch.setattr(folders, "snapshots_figure", broken)
    _drawers_fail_the_run(results, tmp_path, exit_code=1)


def test_a_drawer_killed_outright_fails_the_run_without_hanging(
    results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drawer that dies (here: killed by SIGKILL at its first drawing) fails the run at
    once; the other is ended with it, and nothing is left."""
    _fork()

    def die(_folder: Path) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def deadly(res: Results) -> list[drawers.Drawing]:
        return [(f"die{i}", die) for i in range(4)]

    monkeypatch.setattr(folders, "run_drawings", deadly)
    _drawers_fail_the_run(results, tmp_path, exit_code=-9)


def test_one_drawer_per_cpu_up_to_four(monkeypatch: pytest.MonkeyPatch) -> None:
    for cpus, count in ((1, 1), (2, 2), (3, 3), (8, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)))
        assert drawers.drawer_count() == count


def test_one_importer_fewer_than_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawers import matplotlib during the run at most one CPU fewer at a time than there
    are CPUs, so that the simulation keeps one (at least one importer)."""
    for cpus, count in ((1, 1), (2, 1), (3, 2), (8, 7)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)))
        assert drawers.importer_count() == count


def _logged(log: Path, what: str) -> None:
    with open(log, "a") as f:  # one short append per line: lines of two drawers never mix
        f.write(f"{os.getpid()} {what} {time.monotonic()}\n")


def _spans(log: Path) -> list[dict[str, float]]:
    """Each drawer's logged import (begin, end: a system-wide monotonic clock), in the order
    they began."""
    spans: dict[str, dict[str, float]] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        pid, what, when = line.split()
        spans.setdefault(pid, {})[what] = float(when)
    return sorted(spans.values(), key=lambda s: s["begin"])


def _until(done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _run_importing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_import: Callable[[], None],
    handover_when: Callable[[], bool],
) -> list[dict[str, float]]:
    """A run on two CPUs whose two drawers (forked before it) import with *fake_import*; its
    results are handed over once *handover_when* holds. Returns the logged imports."""
    _fork()
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(drawers, "_import_drawing", fake_import)
    sc, world = _quick()
    with drawers.drawers_for(world) as forked:  # type: ignore[arg-type]
        assert forked is not None and len(forked.children) == 2
        results = simulate(sc, world=world)  # type: ignore[arg-type]
        _until(handover_when)
        write_run(results, tmp_path / "res", drawers=forked)
    _nothing_left(tmp_path)
    return _spans(tmp_path / "imports.log")


def test_drawers_import_one_at_a_time_on_two_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On two CPUs the two drawers forked before a run import in turn while it runs: their
    imports' spans never overlap. Without the turns both would sleep at once."""
    log = tmp_path / "imports.log"

    def slow_import() -> None:
        _logged(log, "begin")
        time.sleep(0.3)
        _logged(log, "end")

    def both_imported() -> bool:  # the run "goes on" till then (a handover gives turns)
        return len(_spans(log)) == 2 and all("end" in s for s in _spans(log))

    first, second = _run_importing(tmp_path, monkeypatch, slow_import, both_imported)
    assert first["end"] <= second["begin"]


def test_the_results_handed_over_let_a_waiting_drawer_import_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the run has ended (its results handed over) no CPU is kept for it: a drawer
    waiting for its turn imports at once. Here the first importer holds its turn until the
    other has begun (30 s at most, and turns are never skipped): it would wait out its 30 s,
    and the other begin after it ends, were the turns not given out at the handover."""
    monkeypatch.setattr(drawers, "IMPORT_TURN_SECONDS", 600.0)
    log = tmp_path / "imports.log"

    def import_waiting_for_the_other() -> None:
        _logged(log, "begin")
        deadline = time.monotonic() + 30.0
        while len(_spans(log)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        _logged(log, "end")

    def one_importing() -> bool:  # and the other waiting for its turn
        return len(_spans(log)) >= 1

    first, second = _run_importing(
        tmp_path, monkeypatch, import_waiting_for_the_other, one_importing
    )
    assert second["begin"] < first["end"]
    assert first["end"] - first["begin"] < 25.0  # not the 30 s the other never came in


def test_an_import_turn_held_for_ever_delays_but_never_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A turn nobody gives back (a sibling stopped while importing) holds a drawer up for
    IMPORT_TURN_SECONDS, then it imports anyway, and gives back no turn it did not take; a
    free turn is taken and given back."""
    imported: list[float] = []
    monkeypatch.setattr(drawers, "_import_drawing", lambda: imported.append(time.monotonic()))
    monkeypatch.setattr(drawers, "IMPORT_TURN_SECONDS", 0.4)
    turns = multiprocessing.get_context("fork").BoundedSemaphore(1)
    drawers._import_in_turn(turns)  # free: taken, then given back
    assert len(imported) == 1 and turns.acquire(block=False)  # (now held for ever)
    start = time.monotonic()
    drawers._import_in_turn(turns)
    assert len(imported) == 2 and imported[1] - start >= 0.4
    assert not turns.acquire(block=False)  # still the holder's: nothing given back
    turns.release()
