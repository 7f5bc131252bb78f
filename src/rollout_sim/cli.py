"""The command line: the only module that parses argv and prints.

Exit codes: 0 ok, 1 failure (a bug or a write error), 2 bad input, 130 interrupted.
Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import InputError

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
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--out", type=Path, help="results folder (default: results/<name>)")
    run.add_argument("--seed", type=_seed, help="override the scenario seed")
    run.add_argument(
        "--reps", type=_reps, default=1, help="replications (default 1: one detailed run)"
    )
    run.add_argument("--policy", help="funding policy to run (default: the baseline)")
    _add_set(run)
    run.add_argument("--no-plots", action="store_true", help="skip plots/*.png")

    cmp_ = sub.add_parser(
        "compare",
        parents=[common],
        help="run funding policies on the same replications and compare them",
        description="Run every policy (or --policies) on the same replications; write "
        "comparison.csv, differences.csv (paired, against the baseline) and plots.",
        epilog=EXAMPLES_COMPARE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmp_.add_argument("scenario", type=Path, help="scenario YAML file with a policies: block")
    cmp_.add_argument("--out", type=Path, help="results folder (default: results/<name>-compare)")
    cmp_.add_argument("--seed", type=_seed, help="override the scenario seed")
    cmp_.add_argument("--reps", type=_reps, default=10, help="replications per policy (10)")
    cmp_.add_argument(
        "--policies", help="comma-separated policy names (default: all; the baseline is added)"
    )
    _add_set(cmp_)
    cmp_.add_argument("--no-plots", action="store_true", help="skip plots/*.png")

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


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (repeatable), e.g. operators.0.build_crews=12",
    )


def _load(args: argparse.Namespace) -> Any:
    from .scenario.load import load_scenario

    overrides = list(args.overrides)
    if getattr(args, "seed", None) is not None:
        overrides.append(f"seed={args.seed}")
    return load_scenario(args.scenario, overrides)


def _cmd_run(args: argparse.Namespace) -> int:
    from .engine import simulate
    from .report.writer import write_run
    from .world.build import build_world

    started = time.perf_counter()
    scenario = _load(args)
    _check_policy(scenario, args.policy, "--policy")
    world = build_world(scenario)  # bad village files fail here, before anything is written
    world_seconds = time.perf_counter() - started
    out = args.out if args.out is not None else Path("results") / scenario.name
    plots = scenario.outputs.plots and not args.no_plots
    if args.reps > 1:
        return _run_replications(args, scenario, world, out, plots, started, world_seconds)
    status = _status(args, f"simulating {scenario.name} ({len(world):,} villages)")
    with status:
        results = simulate(scenario, world=world, policy=args.policy)
        timing = {
            "world_build_seconds": round(world_seconds, 3),
            "total_wall_seconds": round(time.perf_counter() - started, 3),
        }
        summary = write_run(
            results,
            out,
            plots=plots,
            extra_manifest={"timing": timing, "command": ["rollout-sim", *args.argv]},
        )
    if not args.quiet:
        _print_summary(summary, out)
    return 0


def _run_replications(
    args: argparse.Namespace,
    scenario: Any,
    world: Any,
    out: Path,
    plots: bool,
    started: float,
    world_seconds: float,
) -> int:
    from .experiments.replications import run_replications
    from .report.experiments import write_replications

    with _progress(args, args.reps, f"{scenario.name}: replications") as tick:
        rset = run_replications(
            scenario, args.reps, policy=args.policy, world=world, on_done=lambda k, r: tick()
        )
    timing = {
        "world_build_seconds": round(world_seconds, 3),
        "total_wall_seconds": round(time.perf_counter() - started, 3),
    }
    summary = write_replications(
        rset,
        out,
        total_population=world.villages.total_population,
        plots=plots,
        extra_manifest={"timing": timing, "command": ["rollout-sim", *args.argv]},
    )
    if not args.quiet:
        _print_replications(summary, out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .experiments.compare import compare_policies
    from .report.experiments import write_comparison
    from .world.build import build_world

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
    world = build_world(scenario)
    world_seconds = time.perf_counter() - started
    out = args.out if args.out is not None else Path("results") / f"{scenario.name}-compare"
    n_pol = (
        len(set(chosen or []) | {scenario.baseline_policy}) if chosen else len(scenario.policies)
    )
    with _progress(args, n_pol * args.reps, f"{scenario.name}: policies × replications") as tick:
        comp = compare_policies(
            scenario, chosen, args.reps, world=world, on_done=lambda p, k, r: tick()
        )
    timing = {
        "world_build_seconds": round(world_seconds, 3),
        "total_wall_seconds": round(time.perf_counter() - started, 3),
    }
    summary = write_comparison(
        comp,
        out,
        total_population=world.villages.total_population,
        plots=scenario.outputs.plots and not args.no_plots,
        extra_manifest={"timing": timing, "command": ["rollout-sim", *args.argv]},
    )
    if not args.quiet:
        _print_comparison(comp, summary, out)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .world.build import build_world

    scenario = _load(args)
    world = build_world(scenario)
    if not args.quiet:
        ops = ", ".join(op.name for op in scenario.operators)
        print(
            f"ok: {args.scenario}: scenario {scenario.name!r}, {len(world):,} villages, "
            f"{world.villages.total_population:,} people, {len(world.pops)} PoPs, "
            f"operators: {ops}, {scenario.start_date} to {scenario.end_date}"
        )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from .scenario.schema import Scenario

    text = json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
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
    from rich.console import Console
    from rich.table import Table

    f = summary["final"]
    table = Table(title=f"{summary['scenario']} — {summary['start_date']} to {summary['end_date']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    reached = summary["people_reached"]
    rows = [
        ("villages", f"{summary['villages']:,}"),
        ("population", f"{summary['population']:,}"),
        ("sites on air", f"{f['sites_on_air']:,} (built {f['sites_built']:,})"),
        ("villages covered", f"{f['villages_covered']:,}"),
        ("people covered", f"{f['people_covered']:,} ({f['coverage_share']:.1%})"),
        ("people newly reached", f"{reached:,}"),
        ("new villages per day (mean)", f"{summary['mean_new_villages_per_day']:.2f}"),
        ("capex", f"US$ {f['capex_cumulative_usd']:,.0f}"),
        ("cash at the end", f"US$ {f['cash_usd']:,.0f}"),
    ]
    cpp = summary["capex_per_person_reached_usd"]
    if cpp is not None:
        rows.append(("capex per person reached", f"US$ {cpp:,.2f}"))
    for key, m in summary["days_to_coverage"].items():
        rows.append((f"{key[:-3]}% of people covered", m["date"] or "not reached"))
    for label, value in rows:
        table.add_row(label, value)
    console = Console()
    console.print(table)
    console.print(f"results in {out}/")


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


def _print_replications(summary: dict[str, Any], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    m = summary["metrics"]
    table = Table(
        title=f"{summary['scenario']} — {summary['replications']} replications"
        + (f", policy {summary['policy']}" if summary["policy"] else "")
    )
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column(summary["interval"], justify="right")
    for name in (
        "people_covered",
        "people_covered_net",
        "villages_covered",
        "sites_on_air",
        "mean_new_villages_per_day",
        "days_to_50pct",
        "capex_usd",
        "public_cost_usd",
        "availability",
        "defaults",
    ):
        if name in m:
            s = m[name]
            table.add_row(
                name,
                _fmt_metric(name, s["mean"]),
                f"{_fmt_metric(name, s['lo'])} – {_fmt_metric(name, s['hi'])}",
            )
    console = Console()
    console.print(table)
    console.print(f"results in {out}/")


def _wide_console() -> Any:
    """Rich console for tables: the terminal's width, or 120 columns when piped to a file."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    return console


def _print_comparison(comp: Any, summary: dict[str, Any], out: Path) -> None:
    from rich.table import Table

    from .report.experiments import HEADLINE

    console = _wide_console()
    reps = comp.sets[comp.baseline].reps
    table = Table(
        title=f"{summary['scenario']}: {reps} replications per policy",
        caption=f"mean, and below it the {summary['interval']}",
    )
    table.add_column("policy")
    for label in HEADLINE.values():
        table.add_column(label, justify="right")
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
    console.print(table)
    diffs = summary["differences"]
    if diffs:
        dt = Table(
            title=f"difference from {comp.baseline}, paired",
            caption=f"mean, and below it the {summary['difference_ci']}",
        )
        dt.add_column("policy")
        for label in HEADLINE.values():
            dt.add_column(label, justify="right")
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
        console.print(dt)
    console.print(f"results in {out}/")


COMMANDS = {
    "run": _cmd_run,
    "compare": _cmd_compare,
    "validate": _cmd_validate,
    "schema": _cmd_schema,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rollout-sim``; returns the exit code."""
    from .report.writer import ResultsWriteError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        if exc.source is None and getattr(args, "scenario", None) is not None:
            exc.source = str(args.scenario)  # world checks name a key path, not the file
        print(f"error: {exc.line()}", file=sys.stderr)
        return 2
    except ResultsWriteError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the "
            "traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
