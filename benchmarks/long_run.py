"""Long-run benchmark: a 30-year horizon on 200,000 synthetic villages, memory over time.

    .venv/bin/python benchmarks/long_run.py [--villages 200000] [--years 30]

Runs the simulation in 5-year slices of the same world (growing horizons) is not the same as
one run, so instead it runs the whole horizon once and samples this process's resident memory
from a background thread every second: a stable plateau (no growth with simulated time) is
what to look for.
"""

from __future__ import annotations

import argparse
import threading
import time

from _common import peak_rss_mb, report


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=200_000)
    ap.add_argument("--years", type=float, default=30)
    args = ap.parse_args()
    from rollout_sim import build_world, load_scenario, simulate

    n = args.villages
    scale = (n / 12000) ** 0.5
    sc = load_scenario(
        {
            "name": "long_run",
            "start_date": "2020-01-01",
            "horizon_years": args.years,
            "geography": {
                "synthetic": {
                    "villages": n,
                    "width_km": 500 * scale,
                    "height_km": 400 * scale,
                    "clusters": n // 80,
                },
                "pops": {"largest_villages": n // 600},
            },
            "operators": [
                {
                    "name": "op",
                    "cash_usd": 1e10,
                    "build_crews": n // 1000,
                    "maintenance_crews": n // 4000,
                }
            ],
        }
    )
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, rss_mb()))
            stop.wait(1.0)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    world = build_world(sc)
    built = time.perf_counter() - t0
    results = simulate(sc, world=world)
    total = time.perf_counter() - t0
    stop.set()
    th.join()
    during = [m for t, m in samples if t >= built]
    rows = [
        ("villages, years", f"{n:,}, {args.years:g}"),
        ("world build", f"{built:.1f} s"),
        ("simulation", f"{total - built:.1f} s, {int(results.extra['events']):,} events"),
        ("sites on air at the end", f"{int(results.daily['sites_on_air'][-1]):,}"),
        (
            "memory during the simulation",
            f"first {during[0]:,.0f} MB, last {during[-1]:,.0f} MB, max {max(during):,.0f} MB"
            if during
            else "(too short to sample)",
        ),
        ("peak RSS", f"{peak_rss_mb():,.0f} MB"),
    ]
    report("long_run", rows, {"samples": samples, "built_s": built, "total_s": total})


if __name__ == "__main__":
    main()
