"""Matplotlib figures from results (never called by the engine). Agg backend, no display."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
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
from matplotlib.transforms import offset_copy
from numpy.typing import NDArray

from .results import Results

__all__ = [
    "FanData",
    "RefPoint",
    "availability_figure",
    "coverage_figure",
    "difference_figure",
    "fan_figure",
    "finance_figure",
    "footprint_figure",
    "impact_figure",
    "interval_figure",
    "reference_points",
    "save_figure",
]


def _short(x: float, prefix: str = "") -> str:
    """An axis number in millions or thousands: 1.5 M, 250 k, 40."""
    if abs(x) >= 1e6:
        return f"{prefix}{x / 1e6:,.1f} M"
    if abs(x) >= 1e3:  # 12.5 k and 1.5 k, not a second "12 k" or "2 k" on the same axis
        return f"{prefix}{x / 1e3:,.1f} k".replace(".0 k", " k")
    return f"{prefix}{x:,.0f}"


def _people(x: float, _pos: object = None) -> str:
    return _short(x)


#: Headroom above the highest thing drawn, so a line or a labelled point never touches the top.
_HEADROOM = 1.08


def _top(*values: float) -> float:
    """The upper y limit for values that start at 0: the largest one plus headroom (never 0)."""
    finite = [float(v) for v in values if np.isfinite(v)]
    top = max(finite, default=0.0)
    return top * _HEADROOM if top > 0 else 1.0


@dataclass(frozen=True)
class RefPoint:
    """A published or planned figure, as a point on a chart's axes (its label beside it)."""

    day: date
    value: float
    label: str


def reference_points(
    references: Sequence[Any], start: date, days: int, offsets: Mapping[str, float]
) -> list[RefPoint]:
    """The scenario's ``references`` that a chart can draw, on that chart's scale.

    *offsets* maps each metric the chart shows to what is subtracted from a reference of that
    metric to put it on the chart's axis (the start's coverage turns ``people_covered`` into
    people reached; 0 keeps ``people_reached`` as it is), as :func:`rollout_sim.metrics.references`
    compares them. References of other metrics, or dated outside the horizon, are left out.
    """
    out = []
    for ref in references:
        if ref.metric not in offsets or not 0 <= (ref.date - start).days < days:
            continue
        out.append(RefPoint(ref.date, float(ref.value) - offsets[ref.metric], str(ref.label)))
    return out


def _spread(ys: list[float], gap: float, top: float | None = None) -> list[float]:
    """*ys* moved apart (keeping their order) so that neighbours are at least *gap* apart:
    labels at the ends of close lines stay readable. Pushed up first; if that lifts the highest
    above *top*, the stack is pushed back down from there. O(n log n), n = a few lines."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for a, b in pairwise(order):
        out[b] = max(out[b], out[a] + gap)
    if top is not None and order and out[order[-1]] > top:
        out[order[-1]] = top
        for a, b in pairwise(reversed(order)):
            out[b] = min(out[b], out[a] - gap)
    return out


def _num(day: date) -> float:
    """A date as matplotlib's date number (days since its epoch)."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _draw_references(ax: Axes, points: Sequence[RefPoint], end: date) -> None:
    """Each reference as a black point with its label beside it: to the right, or to the left
    when the point sits in the right part of the chart (a target at the horizon). Labels of
    points close in value are spread apart so that they do not overlap."""
    if not points:
        return
    start = min(p.day for p in points)
    first = mdates.num2date(ax.get_xlim()[0]).date()  # type: ignore[no-untyped-call]
    start = min(start, first)
    span = max((end - start).days, 1)
    low, high = ax.get_ylim()
    ys = _spread([p.value for p in points], 0.09 * (high - low))
    for p, y in zip(points, ys, strict=True):
        ax.plot([_num(p.day)], [p.value], "o", color="black", mec="white", mew=0.8, ms=7, zorder=6)
        left = (p.day - start).days > 0.7 * span  # room for the label on the right?
        # The label's position: the point's date (shifted 8 pt sideways) at the spread height.
        beside = offset_copy(ax.transData, fig=_figure_of(ax), x=-8 if left else 8, units="points")
        ax.annotate(
            "\n".join(textwrap.wrap(p.label, 44)),
            (p.day, p.value),
            xytext=(_num(p.day), y),
            textcoords=beside,
            ha="right" if left else "left",
            va="center",
            fontsize=8,
            color="0.2",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.75", "lw": 0.5},
            annotation_clip=False,
        )


def coverage_figure(results: Results) -> Figure:
    """What the rollout changed: people (top) and places (bottom) it newly covered over time.

    The axes start at zero and end just above the largest change (or published figure), so a
    rollout that adds 2.6 M people to a country already 88 % covered reads as a rise, not as a
    flat line near the total; the start's coverage and the total are stated in the title.
    The dashed lines are what the modelled operators serve, as they report it (inside the
    coverage of their sites in service, whoever covered those people first). The scenario's
    ``references`` are drawn as labelled points on the same scale.
    """
    d = results.daily
    dates = results.dates()
    sc = results.scenario
    p0 = float(results.initial_people_covered)
    v0 = float(results.initial_villages_covered)
    reached = d["people_covered"] - p0
    reached_net = d["people_covered_net"] - p0
    places = d["villages_covered"] - v0
    n = len(dates)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, layout="constrained")
    top.plot(dates, reached, color="tab:blue", lw=2.2, label="people reached (newly covered)")
    top.plot(dates, reached_net, color="tab:orange", lw=1, label="reached, net of outages")
    top.plot(
        dates, d["people_served"], color="0.4", lw=1.2, ls="--",
        label="people the operators serve (as they report)",
    )  # fmt: skip
    bottom.plot(dates, places, color="tab:green", lw=2.2, label="places reached (newly covered)")
    bottom.plot(
        dates, d["places_served"], color="0.4", lw=1.2, ls="--",
        label="places the operators serve (as they report)",
    )  # fmt: skip
    people_refs = reference_points(
        sc.references, sc.start_date, n,
        {"people_reached": 0.0, "people_covered": p0, "people_served": 0.0},
    )  # fmt: skip
    place_refs = reference_points(
        sc.references, sc.start_date, n,
        {"villages_reached": 0.0, "villages_covered": v0, "places_served": 0.0},
    )  # fmt: skip
    top.set_ylim(
        0,
        _top(
            float(reached.max(initial=0)),
            float(d["people_served"].max(initial=0)),
            *(p.value for p in people_refs),
        ),
    )
    bottom.set_ylim(
        0,
        _top(
            float(places.max(initial=0)),
            float(d["places_served"].max(initial=0)),
            *(p.value for p in place_refs),
        ),
    )
    top.set_ylabel("people reached")
    bottom.set_ylabel("places reached")
    top.yaxis.set_major_formatter(FuncFormatter(_people))
    bottom.yaxis.set_major_formatter(FuncFormatter(_people))
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    _date_axis(bottom)
    end = dates[-1] if dates else sc.start_date
    _draw_references(top, people_refs, end)
    _draw_references(bottom, place_refs, end)
    if n:
        _end_value(top, dates[-1], float(reached[-1]), "tab:blue")
        _end_value(bottom, dates[-1], float(places[-1]), "tab:green")
    total = results.total_population
    share_end = float(d["people_covered_share"][-1]) if n else 0.0
    start = (
        f"covered at the start: {_short(p0)} of {_short(total)} people "
        f"({p0 / max(total, 1):.1%}), {v0:,.0f} of {len(results.world):,} places"
        if p0 > 0
        else f"no coverage at the start ({_short(total)} people, {len(results.world):,} places)"
    )
    fig.suptitle(
        f"{sc.name}: people and places the rollout reached (seed {sc.seed})\n"
        f"{start}; at the end: {share_end:.1%} of all people",
        fontsize=10,
    )
    return fig


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure of *ax* (offsets in points need its dpi)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig


def _figure(x: float) -> str:
    """A count as a reader quotes it: 2.61 M, 24,814."""
    return f"{x / 1e6:,.2f} M" if abs(x) >= 1e6 else f"{x:,.0f}"


def _end_value(ax: Axes, day: date, value: float, colour: str) -> None:
    """The last value of a line, written just right of its end."""
    _end_labels(ax, day, [(_figure(value), value, colour)])


def _end_labels(ax: Axes, day: date, labels: Sequence[tuple[str, float, str]]) -> None:
    """(text, value, colour) written right of the lines' ends at *day*, spread apart so that
    close lines keep legible labels (call after the y limits are set)."""
    low, high = ax.get_ylim()
    ys = _spread([v for _, v, _ in labels], 0.055 * (high - low), top=high - 0.02 * (high - low))
    right = offset_copy(ax.transData, fig=_figure_of(ax), x=5, units="points")
    for (text, value, colour), y in zip(labels, ys, strict=True):
        ax.annotate(
            text, (day, value), xytext=(_num(day), y), textcoords=right,
            va="center", fontsize=8, color=colour, fontweight="bold", annotation_clip=False,
        )  # fmt: skip


def footprint_figure(results: Results) -> Figure:
    """Places and people each operator serves (inside its in-service sites' coverage, as
    operators report it), with the scenario's published figures for them on the same axes."""
    dates = results.dates()
    sc = results.scenario
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, layout="constrained")
    series = dict(results.operator_daily)
    if len(series) > 1:
        d = results.daily
        series = {
            "all operators": {
                "places_served": d["places_served"],
                "people_served": d["people_served"],
            },
            **series,
        }
    for k, (name, s) in enumerate(series.items()):
        colour = f"C{k}"
        top.plot(dates, s["people_served"], color=colour, lw=2, label=name)
        bottom.plot(dates, s["places_served"], color=colour, lw=2, label=name)
    for ref in sc.references:
        ax = {"people_served": top, "places_served": bottom}.get(ref.metric)
        if ax is None or not sc.start_date <= ref.date < sc.start_date + timedelta(days=len(dates)):
            continue
        ax.plot([ref.date], [ref.value], "o", color="black", ms=6, zorder=5)
        ax.annotate(
            ref.label, (ref.date, ref.value), textcoords="offset points", xytext=(6, -12),
            fontsize=8, color="0.25",
        )  # fmt: skip
    for ax, what in ((top, "people served"), (bottom, "places served")):
        ax.set_ylabel(what)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_people))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    _date_axis(bottom)
    fig.suptitle(
        f"{sc.name}: what the operators serve, as they report it (seed {sc.seed})\n"
        "places and people inside the coverage of their sites in service; dots: published figures",
        fontsize=10,
    )
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
    # Published site counts belong with the sites on air (no other chart shows them).
    refs = reference_points(sc.references, sc.start_date, len(dates), {"sites_on_air": 0.0})
    if refs and dates:
        top.set_ylim(0, _top(float(d["sites_on_air"].max(initial=0)), *(p.value for p in refs)))
        _draw_references(top, refs, dates[-1])
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
            dates = _dates(fan.start, len(fan.median))
            ax.fill_between(dates, fan.lo, fan.hi, color=fan.colour, alpha=0.2, lw=0)
            ax.plot(dates, fan.median, color=fan.colour, lw=2, label=label)
            if len(fan.median):
                top = max(top, float(np.nanmax(fan.hi)), float(np.nanmax(fan.median)))
                value = float(fan.median[-1])
                text = f"{label} {_figure(value)}" if len(sets) > 1 else _figure(value)
                ends.append((text, value, fan.colour))
                last = fan.start + timedelta(days=len(fan.median) - 1)
        ax.set_ylim(0, _top(top, *(p.value for p in refs)))
        ax.set_ylabel(what)
        ax.yaxis.set_major_formatter(FuncFormatter(_people))
        ax.grid(alpha=0.3)
        if last is not None:
            _end_labels(ax, last, ends)
            _draw_references(ax, refs, last)
    first = axes[0][0]
    first.legend(loc="upper left", title=f"line: median; band: {band_label}", fontsize="small")
    _date_axis(axes[-1][0])
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
