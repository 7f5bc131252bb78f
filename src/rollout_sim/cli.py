"""The command line: the only module that parses argv and prints.

Exit codes: 0 ok, 1 failure (a bug or a write error), 2 bad input, 130 interrupted.
Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import InputError, ScenarioError, SimulationError, one_line

__all__ = ["main"]

EXAMPLES_RUN = """examples:
  rollout-sim run scenarios/quickstart.yaml
  rollout-sim run scenarios/quickstart.yaml --seed 7 --out results/qs-seed7
  rollout-sim run scenarios/quickstart.yaml --reps 20          # fan chart, replications.csv
  rollout-sim run scenarios/funding_policies.yaml --policy capex_subsidy
  rollout-sim run scenarios/quickstart.yaml --set operators.0.build_crews=20 \\
      --set backhaul.satellite.allowed=false
"""

EXAMPLES_COMPARE = """examples:
  rollout-sim compare scenarios/funding_policies.yaml --reps 20
  rollout-sim compare scenarios/funding_policies.yaml --policies capex_subsidy,output_based
"""

EXAMPLES_SWEEP = """examples:
  rollout-sim sweep scenarios/quickstart.yaml --grid operators.0.build_crews=4,8,16 --reps 5
  rollout-sim sweep scenarios/funding_policies.yaml --grid operators.0.cash_usd=1e6,3e6 \\
      --lhs 10 operators.0.build_crews=5:30 --policies output_based
  rollout-sim sweep scenarios/quickstart.yaml --grid operators.0.build_crews=4,8 --missing
"""

EXAMPLES_CALIBRATE = """examples:
  rollout-sim calibrate scenarios/peru_ipt.yaml
  rollout-sim calibrate scenarios/peru_ipt_reported.yaml --reps 5
"""

EXAMPLES_VALIDATE = """examples:
  rollout-sim validate scenarios/quickstart.yaml
  rollout-sim validate my.yaml --set geography.synthetic.villages=200
"""

EXAMPLES_SCHEMA = """examples:
  rollout-sim schema > scenario.schema.json    # for editor completion (YAML language server)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    common.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    common.add_argument(
        "--no-cache",
        action="store_true",
        help="build the world afresh instead of loading it from the cache "
        "($ROLLOUT_SIM_CACHE or ~/.cache/rollout-sim)",
    )

    p = _Parser(
        prog="rollout-sim",
        description="Discrete-event simulation of rural mobile-broadband rollout.",
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"rollout-sim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run a scenario and write its results folder",
        description="Run a scenario once and write results/<scenario name>/ (or --out).",
        epilog=EXAMPLES_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scenario(run, "scenario YAML file", "results/<name>, with --reps results/<name>-reps")
    run.add_argument(
        "--reps", type=_reps, default=1, help="replications (default 1: one detailed run)"
    )
    run.add_argument("--policy", help="funding policy to run (default: the baseline)")
    _add_batch(run)
    _add_outputs(run)
    run.add_argument(
        "--check",
        action="store_true",
        help="check the model's invariants every simulated month (slower; they are always "
        "checked at the end)",
    )

    cmp_ = sub.add_parser(
        "compare",
        parents=[common],
        help="run funding policies on the same replications and compare them",
        description="Run every policy (or --policies) on the same replications; write "
        "comparison.csv, differences.csv (paired, against the baseline) and plots.",
        epilog=EXAMPLES_COMPARE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scenario(cmp_, "scenario YAML file with a policies: block", "results/<name>-compare")
    cmp_.add_argument("--reps", type=_reps, default=10, help="replications per policy (10)")
    cmp_.add_argument(
        "--policies", help="comma-separated policy names (default: all; the baseline is added)"
    )
    _add_batch(cmp_)
    _add_outputs(cmp_)

    swp = sub.add_parser(
        "sweep",
        parents=[common],
        help="run a design of parameter values × policies × replications",
        description="Run every design point (grids and/or a Latin hypercube) under every policy "
        "(or --policies) on the same replications; write design.csv, outcomes.csv and plots.",
        epilog=EXAMPLES_SWEEP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scenario(swp, "scenario YAML file", "results/<name>-sweep")
    swp.add_argument("--reps", type=_reps, default=3, help="replications per point (3)")
    swp.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY.PATH=V1,V2,...",
        help="values to try (repeatable: every combination)",
    )
    swp.add_argument(
        "--lhs",
        nargs="+",
        metavar="N KEY.PATH=LO:HI",
        help="N Latin-hypercube samples of the given ranges",
    )
    swp.add_argument("--policies", help="comma-separated policies (default: all, or none)")
    swp.add_argument(
        "--missing",
        action="store_true",
        help="list the runs of this sweep not in its store (nothing is run)",
    )
    _add_batch(swp)
    _add_outputs(swp, report=False)

    cal = sub.add_parser(
        "calibrate",
        parents=[common],
        help="fit scenario parameters to the targets in its calibration: block",
        description="Fit the calibration: parameters jointly to its targets (rates over a "
        "window, values on dates, observed series, the starting network), check which "
        "parameters the targets identify, and write scenario.calibrated.yaml (your file with "
        "the fitted values), calibration.json and a plot.",
        epilog=EXAMPLES_CALIBRATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scenario(cal, "scenario YAML file with a calibration: block", "results/<name>-calibration")
    cal.add_argument("--reps", type=_reps, help="replications per evaluation (overrides)")
    cal.add_argument(
        "--jobs",
        type=_jobs,
        help="worker processes for each evaluation's replications (default: the CPUs of this "
        "machine; the results are the same with any number)",
    )
    _add_outputs(cal)

    rep = sub.add_parser(
        "report",
        parents=[common],
        help="write a self-contained report.html for a results folder",
        description="Write report.html (images embedded, no network needed) for the results "
        "folder of a run, replications, a comparison or a calibration.",
        epilog="examples:\n  rollout-sim report results/peru_ipt\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument("results", type=Path, help="a results folder")
    rep.add_argument("--out", type=Path, help="where to write (default: RESULTS/report.html)")

    val = sub.add_parser(
        "validate",
        parents=[common],
        help="check a scenario (schema, files, consistency) without running it",
        description="Validate a scenario: schema, village file and consistency checks.",
        epilog=EXAMPLES_VALIDATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    val.add_argument("scenario", type=Path, help="scenario YAML file")
    _add_set(val)

    sch = sub.add_parser(
        "schema",
        parents=[common],
        help="print the scenario JSON Schema",
        description="Print the JSON Schema of scenario files (units and defaults included).",
        epilog=EXAMPLES_SCHEMA,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sch.add_argument("--out", type=Path, help="write to this file instead of stdout")
    return p


MAX_SEED = 2**63 - 1


def _seed(text: str) -> int:
    """argparse type of ``--seed``: a whole number the scenario schema accepts."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 0 to {MAX_SEED}")
    return value


MAX_REPS = 100_000


def _reps(text: str) -> int:
    """argparse type of ``--reps``: a whole number of replications, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_REPS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 1 to {MAX_REPS}")
    return value


def _check_policy(scenario: Any, name: str | None, option: str) -> None:
    from .errors import InputError

    if name is None:
        return
    known = [p.name for p in scenario.policies]
    if name not in known:
        hint = f"the scenario's policies: {', '.join(known)}" if known else "it defines none"
        raise InputError(f"unknown policy; {hint}", source=option, value=name)


def _jobs(text: str) -> int:
    """argparse type of ``--jobs``: a whole number of worker processes, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 1 to 1024")
    return value


def _timeout(text: str) -> float:
    """argparse type of ``--connect-timeout``: seconds, more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds, more than 0, at most 3600")
    return value


def _add_batch(p: argparse.ArgumentParser) -> None:
    """Options of commands that run many replications."""
    p.add_argument(
        "--jobs", type=_jobs, help="worker processes (default: the CPUs of this machine)"
    )
    p.add_argument(
        "--executor",
        choices=["serial", "processes", "dask"],
        help="where replications run (default: processes when there are several)",
    )
    p.add_argument(
        "--scheduler", help="with --executor dask: the scheduler address (tcp://HOST:PORT)"
    )
    p.add_argument(
        "--connect-timeout",
        type=_timeout,
        default=None,
        metavar="SECONDS",
        help="with --scheduler: give up if it does not answer within this time (default 20)",
    )
    p.add_argument(
        "--resume", action="store_true", help="keep replications an interrupted run finished"
    )


def _add_scenario(p: argparse.ArgumentParser, what: str, default_out: str) -> None:
    """The scenario file, --out and --seed, as every scenario-running command takes them."""
    p.add_argument("scenario", type=Path, help=what)
    p.add_argument("--out", type=Path, help=f"results folder (default: {default_out})")
    p.add_argument("--seed", type=_seed, help="override the scenario seed")


def _add_outputs(p: argparse.ArgumentParser, report: bool = True) -> None:
    """--set overrides, --no-plots and (where a report makes sense) --report."""
    _add_set(p)
    p.add_argument("--no-plots", action="store_true", help="skip plots/*.png")
    if report:
        p.add_argument("--report", action="store_true", help="also write report.html")


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (repeatable), e.g. operators.0.build_crews=12",
    )


def _inputs(args: argparse.Namespace) -> list[Path]:
    """Files the command reads: their folders are never replaced."""
    return [p for p in (getattr(args, "scenario", None),) if p is not None]


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(f"note: {text}", file=sys.stderr)


def _warn(args: argparse.Namespace) -> Any:
    """Print a warning line (also under --quiet: it says something went wrong and was fixed)."""

    def warn(text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)

    return warn


def _destination(args: argparse.Namespace, default: Path, *, store: bool = False) -> Path:
    """The results folder to write, checked before any work (refusals are exit 2).

    Only a folder this tool wrote (or an empty one) is replaced; leftovers of an interrupted
    write into the same place are recovered first. *store*: the command also keeps finished
    replications in the hidden run store beside the folder, which is checked too.
    """
    from .experiments.runner import store_for
    from .fileio import prepare_results_dir

    target = args.out if args.out is not None else default
    path, notes = prepare_results_dir(target, protect=_inputs(args))
    for text in notes:
        _note(args, text)
    if store:
        store_for(path).check()
    return target  # as the user wrote it, for the messages


def _maybe_report(args: argparse.Namespace, out: Path) -> None:
    if getattr(args, "report", False):
        from .report.html import write_report

        path = write_report(out)
        if not args.quiet:
            print(f"report: {path}")


def _cmd_report(args: argparse.Namespace) -> int:
    from .fileio import recover
    from .report.html import write_report

    for text in recover(Path(os.path.abspath(args.results))):  # a write killed half-way
        _note(args, text)
    path = write_report(args.results, args.out, protect=_inputs(args))
    if not args.quiet:
        print(f"report: {path}")
    return 0


def _world(args: argparse.Namespace, scenario: Any) -> Any:
    """The scenario's world: from the disk cache unless --no-cache (then built and not saved)."""
    from .world.build import build_world
    from .world.cache import prepared_world

    if args.no_cache:
        world = build_world(scenario)
    else:
        world, _cached = prepared_world(scenario, warn=_warn(args))
    if not args.quiet:
        from .world.warnings import implausible_settings

        for text in implausible_settings(scenario, world):
            print(f"warning: {text}", file=sys.stderr)
    return world


def _load(args: argparse.Namespace) -> Any:
    from .scenario.load import load_scenario

    overrides = list(args.overrides)
    if getattr(args, "seed", None) is not None:
        overrides.append(f"seed={args.seed}")
    return load_scenario(args.scenario, overrides)


def _cmd_run(args: argparse.Namespace) -> int:
    from .engine import simulate
    from .report.writer import write_run

    started = time.perf_counter()
    scenario = _load(args)
    _check_policy(scenario, args.policy, "--policy")
    # Replications get a folder of their own: `run` then `run --reps` keeps both.
    default = scenario.name if args.reps == 1 else f"{scenario.name}-reps"
    out = _destination(args, Path("results") / default, store=args.reps > 1)
    world = _world(args, scenario)  # bad village files fail here, before anything is written
    world_seconds = time.perf_counter() - started
    plots = scenario.outputs.plots and not args.no_plots
    if args.reps > 1:
        return _run_replications(args, scenario, world, out, plots, started, world_seconds)
    status = _status(args, f"simulating {scenario.name} ({len(world):,} villages)")
    with status:
        results = simulate(scenario, world=world, policy=args.policy, check=args.check)
        timing = {
            "load_and_world_seconds": round(world_seconds, 3),
            "simulation_seconds": round(results.wall_seconds, 3),
        }
        summary = write_run(
            results,
            out,
            plots=plots,
            extra_manifest={"command": ["rollout-sim", *args.argv]},
            source=args.scenario,
            timing=timing,
            started=started,
        )
    _maybe_report(args, out)
    if not args.quiet:
        _print_summary(summary, out)
    return 0


class Interrupted(Exception):
    """A batch of replications was stopped (Ctrl-C or SIGTERM); finished ones are saved."""


def _execute(
    args: argparse.Namespace, world: Any, tasks: list[Any], out: Path, label: str
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Run tasks on the chosen executor with a store beside *out*; (records, manifest, store)."""
    from .experiments import tasks as task_module
    from .experiments.executors import DEFAULT_CONNECT_TIMEOUT, make_executor
    from .experiments.runner import execute, store_for

    # The world built here serves this process and the workers forked from it.
    task_module.remember_world(world)
    timeout = args.connect_timeout if args.connect_timeout is not None else DEFAULT_CONNECT_TIMEOUT
    executor = make_executor(args.executor, args.jobs, args.scheduler, len(tasks), timeout)
    store = store_for(out)
    try:
        with _progress(args, len(tasks), label) as tick:
            records = execute(
                tasks, executor, store=store, resume=args.resume, tick=tick, warn=_warn(args)
            )
    except KeyboardInterrupt:
        saved = len(tasks) - len(store.missing(tasks))
        raise Interrupted(
            f"interrupted: {saved} of {len(tasks)} replications are saved; run the same command "
            "with --resume to finish"
        ) from None
    finally:
        executor.close()
    recs = list(records.values())
    manifest = {
        "executor": executor.name,
        "workers": executor.workers,
        "peak_rss_mb": round(max([task_module.peak_rss_mb()] + [r.peak_rss_mb for r in recs]), 1),
        "resumed": bool(args.resume),
    }
    return records, manifest, store


def _run_replications(
    args: argparse.Namespace,
    scenario: Any,
    world: Any,
    out: Path,
    plots: bool,
    started: float,
    world_seconds: float,
) -> int:
    from .experiments.tasks import Task, assemble, scenario_payload
    from .report.experiments import write_replications

    payload = scenario_payload(scenario)
    tasks = [Task(payload, args.policy, k) for k in range(args.reps)]
    records, exec_info, _ = _execute(args, world, tasks, out, f"{scenario.name}: replications")
    rset = assemble(scenario, args.policy, [records[t.key] for t in tasks])
    timing = {
        "world_build_seconds": round(world_seconds, 3),
        "total_wall_seconds": round(time.perf_counter() - started, 3),
    }
    summary = write_replications(
        rset,
        out,
        total_population=world.villages.total_population,
        plots=plots,
        extra_manifest={
            "timing": timing,
            **exec_info,
            "command": ["rollout-sim", *args.argv],
        },
    )
    _maybe_report(args, out)
    if not args.quiet:
        _print_replications(summary, out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .report.experiments import write_comparison

    started = time.perf_counter()
    scenario = _load(args)
    if not scenario.policies:
        raise InputError(
            "the scenario has no policies: block; add policies to compare (see "
            "scenarios/funding_policies.yaml)",
            source=str(args.scenario),
            where="policies",
        )
    chosen = None
    if args.policies:
        chosen = [p.strip() for p in args.policies.split(",") if p.strip()]
        for name in chosen:
            _check_policy(scenario, name, "--policies")
    out = _destination(args, Path("results") / f"{scenario.name}-compare", store=True)
    world = _world(args, scenario)
    world_seconds = time.perf_counter() - started
    from .experiments.compare import comparison_from_records, comparison_tasks

    baseline, order, tasks = comparison_tasks(scenario, chosen, args.reps)
    records, exec_info, _store = _execute(
        args, world, tasks, out, f"{scenario.name}: policies × replications"
    )
    comp = comparison_from_records(scenario, baseline, order, tasks, records)
    timing = {
        "world_build_seconds": round(world_seconds, 3),
        "total_wall_seconds": round(time.perf_counter() - started, 3),
    }
    summary = write_comparison(
        comp,
        out,
        total_population=world.villages.total_population,
        plots=scenario.outputs.plots and not args.no_plots,
        extra_manifest={"timing": timing, **exec_info, "command": ["rollout-sim", *args.argv]},
    )
    _maybe_report(args, out)
    if not args.quiet:
        _print_comparison(comp, summary, out)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .experiments.calibrate import check_calibration

    scenario = _load(args)
    check_calibration(scenario)
    world = _world(args, scenario)
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


def _cmd_schema(args: argparse.Namespace) -> int:
    from .fileio import atomic_write, prepare_file
    from .scenario.schema import Scenario

    schema = {"$comment": f"{SCHEMA_COMMENT} {__version__}", **Scenario.model_json_schema()}
    text = json.dumps(schema, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        target = prepare_file(args.out, label="--out", owned=_is_schema_file)
        atomic_write(target, text)
    return 0


class _NoStatus:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _status(args: argparse.Namespace, text: str) -> Any:
    if args.quiet or not sys.stderr.isatty():
        return _NoStatus()
    from rich.console import Console

    return Console(stderr=True).status(text)


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    f = summary["final"]
    table = Table(title=f"{summary['scenario']} — {summary['start_date']} to {summary['end_date']}")
    table.add_column("metric", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    reached = summary["people_reached"]
    rows = [
        ("villages", f"{summary['villages']:,}"),
        ("population", f"{summary['population']:,}"),
        ("sites on air", f"{f['sites_on_air']:,} (built {f['sites_built']:,})"),
        ("villages covered", f"{f['villages_covered']:,}"),
        ("people covered", f"{f['people_covered']:,}"),
        ("share of all people covered", f"{f['people_covered_share']:.1%}"),
        ("share of rural people covered", f"{f['rural_people_covered_share']:.1%}"),
        (
            "share of the people uncovered at the start now reached",
            f"{f['initially_uncovered_reached_share']:.1%}",
        ),
        ("people newly reached", f"{reached:,}"),
        ("places served by the operators", f"{f.get('places_served', 0):,}"),
        ("people served by the operators", f"{f.get('people_served', 0):,}"),
        ("new villages per day (mean)", f"{summary['mean_new_villages_per_day']:.2f}"),
        ("capex", f"US$ {f['capex_cumulative_usd']:,.0f}"),
        ("cash at the end", f"US$ {f['cash_usd']:,.0f}"),
    ]
    cpp = summary["capex_per_person_reached_usd"]
    if cpp is not None:
        rows.append(("capex per person reached", f"US$ {cpp:,.2f}"))
    for key, m in summary["days_to_reach"].items():
        rows.append(
            (f"{key[:-3]}% of the people uncovered at the start reached", m["date"] or "not yet")
        )
    for label, value in rows:
        table.add_row(label, value)
    console = _wide_console()
    _print_whole(console, table)
    refs = summary.get("references", [])
    if refs:
        _print_whole(console, _references_table(refs))
    console.print(f"results in {out}/")


def _references_table(refs: list[dict[str, Any]]) -> Any:
    """Published figures beside the simulated values: one row each, nothing cut."""
    from rich.table import Table

    table = Table(title="published figures and the simulation", title_justify="left")
    table.add_column("figure (source)", overflow="fold", ratio=3)
    table.add_column("metric on date", overflow="fold", ratio=2)
    table.add_column("published", justify="right", no_wrap=True)
    table.add_column("simulated", justify="right", no_wrap=True)
    table.add_column("difference", justify="right", no_wrap=True)
    for ref in refs:
        sim, pub = ref["simulated"], ref["reference"]
        diff = "—" if sim is None or not pub else f"{(sim - pub) / pub:+.0%}"
        table.add_row(
            ref["label"],
            f"{ref['metric']} on {ref['date']}",
            f"{pub:,.0f}",
            "outside the horizon" if sim is None else f"{sim:,.0f}",
            diff,
        )
    return table


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .experiments.compare import policy_order
    from .experiments.runner import store_for
    from .experiments.sweep import build_design, parse_grid, parse_lhs, point_scenarios
    from .experiments.tasks import Task, scenario_payload
    from .report.experiments import write_sweep

    started = time.perf_counter()
    scenario = _load(args)
    grids = [parse_grid(g) for g in args.grid]
    lhs = parse_lhs(args.lhs) if args.lhs else None
    if not grids and lhs is None:
        raise InputError("give at least one --grid or --lhs", source="sweep")
    design = build_design(grids, lhs, scenario.seed)
    points = point_scenarios(scenario, design)
    if scenario.policies:
        chosen = [p.strip() for p in args.policies.split(",")] if args.policies else None
        for name in chosen or []:
            _check_policy(scenario, name, "--policies")
        _, order = policy_order(scenario, chosen)
        policies: list[str | None] = list(order)
    else:
        if args.policies:
            _check_policy(scenario, args.policies.split(",")[0], "--policies")
        policies = [None]
    default = Path("results") / f"{scenario.name}-sweep"
    if args.missing:
        out = args.out if args.out is not None else default
    else:
        out = _destination(args, default, store=True)
    tasks = [
        Task(scenario_payload(sc), pol, k, point=i)
        for i, sc in enumerate(points)
        for pol in policies
        for k in range(args.reps)
    ]
    if args.missing:
        missing = store_for(out).missing(tasks)
        for t in missing:
            values = " ".join(f"{k}={v}" for k, v in design.points[t.point].items())
            print(f"point {t.point} {values} policy {t.policy or 'none'} replication {t.rep}")
        if not args.quiet:
            print(f"{len(missing)} of {len(tasks)} runs missing", file=sys.stderr)
        return 0
    world = _world(args, points[0])
    records, exec_info, _store = _execute(
        args, world, tasks, out, f"{scenario.name}: points × policies × replications"
    )
    summary = write_sweep(
        scenario,
        design,
        [records[t.key] for t in tasks],
        out,
        plots=scenario.outputs.plots and not args.no_plots,
        extra_manifest={
            "timing": {"total_wall_seconds": round(time.perf_counter() - started, 3)},
            **exec_info,
            "command": ["rollout-sim", *args.argv],
        },
    )
    if not args.quiet:
        _print_sweep(summary)
        print(
            f"{summary['runs']} runs ({len(design.points)} points × {len(policies)} policies × "
            f"{args.reps} replications); results in {out}/"
        )
    return 0


def _print_sweep(summary: dict[str, Any]) -> None:
    """Each point under each policy: its values and mean outcomes over the replications."""
    from rich.table import Table

    from .report.experiments import SWEEP_TABLE

    table = Table(title=f"{summary['scenario']}: mean outcome of each point")
    table.add_column("point", justify="right", no_wrap=True)
    for path in summary["parameters"]:
        table.add_column(path, justify="right", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    labels = {n: REPLICATION_ROWS.get(n, n.replace("_", " ")) for n in SWEEP_TABLE}
    for n in SWEEP_TABLE:
        table.add_column(labels[n], justify="right", no_wrap=True)
    for row in summary["table"]:
        table.add_row(
            str(row["point"]),
            *(str(row["values"][p]) for p in summary["parameters"]),
            row["policy"] or "—",
            *(_fmt_metric(n, row[n]) for n in SWEEP_TABLE),
        )
    _print_whole(_wide_console(), table)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .experiments.calibrate import calibrate, check_calibration
    from .experiments.executors import default_jobs
    from .report.calibration import write_calibration

    started = time.perf_counter()
    overrides = list(args.overrides)
    if args.reps is not None:
        overrides.append(f"calibration.replications={args.reps}")
    args.overrides = overrides
    scenario = _load(args)
    spec = scenario.calibration
    if spec is None:
        raise InputError(
            "the scenario has no calibration: block (targets and parameters to fit)",
            source=str(args.scenario),
            where="calibration",
        )
    check_calibration(scenario)
    out = _destination(args, Path("results") / f"{scenario.name}-calibration")
    world = _world(args, scenario)
    check_calibration(scenario, world)  # zones: the world's, now that it is known
    jobs = args.jobs if args.jobs is not None else default_jobs()
    total = spec.max_evaluations + (2 * len(spec.parameters) if spec.identification else 0)
    with _progress(args, total, f"{scenario.name}: calibrating (at most)") as tick:
        res = calibrate(
            scenario, world=world, on_eval=lambda e: tick(), on_check=lambda e: tick(), jobs=jobs
        )
    timing = {"total_wall_seconds": round(time.perf_counter() - started, 3)}
    summary = write_calibration(
        res,
        out,
        plots=scenario.outputs.plots and not args.no_plots,
        extra_manifest={"timing": timing, "command": ["rollout-sim", *args.argv]},
        source=args.scenario,
    )
    _maybe_report(args, out)
    warn = _warn(args)
    for text in summary["warnings"]:  # also under --quiet: the fit is not what it seems
        warn(text)
    for text in summary["calibrated_file_notes"]:
        _note(args, f"scenario.calibrated.yaml: {text}")
    if not args.quiet:
        _print_calibration(summary, out)
    return 0


def _print_calibration(summary: dict[str, Any], out: Path) -> None:
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    def number(v: Any) -> str:
        """A calibration figure in full (tables never cut digits)."""
        if v is None or isinstance(v, bool):
            return "—"
        v = float(v)
        if abs(v) >= 1000:
            return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"
        return f"{v:.4g}"

    def table(head: list[str], rows: list[list[str]], text: int) -> Any:
        """Columns after the first *text* never wrap: a number is shown whole or not at all.
        (Titles are printed apart: rich would wrap them to the table's width.)"""
        t = Table()
        for j, name in enumerate(head):
            width = max([len(name), *(len(Text.from_markup(r[j]).plain) for r in rows)])
            if j < text:
                t.add_column(name, overflow="fold")
            else:
                t.add_column(name, justify="right", no_wrap=True, min_width=width)
        for r in rows:
            t.add_row(*r)
        return t

    console = _wide_console()
    evaluations = len(summary["evaluations"])
    ident = summary.get("identification") or {}
    checks = len(ident.get("evaluations") or [])
    prows = []
    for p in summary["parameters"]:
        identified = p.get("identified")
        prows.append(
            [
                p["path"],
                f"{number(p['bounds'][0])}–{number(p['bounds'][1])}",
                number(p["before"]),
                f"[bold]{number(p['after'])}[/bold]",
                number(p.get("sensitivity")),
                "—" if identified is None else "yes" if identified else "[red]NO[/red]",
            ]
        )
    params = table(
        ["parameter", "bounds", "before", "after", "sensitivity", "identified"], prows, 1
    )
    trows = []
    for row in summary["rows"]:
        if row["rel_tolerance"] is not None:
            tol = f"±{row['rel_tolerance'] * 100:g}%"
        elif row["tolerance"] is not None:
            tol = f"±{number(row['tolerance'])}"
        else:
            tol = "—"
        error, within = row["error_pct"], row["within"]
        label = row["label"] or ""
        if row["weight"] != 1:
            label = f"{label} (weight {row['weight']:g})".strip()
        trows.append(
            [
                label,
                row["metric"],
                row["date"],
                number(row["value"]),
                tol,
                number(row["before"]),
                f"[bold]{number(row['after'])}[/bold]",
                "—" if error is None else f"{error:+.1f}%",
                "—" if within is None else "[green]yes[/green]" if within else "[red]no[/red]",
            ]
        )
    targets = table(
        ["label", "metric", "date", "target", "tolerance", "before", "after", "error", "within?"],
        trows,
        3,
    )
    if not console.is_terminal:  # a file has no width to keep to: never wrap a table there
        wide = console.options.update_width(10_000)
        needed = max(Measurement.get(console, wide, t).maximum for t in (params, targets))
        console = Console(width=max(console.width, needed))
    console.print(
        f"[bold]{summary['scenario']}: calibration by {summary['method']}[/bold] ({evaluations} "
        f"evaluations{f' + {checks} to check identification' if checks else ''} × "
        f"{summary['replications_per_evaluation']} replications)"
    )
    console.print(params)
    console.print(
        "sensitivity: tolerances the targets move across the whole range (< 1: not identified)",
        style="dim",
    )
    console.print("[bold]targets[/bold], before and after (means over the replications)")
    console.print(targets)
    toleranced = [r for r in summary["rows"] if r["within"] is not None and r["weight"] > 0]
    if not toleranced:
        verdict = "fitted (no target has a tolerance)"
    elif summary["within_tolerance"]:
        verdict = "every fitted target within its tolerance"
    else:
        verdict = "NOT every fitted target within its tolerance"
    objective = summary["objective"]
    console.print(
        f"{verdict}; objective {number(objective['before'])} → "
        f"{number(objective['after'])}; {summary['message']}."
    )
    console.print(f"Calibrated scenario: {out}/scenario.calibrated.yaml")


def _progress(args: argparse.Namespace, total: int, text: str) -> Any:
    """A context manager yielding tick(): a rich progress bar on stderr (tty, not --quiet)."""
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Any:
        if args.quiet or not sys.stderr.isatty() or total <= 1:
            yield lambda: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task(text, total=total)
            yield lambda: progress.advance(task)
            # A search may stop before its budget (within tolerance, converged): the work is
            # done, so the bar ends full rather than at "11/40" with an ETA.
            done = progress.tasks[0].completed
            progress.update(task, total=max(done, 1), completed=max(done, 1))

    return bar()


def _fmt_metric(name: str, value: float | None, short: bool = False) -> str:
    """A metric for the console; *short* abbreviates large numbers (385.6k, 5.92M)."""
    if value is None:
        return "—"
    if name == "availability":
        return f"{value:.1%}"
    if short and abs(value) >= 1e6:
        return f"{value / 1e6:.2f}M"
    if short and abs(value) >= 1e4:
        return f"{value / 1e3:.1f}k"
    if name.endswith("_usd"):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if name.startswith(("people", "villages", "sites", "days")):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


#: The replications table: metric and its label, the same words as the single run's table.
REPLICATION_ROWS = {
    "people_covered": "people covered",
    "people_covered_net": "people covered, net of outages",
    "people_served": "people served by the operators",
    "villages_covered": "villages covered",
    "places_served": "places served by the operators",
    "sites_on_air": "sites on air",
    "mean_new_villages_per_day": "new villages per day (mean)",
    "days_to_reach_50pct": "days to reach 50% of the people uncovered at the start",
    "capex_usd": "capex",
    "public_cost_usd": "public cost",
    "availability": "availability",
    "defaults": "defaults",
    "public_cost_per_person_reached_usd": "public cost per person reached (average)",
}


def _print_replications(summary: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    m = summary["metrics"]
    table = Table(
        title=f"{summary['scenario']} — {summary['replications']} replications"
        + (f", policy {summary['policy']}" if summary["policy"] else "")
    )
    table.add_column("metric", overflow="fold")
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column(summary["interval"], justify="right", no_wrap=True)
    for name, label in REPLICATION_ROWS.items():
        if name in m:
            s = m[name]
            table.add_row(
                label,
                _fmt_metric(name, s["mean"]),
                f"{_fmt_metric(name, s['lo'])} – {_fmt_metric(name, s['hi'])}",
            )
    console = _wide_console()
    _print_whole(console, table)
    console.print(f"results in {out}/")


def _wide_console() -> Any:
    """Rich console for tables: the terminal's width, or 120 columns when piped to a file."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    return console


def _print_whole(console: Any, table: Any) -> None:
    """Print *table* without cutting or folding a number: if it needs more columns than the
    console has, it gets them (a narrow terminal then wraps whole lines, never a number)."""
    from rich.console import Console
    from rich.measure import Measurement

    need = Measurement.get(console, console.options.update(max_width=100_000), table).maximum
    if need > console.width:
        console = Console(width=need, force_terminal=console.is_terminal)
    console.print(table)


def _print_comparison(comp: Any, summary: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    from .report.experiments import HEADLINE

    console = _wide_console()
    reps = comp.sets[comp.baseline].reps
    table = Table(
        title=f"{summary['scenario']}: {reps} replications per policy",
        caption=f"mean, and below it the {summary['interval']}",
    )
    table.add_column("policy", no_wrap=True)
    for label in HEADLINE.values():
        table.add_column(label, justify="right", no_wrap=True)
    for pol in comp.policies:
        cells = []
        for name in HEADLINE:
            s = summary["metrics"][pol].get(name)
            if s is None or s["mean"] is None:
                cells.append("—")
            else:
                cells.append(
                    f"{_fmt_metric(name, s['mean'], True)}\n[dim]{_fmt_metric(name, s['lo'], True)}"
                    f"–{_fmt_metric(name, s['hi'], True)}[/dim]"
                )
        table.add_row(pol, *cells)
    _print_whole(console, table)
    diffs = summary["differences"]
    if diffs:
        dt = Table(
            title=f"difference from {comp.baseline}, paired",
            caption=f"mean, and below it the {summary['difference_ci']}",
        )
        dt.add_column("policy", no_wrap=True)
        for label in HEADLINE.values():
            dt.add_column(label, justify="right", no_wrap=True)
        for pol, by_metric in diffs.items():
            cells = []
            for name in HEADLINE:
                d = by_metric.get(name)
                if d is None or d["difference"] is None:
                    cells.append("—")
                    continue
                lo, hi = d["ci"]
                ci = (
                    f"[dim]{_fmt_metric(name, lo, True)}…{_fmt_metric(name, hi, True)}[/dim]"
                    if lo is not None
                    else ""
                )
                cells.append(f"{_fmt_metric(name, d['difference'], True)}\n{ci}")
            dt.add_row(pol, *cells)
        _print_whole(console, dt)
    console.print(f"results in {out}/")


COMMANDS = {
    "run": _cmd_run,
    "compare": _cmd_compare,
    "calibrate": _cmd_calibrate,
    "sweep": _cmd_sweep,
    "report": _cmd_report,
    "validate": _cmd_validate,
    "schema": _cmd_schema,
}


@contextmanager
def _signals_stop_cleanly() -> Iterator[None]:
    """SIGTERM acts like Ctrl-C (KeyboardInterrupt) for the whole life of a command.

    Every command then stops the same way on either signal: temporary files removed, earlier
    results intact, exit code 130, one line. The previous handlers are restored afterwards
    (``main`` may be called in-process, by tests or notebooks).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    saved_int = signal.getsignal(signal.SIGINT)
    if saved_int is not signal.SIG_IGN:  # a background job that ignores Ctrl-C keeps doing so
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved_term)
        if saved_int is not None:
            signal.signal(signal.SIGINT, saved_int)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rollout-sim``; returns the exit code."""
    try:
        with _signals_stop_cleanly():
            return _main(argv)
    except KeyboardInterrupt:  # before the command started, or while it was reporting one
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    from .fileio import WriteError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        problems = [exc, *getattr(exc, "others", [])]
        for problem in problems:
            if problem.source is None and getattr(args, "scenario", None) is not None:
                problem.source = str(args.scenario)  # world checks name a key path only
        if args.command == "validate" and isinstance(exc, ScenarioError) and exc.others:
            for problem in problems:  # validate lists every problem, one line each
                print(f"error: {problem.line(with_others=False)}", file=sys.stderr)
            if exc.unlisted:
                print(f"error: ... and {exc.unlisted} more problems not listed", file=sys.stderr)
        else:
            print(f"error: {exc.line()}", file=sys.stderr)
        return 2
    except WriteError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {one_line(exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    except SimulationError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            one_line(
                f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the "
                "traceback, and please report it)"
            ),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
