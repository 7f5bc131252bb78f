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
  rollout-sim run scenarios/quickstart.yaml --set operators.0.build_crews=20 \\
      --set backhaul.satellite.allowed=false
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
    _add_set(run)
    run.add_argument("--no-plots", action="store_true", help="skip plots/*.png")

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
    world = build_world(scenario)  # bad village files fail here, before anything is written
    world_seconds = time.perf_counter() - started
    out = args.out if args.out is not None else Path("results") / scenario.name
    status = _status(args, f"simulating {scenario.name} ({len(world):,} villages)")
    with status:
        results = simulate(scenario, world=world)
        timing = {
            "world_build_seconds": round(world_seconds, 3),
            "total_wall_seconds": round(time.perf_counter() - started, 3),
        }
        summary = write_run(
            results,
            out,
            plots=scenario.outputs.plots and not args.no_plots,
            extra_manifest={"timing": timing, "command": ["rollout-sim", *args.argv]},
        )
    if not args.quiet:
        _print_summary(summary, out)
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


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "schema": _cmd_schema}


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
