"""The fit plot of a calibration (``plots/calibration.png``): each target against the simulated
series before and after the fit."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .axes import date_axis, day_dates

if TYPE_CHECKING:
    from ..experiments.calibrate import CalibrationResult

__all__ = ["calibration_figure"]


def _number(v: float) -> str:
    """A fitted value as the calibrated file's header writes it: 22,016,271 or 0.35."""
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1e4 else f"{v:g}"


def calibration_figure(res: CalibrationResult) -> Figure:
    """One small panel per target: the simulated series before and after, the target point(s)
    with their tolerance."""
    n = len(res.plans)
    cols = 1 if n == 1 else 2 if n <= 8 else 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(9 if cols == 1 else 6.2 * cols, 3.9 * rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    start = res.scenario.start_date
    runs = ((res.initial, "before", "tab:grey"), (res.best, "after", "tab:blue"))
    for i, plan in enumerate(res.plans):
        ax = axes[i // cols][i % cols]
        title = plan.label or plan.metric.name
        if plan.weight == 0:
            title += " (weight 0: shown, not fitted)"
        if plan.metric.is_start:
            for x, (ev, label, colour) in enumerate(runs):
                v = ev.simulated[i]
                ax.plot([x], [v], "o", ms=9, color=colour, label=label, zorder=3)
            _target_band(ax, plan.values[0], plan.tolerances[0], (-0.5, 1.5))
            ax.set_xlim(-0.5, 1.5)
            ax.set_xticks([0, 1], ["before", "after"])
            ax.set_ylabel(plan.metric.name)
            ax.set_title(f"{title}: starting network", fontsize=9)
            ax.legend(loc="best", fontsize=8)
            ax.grid(alpha=0.3, axis="y")
            continue
        for ev, label, colour in runs:
            s = ev.series[i]
            if s is None:
                continue
            suffix = f" ({30}-day mean)" if plan.kind == "window_mean" else ""
            ax.plot(day_dates(start, len(s)), s, color=colour, lw=1.4, label=label + suffix)
        if plan.kind == "window_mean":
            a = np.datetime64(start, "D") + plan.days[0]
            b = np.datetime64(start, "D") + plan.days[1]
            ax.axvspan(a, b, color="tab:green", alpha=0.08)
            _target_band(ax, plan.values[0], plan.tolerances[0], (a, b))
            for ev, _, colour in runs:
                v = ev.simulated[i]
                if isinstance(v, float) and math.isfinite(v):
                    ax.hlines(v, a, b, color=colour, ls="--", lw=1)
        else:
            when = np.datetime64(start, "D") + np.array(plan.days)
            tol = [t if t is not None else 0.0 for t in plan.tolerances]
            ax.errorbar(
                when,
                plan.values,
                yerr=tol if any(tol) else None,
                fmt="o",
                color="black",
                capsize=3,
                zorder=3,
                label="target",
            )
        ax.set_ylabel(plan.metric.name.replace("_", " "))
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        date_axis(ax)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_axis_off()
    params = ", ".join(
        f"{p.path} {_number(res.initial.params[p.path])}→{_number(res.best.params[p.path])}"
        for p in res.spec.parameters
    )
    fig.suptitle(f"{res.scenario.name}: {params}", fontsize=10)
    return fig


def _target_band(ax: Any, value: float, tolerance: float | None, span: tuple[Any, Any]) -> None:
    """The target as a green line over *span*, with its tolerance as a band."""
    a, b = span
    ax.hlines(value, a, b, color="tab:green", lw=2, label=f"target {_number(value)}")
    if tolerance:
        ax.fill_between(
            [a, b], value - tolerance, value + tolerance, color="tab:green", alpha=0.15, lw=0
        )
