"""Charts of many runs: fan charts of replications, policies side by side, paired differences
and sweeps; and what each such results folder draws (:func:`replication_plots`,
:func:`comparison_plots`, :func:`sweep_plots`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from numpy.typing import NDArray

from .axes import (
    RefPoint,
    axis_top,
    count_label,
    date_axis,
    day_dates,
    draw_references,
    end_labels,
    people_tick,
)

__all__ = [
    "POLICY_COLOURS",
    "FanData",
    "difference_figure",
    "fan_figure",
    "interval_figure",
    "policy_colour",
    "sweep_figure",
]


#: One colour per policy, in the scenario's order, the same in every figure.
POLICY_COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "tab:grey",
)


def policy_colour(scenario_policies: list[str], policy: str | None) -> str:
    """The colour of *policy* (by its position in the scenario), stable across figures."""
    if policy is None or policy not in scenario_policies:
        return POLICY_COLOURS[0]
    return POLICY_COLOURS[scenario_policies.index(policy) % len(POLICY_COLOURS)]


@dataclass(frozen=True)
class FanData:
    """A central line and a band of one daily series, for fan and difference charts."""

    start: date
    median: NDArray[np.float64]
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    colour: str


def fan_figure(
    people: list[tuple[str, FanData]],
    *,
    title: str,
    band_label: str,
    places: list[tuple[str, FanData]] | None = None,
    references: Sequence[RefPoint] = (),
    place_references: Sequence[RefPoint] = (),
    note: str = "",
) -> Figure:
    """People (and places) reached over time: median line and quantile band per policy.

    What the rollout changes, from zero: the axes end just above the highest band or published
    figure, so policies that differ by a few hundred thousand people in a country of 30 M can
    be told apart. Each line's end carries its name and final median (spread apart when lines
    end close together). *references* / *place_references* are drawn as labelled points on
    their panel; *note* (the start's coverage, the total) goes under the title.
    """
    panels = 2 if places else 1
    fig, axes = plt.subplots(
        panels, 1, figsize=(9.5, 4.6 * panels + 0.9), sharex=True, squeeze=False,
        layout="constrained",
    )  # fmt: skip
    content = [(axes[0][0], people, references, "people reached")]
    if places:
        content.append((axes[1][0], places, place_references, "places reached"))
    for ax, sets, refs, what in content:
        top = 0.0
        ends: list[tuple[str, float, str]] = []
        last = None
        for label, fan in sets:
            dates = day_dates(fan.start, len(fan.median))
            ax.fill_between(dates, fan.lo, fan.hi, color=fan.colour, alpha=0.2, lw=0)
            ax.plot(dates, fan.median, color=fan.colour, lw=2, label=label)
            if len(fan.median):
                top = max(top, float(np.nanmax(fan.hi)), float(np.nanmax(fan.median)))
                value = float(fan.median[-1])
                text = f"{label} {count_label(value)}" if len(sets) > 1 else count_label(value)
                ends.append((text, value, fan.colour))
                last = fan.start + timedelta(days=len(fan.median) - 1)
        ax.set_ylim(0, axis_top(top, *(p.value for p in refs)))
        ax.set_ylabel(what)
        ax.yaxis.set_major_formatter(FuncFormatter(people_tick))
        ax.grid(alpha=0.3)
        if last is not None:
            end_labels(ax, last, ends)
            draw_references(ax, refs, last)
    first = axes[0][0]
    first.legend(loc="upper left", title=f"line: median; band: {band_label}", fontsize="small")
    date_axis(axes[-1][0])
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=10 if note else None)
    return fig


def interval_figure(
    rows: list[tuple[str, float, float, float, str]], *, title: str, xlabel: str
) -> Figure:
    """Horizontal points with interval bars: (label, mean, lo, hi, colour) per row."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.8), layout="constrained")
    for i, (_label, mean, lo, hi, colour) in enumerate(rows):
        if np.isfinite(mean):
            bounded = np.isfinite(lo) and np.isfinite(hi)
            ax.errorbar(
                [mean],
                [i],
                xerr=[
                    [max(mean - lo, 0.0) if bounded else 0.0],
                    [max(hi - mean, 0.0) if bounded else 0.0],
                ],
                fmt="o",
                color=colour,
                capsize=4,
                lw=2,
            )
        else:
            ax.text(0, i, "  not defined (no people reached or no public cost)", va="center")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"${x:,.0f}"))
    ax.grid(alpha=0.3, axis="x")
    # Wrapped to the figure's width: a long title would otherwise be cut at its edges.
    ax.set_title("\n".join(textwrap.fill(line, 80) for line in title.split("\n")), fontsize=10)
    return fig


def difference_figure(
    sets: list[tuple[str, FanData]], *, title: str, ylabel: str, band_label: str
) -> Figure:
    """Mean paired difference against the baseline over time, with its confidence band."""
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    for label, fan in sets:
        dates = day_dates(fan.start, len(fan.median))
        ax.fill_between(dates, fan.lo, fan.hi, color=fan.colour, alpha=0.2, lw=0)
        ax.plot(dates, fan.median, color=fan.colour, lw=2, label=label)
    ax.axhline(0, color="black", lw=1)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(people_tick))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", title=f"shaded: {band_label}")
    date_axis(ax)
    ax.set_title(title)
    return fig


def sweep_figure(scenario: Any, design: Any, records: list[Any], metric: str) -> Figure:
    """The main outcome against each swept parameter: every run as a dot, means joined."""
    paths = list(design.paths)
    fig, axes = plt.subplots(
        1, len(paths), figsize=(5 * len(paths), 4.5), squeeze=False, layout="constrained"
    )
    pols = [p.name for p in scenario.policies]
    policies = sorted({r.policy for r in records}, key=lambda p: (p is None, str(p)))
    for j, path in enumerate(paths):
        ax = axes[0][j]
        for pol in policies:
            colour = policy_colour(pols, pol)
            xs = [float(design.points[r.point][path]) for r in records if r.policy == pol]
            ys = [float(r.metrics[metric]) for r in records if r.policy == pol]
            ax.scatter(xs, ys, s=12, alpha=0.5, color=colour)
            ux = sorted(set(xs))
            means = [float(np.mean([y for x, y in zip(xs, ys, strict=True) if x == u])) for u in ux]
            if len(ux) <= 12:
                ax.plot(ux, means, color=colour, lw=2, label=pol or scenario.name)
        ax.set_xlabel(path)
        ax.set_ylabel(metric.replace("_", " "))
        ax.yaxis.set_major_formatter(FuncFormatter(people_tick))
        ax.grid(alpha=0.3)
        if j == 0:
            ax.legend(loc="best")
    fig.suptitle(f"{scenario.name}: {metric.replace('_', ' ')} across the sweep")
    return fig
