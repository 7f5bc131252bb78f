"""The uncertainty commands: ``sensitivity`` (which inputs move the outcomes) and
``optimize`` (the best policy settings), and their console tables. SALib and Optuna are
imported inside the commands, so other commands start as fast as before."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .console import print_whole, progress, wide_console
from .shared import destination, folder_options, load, maybe_report, note, open_batch, world_of

if TYPE_CHECKING:
    from rich.table import Table

    from ..experiments.optimize import OptimizeResult, Trial
    from ..experiments.regret import RegretRow
    from ..experiments.sensitivity import SensitivityResult

__all__ = ["cmd_optimize", "cmd_sensitivity", "regret_table"]


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Sobol' indices or Morris effects of the uncertain inputs on outcome metrics."""
    from ..errors import ScenarioError
    from ..experiments.compare import check_policies
    from ..experiments.metric_refs import parse_metric
    from ..experiments.sensitivity import DEFAULT_METRICS, design, design_rows, run_sensitivity
    from ..experiments.uncertainty import resolve_uncertainties
    from ..report.uncertainty import write_sensitivity

    started = time.perf_counter()
    scenario = load(args)
    check_policies(scenario, [] if args.policy is None else [args.policy], "--policy")
    inputs = resolve_uncertainties(scenario)
    if not inputs:
        raise ScenarioError(
            "the scenario has no uncertainties: block; add the inputs to vary (see "
            "scenarios/uncertainty_demo.yaml and docs/uncertainty.md)",
            where="uncertainties",
        )
    metrics = [parse_metric(scenario, m, "--metric") for m in (args.metric or DEFAULT_METRICS)]
    design(args.method, [x.name for x in inputs], args.samples, scenario.seed)  # checks N
    out = destination(args, Path("results") / f"{scenario.name}-sensitivity", store=True)
    world_of(args, scenario)  # bad village files fail here, before anything runs
    runs = design_rows(args.method, len(inputs), args.samples) * args.reps
    label = f"{scenario.name}: {args.method} design × replications"
    with progress(args.quiet, runs, label) as tick, open_batch(args, out, runs, tick) as batch:
        res = run_sensitivity(
            scenario,
            args.method,
            args.samples,
            metrics,
            replications=args.reps,
            policy=args.policy,
            batch=batch,
        )
    write_sensitivity(scenario, res, out, **folder_options(args, scenario, started, batch))
    maybe_report(args, out)
    for m in res.metrics:
        values = res.outputs[m.label]
        if not all(math.isfinite(v) for v in values):
            note(args, f"{m.label} is undefined in some runs: no indices for it")
        elif min(values) == max(values):
            note(args, f"{m.label} is the same in every run: no indices for it")
    if not args.quiet:
        print_sensitivity(res, out)
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    """Search the optimize: block's decision variables with Optuna."""
    from ..errors import ScenarioError
    from ..experiments.optimize import check_optimize, run_optimize
    from ..report.optimize import write_optimization

    started = time.perf_counter()
    extra = [] if args.trials is None else [f"optimize.trials={args.trials}"]
    scenario = load(args, *extra)
    plan = check_optimize(scenario)
    if plan is None:
        raise ScenarioError(
            "the scenario has no optimize: block (variables, objectives, constraints; see "
            "scenarios/uncertainty_demo.yaml and docs/uncertainty.md)",
            where="optimize",
        )
    out = destination(args, Path("results") / f"{scenario.name}-optimize", store=True)
    world_of(args, scenario)
    spec = plan.spec
    label = f"{scenario.name}: trials"
    per_round = spec.parallel_trials * spec.replications
    with (
        progress(args.quiet, spec.trials, label) as tick,
        open_batch(args, out, per_round) as batch,
    ):
        res = run_optimize(scenario, plan, batch=batch, on_trial=lambda t: tick())
    write_optimization(
        scenario, res, out, source=args.scenario, **folder_options(args, scenario, started, batch)
    )
    maybe_report(args, out)
    if res.best is None:
        note(args, "no trial met every constraint: no best.yaml; widen the ranges or the limits")
    if not args.quiet:
        print_optimization(res, out)
    return 0


def _f(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.3f}"


def print_sensitivity(res: SensitivityResult, out: Path) -> None:
    """Per metric, the inputs ranked by total index (Sobol) or mu* (Morris)."""
    from rich.table import Table

    from ..outcomes import show

    console = wide_console()
    sobol = res.method == "sobol"
    for m in res.metrics:
        title = f"{m.title}: " + ("Sobol' indices" if sobol else "Morris effects")
        table = Table(
            title=title,
            caption=f"{len(res.unit)} design rows × "
            f"{res.replications} replication(s); ± {95}% confidence",
        )
        table.add_column("rank", justify="right")
        table.add_column("input", overflow="fold")  # a key path is never cut short
        cols = ("S1", "ST") if sobol else ("mu*", "sigma")
        for c in cols:
            table.add_column(c, justify="right", no_wrap=True)
        for i, r in enumerate(res.ranked(m.label), 1):
            if sobol:
                cells = [f"{_f(r.S1)} ± {_f(r.S1_conf)}", f"{_f(r.ST)} ± {_f(r.ST_conf)}"]
            else:
                cells = [
                    f"{show(m.unit_name, r.mu_star, True)} ± "
                    f"{show(m.unit_name, r.mu_star_conf, True)}",
                    show(m.unit_name, r.sigma, True),
                ]
            table.add_row(str(i), r.parameter, *cells)
        print_whole(console, table)
    console.print(f"results in {out}/")


def print_optimization(res: OptimizeResult, out: Path) -> None:
    """The Pareto trials (or the best few) and the chosen one."""
    from rich.table import Table

    from ..outcomes import show

    console = wide_console()
    plan = res.plan
    table = Table(
        title=f"{res.sampler}: {len(res.trials)} trials × {plan.spec.replications} "
        f"replications; non-dominated feasible trials",
    )
    table.add_column("trial", justify="right")
    for f in plan.variables:
        table.add_column(f.text.rsplit(".", 1)[-1], justify="right")
    for g in plan.objectives:
        table.add_column(g.metric.label + (" ↑" if g.maximize else " ↓"), justify="right")
    shown: list[Trial] = res.front[:15]
    for t in shown:
        mark = " *" if res.best is not None and t.number == res.best.number else ""
        table.add_row(
            f"{t.number}{mark}",
            *(f"{t.params[f.text]:.4g}" for f in plan.variables),
            *(
                show(g.metric.unit_name, v, True)
                for g, v in zip(plan.objectives, t.objectives, strict=True)
            ),
        )
    print_whole(console, table)
    if res.best is not None:
        console.print(f"best (*): trial {res.best.number}, written as {out}/best.yaml")
    console.print(f"results in {out}/")


def regret_table(rows: list[RegretRow], metrics: tuple[str, ...]) -> Table:
    """Mean and maximum regret per policy on a few metrics (compare's console)."""
    from rich.table import Table

    from ..outcomes import short_of, show

    table = Table(title="regret across replications: mean / max (share of replications best)")
    table.add_column("policy", no_wrap=True)
    shown = [m for m in metrics if any(r.metric == m for r in rows)]
    for m in shown:
        table.add_column(short_of(m), justify="right")  # wrapped, never cut
    for pol in dict.fromkeys(r.policy for r in rows):
        cells = []
        for m in shown:
            r = next(x for x in rows if x.policy == pol and x.metric == m)
            share = "—" if not math.isfinite(r.share_best) else f"{r.share_best:.0%}"
            cells.append(
                f"{show(m, r.mean_regret, True)} / {show(m, r.max_regret, True)} ({share})"
            )
        table.add_row(pol, *cells)
    return table
