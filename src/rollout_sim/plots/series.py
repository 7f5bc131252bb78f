"""Charts of one run's daily series: coverage, the operators' footprint, money, availability
and poverty effects."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..results import Results
from .axes import (
    axis_top,
    date_axis,
    draw_references,
    end_value,
    people_tick,
    reference_points,
    short_number,
    usd_tick,
)

if TYPE_CHECKING:
    from ..scenario.schema import Scenario

__all__ = [
    "availability_figure",
    "coverage_figure",
    "finance_figure",
    "footprint_figure",
    "impact_figure",
]


def _daily_panels(results: Results, height: float) -> tuple[Figure, Any, Any, list[date], Scenario]:
    """Two charts of *results*' daily series, one above the other on a shared date axis, 9
    inches wide; and what every such figure reads: the dates and the scenario.

    The charts are typed as ``plt.subplots`` gives them (Any): matplotlib's stubs refuse the
    dates every chart here plots against."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, height), sharex=True, layout="constrained")
    return fig, top, bottom, results.dates(), results.scenario


def _finish(fig: Figure, bottom: Axes, title: str, fontsize: float | None = None) -> Figure:
    """Date ticks under the bottom chart (the top one shares them) and the figure's title."""
    date_axis(bottom)
    if fontsize is None:  # matplotlib's figure-title size (fontsize=None would be the text size)
        fig.suptitle(title)
    else:
        fig.suptitle(title, fontsize=fontsize)
    return fig


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
    p0 = float(results.initial_people_covered)
    v0 = float(results.initial_villages_covered)
    reached = d["people_covered"] - p0
    reached_net = d["people_covered_net"] - p0
    places = d["villages_covered"] - v0
    fig, top, bottom, dates, sc = _daily_panels(results, 7)
    n = len(dates)
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
        axis_top(
            float(reached.max(initial=0)),
            float(d["people_served"].max(initial=0)),
            *(p.value for p in people_refs),
        ),
    )
    bottom.set_ylim(
        0,
        axis_top(
            float(places.max(initial=0)),
            float(d["places_served"].max(initial=0)),
            *(p.value for p in place_refs),
        ),
    )
    top.set_ylabel("people reached")
    bottom.set_ylabel("places reached")
    top.yaxis.set_major_formatter(FuncFormatter(people_tick))
    bottom.yaxis.set_major_formatter(FuncFormatter(people_tick))
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    date_axis(bottom)
    end = dates[-1] if dates else sc.start_date
    draw_references(top, people_refs, end)
    draw_references(bottom, place_refs, end)
    if n:
        end_value(top, dates[-1], float(reached[-1]), "tab:blue")
        end_value(bottom, dates[-1], float(places[-1]), "tab:green")
    total = results.total_population
    share_end = float(d["people_covered_share"][-1]) if n else 0.0
    start = (
        f"covered at the start: {short_number(p0)} of {short_number(total)} people "
        f"({p0 / max(total, 1):.1%}), {v0:,.0f} of {len(results.world):,} places"
        if p0 > 0
        else f"no coverage at the start ({short_number(total)} people, "
        f"{len(results.world):,} places)"
    )
    fig.suptitle(
        f"{sc.name}: people and places the rollout reached (seed {sc.seed})\n"
        f"{start}; at the end: {share_end:.1%} of all people",
        fontsize=10,
    )
    return fig


def footprint_figure(results: Results) -> Figure:
    """Places and people each operator serves (inside its in-service sites' coverage, as
    operators report it), with the scenario's published figures for them on the same axes."""
    fig, top, bottom, dates, sc = _daily_panels(results, 6.5)
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
        ax.yaxis.set_major_formatter(FuncFormatter(people_tick))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    return _finish(
        fig,
        bottom,
        f"{sc.name}: what the operators serve, as they report it (seed {sc.seed})\n"
        "places and people inside the coverage of their sites in service; dots: published figures",
        fontsize=10,
    )


def finance_figure(results: Results) -> Figure:
    """Cash and debt (top); cumulative capex, opex, repairs, interest and revenue (bottom)."""
    d = results.daily
    fig, top, bottom, dates, sc = _daily_panels(results, 6.5)
    top.plot(dates, d["cash_usd"], color="tab:green", lw=2, label="cash")
    top.plot(dates, d["debt_usd"], color="tab:red", lw=2, label="debt outstanding")
    top.set_ylabel("USD")
    top.yaxis.set_major_formatter(FuncFormatter(usd_tick))
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
    bottom.yaxis.set_major_formatter(FuncFormatter(usd_tick))
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    for t, _op, kind, _detail in results.events:
        if kind == "default":
            for ax in (top, bottom):
                ax.axvline(dates[min(int(t), len(dates) - 1)], color="black", ls=":", lw=1)
    return _finish(fig, bottom, f"{sc.name}: money (seed {sc.seed})")


def availability_figure(results: Results) -> Figure:
    """Sites down (top) and the share of covered people actually served (bottom)."""
    d = results.daily
    fig, top, bottom, dates, sc = _daily_panels(results, 6)
    top.step(dates, d["sites_down"], where="post", color="tab:red", lw=1, label="sites down")
    top.plot(dates, d["sites_on_air"], color="grey", lw=1, ls="--", label="sites on air (ever)")
    top.set_ylabel("sites")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    # Published site counts belong with the sites on air (no other chart shows them).
    refs = reference_points(sc.references, sc.start_date, len(dates), {"sites_on_air": 0.0})
    if refs and dates:
        top.set_ylim(0, axis_top(float(d["sites_on_air"].max(initial=0)), *(p.value for p in refs)))
        draw_references(top, refs, dates[-1])
    gross = d["people_covered"]
    served = np.divide(d["people_covered_net"], gross, out=np.ones_like(gross), where=gross > 0)
    bottom.plot(dates, served * 100, color="tab:orange", lw=1)
    bottom.set_ylabel("covered people served (%)")
    bottom.set_ylim(max(0.0, float(served.min()) * 100 - 2), 100.5)
    bottom.grid(alpha=0.3)
    return _finish(fig, bottom, f"{sc.name}: outages and availability (seed {sc.seed})")


def impact_figure(results: Results) -> Figure:
    """People lifted out of poverty and extreme poverty: central estimate and low–high range."""
    imp = results.impact_daily
    fig, top, bottom, dates, sc = _daily_panels(results, 6.5)
    for ax, key, label in (
        (top, "people_out_of_poverty", "people out of poverty"),
        (bottom, "people_out_of_extreme_poverty", "people out of extreme poverty"),
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
        ax.yaxis.set_major_formatter(FuncFormatter(people_tick))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    return _finish(
        fig, bottom, f"{sc.name}: poverty effects of the coverage (seed {sc.seed}; docs/impact.md)"
    )
