"""Charts of uncertainty: ranked sensitivity bars, regret distributions, a Pareto front."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..arrays import FloatArray
from .axes import people_tick, usd_tick
from .experiments import POLICY_COLOURS

__all__ = ["pareto_figure", "regret_figure", "sensitivity_figure"]


def sensitivity_figure(
    title: str,
    names: Sequence[str],
    values: Sequence[float],
    conf: Sequence[float],
    label: str,
    first: Sequence[float] | None = None,
) -> Figure:
    """Horizontal bars, most influential on top: *values* (total index or mu*) with their
    confidence half-widths, and (Sobol) the first-order index beside each."""
    order = sorted(range(len(names)), key=lambda j: -np.nan_to_num(values[j], nan=-np.inf))
    y = np.arange(len(order))[::-1]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(order)))
    height = 0.38 if first is not None else 0.6
    vals = np.array([values[j] for j in order], dtype=float)
    err = np.array([conf[j] for j in order], dtype=float)
    offset = height / 2 if first is not None else 0.0
    ax.barh(
        y + offset,
        np.nan_to_num(vals),
        height,
        xerr=np.nan_to_num(err),
        color="#1f77b4",
        label=label,
        capsize=3,
    )
    if first is not None:
        f = np.array([first[j] for j in order], dtype=float)
        ax.barh(y - offset, np.nan_to_num(f), height, color="#aec7e8", label="first order (S1)")
    ax.set_yticks(y, [names[j] for j in order], fontsize=8)
    ax.axvline(0, color="#444", lw=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(label)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def regret_figure(
    title: str,
    regrets: Mapping[str, FloatArray],
    unit: str,
    best_share: Mapping[str, float],
    higher: bool = True,
) -> Figure:
    """One box per policy: its regret in each replication (0 = the best policy there); *higher*:
    whether more of the metric is better (the regret is then the best value minus the policy's
    own, else its own minus the best)."""
    names = list(regrets)
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.55 * len(names)))
    data = [np.asarray(regrets[p], dtype=float) for p in names]
    pos = np.arange(len(names))[::-1]
    # Matplotlib 3.10 names the orientation; older ones (still supported) take vert=False.
    flat: dict[str, Any] = (
        {"orientation": "horizontal"} if matplotlib.__version_info__ >= (3, 10) else {"vert": False}
    )
    box = ax.boxplot(data, positions=pos, widths=0.5, patch_artist=True, showmeans=True, **flat)
    for i, patch in enumerate(box["boxes"]):
        patch.set_facecolor(POLICY_COLOURS[i % len(POLICY_COLOURS)])
        patch.set_alpha(0.5)
    rng = np.random.default_rng(0)  # fixed jitter: the same figure every time
    for i, d in enumerate(data):
        jitter = rng.uniform(-0.15, 0.15, len(d))
        ax.scatter(d, pos[i] + jitter, s=8, color="#333", alpha=0.6, zorder=3)
    ax.set_yticks(pos, [f"{p} (best in {best_share.get(p, 0):.0%})" for p in names], fontsize=8)
    ax.set_xlabel(
        f"regret ({unit}): the best policy's value in that replication minus its own"
        if higher
        else f"regret ({unit}): its own value minus the best policy's in that replication"
    )
    if unit in ("people", "usd"):  # 120k, $5M rather than 120000, 5000000
        ax.xaxis.set_major_formatter(FuncFormatter(people_tick if unit == "people" else usd_tick))
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def pareto_figure(
    labels: Sequence[str],
    points: FloatArray,
    feasible: Sequence[bool],
    front: Sequence[int],
    best: int | None,
    units: Sequence[str] = (),
) -> Figure:
    """Trials by their objectives (two: one against the other; one: by trial number), the
    Pareto front joined, infeasible trials hollow, the chosen trial ringed. *units* (each
    objective's, as :func:`rollout_sim.outcomes.unit_of` names them) format the axes:
    US$5M and 120k rather than 5 with a 1e6 offset."""
    fig, ax = plt.subplots(figsize=(8, 5))
    n = len(points)
    ok = np.array(feasible, dtype=bool)
    if points.shape[1] == 1:
        x, y = np.arange(n, dtype=float), points[:, 0]
        ax.set_xlabel("trial")
        ax.set_ylabel(labels[0])
    else:
        x, y = points[:, 0], points[:, 1]
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
    ax.scatter(x[ok], y[ok], s=22, color="#1f77b4", label="feasible trial")
    if (~ok).any():
        ax.scatter(
            x[~ok],
            y[~ok],
            s=22,
            facecolors="none",
            edgecolors="#d62728",
            label="infeasible (a constraint violated)",
        )
    if front and points.shape[1] == 2:
        f = sorted(front, key=lambda i: x[i])
        ax.plot(x[f], y[f], "-o", color="#ff7f0e", ms=5, label="Pareto front")
    if best is not None:
        ax.scatter(
            [x[best]],
            [y[best]],
            s=160,
            facecolors="none",
            edgecolors="#2ca02c",
            linewidths=2,
            label="best.yaml",
        )
    axes = [ax.yaxis] if points.shape[1] == 1 else [ax.xaxis, ax.yaxis]
    for axis, unit in zip(axes, units, strict=False):
        if unit in ("people", "usd"):
            axis.set_major_formatter(FuncFormatter(people_tick if unit == "people" else usd_tick))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
