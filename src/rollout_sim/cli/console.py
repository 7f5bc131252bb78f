"""What the commands print: result tables, progress bars and status lines.

Tables never cut a number: a table wider than the terminal gets the columns it needs (a
narrow terminal then wraps whole lines), and a table printed to a file is never wrapped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..experiments.compare import Comparison
    from ..experiments.sweep import Design
    from ..experiments.tasks import Task
    from ..summaries import (
        CalibrationSummary,
        ComparisonSummary,
        ReferenceCheck,
        ReplicationsSummary,
        RunSummary,
        SweepSummary,
    )

__all__ = [
    "print_calibration",
    "print_comparison",
    "print_missing",
    "print_replications",
    "print_run",
    "print_sweep",
    "progress",
    "status",
]


def status(quiet: bool, text: str) -> AbstractContextManager[object]:
    """A spinner with *text* on stderr while a long step runs (a terminal, not --quiet)."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


@contextmanager
def progress(quiet: bool, total: int, text: str) -> Iterator[Callable[[], object]]:
    """Yields tick(): a rich progress bar on stderr (a terminal, not --quiet), else nothing."""
    if quiet or not sys.stderr.isatty() or total <= 1:
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
    ) as bar:
        task = bar.add_task(text, total=total)
        yield lambda: bar.advance(task)
        # A search may stop before its budget (within tolerance, converged): the work is
        # done, so the bar ends full rather than at "11/40" with an ETA.
        done = bar.tasks[0].completed
        bar.update(task, total=max(done, 1), completed=max(done, 1))


def wide_console() -> Console:
    """Rich console for tables: the terminal's width, or 120 columns when piped to a file."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    return console


def print_whole(console: Console, table: Table) -> None:
    """Print *table* without cutting or folding a number: if it needs more columns than the
    console has, it gets them (a narrow terminal then wraps whole lines, never a number)."""
    from rich.console import Console
    from rich.measure import Measurement

    need = Measurement.get(console, console.options.update(max_width=100_000), table).maximum
    if need > console.width:
        console = Console(width=need, force_terminal=console.is_terminal)
    console.print(table)


def print_run(summary: RunSummary, out: Path) -> None:
    """A single run: totals at the horizon, milestones and the published figures."""
    from rich.table import Table

    from ..outcomes import format_value

    f = summary.final
    policy = f" ({summary.policy})" if summary.policy else ""
    table = Table(title=f"{summary.scenario}{policy} — {summary.start_date} to {summary.end_date}")
    table.add_column("metric", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    rows = [
        ("villages", f"{summary.villages:,}"),
        ("population", f"{summary.population:,}"),
        (
            "sites on air",
            f"{f.sites_on_air:,} (built {f.sites_built:,}"
            + (f"; {f.sites_down:,} of them down at the end)" if f.sites_down else ")"),
        ),
        ("villages covered", f"{f.villages_covered:,}"),
        ("people covered", f"{f.people_covered:,}"),
        ("share of all people covered", format_value(f.people_covered_share, "share")),
        ("share of rural people covered", format_value(f.rural_people_covered_share, "share")),
        (
            "share of the people uncovered at the start now reached",
            format_value(f.initially_uncovered_reached_share, "share"),
        ),
        ("people newly reached", f"{summary.people_reached:,}"),
        ("places served by the operators", f"{f.places_served:,}"),
        ("people served by the operators", f"{f.people_served:,}"),
        ("new villages per day (mean)", f"{summary.mean_new_villages_per_day:.2f}"),
        ("capex", f"US$ {f.capex_cumulative_usd:,.0f}"),
        ("cash at the end", f"US$ {f.cash_usd:,.0f}"),
    ]
    if summary.capex_per_person_reached_usd is not None:
        rows.append(
            ("capex per person reached", f"US$ {summary.capex_per_person_reached_usd:,.2f}")
        )
    if summary.instruments:  # a funding policy: what it cost the funders
        rows.append(("public cost", f"US$ {summary.public_cost_usd:,.0f}"))
        if summary.public_cost_per_person_reached_usd is not None:
            rows.append(
                (
                    "public cost per person reached",
                    f"US$ {summary.public_cost_per_person_reached_usd:,.2f}",
                )
            )
    for key, m in summary.days_to_reach.items():
        rows.append(
            (f"{key[:-3]}% of the people uncovered at the start reached", m.date or "not yet")
        )
    start = date.fromisoformat(summary.start_date)
    for event in summary.defaults:
        when = start + timedelta(days=int(event.day))
        rows.append((f"{event.operator} defaulted", f"{when.isoformat()}: {event.detail}"))
    for label, value in rows:
        table.add_row(label, value)
    console = wide_console()
    print_whole(console, table)
    if summary.references:
        print_whole(console, _references_table(summary.references))
    console.print(f"results in {out}/")


def _references_table(refs: list[ReferenceCheck]) -> Table:
    """Published figures beside the simulated values: one row each, nothing cut."""
    from rich.table import Table

    table = Table(title="published figures and the simulation", title_justify="left")
    table.add_column("figure (source)", overflow="fold", ratio=3)
    table.add_column("metric on date", overflow="fold", ratio=2)
    table.add_column("published", justify="right", no_wrap=True)
    table.add_column("simulated", justify="right", no_wrap=True)
    table.add_column("difference", justify="right", no_wrap=True)
    for ref in refs:
        sim, pub = ref.simulated, ref.reference
        diff = "—" if sim is None or not pub else f"{(sim - pub) / pub:+.0%}"
        table.add_row(
            ref.label,
            f"{ref.metric} on {ref.date}",
            f"{pub:,.0f}",
            "outside the horizon" if sim is None else f"{sim:,.0f}",
            diff,
        )
    return table


def print_replications(summary: ReplicationsSummary, out: Path) -> None:
    """Replications of one policy: each metric's mean and interval."""
    from rich.table import Table

    from ..outcomes import REPLICATION_TABLE, label_of, show

    m = summary.metrics
    table = Table(
        title=f"{summary.scenario} — {summary.replications} replications"
        + (f", policy {summary.policy}" if summary.policy else "")
    )
    table.add_column("metric", overflow="fold")
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column(summary.interval, justify="right", no_wrap=True)
    for name in REPLICATION_TABLE:
        if name in m:
            s = m[name]
            label = label_of(name)
            if s.n < summary.replications:  # a milestone not every replication reached
                label += f" (in the {s.n} of {summary.replications} replications that have it)"
            table.add_row(label, show(name, s.mean), f"{show(name, s.lo)} – {show(name, s.hi)}")
    console = wide_console()
    print_whole(console, table)
    console.print(f"results in {out}/")


def _headline_table(title: str, interval: str) -> Table:
    """A table of policies by headline metric, each cell a mean above its *interval*."""
    from rich.table import Table

    from ..outcomes import HEADLINE, short_of

    table = Table(title=title, caption=f"mean, and below it the {interval}")
    table.add_column("policy", no_wrap=True)
    for name in HEADLINE:
        table.add_column(short_of(name), justify="right", no_wrap=True)
    return table


def print_comparison(
    comp: Comparison, summary: ComparisonSummary, out: Path, *after: Table
) -> None:
    """Policies side by side, then each one's paired difference from the baseline, then any
    further tables (*after*: e.g. regret), then where the results are."""
    from ..outcomes import HEADLINE, show

    console = wide_console()
    reps = comp.sets[comp.baseline].reps
    table = _headline_table(f"{summary.scenario}: {reps} replications per policy", summary.interval)
    for pol in comp.policies:
        cells = []
        for name in HEADLINE:
            s = summary.metrics[pol].get(name)
            if s is None or s.mean is None:
                cells.append("—")
            else:
                cells.append(
                    f"{show(name, s.mean, True)}\n[dim]{show(name, s.lo, True)}"
                    f"–{show(name, s.hi, True)}[/dim]"
                )
        table.add_row(pol, *cells)
    print_whole(console, table)
    if summary.differences:
        dt = _headline_table(f"difference from {comp.baseline}, paired", summary.difference_ci)
        for pol, by_metric in summary.differences.items():
            cells = []
            for name in HEADLINE:
                d = by_metric.get(name)
                if d is None or d.difference is None:
                    cells.append("—")
                    continue
                lo, hi = d.ci
                ci = (
                    f"[dim]{show(name, lo, True)}…{show(name, hi, True)}[/dim]"
                    if lo is not None
                    else ""
                )
                cells.append(f"{show(name, d.difference, True)}\n{ci}")
            dt.add_row(pol, *cells)
        print_whole(console, dt)
    for table in after:
        print_whole(console, table)
    console.print(f"results in {out}/")


def print_sweep(summary: SweepSummary, out: Path, policies: int, reps: int) -> None:
    """Each point under each policy: its values and mean outcomes over the replications."""
    from rich.table import Table

    from ..outcomes import label_of, show
    from ..report.experiments import SWEEP_TABLE

    table = Table(title=f"{summary.scenario}: mean outcome of each point")
    table.add_column("point", justify="right", no_wrap=True)
    for path in summary.parameters:
        table.add_column(path, justify="right", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    for n in SWEEP_TABLE:
        table.add_column(label_of(n), justify="right", no_wrap=True)
    for row in summary.table:
        table.add_row(
            str(row.point),
            *(str(row.values[p]) for p in summary.parameters),
            row.policy or "—",
            *(show(n, row.outcomes[n]) for n in SWEEP_TABLE),
        )
    print_whole(wide_console(), table)
    print(
        f"{summary.runs} runs ({summary.points} points × {policies} policies × {reps} "
        f"replications); results in {out}/"
    )


def print_missing(missing: list[Task], design: Design, total: int, quiet: bool) -> None:
    """The runs of a sweep not in its store, one line each (stdout), and how many (stderr)."""
    for t in missing:
        values = " ".join(f"{k}={v}" for k, v in design.points[t.point].items())
        print(f"point {t.point} {values} policy {t.policy or 'none'} replication {t.rep}")
    if not quiet:
        print(f"{len(missing)} of {total} runs missing", file=sys.stderr)


def _figure(v: float | bool | None) -> str:
    """A calibration figure in full (tables never cut digits)."""
    if v is None or isinstance(v, bool):
        return "—"
    v = float(v)
    if abs(v) >= 1000:
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"
    return f"{v:.4g}"


def _calibration_table(head: list[str], rows: list[list[str]], text: int) -> Table:
    """Columns after the first *text* never wrap: a number is shown whole or not at all.
    (Titles are printed apart: rich would wrap them to the table's width.)"""
    from rich.table import Table
    from rich.text import Text

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


def print_calibration(summary: CalibrationSummary, out: Path) -> None:
    """The fitted parameters, every target point before and after, and the verdict."""
    from rich.console import Console
    from rich.measure import Measurement

    console = wide_console()
    evaluations = len(summary.evaluations)
    checks = len(summary.identification.evaluations) if summary.identification else 0
    prows = []
    for p in summary.parameters:
        identified = p.identified
        prows.append(
            [
                p.path,
                f"{_figure(p.bounds[0])}–{_figure(p.bounds[1])}",
                _figure(p.before),
                f"[bold]{_figure(p.after)}[/bold]",
                _figure(p.sensitivity),
                "—" if identified is None else "yes" if identified else "[red]NO[/red]",
            ]
        )
    params = _calibration_table(
        ["parameter", "bounds", "before", "after", "sensitivity", "identified"], prows, 1
    )
    trows = []
    for row in summary.rows:
        if row.rel_tolerance is not None:
            tol = f"±{row.rel_tolerance * 100:g}%"
        elif row.tolerance is not None:
            tol = f"±{_figure(row.tolerance)}"
        else:
            tol = "—"
        error, within = row.error_pct, row.within
        label = row.label or ""
        if row.weight != 1:
            label = f"{label} (weight {row.weight:g})".strip()
        trows.append(
            [
                label,
                row.metric,
                row.date,
                _figure(row.value),
                tol,
                _figure(row.before),
                f"[bold]{_figure(row.after)}[/bold]",
                "—" if error is None else f"{error:+.1f}%",
                "—" if within is None else "[green]yes[/green]" if within else "[red]no[/red]",
            ]
        )
    targets = _calibration_table(
        ["label", "metric", "date", "target", "tolerance", "before", "after", "error", "within?"],
        trows,
        3,
    )
    if not console.is_terminal:  # a file has no width to keep to: never wrap a table there
        wide = console.options.update_width(10_000)
        needed = max(Measurement.get(console, wide, t).maximum for t in (params, targets))
        console = Console(width=max(console.width, needed))
    console.print(
        f"[bold]{summary.scenario}: calibration by {summary.method}[/bold] ({evaluations} "
        f"evaluations{f' + {checks} to check identification' if checks else ''} × "
        f"{summary.replications_per_evaluation} replications)"
    )
    console.print(params)
    console.print(
        "sensitivity: tolerances the targets move across the whole range (< 1: not identified)",
        style="dim",
    )
    console.print("[bold]targets[/bold], before and after (means over the replications)")
    console.print(targets)
    toleranced = [r for r in summary.rows if r.within is not None and r.weight > 0]
    if not toleranced:
        verdict = "fitted (no target has a tolerance)"
    elif summary.within_tolerance:
        verdict = "every fitted target within its tolerance"
    else:
        verdict = "NOT every fitted target within its tolerance"
    objective = summary.objective
    console.print(
        f"{verdict}; objective {_figure(objective.before)} → "
        f"{_figure(objective.after)}; {summary.message}."
    )
    console.print(f"Calibrated scenario: {out}/scenario.calibrated.yaml")
