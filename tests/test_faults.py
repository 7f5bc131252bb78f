"""Faults that must never be fatal or hang: damaged caches and records, signals at any phase,
a killed parent, a Dask scheduler that is wrong, silent or something else."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rollout_sim.experiments.store import RunStore
from rollout_sim.experiments.tasks import Task

from conftest import QUICKSTART, run_cli

FUNDING = QUICKSTART.parent / "funding_policies.yaml"
TINY = (
    "--set", "geography.synthetic.villages=200", "--set", "horizon_years=1",
    "--no-plots", "--quiet",
)  # fmt: skip
OUTPUTS = ("timeseries_summary.csv", "replications.csv", "comparison.csv", "differences.csv")


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders anywhere under *folder*."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if ".tmp" in p.name or ".old-" in p.name or p.name.endswith(".tmp")
    )


# --- the world cache ---------------------------------------------------------------------------


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a flipped byte: early (array data) and late (zip directory)
        at = len(data) // 3 if how == "flipped-early" else len(data) - 30
        data[at] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "empty", "flipped-early", "flipped-late"])
def test_damaged_world_cache_is_a_miss(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ROLLOUT_SIM_CACHE", str(cache))
    args = ["run", QUICKSTART, *TINY]
    assert run_cli(*args, "--out", tmp_path / "a")[0] == 0
    (entry,) = (cache / "worlds").glob("*.npz")
    _damage(entry, how)
    code, out, err = run_cli(*args, "--out", tmp_path / "b")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [f"warning: the cached world {entry} is damaged; building it again"]
    for name in ("timeseries.csv", "sites.csv", "ledger.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # Written afresh: the next run loads it without a word.
    assert run_cli(*args, "--out", tmp_path / "c") == (0, "", "")
    assert leftovers(cache) == []


# --- the run store ---------------------------------------------------------------------------


def _compare(out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(
        "compare", FUNDING, "--reps", "3", "--out", out, "--policies", "output_based",
        "--executor", "serial", *TINY, *extra,
    )  # fmt: skip


def test_damaged_records_are_found_on_resume_and_run_again(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    assert _compare(whole)[0] == 0
    out = tmp_path / "cut"
    assert _compare(out)[0] == 0
    store = tmp_path / ".cut.runs"
    files = sorted(store.glob("*.npz"))
    assert len(files) == 6
    by_name = {f.name: f for f in files}
    r0, r1, r2 = (f for f in files if "output_based" in f.name)
    e0 = next(f for f in files if "equity_only-r0" in f.name)
    r0.write_bytes(r0.read_bytes()[:500])  # truncated
    r2.write_bytes(r1.read_bytes())  # a record copied over another
    # A record with the right name but another replication inside (as an older version saved).
    with np.load(e0) as z:
        arrays = {k: z[k] for k in z.files}
    import json

    meta = json.loads(bytes(arrays["meta"]).decode())
    meta.pop("key")
    meta["rep"] = 7
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with e0.open("wb") as fh:
        np.savez(fh, **arrays)
    code, _, err = _compare(out, "--resume")
    assert code == 0, err
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert lines[0] == (
        f"warning: {store / e0.name}: holds point 0, policy equity_only, replication 7, not "
        "this run's; running that replication again"
    )
    assert lines[1] == (
        f"warning: {store / r0.name}: unreadable (BadZipFile); running that replication again"
    )
    key = r1.name[: -len(".npz")]
    assert lines[2] == (
        f"warning: {store / r2.name}: holds another run ({key}); running that replication again"
    )
    for f in OUTPUTS:
        assert (out / f).read_bytes() == (whole / f).read_bytes(), f
    assert sorted(by_name) == sorted(p.name for p in store.glob("*.npz"))


def test_store_load_checks_the_series() -> None:
    import tempfile

    from rollout_sim.experiments.store import DamagedRecord
    from rollout_sim.experiments.tasks import RunRecord

    with tempfile.TemporaryDirectory() as d:
        store = RunStore(Path(d) / ".x.runs")
        task = Task("{}", None, 0)
        rec = RunRecord(0, None, 0, {"a": 1.0}, {"s": np.zeros(3), "t": np.zeros(4)}, 0.1, 1.0)
        store.save(task, rec)
        with pytest.raises(DamagedRecord, match="unequal length"):
            store.load(task)
        store.save(task, RunRecord(0, None, 0, {"a": 1.0}, {"s": np.ones(3)}, 0.1, 1.0))
        assert store.load(task).series["s"].tolist() == [1.0, 1.0, 1.0]
        assert sorted(p.name for p in store.folder.iterdir()) == [f"{task.key}.npz", "store.json"]
        store.clear()
        assert not store.folder.exists()


# --- signals at every phase ------------------------------------------------------------------


REPS = ["run", "--reps", "3"]


def _interrupt(*a: object, **k: object) -> None:
    raise KeyboardInterrupt  # what SIGINT or SIGTERM raise in the main thread


@pytest.mark.parametrize(
    ("phase", "target", "args"),
    [
        ("loading", "rollout_sim.scenario.load.load_scenario", ["run"]),
        ("world", "rollout_sim.world.build.build_world", ["run", "--no-cache"]),
        ("single run", "rollout_sim.engine.simulate", ["run"]),
        ("writing", "rollout_sim.report.writer.funding_rows", ["run"]),
        ("before replications", "rollout_sim.experiments.runner.RunStore.clear", REPS),
        ("saving a record", "rollout_sim.experiments.store.np.savez", REPS),
        ("writing replications", "rollout_sim.report.experiments.write_csv", REPS),
        ("report", "rollout_sim.report.html._context", ["run", "--report"]),
    ],
)  # fmt: skip
def test_interrupt_at_each_phase(
    phase: str, target: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    # The world in the cache first, so that the interruption lands in the phase named.
    assert run_cli("validate", QUICKSTART, *TINY[:4])[0] == 0
    if phase in ("writing", "writing replications"):
        assert run_cli("run", QUICKSTART, "--out", out, *TINY)[0] == 0  # earlier results
    before = {p.name: p.read_bytes() for p in out.glob("*") if p.is_file()}
    monkeypatch.setattr(target, _interrupt)
    if "--reps" in args:
        args = [*args, "--executor", "serial"]
    code, _stdout, err = run_cli(args[0], QUICKSTART, *args[1:], "--out", out, *TINY)
    assert code == 130, (phase, err)
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert leftovers(tmp_path) == []
    after = {p.name: p.read_bytes() for p in out.glob("*") if p.is_file()}
    if phase != "report":
        assert after == before  # earlier results (or none) untouched


def test_sigterm_while_writing_leaves_nothing_half_done(tmp_path: Path) -> None:
    """A real SIGTERM, sent once the results are being written."""
    out = tmp_path / "res"
    cmd = [
        sys.executable, "-m", "rollout_sim", "run", str(QUICKSTART), "--out", str(out),
        "--set", "geography.synthetic.villages=20000", "--set", "horizon_years=3",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.startswith(".res.tmp-") for p in tmp_path.iterdir()):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err
    # Under load the write may have finished first: then the results are complete.
    assert proc.returncode in (0, 130), err
    assert leftovers(tmp_path) == []
    if proc.returncode == 130:
        assert err.strip() == "interrupted" and not out.exists()
    else:
        assert (out / "manifest.json").is_file()


# --- a killed parent ---------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(c) for c in text]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "rollout_sim", "run", str(QUICKSTART), "--reps", "40",
        "--jobs", "2", "--quiet", "--no-plots", "--out", str(tmp_path / "t"),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, start_new_session=True)
    store = tmp_path / ".t.runs"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(store.glob("*.npz")):
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) >= 2, workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 60  # they notice within a second; allow a busy machine
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert alive == []


# --- Dask scheduler addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not a url", "not a HOST:PORT address"),
        ("http://127.0.0.1:8786", "unknown scheme http://"),
        ("gopher://host:70", "unknown scheme gopher://"),
        ("tcp://host", "not a HOST:PORT address"),
        ("tcp://host:99999", "the port must be a number from 1 to 65535"),
        ("tcp://:8786", "not a HOST:PORT address"),
    ],
)
def test_wrong_scheduler_address_is_one_line(address: str, fragment: str, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    code, _out, err = run_cli(
        "run", QUICKSTART, "--reps", "2", "--executor", "dask", "--scheduler", address,
        "--out", tmp_path / "x", *TINY,
    )  # fmt: skip
    assert code == 2, err
    assert len(err.splitlines()) == 1 and fragment in err and "--scheduler" in err
    assert not (tmp_path / "x").exists()


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[str]:
    """A TCP server on localhost that never answers, or answers with HTTP."""
    mode = request.param
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            conns.append(c)
            if mode == "http":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" * 8)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    srv.close()


@pytest.mark.parametrize(
    ("listener", "fragment"),
    [
        ("silent", "no answer from a Dask scheduler within 1 s"),
        ("http", "cannot talk to a Dask scheduler there"),
    ],
    indirect=["listener"],
)
def test_scheduler_that_does_not_answer_gives_up(
    listener: str, fragment: str, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    started = time.monotonic()
    code, _out, err = run_cli(
        "run", QUICKSTART, "--reps", "2", "--executor", "dask", "--scheduler", listener,
        "--connect-timeout", "1", "--out", tmp_path / "x", *TINY,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert code == 2, err
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "x").exists()
