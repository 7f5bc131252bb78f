"""The calibration section: how the fit went, the parameters before and after, each target
before and after, what the fit can identify, and every evaluation of the search.

It reads ``calibration.json`` by its keys, as ``rollout-sim calibrate`` writes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ...outcomes import format_long
from ..folder import as_float
from ..view import Cell, Table, table

__all__ = ["calibration_headline", "calibration_tables"]


def _number(v: object) -> str:
    return format_long(v, "number")


def calibration_headline(cal: Mapping[str, Any]) -> Table:
    """The headline of a calibration: how the search went, each target and parameter before
    and after."""
    rows: list[tuple[str, str, str]] = [
        ("Method", str(cal.get("method", "—")), ""),
        ("Converged", "yes" if cal.get("converged") else "no", str(cal.get("message") or "")),
        ("Targets within tolerance", "yes" if cal.get("within_tolerance") else "no", ""),
        ("Evaluations", format_long(len(cal.get("evaluations") or []), "count"), ""),
    ]
    for t in cal.get("targets") or []:
        if t.get("kind", "window_mean") == "window_mean":
            before, after = _number(as_float(t.get("before"))), _number(as_float(t.get("after")))
            rows.append(
                (
                    f"mean {t.get('metric')}, {t.get('start')} to {t.get('end')}",
                    f"{before} → {after}",
                    f"target {_number(t.get('value'))} ± {_number(t.get('tolerance'))}",
                )
            )
    for p in cal.get("parameters") or []:
        rows.append(
            (
                str(p.get("path")),
                f"{_number(p.get('before'))} → {_number(p.get('after'))}",
                "before → after",
            )
        )
    return table(
        ["Measure", Cell("Value", num=True), "Note"],
        [(a, Cell(b, num=True), Cell(c, cls="muted")) for a, b, c in rows],
    )


def _rms(observed: Sequence[Any], simulated: Any) -> float | None:
    """The root-mean-square error of a simulated series against the observed points."""
    if not isinstance(simulated, list) or not observed or len(simulated) != len(observed):
        return None
    pairs = [
        (as_float(o[1]) if isinstance(o, list) else None, as_float(s))
        for o, s in zip(observed, simulated, strict=True)
    ]
    errors = [(s - o) ** 2 for o, s in pairs if o is not None and s is not None]
    return math.sqrt(sum(errors) / len(errors)) if errors else None


def calibration_tables(cal: Mapping[str, Any]) -> list[Table]:
    """The fitted parameters, the targets, what the fit identifies, its warnings, and the
    trace of every evaluation."""
    ident = cal.get("identification") or {}

    def at_row(column: Any, k: int) -> Any:
        """Row *k* of a Jacobian column of calibration.json (None if it is missing)."""
        return column[k] if isinstance(column, list) and k < len(column) else None

    params = table(
        [
            "Parameter",
            Cell("Lower bound", num=True),
            Cell("Upper bound", num=True),
            "Integer",
            Cell("Before", num=True),
            Cell("After", num=True),
            Cell("Sensitivity", num=True),
            "Identified",
        ],
        [
            (
                Cell(str(p.get("path")), cls="key"),
                *(Cell(_number(b), num=True) for b in [*(p.get("bounds") or []), None, None][:2]),
                "yes" if p.get("integer") else "no",
                Cell(_number(p.get("before")), num=True),
                Cell(_number(p.get("after")), num=True),
                Cell(_number(p.get("sensitivity")), num=True),
                {True: "yes", False: "NO"}.get(p.get("identified"), "—"),
            )
            for p in cal.get("parameters") or []
        ],
        caption="Parameters fitted: the scenario's value before and the fitted value after. "
        "Sensitivity: how many tolerances in all the targets move across the parameter's whole "
        "range, measured at the fit; below 1 the targets cannot pin the parameter down.",
    )
    # One row per target point (calibration.json's rows); a target without rows (a file from
    # an older version) gets one row summarising it.
    by_target: dict[Any, list[Mapping[str, Any]]] = {}
    for row in cal.get("rows") or []:
        by_target.setdefault(row.get("index"), []).append(row)
    target_rows = []
    for i, t in enumerate(cal.get("targets") or []):
        for r in by_target.get(i, []):
            rel, tol = as_float(r.get("rel_tolerance")), r.get("tolerance")
            tolerance = (
                f"±{rel * 100:g}%"
                if rel is not None
                else (f"±{_number(tol)}" if as_float(tol) is not None else "—")
            )
            error = as_float(r.get("error_pct"))
            weight = as_float(r.get("weight"))
            label = str(r.get("label") or "")
            if weight is not None and weight != 1:
                label = f"{label} (weight {weight:g})".strip()
            target_rows.append(
                (
                    label,
                    Cell(str(r.get("metric", "?")), cls="key"),
                    str(r.get("date") or "—"),
                    Cell(_number(r.get("value")), num=True),
                    Cell(tolerance, num=True),
                    Cell(_number(r.get("before")), num=True),
                    Cell(_number(r.get("after")), num=True),
                    Cell("—" if error is None else f"{error:+.1f}%", num=True),
                    {True: "yes", False: "no"}.get(r.get("within"), "—"),  # type: ignore[arg-type]
                )
            )
        if i in by_target:
            continue
        kind = t.get("kind", "window_mean")
        within = "—"
        if kind == "series":
            observed = t.get("observed") or []
            what = f"observed series ({t.get('file', '?')}, {len(observed)} points)"
            value, tol = "series", "—"
            before = f"RMS error {_number(_rms(observed, t.get('before')))}"
            after = f"RMS error {_number(_rms(observed, t.get('after')))}"
        else:
            if kind == "window_mean":
                what = f"mean over {t.get('start')} to {t.get('end')}"
            else:
                what = str(t.get("date") or "start")
            value, tol = _number(t.get("value")), _number(t.get("tolerance"))
            before, after = _number(t.get("before")), _number(t.get("after"))
            got, want, margin = (as_float(t.get(k)) for k in ("after", "value", "tolerance"))
            if got is not None and want is not None and margin is not None:
                within = "yes" if abs(got - want) <= margin else "no"
        target_rows.append(
            (
                str(t.get("label") or ""),
                Cell(str(t.get("metric", "?")), cls="key"),
                what,
                Cell(value, num=True),
                Cell(tol, num=True),
                Cell(before, num=True),
                Cell(after, num=True),
                Cell("—", num=True),
                within,
            )
        )
    targets = table(
        [
            "Label",
            "Metric",
            "Date",
            Cell("Target", num=True),
            Cell("Tolerance", num=True),
            Cell("Before", num=True),
            Cell("After", num=True),
            Cell("Error", num=True),
            "Within tolerance",
        ],
        target_rows,
        caption="Targets: the simulated value (mean over the replications) before and after "
        "calibration, at each date; error relative to the target. Weight 0: shown, not fitted.",
    )
    tables = [params, targets]
    warnings = [str(w) for w in cal.get("warnings") or []]
    jacobian = ident.get("jacobian") or {}
    rows = [str(r) for r in ident.get("rows") or []]
    if jacobian and rows:
        names = list(jacobian)
        tables.append(
            table(
                ["Target", *(Cell(n, num=True) for n in names)],
                [
                    (
                        label,
                        *(Cell(_number(at_row(jacobian.get(n), k)), num=True) for n in names),
                    )
                    for k, label in enumerate(rows)
                ],
                caption="Identification: how far each fitted target moves, in tolerances "
                "(× √weight), across each parameter's whole range (finite differences at the "
                f"fit, ±{(as_float(ident.get('step_share_of_range')) or 0.05):.0%} of each "
                "range, on the same replications).",
            )
        )
    if warnings:
        tables.append(
            table(["Warning"], [(w,) for w in warnings], caption="What the fit cannot tell.")
        )
    evaluations = cal.get("evaluations") or []
    names = [str(p.get("path")) for p in cal.get("parameters") or []]
    trace = table(
        [
            Cell("#", num=True),
            *(Cell(n, num=True) for n in names),
            Cell("Objective", num=True),
            "Within tolerance",
        ],
        [
            (
                Cell(str(i + 1), num=True),
                *(Cell(_number((e.get("params") or {}).get(n)), num=True) for n in names),
                Cell(_number(as_float(e.get("objective"))), num=True),
                "yes" if e.get("within_tolerance") else "no",
            )
            for i, e in enumerate(evaluations)
        ],
        caption="Every evaluation of the search, in the order it was made.",
    )
    tables.append(trace)
    return tables
