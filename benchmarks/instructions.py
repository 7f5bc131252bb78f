"""Instructions a national simulation executes, counted by valgrind (deterministic A/B).

    .venv/bin/python benchmarks/instructions.py [--end 2022-12-31] [--src OTHER/src ...]

On this VM wall times swing by 20–50% from one minute to the next, so a change of 5–10% cannot
be seen in seconds. ``valgrind --tool=callgrind`` counts the instructions a process executes
instead: the same count for the same code and inputs whatever else the machine is doing. Each
checkout (this one, and every ``--src`` given: another worktree's ``src``, e.g. from
``git worktree add /tmp/old <commit>``) runs ``scenarios/peru_ipt.yaml`` to *--end* under
callgrind, world from the cache, and once more without the simulation: the difference is the
simulation's instructions. All runs are started together (valgrind makes each ~50× slower; two
at a time on a 2-core machine take ~4 minutes to 2022). Needs ``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import ROOT, report

from rollout_sim.world.cache import cache_dir

SCENARIO = ROOT / "scenarios" / "peru_ipt.yaml"

CHILD = """
import sys
from pathlib import Path
from rollout_sim import load_scenario, simulate
from rollout_sim.world.cache import prepared_world
sc = load_scenario(Path(sys.argv[1]), ["end_date=" + sys.argv[2]])
world, cached = prepared_world(sc, Path(sys.argv[3]))
assert cached or sys.argv[4] == "warm", "the world cache should be warm"
import rollout_sim.engine, rollout_sim.results  # noqa: E401,F401 (imported in both modes)
if sys.argv[4] == "sim":
    print("events", simulate(sc, world=world).extra["events"])
"""


def _count(log: str) -> int:
    found = re.search(r"Collected : (\d+)", log)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{log[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--end", default="2022-12-31")
    ap.add_argument("--src", action="append", default=[], help="another checkout's src folder")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    cache = cache_dir()
    srcs = [str(ROOT / "src")] + [str(Path(s).resolve()) for s in args.src]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        for src in srcs:  # each checkout's world in the cache, outside the counts
            warm = [sys.executable, str(script), str(SCENARIO), args.end, str(cache), "warm"]
            subprocess.run(warm, env=dict(os.environ, PYTHONPATH=src), check=True)
        procs = {}
        for i, src in enumerate(srcs):
            for mode in ("load", "sim"):
                out = Path(tmp) / f"{i}-{mode}.callgrind"
                # A fixed hash seed: str hashing (dict and set layouts) varies the count by
                # ~0.1% from one process to the next otherwise.
                env = dict(os.environ, PYTHONPATH=src, PYTHONHASHSEED="0")
                cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
                cmd += [sys.executable, str(script), str(SCENARIO), args.end, str(cache), mode]
                procs[(src, mode)] = subprocess.Popen(
                    cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
        logs = {key: p.communicate()[0] for key, p in procs.items()}
    rows: list[tuple[str, str]] = []
    checkouts: list[dict[str, Any]] = []
    base = None
    for src in srcs:
        load, sim = _count(logs[(src, "load")]), _count(logs[(src, "sim")])
        events = re.search(r"events (\d+)", logs[(src, "sim")])
        instructions = sim - load
        base = instructions if base is None else base
        checkouts.append(
            {"src": src, "instructions": instructions, "load_instructions": load,
             "events": int(events.group(1)) if events else None}
        )  # fmt: skip
        rows.append(
            (
                src,
                f"{instructions / 1e9:.3f} G instructions ({instructions / base:.3f} of the first)",
            )
        )
    report("instructions", rows, {"end_date": args.end, "checkouts": checkouts})


if __name__ == "__main__":
    main()
