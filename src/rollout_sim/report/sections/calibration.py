"""The calibration section: how the fit went, the parameters before and after, each target
before and after, what the fit can identify, and every evaluation of the search.

It reads ``calibration.json`` through its typed model,
:class:`~rollout_sim.summaries.CalibrationSummary`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...outcomes import format_long
from ...summaries import CalibrationSummary, Simulated, TargetRow
from ..view import Cell, Table, number_heads, table

__all__ = ["calibration_headline", "calibration_tables"]


def _number(v: object) -> str:
    return format_long(v, "number")


def _scalar(v: Simulated) -> float | None:
    """A simulated value that is one number (None for a series or a missing value)."""
    return v if isinstance(v, float | int) and math.isfinite(v) else None


def calibration_headline(cal: CalibrationSummary) -> Table:
    """The headline of a calibration: how the search went, each target and parameter before
    and after."""
    rows: list[tuple[str, str, str]] = [
        ("Method", cal.method, ""),
        ("Converged", "yes" if cal.converged else "no", cal.message),
        ("Targets within tolerance", "yes" if cal.within_tolerance else "no", ""),
        ("Evaluations", format_long(len(cal.evaluations), "count"), ""),
    ]
    for t in cal.targets:
        if t.kind == "window_mean":
            before, after = _number(_scalar(t.before)), _number(_scalar(t.after))
            rows.append(
                (
                    f"mean {t.metric}, {t.start} to {t.end}",
                    f"{before} → {after}",
                    f"target {_number(t.value)} ± {_number(t.tolerance)}",
                )
            )
    for p in cal.parameters:
        rows.append((p.path, f"{_number(p.before)} → {_number(p.after)}", "before → after"))
    return table(
        ["Measure", Cell("Value", num=True), "Note"],
        [(a, Cell(b, num=True), Cell(c, cls="muted")) for a, b, c in rows],
    )


def _rms(observed: Sequence[tuple[str, float]], simulated: Simulated) -> float | None:
    """The root-mean-square error of a simulated series against the observed points."""
    if not isinstance(simulated, list) or not observed or len(simulated) != len(observed):
        return None
    errors = [
        (s - o) ** 2
        for (_, o), s in zip(observed, simulated, strict=True)
        if s is not None and math.isfinite(s)
    ]
    return math.sqrt(sum(errors) / len(errors)) if errors else None


def _tolerance(rel: float | None, tol: float | None) -> str:
    if rel is not None:
        return f"±{rel * 100:g}%"
    return f"±{_number(tol)}" if tol is not None else "—"


def _point_row(r: TargetRow) -> tuple[str | Cell, ...]:
    """One target point (a window, a date, a date of a series) before and after."""
    label = r.label if r.weight == 1 else f"{r.label} (weight {r.weight:g})".strip()
    return (
        label,
        Cell(r.metric, cls="key"),
        r.date or "—",
        Cell(_number(r.value), num=True),
        Cell(_tolerance(r.rel_tolerance, r.tolerance), num=True),
        Cell(_number(r.before), num=True),
        Cell(_number(r.after), num=True),
        Cell("—" if r.error_pct is None else f"{r.error_pct:+.1f}%", num=True),
        {True: "yes", False: "no", None: "—"}[r.within],
    )


def _target_rows(cal: CalibrationSummary) -> list[tuple[str | Cell, ...]]:
    """One row per target point (calibration.json's rows); a target without rows (a series
    written before rows existed) gets one row summarising it."""
    by_target: dict[int, list[TargetRow]] = {}
    for row in cal.rows:
        by_target.setdefault(row.index, []).append(row)
    rows: list[tuple[str | Cell, ...]] = []
    for i, t in enumerate(cal.targets):
        if i in by_target:
            rows.extend(_point_row(r) for r in by_target[i])
            continue
        within = "—"
        if t.kind == "series":
            what = f"observed series ({t.file}, {len(t.observed)} points)"
            value, tol = "series", "—"
            before = f"RMS error {_number(_rms(t.observed, t.before))}"
            after = f"RMS error {_number(_rms(t.observed, t.after))}"
        else:
            what = (
                f"mean over {t.start} to {t.end}" if t.kind == "window_mean" else t.date or "start"
            )
            value, tol = _number(t.value), _number(t.tolerance)
            got = _scalar(t.after)
            before, after = _number(_scalar(t.before)), _number(got)
            if got is not None and t.tolerance is not None:
                within = "yes" if abs(got - t.value) <= t.tolerance else "no"
        rows.append(
            (
                t.label,
                Cell(t.metric, cls="key"),
                what,
                Cell(value, num=True),
                Cell(tol, num=True),
                Cell(before, num=True),
                Cell(after, num=True),
                Cell("—", num=True),
                within,
            )
        )
    return rows


def calibration_tables(cal: CalibrationSummary) -> list[Table]:
    """The fitted parameters, the targets, what the fit identifies, its warnings, and the
    trace of every evaluation."""
    params = table(
        [
            "Parameter",
            *number_heads("Lower bound", "Upper bound"),
            "Integer",
            *number_heads("Before", "After", "Sensitivity"),
            "Identified",
        ],
        [
            (
                Cell(p.path, cls="key"),
                *(Cell(_number(b), num=True) for b in [*p.bounds, None, None][:2]),
                "yes" if p.integer else "no",
                Cell(_number(p.before), num=True),
                Cell(_number(p.after), num=True),
                Cell(_number(p.sensitivity), num=True),
                {True: "yes", False: "NO", None: "—"}[p.identified],
            )
            for p in cal.parameters
        ],
        caption="Parameters fitted: the scenario's value before and the fitted value after. "
        "Sensitivity: how many tolerances in all the targets move across the parameter's whole "
        "range, measured at the fit; below 1 the targets cannot pin the parameter down.",
    )
    targets = table(
        [
            "Label",
            "Metric",
            "Date",
            *number_heads("Target", "Tolerance", "Before", "After", "Error"),
            "Within tolerance",
        ],
        _target_rows(cal),
        caption="Targets: the simulated value (mean over the replications) before and after "
        "calibration, at each date; error relative to the target. Weight 0: shown, not fitted.",
    )
    tables = [params, targets]
    ident = cal.identification
    if ident is not None and ident.jacobian and ident.rows:
        names = list(ident.jacobian)

        def at_row(name: str, k: int) -> float | None:
            column = ident.jacobian.get(name)
            return column[k] if column is not None and k < len(column) else None

        tables.append(
            table(
                ["Target", *number_heads(*names)],
                [
                    (label, *(Cell(_number(at_row(n, k)), num=True) for n in names))
                    for k, label in enumerate(ident.rows)
                ],
                caption="Identification: how far each fitted target moves, in tolerances "
                "(× √weight), across each parameter's whole range (finite differences at the "
                f"fit, ±{ident.step_share_of_range:.0%} of each "
                "range, on the same replications).",
            )
        )
    if cal.warnings:
        tables.append(
            table(["Warning"], [(w,) for w in cal.warnings], caption="What the fit cannot tell.")
        )
    names = [p.path for p in cal.parameters]
    trace = table(
        [
            *number_heads("#", *names, "Objective"),
            "Within tolerance",
        ],
        [
            (
                Cell(str(i + 1), num=True),
                *(Cell(_number(e.params.get(n)), num=True) for n in names),
                Cell(_number(e.objective), num=True),
                "yes" if e.within_tolerance else "no",
            )
            for i, e in enumerate(cal.evaluations)
        ],
        caption="Every evaluation of the search, in the order it was made.",
    )
    tables.append(trace)
    return tables
