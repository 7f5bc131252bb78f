"""Matplotlib figures from results (never called by the engine). Agg backend, no display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .results import Results

__all__ = ["coverage_figure", "save_figure"]


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
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    )
    bottom.set_xlabel("date")
    fig.suptitle(f"{sc.name}: coverage over time (seed {sc.seed})")
    return fig


def save_figure(fig: Figure, path: Path) -> None:
    """Save as PNG (deterministic metadata) and close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
