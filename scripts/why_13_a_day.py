#!/usr/bin/env python3
"""The table "Why about 13 a day and not 27" of ``docs/peru_model.md``.

What: ``scenarios/peru_ipt_reported.yaml`` to 2021-12-31, as it is and with one constraint
lifted at a time (money, permits, fibre, crews; then money and crews together), 3
replications each (replications 0-2 of the scenario's seed, as ``run --reps 3`` draws them).

Two figures per row, averaged over the replications:

* new places a day: places ever covered by anyone at the end, less those covered at the start
  (the starting network and IpT's upgraded 2G sites at launch), over the days of the run (915);
* IpT places added by end-2021: places inside IpT's own sites' coverage at the end, less on
  the first day (its upgraded 2G sites at launch).

Usage::

    .venv/bin/python scripts/why_13_a_day.py [--reps 3]

About half a minute a row with the Peru world cached (it is built once, ~5 s, if not).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rollout_sim import load_scenario, simulate
from rollout_sim.experiments.tasks import replication_seed
from rollout_sim.world.cache import cache_dir, prepared_world

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "peru_ipt_reported.yaml"
END = "end_date=2021-12-31"
MONEY = "operators.0.cash_usd=400000000"
CREWS = "operators.0.build_crews=120"


def rows() -> list[tuple[str, list[str]]]:
    """(label, --set overrides) of each row of the table."""
    fibre = load_scenario(SCENARIO, [END]).geography.peru.regional_fibre
    all_open = ", ".join(f"'{dept}': 2019-07-01" for dept in fibre)
    no_permits = [
        f"operators.0.permit_days.{zone}={{distribution: fixed, days: 0.01}}"
        for zone in ("coast", "highlands", "jungle")
    ]
    return [
        ("nothing (as it happened)", []),
        (f"money: `{MONEY}`", [MONEY]),
        ("permits: every `permit_days` ≈ 0", no_permits),
        (
            "fibre: all regional networks open from 2019-07-01",
            [f"geography.peru.regional_fibre={{{all_open}}}"],
        ),
        (f"crews: `{CREWS}` (twice)", [CREWS]),
        ("money and crews together", [MONEY, CREWS]),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="replications a row (3)")
    args = ap.parse_args()
    print("| what is lifted | new places a day | IpT places added by end-2021 |")
    print("|---|---:|---:|")
    for label, sets in rows():
        sc = load_scenario(SCENARIO, [END, *sets])
        world, _ = prepared_world(sc, cache_dir())
        per_day, added = [], []
        for rep in range(args.reps):
            r = simulate(sc, replication_seed(sc.seed, rep), world=world)
            covered = r.daily["villages_covered"]
            per_day.append((covered[-1] - r.initial_villages_covered) / len(covered))
            ipt = r.operator_daily["ipt"]["places_served"]
            added.append(ipt[-1] - ipt[0])
        print(f"| {label} | {np.mean(per_day):.1f} | {np.mean(added):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
