"""A policy optimisation in the report: how the search ran and the trial it chose (the
headline and its story, from ``optimization.json``), the Pareto trials (``pareto.csv``), the
plot of every trial, and every trial folded (``trials.csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from ...outcomes import format_long, label_of, show_long
from ...summaries import OptimizationConstraint, OptimizationObjective, OptimizationSummary
from ..folder import Figures, TrialTable, read_optimization, read_trials
from ..view import Cell, Optimization, Table, table
from .figures import pareto_image

__all__ = [
    "OptimizeFolder",
    "metric_title",
    "metric_words",
    "optimize_headline",
    "optimize_section",
    "optimize_story",
    "read_optimize_folder",
]


def _name(label: str) -> str:
    """The outcome a metric label names (``people_reached@2021-12-31``: ``people_reached``),
    for its unit."""
    return label.partition("@")[0]


def metric_words(label: str) -> str:
    """A metric label as a sentence reads it: "people newly reached ... on 2021-12-31"."""
    name, at, date = label.partition("@")
    return label_of(name) + (f" on {date}" if at else "")


def metric_title(label: str) -> str:
    """A metric label as a table row or column begins: "People newly reached ..."."""
    words = metric_words(label)
    return words[:1].upper() + words[1:]


def _reps(n: int) -> str:
    return f"{n:,} replication{'s' if n != 1 else ''}"


def _value(label: str, value: float | None) -> str:
    return show_long(_name(label), value)


def _decision(value: float) -> str:
    """A decision value: whole numbers as they are, others to four significant figures (one
    decimal from 1,000 up): enough to tell trials apart; the CSVs hold every digit."""
    return format_long(value, "number")


def _goal(o: OptimizationObjective) -> str:
    verb = "maximise" if o.direction == "maximize" else "minimise"
    return f"{verb} {metric_words(o.metric)}"


def _limit(c: OptimizationConstraint) -> str:
    title = metric_words(c.metric)
    bounds = [
        f"{sign} {_value(c.metric, v)}" for sign, v in (("≥", c.min), ("≤", c.max)) if v is not None
    ]
    return f"{title} (mean) {' and '.join(bounds)}"


def _sampler(s: OptimizationSummary) -> str:
    count = "one objective" if len(s.objectives) == 1 else f"{len(s.objectives)} objectives"
    return f"{s.sampler} ({count}), seeded from the scenario seed"


@dataclass(frozen=True)
class OptimizeFolder:
    """An optimisation folder's summary and tables, checked against each other."""

    summary: OptimizationSummary
    trials: TrialTable
    front: TrialTable


def read_optimize_folder(d: Path) -> OptimizeFolder:
    """``optimization.json``, ``trials.csv`` and ``pareto.csv`` of *d*, each through its typed
    reader, and checked against each other: one error line naming the file that does not fit
    the others."""
    s = read_optimization(d / "optimization.json")
    trials = read_trials(d / "trials.csv")
    front = read_trials(d / "pareto.csv")
    if (front.variables, front.objectives, front.constraints) != (
        trials.variables,
        trials.objectives,
        trials.constraints,
    ):
        raise InputError("its columns are not those of trials.csv", source=str(d / "pareto.csv"))
    labels = tuple(o.metric for o in s.objectives)
    if trials.objectives != labels:
        raise InputError(
            f"its objectives ({', '.join(trials.objectives)}) are not those of "
            f"optimization.json ({', '.join(labels)})",
            source=str(d / "trials.csv"),
        )

    def mismatch(key: str) -> InputError:
        return InputError(
            f"{key}: does not match trials.csv and pareto.csv", source=str(d / "optimization.json")
        )

    if len(trials.rows) != s.trials:
        raise mismatch("trials")
    if [r.number for r in front.rows] != s.pareto_trials:
        raise mismatch("pareto_trials")
    if (s.best is None) != (s.best_trial is None):
        raise mismatch("best")
    if s.best is not None and (
        sorted(s.best.params) != sorted(trials.variables)
        or len(s.best.objectives) != len(s.objectives)
    ):
        raise mismatch("best")
    return OptimizeFolder(s, trials, front)


def optimize_headline(folder: OptimizeFolder) -> Table:
    """How the search ran and what it chose: the sampler, the objectives and their
    directions, the constraints, the trials run, the chosen trial's values."""
    s = folder.summary
    rows: list[tuple[str | Cell, str]] = [
        ("Search", _sampler(s)),
        ("Policy searched", s.policy or "none (the scenario as is)"),
        ("Objectives", "; ".join(_goal(o) for o in s.objectives)),
        ("Constraints", "; ".join(_limit(c) for c in s.constraints) or "none"),
        (
            "Trials run",
            f"{s.trials:,}, each on the same {_reps(s.replications_per_trial)}; "
            f"{s.feasible_trials:,} met every constraint, {len(s.pareto_trials):,} on the "
            "Pareto front",
        ),
    ]
    if s.best is None or s.best_trial is None:
        rows.append(("Chosen trial", "none: no trial met every constraint (no best.yaml)"))
    else:
        rows.append(("Chosen trial (best.yaml)", f"trial {s.best_trial}"))
        for path in folder.trials.variables:
            rows.append((Cell(path, cls="key"), _decision(s.best.params[path])))
        for o, v in zip(s.objectives, s.best.objectives, strict=True):
            rows.append((f"{metric_title(o.metric)} (mean)", _value(o.metric, v)))
    return table(
        ["", Cell("Value")],
        [(label, value) for label, value in rows],
        caption="The chosen trial's decision values and its objectives' means over the "
        "replications.",
    )


def optimize_story(folder: OptimizeFolder) -> list[str]:
    """A few sentences: what was searched, how many trials held, which one was chosen."""
    s = folder.summary
    goals = " and ".join(_goal(o) for o in s.objectives)
    story = [
        f"{s.sampler} tried {s.trials:,} settings of the policy "
        f"{s.policy or '(none)'} to {goals}, every trial on the same "
        f"{_reps(s.replications_per_trial)} (the same seeds and draws), so trials "
        "differ only by their decision values.",
    ]
    limits = "; ".join(_limit(c) for c in s.constraints)
    front = (
        "on the Pareto front: no other feasible trial is at least as good on every objective "
        "and better on one"
        if len(s.objectives) > 1
        else "with the best mean"
    )
    story.append(
        f"{s.feasible_trials:,} of {s.trials:,} trials met "
        + (f"the constraints ({limits})" if limits else "every constraint (there are none)")
        + f"; {len(s.pareto_trials):,} {'is' if len(s.pareto_trials) == 1 else 'are'} {front}."
    )
    if s.best_trial is None:
        story.append(
            "No trial met every constraint, so there is no best.yaml: widen the ranges or the "
            "limits."
        )
    else:
        rule = (
            "the feasible trial with the best mean (the earliest on a tie)"
            if len(s.objectives) == 1
            else "the Pareto trial best on the first objective; pick another from pareto.csv "
            "with --set"
        )
        story.append(f"The chosen trial, written as best.yaml, is trial {s.best_trial}: {rule}.")
    return story


def _rows(t: TrialTable, best: int | None, full: bool, caption: str) -> Table:
    """The trials of *t* as a table: number, decision values, objective and constraint
    means; with *full*, whether each met the constraints and is on the front."""
    head: list[str | Cell] = [
        "Trial",
        *(Cell(v, num=True, cls="key") for v in t.variables),
        *(Cell(metric_title(o), num=True) for o in t.objectives),
        *(Cell(f"{metric_title(c)} (constraint)", num=True) for c in t.constraints),
    ]
    if full:
        head += ["Feasible", "Pareto"]
    body: list[list[str | Cell]] = []
    for r in t.rows:
        cells: list[str | Cell] = [
            Cell(str(r.number), sub="best.yaml" if r.number == best else ""),
            *(Cell(_decision(v), num=True) for v in r.params),
            *(
                Cell(_value(o, v), num=True)
                for o, v in zip(t.objectives, r.objectives, strict=True)
            ),
            *(
                Cell(_value(c, v), num=True)
                for c, v in zip(t.constraints, r.constraints, strict=True)
            ),
        ]
        if full:
            cells += ["yes" if r.feasible else "no", "yes" if r.pareto else ""]
        body.append(cells)
    return table(head, body, caption)


def optimize_section(folder: OptimizeFolder, figures: Figures) -> Optimization:
    """The Pareto trials, the plot of every trial, and every trial (folded)."""
    s = folder.summary
    best = s.best_trial
    n = len(folder.front.rows)
    front_caption = (
        f"The {n} Pareto trial{'s' if n != 1 else ''}: feasible, and no other feasible trial "
        "is at least as good on every objective and better on one. Means over the "
        "replications; the chosen one is marked best.yaml. Every value unrounded: pareto.csv."
    )
    axes = [
        f"{metric_words(o.metric)} ({'higher' if o.direction == 'maximize' else 'lower'} is better)"
        for o in s.objectives
    ]
    return Optimization(
        pareto=_rows(folder.front, best, False, front_caption),
        image=pareto_image(figures, axes, s.replications_per_trial, best is not None),
        trials=_rows(
            folder.trials,
            best,
            True,
            "Every trial in the order it ran: decision values, objective and constraint means "
            "over the replications. Every value unrounded: trials.csv.",
        ),
        trials_run=len(folder.trials.rows),
    )
