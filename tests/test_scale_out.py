"""Executors give identical results; interrupted runs resume exactly; sweeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
FUNDING = ROOT / "scenarios" / "funding_policies.yaml"
QUICK = ROOT / "scenarios" / "quickstart.yaml"
SMALL = [
    "--set", "geography.synthetic.villages=500",
    "--set", "horizon_years=1.5",
    "--set", "operators.0.cash_usd=600000",
    "--set", "operators.0.capex_reserve_usd=50000",
]  # fmt: skip
OUTPUTS = ("timeseries_summary.csv", "replications.csv", "comparison.csv", "differences.csv")


def compare(out: Path, *extra: str) -> None:
    code, _, err = run_cli(
        "compare", str(FUNDING), "--reps", "3", "--out", str(out), "--quiet", "--no-plots",
        "--policies", "output_based", *SMALL, *extra,
    )  # fmt: skip
    assert code == 0, err


def test_serial_pool_and_dask_agree(tmp_path: Path) -> None:
    compare(tmp_path / "serial", "--executor", "serial")
    compare(tmp_path / "pool", "--jobs", "2")
    pytest.importorskip("distributed", reason="the dask extra is installed by the test command")
    compare(tmp_path / "dask", "--executor", "dask", "--jobs", "2")
    for f in OUTPUTS:
        serial = (tmp_path / "serial" / f).read_bytes()
        assert serial == (tmp_path / "pool" / f).read_bytes(), f
        assert serial == (tmp_path / "dask" / f).read_bytes(), f
    import json

    manifests = {
        k: json.loads((tmp_path / k / "manifest.json").read_text())
        for k in ("serial", "pool", "dask")
    }
    assert [manifests[k]["executor"] for k in ("serial", "pool", "dask")] == [
        "serial", "processes", "dask"
    ]  # fmt: skip
    assert manifests["pool"]["workers"] == 2 and manifests["dask"]["workers"] == 2
    assert len(manifests["pool"]["replication_wall_seconds"]["output_based"]) == 3


def test_interrupt_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    reps = "12"
    args = [
        sys.executable, "-m", "rollout_sim", "compare", str(FUNDING), "--reps", reps,
        "--policies", "output_based", "--executor", "serial", "--quiet", "--no-plots",
        "--set", "geography.synthetic.villages=3000", "--set", "horizon_years=3",
    ]  # fmt: skip
    out = tmp_path / "cut"
    store = tmp_path / ".cut.runs"
    # A background job (CI started with `&`, nohup) may inherit SIGINT ignored; the user's
    # Ctrl-C does not, so the child gets the default disposition back.
    proc = subprocess.Popen(
        [*args, "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        done = list(store.glob("*.npz")) if store.exists() else []
        if len(done) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err and err.strip().count("\n") == 0
    assert not out.exists()  # no half-written results folder
    assert not list(store.glob("*.tmp")) and not list(store.glob(".*.tmp"))
    saved = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in store.glob("*.npz")}
    assert 3 <= len(saved) < 24
    resumed = subprocess.run([*args, "--out", str(out), "--resume"], capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    after = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in store.glob("*.npz")}
    assert len(after) == 24
    for name, stamp in saved.items():
        assert after[name] == stamp  # not run again
    whole = tmp_path / "whole"
    subprocess.run([*args, "--out", str(whole)], check=True, capture_output=True)
    for f in OUTPUTS:
        assert (out / f).read_bytes() == (whole / f).read_bytes(), f


def test_sweep_design_outcomes_and_missing(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    grid = [
        "--grid", "operators.0.build_crews=8,15",
        "--grid", "operators.0.preventive_usd_per_site_year=0,1000",
    ]  # fmt: skip
    common = [
        "sweep", str(FUNDING), *grid, "--policies", "output_based", "--reps", "3",
        "--out", str(out), "--quiet", *SMALL,
    ]  # fmt: skip
    code, _, err = run_cli(*common)
    assert code == 0, err
    design = (out / "design.csv").read_text().splitlines()
    assert design == [
        "point,operators.0.build_crews,operators.0.preventive_usd_per_site_year",
        "0,8,0",
        "1,8,1000",
        "2,15,0",
        "3,15,1000",
    ]
    rows = (out / "outcomes.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 * 2 * 3
    header = rows[0].split(",")
    crews = header.index("operators.0.build_crews")
    for row in rows[1:]:
        cells = row.split(",")
        point = int(cells[1])
        assert cells[crews] == design[point + 1].split(",")[1]
    assert (out / "plots" / "sweep_people_covered.png").exists()
    store = tmp_path / ".sw.runs"
    files = sorted(store.glob("*.npz"))
    assert len(files) == 24
    gone = [files[1], files[7], files[20]]
    for f in gone:
        f.unlink()
    code, listed, _ = run_cli(*common, "--missing")
    assert code == 0
    lines = [line for line in listed.splitlines() if line.strip()]
    assert len(lines) == 3
    stems = {f.stem for f in gone}
    for line in lines:
        words = line.split()
        point, pol, rep = words[1], words[-3], words[-1]
        assert any(s.endswith(f"-p{point}-{pol}-r{rep}") for s in stems), line


def test_missing_dask_gives_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_distributed(name: str, *a: object, **k: object) -> object:
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    code, _, err = run_cli(
        "run", str(QUICK), "--reps", "2", "--executor", "dask", "--out", str(tmp_path / "x"),
        "--set", "geography.synthetic.villages=200",
    )  # fmt: skip
    assert code == 2 and "pip install 'rollout-sim[dask]'" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    args = [
        sys.executable, "-m", "rollout_sim", "run", str(QUICK), "--reps", "40",
        "--jobs", "2", "--quiet", "--no-plots", "--out", str(tmp_path / "t"),
    ]  # fmt: skip
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    store = tmp_path / ".t.runs"
    deadline = time.time() + 120
    while time.time() < deadline and not (store.exists() and list(store.glob("*.npz"))):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert not (tmp_path / "t").exists()
    assert not [p for p in store.iterdir() if p.suffix == ".tmp"]
