"""Matplotlib figures from results (never called by the engine). Agg backend, no display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .results import Results

__all__ = ["availability_figure", "coverage_figure", "finance_figure", "save_figure"]


def _people(x: float, _pos: object = None) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:.1f} M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


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
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.1f} M"
    if abs(x) >= 1e3:
        return f"${x / 1e3:,.0f} k"
    return f"${x:,.0f}"


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


def save_figure(fig: Figure, path: Path) -> None:
    """Save as PNG (deterministic metadata) and close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
