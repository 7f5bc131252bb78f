"""National comparison benchmark: 5 policies × 100 replications, end to end, on 2 processes.

    .venv/bin/python benchmarks/comparison.py [--reps 100] [--jobs 2] [--keep DIR]

Runs the CLI's ``compare scenarios/peru_funding_policies.yaml --reps N --jobs J`` in a fresh
process (plots and all, as a user would) after warming the world cache, and reports its wall
time, the time per replication (all policies' replications counted, on J processes), and peak
memory: of the whole process tree (the main process and its workers, resident memory summed
and sampled every 0.2 s) and of its largest single process (from the kernel's own peak). A
bare SimPy loop is timed in the same run, as the reference the other benchmarks use. Use
``--reps 4`` for a quick check; the goal is ``--reps 100`` in ≤ 10 min on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, report
from national import bare_loop

from rollout_sim import load_scenario
from rollout_sim.world.cache import cache_dir, prepared_world

SCENARIO = "scenarios/peru_funding_policies.yaml"
#: Events of the bare SimPy reference loop (about as many as one national replication).
REFERENCE_EVENTS = 300_000


def _children(pid: int) -> list[int]:
    """Every descendant of *pid* (from /proc; empty once it has gone)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = Path(f"/proc/{p}/task").iterdir()
            kids = [int(c) for t in tasks for c in (t / "children").read_text().split()]
        except OSError:
            continue
        out.extend(kids)
        todo.extend(kids)
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeMemory:
    """Samples the summed resident memory of a process and its descendants in a thread."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid = pid
        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(_rss_mb(p) for p in [self.pid, *_children(self.pid)])
            self.peak_mb = max(self.peak_mb, total)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def compare(reps: int, jobs: int, out: Path) -> tuple[float, float]:
    """Wall time and sampled peak tree memory (MB) of one ``compare`` run into *out*."""
    cmd = [
        sys.executable, "-m", "rollout_sim", "compare", SCENARIO, "--reps", str(reps),
        "--jobs", str(jobs), "--out", str(out), "--quiet",
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    memory = TreeMemory(proc.pid)
    code = proc.wait()
    seconds = time.perf_counter() - start
    memory.stop()
    if code:
        raise SystemExit(f"compare exited with {code}")
    return seconds, memory.peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="write the comparison here (default: a temp dir)")
    args = ap.parse_args()
    # Warm the world cache first, so the timed run is the comparison and not a world build.
    prepared_world(load_scenario(ROOT / SCENARIO), cache_dir())
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "compare"
        wall, tree_mb = compare(args.reps, args.jobs, out)
        policies = sum(1 for _ in (out / "comparison.csv").open()) - 1 if out.exists() else 0
    bare = bare_loop(REFERENCE_EVENTS)
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    runs = args.reps * max(policies, 1)
    per_run = wall * args.jobs / runs
    data = {
        "scenario": SCENARIO,
        "reps": args.reps,
        "jobs": args.jobs,
        "policies": policies,
        "replications": runs,
        "wall_s": round(wall, 1),
        "per_replication_cpu_s": round(per_run, 2),
        "bare_simpy_s": round(bare, 3),
        "bare_simpy_events": REFERENCE_EVENTS,
        "per_replication_over_bare": round(per_run / bare, 1),
        "peak_tree_rss_mb": round(tree_mb, 1),
        "peak_process_rss_mb": round(largest, 1),
        "cpus": os.cpu_count(),
    }
    rows = [
        ("command", f"compare {SCENARIO} --reps {args.reps} --jobs {args.jobs}"),
        ("replications", f"{runs:,} ({policies} policies × {args.reps})"),
        ("wall time", f"{wall:,.1f} s  ({wall / 60:.1f} min; goal at 100 reps ≤ 10 min)"),
        ("per replication", f"{per_run:.2f} s of one process (wall × jobs ÷ replications)"),
        ("bare SimPy, 300k events", f"{bare:.3f} s  (per replication ÷ it: {per_run / bare:.1f})"),
        ("peak memory, tree", f"{tree_mb:,.0f} MB  (summed over processes, sampled)"),
        ("peak memory, one process", f"{largest:,.0f} MB  (goal ≤ 600 MB)"),
    ]
    report("comparison", rows, data)


if __name__ == "__main__":
    main()
