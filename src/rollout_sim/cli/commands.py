"""The commands: each checks its input and where it will write before any work, hands the work
to :mod:`rollout_sim.experiments` (or the engine), has the results folder written and prints.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from .analysis import cmd_optimize, cmd_sensitivity, regret_table
from .console import (
    print_calibration,
    print_comparison,
    print_missing,
    print_replications,
    print_run,
    print_sweep,
    progress,
    status,
)
from .shared import (
    destination,
    folder_options,
    load,
    manifest_fields,
    maybe_report,
    note,
    open_batch,
    plots_wanted,
    protected_inputs,
    warner,
    world_of,
)

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["COMMANDS"]


def _not_drawn(args: argparse.Namespace, scenario: Scenario, what: str) -> None:
    """Say that *what* uses the values as written: only replications (``run --reps``,
    ``compare``), ``sensitivity`` and ``optimize`` draw the ``uncertainties:``."""
    if scenario.uncertainties:
        note(
            args,
            f"{what} uses the scenario's values as written; its {len(scenario.uncertainties)} "
            "uncertainties: are drawn only by run --reps, compare, sensitivity and optimize",
        )


def cmd_run(args: argparse.Namespace) -> int:
    """One run (or, with --reps, replications) of a scenario under one policy."""
    from ..engine import simulate
    from ..experiments.compare import check_policies
    from ..report.drawers import drawers_for
    from ..report.writer import write_run

    started = time.perf_counter()
    scenario = load(args)
    check_policies(scenario, [] if args.policy is None else [args.policy], "--policy")
    # Replications get a folder of their own: `run` then `run --reps` keeps both.
    default = scenario.name if args.reps == 1 else f"{scenario.name}-reps"
    out = destination(args, Path("results") / default, store=args.reps > 1)
    if args.reps == 1:
        _not_drawn(args, scenario, "a single run")
    world = world_of(args, scenario)  # bad village files fail here, before anything is written
    world_seconds = time.perf_counter() - started
    if args.reps > 1:
        from ..experiments.replications import replicate
        from ..report.experiments import write_replications

        label = f"{scenario.name}: replications"
        with (
            progress(args.quiet, args.reps, label) as tick,
            open_batch(args, out, args.reps, tick) as batch,
        ):
            rset = replicate(scenario, args.reps, policy=args.policy, world=world, batch=batch)
        options = folder_options(args, scenario, started, batch, world_seconds)
        summary = write_replications(
            rset, out, total_population=world.villages.total_population, **options
        )
        maybe_report(args, out)
        if not args.quiet:
            print_replications(summary, out)
        return 0
    plots = plots_wanted(args, scenario)
    # The drawing processes are forked before the run (and before the spinner's thread):
    # they import matplotlib while it simulates, then draw while the tables are written.
    with (
        drawers_for(world, plots) as drawers,
        status(args.quiet, f"simulating {scenario.name} ({len(world):,} villages)"),
    ):
        results = simulate(scenario, world=world, policy=args.policy, check=args.check)
        timing = {
            "load_and_world_seconds": round(world_seconds, 3),
            "simulation_seconds": round(results.wall_seconds, 3),
        }
        run_summary = write_run(
            results,
            out,
            plots=plots,
            extra_manifest=manifest_fields(args),
            source=args.scenario,
            timing=timing,
            started=started,
            drawers=drawers,
        )
    maybe_report(args, out)
    if not args.quiet:
        print_run(run_summary, out)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Every policy (or --policies) on the same replications, with paired differences."""
    from ..experiments.compare import compare_policies, policies_to_compare
    from ..report.experiments import write_comparison

    started = time.perf_counter()
    scenario = load(args)
    _, order = policies_to_compare(scenario, args.policies or None, "--policies")
    out = destination(args, Path("results") / f"{scenario.name}-compare", store=True)
    world = world_of(args, scenario)
    world_seconds = time.perf_counter() - started
    runs = len(order) * args.reps
    label = f"{scenario.name}: policies × replications"
    with progress(args.quiet, runs, label) as tick, open_batch(args, out, runs, tick) as batch:
        comp = compare_policies(scenario, order, args.reps, world=world, batch=batch)
    options = folder_options(args, scenario, started, batch, world_seconds)
    summary = write_comparison(
        comp, out, total_population=world.villages.total_population, **options
    )
    maybe_report(args, out)
    if not args.quiet:
        from ..report.uncertainty import REGRET_PLOTTED, regret_rows

        print_comparison(comp, summary, out, regret_table(regret_rows(comp), REGRET_PLOTTED))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Every design point × policy × replication (or, with --missing, what is not done)."""
    from ..errors import InputError
    from ..experiments.runner import store_for
    from ..experiments.sweep import (
        build_design,
        parse_grid,
        parse_lhs,
        point_scenarios,
        run_sweep,
        sweep_policies,
        sweep_tasks,
    )
    from ..report.experiments import write_sweep

    started = time.perf_counter()
    scenario = load(args)
    _not_drawn(args, scenario, "sweep")
    grids = [parse_grid(g) for g in args.grid]
    lhs = parse_lhs(args.lhs) if args.lhs else None
    if not grids and lhs is None:
        raise InputError("give at least one --grid or --lhs", source="sweep")
    design = build_design(grids, lhs, scenario.seed)
    points = point_scenarios(scenario, design)
    policies = sweep_policies(scenario, args.policies or None, "--policies")
    default = Path("results") / f"{scenario.name}-sweep"
    # --missing only reads the store: nothing is written, so there is nothing to check.
    if args.missing:
        out = args.out if args.out is not None else default
    else:
        out = destination(args, default, store=True)
    tasks = sweep_tasks(points, policies, args.reps)
    if args.missing:
        print_missing(store_for(out).missing(tasks), design, len(tasks), args.quiet)
        return 0
    world = world_of(args, points[0])
    label = f"{scenario.name}: points × policies × replications"
    with (
        progress(args.quiet, len(tasks), label) as tick,
        open_batch(args, out, len(tasks), tick) as batch,
    ):
        records = run_sweep(tasks, world=world, batch=batch)
    summary = write_sweep(
        scenario,
        design,
        records,
        out,
        **folder_options(args, scenario, started, batch),
    )
    if not args.quiet:
        print_sweep(summary, out, len(policies), args.reps)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the calibration: block's parameters to its targets; write the calibrated file."""
    from ..experiments.calibrate import (
        calibrate,
        check_calibration,
        evaluation_budget,
        require_calibration,
    )
    from ..experiments.executors import default_jobs
    from ..report.calibration import write_calibration

    started = time.perf_counter()
    reps = [] if args.reps is None else [f"calibration.replications={args.reps}"]
    scenario = load(args, *reps)
    spec = require_calibration(scenario)
    check_calibration(scenario)
    _not_drawn(args, scenario, "calibrate")
    out = destination(args, Path("results") / f"{scenario.name}-calibration", store=True)
    world = world_of(args, scenario)
    check_calibration(scenario, world)  # zones: the world's, now that it is known
    jobs = args.jobs if args.jobs is not None else default_jobs()
    label = f"{scenario.name}: calibrating (at most)"
    with (
        progress(args.quiet, evaluation_budget(spec), label) as tick,
        # Progress counts evaluations, not the replications of each.
        open_batch(args, out, spec.replications) as batch,
    ):
        res = calibrate(
            scenario,
            world=world,
            on_eval=lambda e: tick(),
            on_check=lambda e: tick(),
            jobs=jobs,
            batch=batch,
        )
    summary = write_calibration(
        res, out, source=args.scenario, **folder_options(args, scenario, started, batch)
    )
    maybe_report(args, out)
    warn = warner(args)
    for text in summary.warnings:  # also under --quiet: the fit is not what it seems
        warn(text)
    for text in summary.calibrated_file_notes:
        note(args, f"scenario.calibrated.yaml: {text}")
    if not args.quiet:
        print_calibration(summary, out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """report.html for a results folder."""
    from ..fileio import recover
    from ..report.html import write_report

    for text in recover(Path(os.path.abspath(args.results))):  # a write killed half-way
        note(args, text)
    path = write_report(args.results, args.out, protect=protected_inputs(args))
    if not args.quiet:
        print(f"report: {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario (its calibration: block too) and build its world; run nothing."""
    from ..experiments.calibrate import check_calibration

    scenario = load(args)
    check_calibration(scenario)
    world = world_of(args, scenario)
    if not args.quiet:
        ops = ", ".join(op.name for op in scenario.operators)
        v = world.villages
        print(
            f"ok: {args.scenario}: scenario {scenario.name!r}, {len(world):,} villages, "
            f"{v.total_population:,} people, {len(world.pops)} PoPs, "
            f"operators: {ops}, {scenario.start_date} to {scenario.end_date}"
        )
        zones = ", ".join(
            f"{name} {int((v.zone == z).sum()):,}" for z, name in enumerate(v.zone_names)
        )
        print(
            f"villages by zone: {zones}; latitude {float(v.lat.min()):.4f} to "
            f"{float(v.lat.max()):.4f}, longitude {float(v.lon.min()):.4f} to "
            f"{float(v.lon.max()):.4f}"
        )
    return 0


#: The first key of a schema file this tool writes: what lets ``schema --out`` replace it.
SCHEMA_COMMENT = "JSON Schema of rollout-sim scenario files, written by rollout-sim"


def _is_schema_file(path: Path) -> bool:
    """A JSON file this tool wrote with ``schema --out``."""
    try:
        if path.stat().st_size > 16 * 1024 * 1024:
            return False
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("$comment", "")).startswith(SCHEMA_COMMENT)


def cmd_schema(args: argparse.Namespace) -> int:
    """The scenario JSON Schema, on stdout or into --out."""
    from ..fileio import WriteError, atomic_write, prepare_file
    from ..scenario.schema import Scenario

    schema = {"$comment": f"{SCHEMA_COMMENT} {__version__}", **Scenario.model_json_schema()}
    text = json.dumps(schema, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        target = prepare_file(args.out, label="--out", owned=_is_schema_file)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)  # as report --out does
            atomic_write(target, text)
        except OSError as exc:
            raise WriteError(
                exc.errno or errno.EIO, f"{target}: could not write the schema ({exc.strerror})"
            ) from None
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "compare": cmd_compare,
    "sensitivity": cmd_sensitivity,
    "optimize": cmd_optimize,
    "calibrate": cmd_calibrate,
    "sweep": cmd_sweep,
    "report": cmd_report,
    "validate": cmd_validate,
    "schema": cmd_schema,
}
