"""The plots each section places, by their names in ``plots/`` (see
:mod:`rollout_sim.plots.folders`), with captions that say what a chart shows and how to read
it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..folder import Figures, as_float
from ..view import Image

__all__ = [
    "availability_image",
    "band_text",
    "calibration_image",
    "comparison_images",
    "coverage_images",
    "fan_cost_images",
    "impact_images",
    "map_images",
    "pareto_image",
    "run_cost_images",
]


def _ordinal(q: float) -> str:
    n = q * 100
    text = f"{n:g}"
    if not float(n).is_integer():
        return f"{text}th"
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def band_text(scenario: Mapping[str, Any], reps: int | Mapping[str, int]) -> str:
    """What a fan chart's band spans, and what it does and does not mean."""
    band = (scenario.get("outputs") or {}).get("band") or [0.1, 0.9]
    lo, hi = (as_float(b) for b in [*band, None, None][:2])
    spans = (
        f"{_ordinal(lo)}–{_ordinal(hi)} percentile" if lo is not None and hi is not None
        else "spread"
    )  # fmt: skip
    shown: object = reps
    if isinstance(reps, Mapping):
        counts = sorted(set(reps.values()))
        shown = counts[0] if len(counts) == 1 else "/".join(map(str, counts))
    return (
        f"The band: {spans} of {shown} replications; replications differ only in random event "
        "timing (build times, failures, repairs), so a narrow band means the outcome is robust "
        "to that noise, not that the inputs are certain."
    )


def coverage_images(
    figures: Figures, *, fan: bool, band: str = "", references: bool = False
) -> list[Image]:
    """People and places reached over time: a run's chart and its operators' footprint, or
    the fan chart of replications (*band*: what its band spans); *references*: the chart
    draws the scenario's published figures."""
    refs = " Dots: the scenario's published or planned figures." if references else ""
    if fan:
        coverage = figures.take(
            "coverage",
            "People and places reached over time (fan chart across replications)",
            "People (top) and places (bottom) newly covered since the start, from zero: the "
            "line is the median of the replications, its value at the end written beside it. "
            + band
            + refs,
        )
        return figures.taken(coverage)
    coverage = figures.take(
        "coverage",
        "People and places reached over time",
        "What the rollout changed: people (top) and places (bottom) newly covered since the "
        "start, from zero (the coverage at the start and the total are in the title). "
        "Orange: net of outages; dashed: what the modelled operators serve, as they report "
        "it (inside the coverage of their sites in service, whoever covered those people "
        "first)." + refs,
    )
    return figures.taken(coverage, _take(figures, "footprint"))


#: (title, caption) of each plot whose caption does not depend on the results, by its name in
#: ``plots/``: one table, so the sections below only say which plots they place.
_CAPTIONS: Final[Mapping[str, tuple[str, str]]] = {
    "footprint": (
        "What the operators serve",
        "The operators' footprint, as operators report it: places and people inside the "
        "coverage of their sites in service, whoever else covers them.",
    ),
    "finance": (
        "Money over time",
        "Cash and debt (top); cumulative capex, opex, repairs, interest and "
        "revenue (bottom); dotted lines: defaults.",
    ),
    "public_cost_per_person": (
        "Public cost per person reached (average)",
        "The average: all the public money a policy spends divided by all the "
        "people the rollout reaches under it, people the operator would have "
        "reached anyway included. What the policy's effect costs is in the "
        "policy comparison below.",
    ),
    "availability": (
        "Availability over time",
        "Sites down and the share of covered people actually served.",
    ),
    "impact": (
        "Poverty effects over time",
        "People lifted out of poverty (top) and extreme poverty (bottom): the "
        "central estimate, and the range from the low to the high estimate "
        "(docs/impact.md).",
    ),
    "calibration": (
        "Calibration fit",
        "The target against the simulated series, before and after.",
    ),
    "map": (
        "Map of the network",
        "Villages by the year they were first covered (muted blue: covered at the start; "
        "grey: never); sites shaped by backhaul, a dot inside an upgraded 2G site; "
        "microwave hops, fibre PoPs and depots.",
    ),
    "snapshots": (
        "Coverage snapshots",
        "Coverage at the start and at the end of each calendar year: muted blue, covered "
        "at the start; blue, reached by the rollout; orange, reached since the previous "
        "panel.",
    ),
    "rollout": (
        "The rollout, quarter by quarter (animation)",
        "Animated: one frame a quarter, from the start to the last day (which holds), "
        "with the date, the people reached and their curve so far. Orange: reached in "
        "the last quarter. A printed report shows the first frame.",
    ),
}


def _take(figures: Figures, name: str) -> Image | None:
    """Plot *name* with its title and caption from :data:`_CAPTIONS` (None: not drawn)."""
    title, caption = _CAPTIONS[name]
    return figures.take(name, title, caption)


def _taken(figures: Figures, *names: str) -> list[Image]:
    """The plots *names* that were drawn, in that order."""
    return figures.taken(*(_take(figures, name) for name in names))


def run_cost_images(figures: Figures) -> list[Image]:
    """A run's money over time."""
    return _taken(figures, "finance")


def fan_cost_images(figures: Figures) -> list[Image]:
    """The average public cost per person reached, by policy."""
    return _taken(figures, "public_cost_per_person")


def availability_image(figures: Figures) -> Image | None:
    """A run's sites down and share of covered people served, over time."""
    return _take(figures, "availability")


def impact_images(figures: Figures) -> list[Image]:
    """A run's poverty effects over time."""
    return _taken(figures, "impact")


def comparison_images(figures: Figures, baseline: str) -> list[Image]:
    """What each policy's effect costs, and the paired difference in people reached (their
    captions name the baseline)."""
    return figures.taken(
        figures.take(
            "public_cost_per_additional_person",
            "Public cost per additional person reached (incremental)",
            f"What each policy's effect costs: (public cost under the policy − under "
            f"{baseline}) ÷ (people reached under the policy − under {baseline}), "
            "paired on the same replications, with Fieller's interval (no bar: "
            "the interval is unbounded). The row "
            "public_cost_per_additional_person_usd of differences.csv.",
        ),
        figures.take(
            "difference_people_covered",
            "Paired difference in people reached",
            f"People reached: each policy minus {baseline}, over time, with the "
            "confidence band of the mean paired difference.",
        ),
    )


def calibration_image(figures: Figures) -> Image | None:
    """The calibration's fit: each target against the simulated series."""
    return _take(figures, "calibration")


def map_images(figures: Figures) -> list[Image]:
    """The map, the yearly snapshots and the animated map."""
    return _taken(figures, "map", "snapshots", "rollout")


def pareto_image(
    figures: Figures, axes: list[str], replications: int, chosen: bool
) -> Image | None:
    """An optimisation's trials by their objectives (*axes*: each objective's title and
    direction, in order; *replications*: per trial; *chosen*: a trial was chosen)."""
    if len(axes) == 1:
        where = f"across, the trial number; up, {axes[0]}"
    else:
        where = f"across, {axes[0]}; up, {axes[1]}"
    ring = " The green ring is the chosen trial, written as best.yaml." if chosen else ""
    front = (
        " The orange line joins the Pareto front: the feasible trials no other feasible trial "
        "is at least as good on both objectives and better on one."
        if len(axes) == 2
        else ""
    )
    return figures.take(
        "pareto",
        "Every trial by its objectives",
        f"Each point is a trial: one setting of the decision variables, at its objectives' "
        f"means over the same {replications} replications ({where}). Filled blue: it met "
        f"every constraint; hollow red: it broke one.{front}{ring}",
    )
