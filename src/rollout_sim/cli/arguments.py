"""Command-line arguments: the parser of every command, and the types of its options.

Options are checked as they are parsed (a bad ``--seed`` or ``--reps`` is a usage error, exit
code 2, one line); what they mean for a scenario is checked by the commands.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .. import __version__

__all__ = ["MAX_REPS", "MAX_SEED", "build_parser", "policy_names"]

#: What each command's --help says above its options.
DESCRIPTIONS = {
    "run": "Run a scenario once and write results/<scenario name>/ (or --out).",
    "compare": (
        "Run every policy (or --policies) on the same replications; write comparison.csv, "
        "differences.csv (paired, against the baseline) and plots."
    ),
    "sweep": (
        "Run every design point (grids and/or a Latin hypercube) under every policy (or "
        "--policies) on the same replications; write design.csv, outcomes.csv and plots."
    ),
    "calibrate": (
        "Fit the calibration: parameters jointly to its targets (rates over a window, values on "
        "dates, observed series, the starting network), check which parameters the targets "
        "identify, and write scenario.calibrated.yaml (your file with the fitted values), "
        "calibration.json and a plot."
    ),
    "sensitivity": (
        "Global sensitivity of outcomes to the scenario's uncertainties: block: Sobol' first-order "
        "and total indices, or Morris elementary effects, with confidence intervals; write "
        "sensitivity.csv, design.csv and a ranked bar chart per metric."
    ),
    "optimize": (
        "Search the optimize: block's decision variables (TPE for one objective, NSGA-II for two), "
        "every trial on the same replications; write trials.csv, pareto.csv, best.yaml (your "
        "scenario with the chosen values) and a Pareto plot."
    ),
    "report": (
        "Write report.html (images embedded, no network needed) for the results folder of a run, "
        "replications, a comparison, a calibration, a sensitivity analysis or an optimisation."
    ),
    "validate": "Validate a scenario: schema, village file and consistency checks.",
    "schema": "Print the JSON Schema of scenario files (units and defaults included).",
}

#: The examples each command's --help ends with, as written.
EXAMPLES = {
    "run": """examples:
  rollout-sim run scenarios/quickstart.yaml
  rollout-sim run scenarios/quickstart.yaml --seed 7 --out results/qs-seed7
  rollout-sim run scenarios/quickstart.yaml --reps 20          # fan chart, replications.csv
  rollout-sim run scenarios/funding_policies.yaml --policy capex_subsidy
  rollout-sim run scenarios/quickstart.yaml --set operators.0.build_crews=20 \\
      --set backhaul.satellite.allowed=false
""",
    "compare": """examples:
  rollout-sim compare scenarios/funding_policies.yaml --reps 20
  rollout-sim compare scenarios/funding_policies.yaml --policies capex_subsidy,output_based
""",
    "sweep": """examples:
  rollout-sim sweep scenarios/quickstart.yaml --grid operators.0.build_crews=4,8,16 --reps 5
  rollout-sim sweep scenarios/funding_policies.yaml --grid operators.0.cash_usd=1e6,3e6 \\
      --lhs 10 operators.0.build_crews=5:30 --policies output_based
  rollout-sim sweep scenarios/quickstart.yaml --grid operators.0.build_crews=4,8 --missing
""",
    "calibrate": """examples:
  rollout-sim calibrate scenarios/peru_ipt.yaml
  rollout-sim calibrate scenarios/peru_ipt_reported.yaml --reps 5 --jobs 4
  rollout-sim calibrate scenarios/peru_ipt.yaml --resume      # after Ctrl-C: finish the fit
""",
    "sensitivity": """examples:
  rollout-sim sensitivity scenarios/uncertainty_demo.yaml --method sobol --samples 32
  rollout-sim sensitivity scenarios/uncertainty_demo.yaml --method morris --samples 10 \\
      --metric people_served --metric people_reached@2021-12-31
""",
    "optimize": """examples:
  rollout-sim optimize scenarios/uncertainty_demo.yaml
  rollout-sim optimize scenarios/uncertainty_demo.yaml --trials 60 --jobs 4
""",
    "report": """examples:
  rollout-sim report results/peru_ipt
""",
    "validate": """examples:
  rollout-sim validate scenarios/quickstart.yaml
  rollout-sim validate my.yaml --set geography.synthetic.villages=200
""",
    "schema": """examples:
  rollout-sim schema > scenario.schema.json    # for editor completion (YAML language server)
""",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options."""

    def options(default: object) -> _Parser:
        """The options every command takes, before it or after it."""
        common = _Parser(add_help=False)
        common.add_argument(
            "--debug", action="store_true", default=default, help="show tracebacks on errors"
        )
        common.add_argument(
            "--quiet", "-q", action="store_true", default=default, help="print nothing but errors"
        )
        common.add_argument(
            "--no-cache",
            action="store_true",
            default=default,
            help="build the world afresh instead of loading it from the cache "
            "($ROLLOUT_SIM_CACHE or ~/.cache/rollout-sim)",
        )
        return common

    common = options(False)
    # A command's own copy sets nothing unless given after it: its default would overwrite
    # the same option given before the command (`rollout-sim -q validate ...` was not quiet).
    after = options(argparse.SUPPRESS)

    p = _Parser(
        prog="rollout-sim",
        description="Discrete-event simulation of rural mobile-broadband rollout.",
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"rollout-sim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        """A command's parser: its *help* (its line in the list of commands), the common
        options, and its description and examples, shown as written."""
        return sub.add_parser(
            name,
            help=help,
            description=DESCRIPTIONS[name],
            epilog=EXAMPLES[name],
            parents=[after],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command("run", help="run a scenario and write its results folder")
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

    cmp_ = command("compare", help="run funding policies on the same replications and compare them")
    _add_scenario(cmp_, "scenario YAML file with a policies: block", "results/<name>-compare")
    cmp_.add_argument("--reps", type=_reps, default=10, help="replications per policy (10)")
    _add_policies(cmp_, "comma-separated policy names (default: all; the baseline is added)")
    _add_batch(cmp_)
    _add_outputs(cmp_)

    swp = command("sweep", help="run a design of parameter values × policies × replications")
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
    _add_policies(swp, "comma-separated policies (default: all, or none)")
    swp.add_argument(
        "--missing",
        action="store_true",
        help="list the runs of this sweep not in its store (nothing is run)",
    )
    _add_batch(swp)
    _add_outputs(swp, report=False)

    cal = command(
        "calibrate", help="fit scenario parameters to the targets in its calibration: block"
    )
    _add_scenario(cal, "scenario YAML file with a calibration: block", "results/<name>-calibration")
    cal.add_argument("--reps", type=_reps, help="replications per evaluation (overrides)")
    _add_batch(
        cal,
        jobs="worker processes for each evaluation's replications (default: the CPUs of this "
        "machine; the results are the same with any number)",
        resume="keep the evaluations an interrupted calibration finished",
    )
    _add_outputs(cal)

    sen = command(
        "sensitivity", help="rank the uncertain inputs by how much they move the outcomes (SALib)"
    )
    _add_scenario(sen, "scenario YAML file with an uncertainties: block",
                  "results/<name>-sensitivity")  # fmt: skip
    sen.add_argument("--method", choices=["sobol", "morris"], default="sobol",
                     help="sobol (default) or morris")  # fmt: skip
    sen.add_argument(
        "--samples",
        type=_samples,
        default=16,
        help="base samples: Sobol' runs N×(inputs+2) scenarios (N a power of 2), Morris "
        "N×(inputs+1) (N trajectories); default 16",
    )
    sen.add_argument(
        "--metric",
        action="append",
        metavar="NAME[@YYYY-MM-DD]",
        help="outcome to analyse (repeatable; a daily series on a date with @); default: "
        "people reached and served, public cost, cost per person reached, availability",
    )
    sen.add_argument("--reps", type=_reps, default=1,
                     help="replications per design row, averaged (1)")  # fmt: skip
    sen.add_argument("--policy", help="funding policy to run (default: the baseline)")
    _add_batch(sen)
    _add_outputs(sen)

    opt = command("optimize", help="search policy settings for the best outcomes (Optuna)")
    _add_scenario(opt, "scenario YAML file with an optimize: block", "results/<name>-optimize")
    opt.add_argument("--trials", type=_reps, help="trials to run (overrides optimize.trials)")
    _add_batch(opt, resume="keep the trials an interrupted search finished")
    _add_outputs(opt)

    rep = command("report", help="write a self-contained report.html for a results folder")
    rep.add_argument("results", type=Path, help="a results folder")
    rep.add_argument(
        "--out", type=_report_out, help="where to write (default: RESULTS/report.html)"
    )

    val = command(
        "validate", help="check a scenario (schema, files, consistency) without running it"
    )
    val.add_argument("scenario", type=Path, help="scenario YAML file")
    _add_set(val)

    sch = command("schema", help="print the scenario JSON Schema")
    sch.add_argument("--out", type=_file_out, help="write to this file instead of stdout")
    return p


MAX_SEED = 2**63 - 1


def policy_names(text: str) -> list[str]:
    """argparse type of ``--policies``: comma-separated names (blanks ignored)."""
    return [p.strip() for p in text.split(",") if p.strip()]


def _whole(low: int, high: int) -> Callable[[str], int]:
    """argparse type of a whole-number option from *low* to *high*: out of range, or not a
    whole number, is one usage error naming the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r}: expected a whole number from {low} to {high}"
            )
        return value

    return parse


def _out(text: str) -> Path:
    """``--out``: a path, ``~`` expanded as in village file paths (a quoted ``'~/res'`` would
    otherwise make a folder named ``~``, which a later ``rm -rf ~`` would not forgive)."""
    return Path(text).expanduser()


def _report_out(text: str) -> Path:
    """``report --out``: a path ending in a slash is a folder, new or not (the report goes
    inside it), though ``Path`` drops the slash."""
    return _out(text) / "report.html" if text.endswith(("/", os.sep)) else _out(text)


def _file_out(text: str) -> Path:
    """``schema --out``: a file; a path ending in a slash names a folder."""
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r}: names a folder; expected a file")
    return _out(text)


MAX_REPS = 100_000
_seed = _whole(0, MAX_SEED)  # --seed: what the scenario schema accepts
_reps = _whole(1, MAX_REPS)  # --reps, --trials
_samples = _whole(2, 100_000)  # --samples
_jobs = _whole(1, 1024)  # --jobs: worker processes


def _timeout(text: str) -> float:
    """argparse type of ``--connect-timeout``: seconds, more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds, more than 0, at most 3600")
    return value


def _add_batch(
    p: argparse.ArgumentParser,
    jobs: str = "worker processes (default: the CPUs of this machine)",
    resume: str = "keep replications an interrupted run finished",
) -> None:
    """Options of commands that run many replications."""
    p.add_argument("--jobs", type=_jobs, help=jobs)
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
    p.add_argument("--resume", action="store_true", help=resume)


def _add_scenario(p: argparse.ArgumentParser, what: str, default_out: str) -> None:
    """The scenario file, --out and --seed, as every scenario-running command takes them."""
    p.add_argument("scenario", type=Path, help=what)
    p.add_argument("--out", type=_out, help=f"results folder (default: {default_out})")
    p.add_argument("--seed", type=_seed, help="override the scenario seed")


def _add_policies(p: argparse.ArgumentParser, what: str) -> None:
    """--policies, as the commands that run several policies take it: comma-separated names."""
    p.add_argument("--policies", type=policy_names, help=what)


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
