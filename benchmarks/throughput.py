"""Throughput benchmark: replications per minute with --jobs 1 and --jobs 2.

    .venv/bin/python benchmarks/throughput.py [--scenario scenarios/quickstart.yaml] [--reps 40]

Runs the CLI's `run --reps N` twice (serial, then a 2-process pool) into temporary folders,
each from a cold process and with the world already in the disk cache, and reports the ratio
(goal ≥ 1.8×). Outputs of the two runs are checked to be byte-identical.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report


def run(scenario: str, reps: int, jobs: int, out: Path, extra: list[str]) -> float:
    cmd = [
        sys.executable, "-m", "rollout_sim", "run", scenario, "--reps", str(reps),
        "--jobs", str(jobs), "--out", str(out), "--quiet", "--no-plots", *extra,
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--set", action="append", default=[], dest="sets")
    args = ap.parse_args()
    extra = [x for s in args.sets for x in ("--set", s)]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ROLLOUT_SIM_CACHE", str(Path(tmp) / "cache"))
        run(args.scenario, 1, 1, Path(tmp) / "warm", extra)  # fills the world cache
        one = run(args.scenario, args.reps, 1, Path(tmp) / "j1", extra)
        two = run(args.scenario, args.reps, 2, Path(tmp) / "j2", extra)
        same = all(
            filecmp.cmp(Path(tmp) / "j1" / f, Path(tmp) / "j2" / f, shallow=False)
            for f in ("timeseries_summary.csv", "replications.csv", "summary.json")
        )
    ratio = one / two
    rows = [
        ("scenario", f"{args.scenario} {' '.join(extra)}"),
        ("replications", str(args.reps)),
        ("--jobs 1", f"{one:.1f} s  ({args.reps / one * 60:.0f} replications/min)"),
        ("--jobs 2", f"{two:.1f} s  ({args.reps / two * 60:.0f} replications/min)"),
        ("speed-up", f"{ratio:.2f}×   (goal ≥ 1.8×)"),
        ("identical outputs", str(same)),
    ]
    name = "throughput_" + Path(args.scenario).stem
    report(
        name,
        rows,
        {
            "scenario": args.scenario,
            "sets": args.sets,
            "reps": args.reps,
            "jobs1_s": one,
            "jobs2_s": two,
            "speedup": ratio,
            "identical": same,
        },
    )


if __name__ == "__main__":
    main()
