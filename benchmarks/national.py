"""National benchmark: scenarios/peru_ipt.yaml to 2030, one replication.

    .venv/bin/python benchmarks/national.py [--end 2030-12-31]

Reports the world build (cold, and from the disk cache), the simulation time, the events
SimPy processed and their rate, peak memory, and two overhead ratios: simulation time divided
by the time a bare SimPy loop needs for the same number of events, and for a fixed 474,826
events — what this run took before outages left per-event processes (2026-12-01): the redesign
cut the events themselves, so the first ratio alone would count that against it.

This VM's speed swings by tens of per cent from one minute to the next, and a bare loop timed
once after the simulation varies most: the simulation is the best of *--repeat* runs, each
bare loop the best of three, timed in between the simulation runs. The peak memory is that of
the process: the cold world build and one run (each earlier run's state is collected before
the next, as a comparison's workers collect it).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import simpy
from _common import ROOT, peak_rss_mb, report, timed

from rollout_sim import load_scenario, simulate
from rollout_sim.world.cache import prepared_world

#: SimPy events of this run before the outage redesign (each outage ~8 events then, ~3 now):
#: a fixed reference for the work the run does, whatever it is broken into.
REFERENCE_EVENTS = 474_826


def bare_loop(events: int) -> float:
    """Time for SimPy alone to process *events* events: one process, a timeout per step."""
    env = simpy.Environment()

    def ticker(n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1.0)

    # Each timeout is one event; the process start and end add two.
    env.process(ticker(max(events - 2, 1)))
    _, seconds = timed(env.run)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--end", default="2030-12-31")
    ap.add_argument("--repeat", type=int, default=2, help="simulation runs (the best counts)")
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "peru_ipt.yaml", [f"end_date={args.end}"])
    with tempfile.TemporaryDirectory() as tmp:
        (world, cached), cold = timed(lambda: prepared_world(sc, Path(tmp)))
        assert not cached
        (world, cached), warm = timed(lambda: prepared_world(sc, Path(tmp)))
        assert cached
    sims, bares, bare_refs = [], [], []
    for _ in range(max(args.repeat, 1)):
        # The previous run's state (reference cycles) is freed first, outside the timing, as
        # a pool worker frees it: the peak is one run's, not the garbage of the repeats.
        gc.collect()
        results, seconds = timed(lambda: simulate(sc, world=world))
        sims.append(seconds)
        events = int(results.extra["events"])
        bares.append(bare_loop(events))
        bare_refs.append(bare_loop(REFERENCE_EVENTS))
    bares.append(bare_loop(events))
    bare_refs.append(bare_loop(REFERENCE_EVENTS))
    sim, bare, bare_ref = min(sims), min(bares), min(bare_refs)
    d = results.daily
    data = {
        "scenario": "peru_ipt",
        "end_date": args.end,
        "villages": len(world),
        "world_build_cold_s": round(cold, 3),
        "world_from_cache_s": round(warm, 3),
        "simulate_s": round(sim, 3),
        "simulate_runs_s": [round(x, 3) for x in sims],
        "events": events,
        "events_per_s": round(events / sim),
        "bare_simpy_s": round(bare, 3),
        "overhead_ratio": round(sim / bare, 2),
        "reference_events": REFERENCE_EVENTS,
        "bare_simpy_reference_s": round(bare_ref, 3),
        "overhead_ratio_reference": round(sim / bare_ref, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "sites_on_air": int(d["sites_on_air"][-1]),
        "villages_covered": int(d["villages_covered"][-1]),
    }
    rows = [
        ("villages", f"{len(world):,}"),
        ("world build, cold", f"{cold:.2f} s   (target ≤ 30 s)"),
        ("world from cache", f"{warm:.2f} s   (target ≤ 2 s)"),
        ("simulation, best", f"{sim:.2f} s   of {', '.join(f'{x:.2f}' for x in sims)}"),
        ("events", f"{events:,}  ({events / sim:,.0f}/s)"),
        ("bare SimPy, same events", f"{bare:.3f} s"),
        ("overhead ratio", f"{sim / bare:.2f}"),
        (f"bare SimPy, {REFERENCE_EVENTS:,} events", f"{bare_ref:.3f} s"),
        ("ratio to that reference", f"{sim / bare_ref:.2f}   (goal ≤ 10)"),
        ("peak memory", f"{peak_rss_mb():,.0f} MB   (goal ≤ 600 MB)"),
        ("sites on air at the end", f"{int(d['sites_on_air'][-1]):,}"),
    ]
    report("national", rows, data)


if __name__ == "__main__":
    main()
