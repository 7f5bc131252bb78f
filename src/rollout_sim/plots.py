"""Matplotlib figures from results (never called by the engine). Agg backend, no display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from numpy.typing import NDArray

from .results import Results

__all__ = [
    "availability_figure",
    "coverage_figure",
    "finance_figure",
    "impact_figure",
    "save_figure",
]


def _short(x: float, prefix: str = "") -> str:
    """An axis number in millions or thousands: 1.5 M, 250 k, 40."""
    if abs(x) >= 1e6:
        return f"{prefix}{x / 1e6:,.1f} M"
    if abs(x) >= 1e3:
        return f"{prefix}{x / 1e3:,.0f} k"
    return f"{prefix}{x:,.0f}"


def _people(x: float, _pos: object = None) -> str:
    return _short(x)


def coverage_figure(results: Results) -> Figure:
    """People and villages covered over calendar time (two panels, shared date axis)."""
    d = results.daily
    dates = results.dates()
    sc = results.scenario
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, layout="constrained")
    top.plot(dates, d["people_covered"], color="tab:blue", lw=2, label="people covered")
    top.plot(
        dates,
        d["people_covered_net"],
        color="tab:orange",
        lw=1,
        alpha=0.9,
        label="net of outages",
    )
    top.axhline(results.total_population, color="grey", ls="--", lw=1, label="total population")
    top.set_ylabel("people covered")
    top.yaxis.set_major_formatter(FuncFormatter(_people))
    top.set_ylim(0, results.total_population * 1.05)
    top.legend(loc="lower right")
    top.grid(alpha=0.3)
    bottom.plot(dates, d["villages_covered"], color="tab:green", lw=2, label="villages covered")
    bottom.axhline(len(results.world), color="grey", ls="--", lw=1, label="all villages")
    bottom.set_ylabel("villages covered")
    bottom.set_ylim(0, len(results.world) * 1.05)
    bottom.legend(loc="lower right")
    bottom.grid(alpha=0.3)
    _date_axis(bottom)
    fig.suptitle(f"{sc.name}: coverage over time (seed {sc.seed})")
    return fig


def _date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("date")


def _usd(x: float, _pos: object = None) -> str:
    return _short(x, "$")


def finance_figure(results: Results) -> Figure:
    """Cash and debt (top); cumulative capex, opex, repairs, interest and revenue (bottom)."""
    d = results.daily
    dates = results.dates()
    sc = results.scenario
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, layout="constrained")
    top.plot(dates, d["cash_usd"], color="tab:green", lw=2, label="cash")
    top.plot(dates, d["debt_usd"], color="tab:red", lw=2, label="debt outstanding")
    top.set_ylabel("USD")
    top.yaxis.set_major_formatter(FuncFormatter(_usd))
    top.legend(loc="upper right")
    top.grid(alpha=0.3)
    for col, label, color in (
        ("capex_cumulative_usd", "capex", "tab:blue"),
        ("opex_cumulative_usd", "opex", "tab:purple"),
        ("repair_cumulative_usd", "repairs", "tab:brown"),
        ("interest_cumulative_usd", "interest", "tab:red"),
        ("revenue_cumulative_usd", "revenue", "tab:green"),
    ):
        bottom.plot(dates, d[col], lw=2, label=label, color=color)
    bottom.set_ylabel("cumulative USD")
    bottom.yaxis.set_major_formatter(FuncFormatter(_usd))
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    for t, _op, kind, _detail in results.events:
        if kind == "default":
            for ax in (top, bottom):
                ax.axvline(dates[min(int(t), len(dates) - 1)], color="black", ls=":", lw=1)
    _date_axis(bottom)
    fig.suptitle(f"{sc.name}: money (seed {sc.seed})")
    return fig


def availability_figure(results: Results) -> Figure:
    """Sites down (top) and the share of covered people actually served (bottom)."""
    d = results.daily
    dates = results.dates()
    sc = results.scenario
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, layout="constrained")
    top.step(dates, d["sites_down"], where="post", color="tab:red", lw=1, label="sites down")
    top.plot(dates, d["sites_on_air"], color="grey", lw=1, ls="--", label="sites on air (ever)")
    top.set_ylabel("sites")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    gross = d["people_covered"]
    served = np.divide(d["people_covered_net"], gross, out=np.ones_like(gross), where=gross > 0)
    bottom.plot(dates, served * 100, color="tab:orange", lw=1)
    bottom.set_ylabel("covered people served (%)")
    bottom.set_ylim(max(0.0, float(served.min()) * 100 - 2), 100.5)
    bottom.grid(alpha=0.3)
    _date_axis(bottom)
    fig.suptitle(f"{sc.name}: outages and availability (seed {sc.seed})")
    return fig


def impact_figure(results: Results) -> Figure:
    """People lifted out of poverty and extreme poverty: central estimate and low–high range."""
    imp = results.impact_daily
    dates = results.dates()
    sc = results.scenario
    fig, axes = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, layout="constrained")
    for ax, key, label in (
        (axes[0], "people_out_of_poverty", "people out of poverty"),
        (axes[1], "people_out_of_extreme_poverty", "people out of extreme poverty"),
    ):
        ax.fill_between(
            dates,
            imp[f"{key}_low"],
            imp[f"{key}_high"],
            color="tab:green",
            alpha=0.2,
            lw=0,
            label="low–high estimates",
        )
        ax.plot(dates, imp[f"{key}_central"], color="tab:green", lw=2, label="central estimate")
        ax.set_ylabel(label)
        ax.yaxis.set_major_formatter(FuncFormatter(_people))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    _date_axis(axes[1])
    fig.suptitle(f"{sc.name}: poverty effects of the coverage (seed {sc.seed}; docs/impact.md)")
    return fig


def save_figure(fig: Figure, path: Path, svg: bool = True) -> None:
    """Save as PNG and (for print and slides) SVG beside it, with fixed metadata, and close.

    The SVG's ids are seeded and its date left out so that the same figure gives the same
    bytes; dense layers (the map's villages) are rasterised inside it to keep it small.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    if svg:
        with matplotlib.rc_context({"svg.hashsalt": "rollout-sim"}):
            fig.savefig(path.with_suffix(".svg"), dpi=120, metadata={"Date": None})
    plt.close(fig)


# --- replications and comparisons ------------------------------------------------------------

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


def _dates(start: date, n: int) -> NDArray[np.datetime64]:
    return np.datetime64(start, "D") + np.arange(n)


@dataclass(frozen=True)
class FanData:
    """A central line and a band of one daily series, for fan and difference charts."""

    start: date
    median: NDArray[np.float64]
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    colour: str


def fan_figure(
    sets: list[tuple[str, FanData]],
    *,
    title: str,
    total_population: int,
    band_label: str,
) -> Figure:
    """People covered over time: median line and quantile band per policy (overlaid)."""
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    for label, fan in sets:
        dates = _dates(fan.start, len(fan.median))
        ax.fill_between(dates, fan.lo, fan.hi, color=fan.colour, alpha=0.2, lw=0)
        ax.plot(dates, fan.median, color=fan.colour, lw=2, label=f"{label} (median)")
    ax.axhline(total_population, color="grey", ls="--", lw=1, label="total population")
    ax.set_ylabel("people covered")
    ax.yaxis.set_major_formatter(FuncFormatter(_people))
    ax.set_ylim(0, total_population * 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", title=f"shaded: {band_label}")
    _date_axis(ax)
    ax.set_title(title)
    return fig


def interval_figure(
    rows: list[tuple[str, float, float, float, str]], *, title: str, xlabel: str
) -> Figure:
    """Horizontal points with interval bars: (label, mean, lo, hi, colour) per row."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.8), layout="constrained")
    for i, (_label, mean, lo, hi, colour) in enumerate(rows):
        if np.isfinite(mean):
            ax.errorbar(
                [mean],
                [i],
                xerr=[[max(mean - lo, 0.0)], [max(hi - mean, 0.0)]],
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
    ax.set_title(title)
    return fig


def difference_figure(
    sets: list[tuple[str, FanData]], *, title: str, ylabel: str, band_label: str
) -> Figure:
    """Mean paired difference against the baseline over time, with its confidence band."""
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    for label, fan in sets:
        dates = _dates(fan.start, len(fan.median))
        ax.fill_between(dates, fan.lo, fan.hi, color=fan.colour, alpha=0.2, lw=0)
        ax.plot(dates, fan.median, color=fan.colour, lw=2, label=label)
    ax.axhline(0, color="black", lw=1)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(_people))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", title=f"shaded: {band_label}")
    _date_axis(ax)
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
        ax.yaxis.set_major_formatter(FuncFormatter(_people))
        ax.grid(alpha=0.3)
        if j == 0:
            ax.legend(loc="best")
    fig.suptitle(f"{scenario.name}: {metric.replace('_', ' ')} across the sweep")
    return fig
