"""Charts of what the rollout changes: people and places reached, on axes set by the change.

A country already 88 % covered must not show its rollout as a flat line near the total: the
coverage chart and the fan charts plot people reached (covered minus covered at the start),
from zero to just above the largest change or published figure, with the scenario's
references as labelled points on the same axes.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.experiments.replications import KEPT_SERIES, ReplicationSet
from rollout_sim.plots import (
    FanData,
    RefPoint,
    coverage_figure,
    fan_figure,
    reference_points,
)
from rollout_sim.plots.folders import fan_context, fan_of

HEADROOM = 1.08
REFERENCES = [
    {"label": "Plan: 9,000 people", "metric": "people_reached", "date": "2021-06-30",
     "value": 9000},
    {"label": "Covered, as published", "metric": "people_covered", "date": "2020-12-31",
     "value": 5000},
    {"label": "Places, as published", "metric": "villages_reached", "date": "2021-12-31",
     "value": 40},
    {"label": "Sites on air, as published", "metric": "sites_on_air", "date": "2021-12-31",
     "value": 12},
    {"label": "After the horizon", "metric": "people_reached", "date": "2030-01-01",
     "value": 1},
]  # fmt: skip


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(
        load_scenario(
            {
                "name": "reach",
                "seed": 5,
                "start_date": "2020-01-01",
                "horizon_years": 2,
                "geography": {"synthetic": {"villages": 400}},
                "operators": [{"name": "op", "cash_usd": 5e6, "build_crews": 2}],
                "references": REFERENCES,
            }
        )
    )


def with_start_coverage(results: Results) -> tuple[Results, int]:
    """The same run, with every village it never reached covered on day 0 instead: the people
    covered gain a constant (a network already there), the people reached do not change."""
    first = results.first_covered_day.copy()
    never = ~np.isfinite(first)
    first[never] = 0.0
    added = int(results.world.villages.population[never].sum())
    covered = dataclasses.replace(
        results,
        first_covered_day=first,
        initial_people_covered=results.initial_people_covered + added,
        initial_villages_covered=results.initial_villages_covered + int(never.sum()),
    )
    return covered, added


def test_coverage_axis_is_set_by_people_reached(results: Results) -> None:
    covered, added = with_start_coverage(results)
    assert added > 0.4 * results.total_population  # a big network at the start
    d = covered.daily
    reached = d["people_covered"] - covered.initial_people_covered
    np.testing.assert_array_equal(
        reached, results.daily["people_covered"] - results.initial_people_covered
    )
    fig = coverage_figure(covered)
    top, bottom = fig.axes
    line = top.lines[0]
    np.testing.assert_array_equal(np.asarray(line.get_ydata()), reached)
    assert line.get_label() == "people reached (newly covered)"
    # The axis runs from 0 to just above the largest change or published figure drawn: the
    # served line, the reached line or the 9,000 planned, not the total population.
    highest = max(float(reached.max()), float(d["people_served"].max()), 9000.0, 5000.0 - added)
    assert top.get_ylim() == pytest.approx((0.0, HEADROOM * highest))
    # Well under the total: the people covered (from 42 % at the start) would not fit.
    assert top.get_ylim()[1] < 0.7 * results.total_population < float(d["people_covered"][-1])
    # The same run with and without the network at the start: the same axis.
    plain = coverage_figure(results)
    assert plain.axes[0].get_ylim() == pytest.approx(top.get_ylim())
    places = d["villages_covered"] - covered.initial_villages_covered
    assert bottom.get_ylim() == pytest.approx(
        (0.0, HEADROOM * max(float(places.max()), float(d["places_served"].max()), 40.0))
    )
    # The start and the total are stated, not plotted.
    total = results.total_population
    p0, v0 = covered.initial_people_covered, covered.initial_villages_covered
    assert 1e4 <= p0 < total < 1e6  # both written in thousands, to a tenth where needed

    def thousands(x: float) -> str:
        return f"{x / 1e3:,.1f} k".replace(".0 k", " k")

    assert fig.get_suptitle() == (
        "reach: people and places the rollout reached (seed 5)\n"
        f"covered at the start: {thousands(p0)} of {thousands(total)} people "
        f"({p0 / total:.1%}), {v0:,} of 400 places; "
        f"at the end: {float(d['people_covered_share'][-1]):.1%} of all people"
    )
    plt.close(fig)
    plt.close(plain)


def _points(ax: Any) -> list[tuple[date, float]]:
    """The reference dots of an axes: one-point lines drawn as black circles."""
    out = []
    for line in ax.lines:
        x, y = line.get_xdata(), line.get_ydata()
        if len(x) == 1 and line.get_marker() == "o":
            out.append((mdates.num2date(float(x[0])).date(), float(y[0])))
    return out


def test_references_are_labelled_points_on_the_reached_scale(results: Results) -> None:
    fig = coverage_figure(results)
    top, bottom = fig.axes
    p0 = results.initial_people_covered
    # people_covered is moved to the reached scale (minus the start); the sites (drawn with
    # the sites on air) and the reference after the horizon are not drawn here.
    assert sorted(_points(top)) == [
        (date(2020, 12, 31), 5000.0 - p0),
        (date(2021, 6, 30), 9000.0),
    ]
    assert _points(bottom) == [(date(2021, 12, 31), 40.0)]
    labels = [t.get_text() for t in top.texts]
    assert "Plan: 9,000 people" in labels and "Covered, as published" in labels
    assert "Places, as published" in [t.get_text() for t in bottom.texts]
    assert not any("Sites" in t.get_text() for ax in fig.axes for t in ax.texts)  # elsewhere
    plt.close(fig)


def test_reference_points_map_each_metric_to_the_chart() -> None:
    sc = load_scenario(
        {
            "name": "r",
            "start_date": "2020-01-01",
            "horizon_years": 2,
            "geography": {"synthetic": {"villages": 50}},
            "operators": [{"name": "op", "cash_usd": 1e6, "build_crews": 2}],
            "references": REFERENCES,
        }
    )
    got = reference_points(
        sc.references, sc.start_date, 731, {"people_reached": 0.0, "people_covered": 1000.0}
    )
    assert got == [
        RefPoint(date(2021, 6, 30), 9000.0, "Plan: 9,000 people"),
        RefPoint(date(2020, 12, 31), 4000.0, "Covered, as published"),
    ]
    assert reference_points(sc.references, sc.start_date, 731, {}) == []


def _rset(results: Results, people: list[list[float]]) -> ReplicationSet:
    n = len(people[0])
    series = {k: np.zeros((len(people), n)) for k in KEPT_SERIES}
    series["people_covered"] = np.array(people, dtype=float)
    series["villages_covered"] = np.array(people, dtype=float) / 100.0
    return ReplicationSet(
        scenario=results.scenario,
        policy=None,
        seeds=[(k,) for k in range(len(people))],
        metrics={},
        series=series,
    )


def test_fan_is_of_people_reached(results: Results) -> None:
    # Two replications from the same start (1,000 people covered on day 0).
    rset = _rset(results, [[1000, 1100, 1500, 1900], [1000, 1300, 1400, 2100]])
    fan = fan_of(rset, results.scenario, "tab:blue", (0.0, 1.0))
    np.testing.assert_allclose(fan.median, [0.0, 200.0, 450.0, 1000.0])
    np.testing.assert_allclose(fan.lo, [0.0, 100.0, 400.0, 900.0])
    np.testing.assert_allclose(fan.hi, [0.0, 300.0, 500.0, 1100.0])
    places = fan_of(rset, results.scenario, "tab:blue", (0.0, 1.0), "villages_covered")
    np.testing.assert_allclose(places.median, [0.0, 2.0, 4.5, 10.0])
    # Over the whole horizon (731 days), where the references fall.
    rset = _rset(results, [[1000.0] * 731, [1000.0] * 731])
    ctx = fan_context(results.scenario, rset, total_population=10_000)
    assert ctx["note"] == (
        "newly covered since 2020-01-01; covered at the start: 1,000 of 10,000 people (10.0%), "
        "10 places"
    )
    # people_covered references come onto the reached scale: 5,000 − 1,000 covered at start.
    assert [(p.day, p.value) for p in ctx["references"]] == [
        (date(2021, 6, 30), 9000.0),
        (date(2020, 12, 31), 4000.0),
    ]
    assert [(p.day, p.value) for p in ctx["place_references"]] == [(date(2021, 12, 31), 40.0)]


def test_fan_figure_axes_and_end_labels() -> None:
    start = date(2020, 1, 1)
    days = 400
    ramp = np.linspace(0.0, 1.0, days)

    def fan(top: float, colour: str) -> FanData:
        return FanData(start, top * ramp, 0.95 * top * ramp, 1.05 * top * ramp, colour)

    people = [("equity_only", fan(2.0e6, "tab:blue")), ("subsidy", fan(2.1e6, "tab:orange"))]
    places = [("equity_only", fan(20e3, "tab:blue")), ("subsidy", fan(21e3, "tab:orange"))]
    fig = fan_figure(
        people,
        places=places,
        title="t",
        band_label="p10–p90 of replications",
        references=[RefPoint(date(2020, 6, 1), 3.0e6, "Plan")],
        note="covered at the start: 25 M",
    )
    top, bottom = fig.axes
    # From zero to just above the highest band or reference: 3 M planned here.
    assert top.get_ylim() == pytest.approx((0.0, HEADROOM * 3.0e6))
    assert bottom.get_ylim() == pytest.approx((0.0, HEADROOM * 1.05 * 21e3))
    assert top.get_ylabel() == "people reached" and bottom.get_ylabel() == "places reached"
    # Each line's end names it with its final median; close ends are spread apart.
    ends = {t.get_text(): t for t in top.texts if t.get_text() != "Plan"}
    assert set(ends) == {"equity_only 2.00 M", "subsidy 2.10 M"}
    gap = abs(ends["subsidy 2.10 M"].xyann[1] - ends["equity_only 2.00 M"].xyann[1])
    assert gap >= 0.055 * (top.get_ylim()[1] - top.get_ylim()[0]) - 1e-6
    assert {t.get_text() for t in bottom.texts} == {"equity_only 20,000", "subsidy 21,000"}
    assert fig.get_suptitle() == "t\ncovered at the start: 25 M"
    assert top.get_legend().get_title().get_text() == "line: median; band: p10–p90 of replications"
    plt.close(fig)


def test_published_site_counts_go_with_the_sites_on_air(results: Results) -> None:
    from rollout_sim.plots import availability_figure

    fig = availability_figure(results)
    top = fig.axes[0]
    assert _points(top) == [(date(2021, 12, 31), 12.0)]
    assert [t.get_text() for t in top.texts] == ["Sites on air, as published"]
    highest = max(float(results.daily["sites_on_air"].max()), 12.0)
    assert top.get_ylim() == pytest.approx((0.0, HEADROOM * highest))
    plt.close(fig)
