"""Scaling benchmark: synthetic worlds of 12k … 192k villages, each in its own process.

    .venv/bin/python benchmarks/scaling.py [--sizes 12000,24000,48000,96000,192000] [--repeat 3]

Village density, crews per village and the horizon (5 years) stay the same, so the work per
village is the same; the fitted exponent of (build + simulate) time against villages says how
the cost grows (target ≤ 1.15).

This VM's speed swings by tens of per cent from one minute to the next, and one slow minute
on one size moved the exponent by ±0.1: each size is run *--repeat* times (every size once
per round, rounds one after another) and the best build and best simulation count.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

import numpy as np
from _common import ROOT, report


def one(n: int) -> dict[str, float]:
    """Build and simulate one size here (called in a child process)."""
    from _common import peak_rss_mb, timed

    from rollout_sim import build_world, load_scenario, simulate

    scale = math.sqrt(n / 12000)
    sc = load_scenario(
        {
            "name": "scaling",
            "seed": 1,
            "start_date": "2020-01-01",
            "horizon_years": 5,
            "geography": {
                "synthetic": {
                    "villages": n,
                    "width_km": 500 * scale,
                    "height_km": 400 * scale,
                    "clusters": n // 80,
                },
                "pops": {"largest_villages": max(8, n // 600)},
                "depots": {"largest_villages": max(3, n // 4000), "min_spacing_km": 60},
            },
            "operators": [
                {
                    "name": "op",
                    "cash_usd": 1e10,
                    "build_crews": max(1, n // 400),
                    "maintenance_crews": max(1, n // 2000),
                }
            ],
        }
    )
    world, build = timed(lambda: build_world(sc))
    results, sim = timed(lambda: simulate(sc, world=world))
    return {
        "villages": n,
        "build_s": build,
        "simulate_s": sim,
        "events": float(results.extra["events"]),
        "sites": float(results.daily["sites_on_air"][-1]),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="12000,24000,48000,96000,192000")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each size (the best counts)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    for _ in range(max(args.repeat, 1)):
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT / "benchmarks",
            )
            runs[n].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = []
    for n in sizes:
        best = dict(runs[n][0])
        best["build_s"] = min(r["build_s"] for r in runs[n])
        best["simulate_s"] = min(r["simulate_s"] for r in runs[n])
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs[n])
        best["runs"] = float(len(runs[n]))
        rows.append(best)
    n = np.array([r["villages"] for r in rows])
    total = np.array([r["build_s"] + r["simulate_s"] for r in rows])
    exponent = float(np.polyfit(np.log(n), np.log(total), 1)[0])
    table = [
        (
            f"{int(r['villages']):,} villages",
            f"build {r['build_s']:.2f} s, simulate {r['simulate_s']:.2f} s (best of "
            f"{int(r['runs'])}), "
            f"{int(r['events']):,} events, {int(r['sites']):,} sites, "
            f"{r['peak_rss_mb']:,.0f} MB",
        )
        for r in rows
    ]
    table.append(("fitted exponent", f"{exponent:.3f}   (target ≤ 1.15)"))
    report("scaling", table, {"sizes": rows, "exponent": exponent})


if __name__ == "__main__":
    main()
