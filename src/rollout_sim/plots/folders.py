"""What each kind of results folder draws in its ``plots/``, under which names.

The names are the report's too: it places ``coverage``, ``finance``, ``map``... in their
sections and shows any other plot under "Other figures". Each writer saves PNGs (and SVGs
beside them) into *folder* and draws nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..experiments.stats import band, paired_band
from . import experiments as charts  # the charts of many runs
from .animation import write_rollout_gif
from .axes import RefPoint, reference_points, save_figure
from .maps import map_figure, snapshots_figure
from .series import (
    availability_figure,
    coverage_figure,
    finance_figure,
    footprint_figure,
    impact_figure,
)

if TYPE_CHECKING:
    from ..experiments.compare import Comparison
    from ..experiments.replications import ReplicationSet
    from ..report.drawers import Drawing
    from ..results import Results
    from ..scenario.schema import Scenario

__all__ = [
    "FanContext",
    "comparison_plots",
    "fan_context",
    "fan_of",
    "replication_plots",
    "run_drawings",
    "sweep_plots",
]


def run_drawings(results: Results) -> list[Drawing]:
    """One run's drawings, as (name, draw into a folder): the map and its yearly snapshots
    (``map.png``, ``snapshots.png``), the animated map (``rollout.gif``), and the charts of
    daily series (coverage, poverty with impact on, finance, footprint, availability).

    Longest first (as measured nationally): processes taking them in turn then end close
    together (:mod:`rollout_sim.report.drawers`).
    """

    def saved(figure: Callable[[Results], Any], name: str) -> Callable[[Path], object]:
        return lambda folder: save_figure(figure(results), folder / f"{name}.png")

    out: list[Drawing] = [
        ("snapshots", saved(snapshots_figure, "snapshots")),
        ("map", saved(map_figure, "map")),
        ("animation", lambda folder: write_rollout_gif(results, folder / "rollout.gif")),
    ]
    if results.impact_daily:
        out.append(("impact", saved(impact_figure, "impact")))
    out += [
        ("coverage", saved(coverage_figure, "coverage")),
        ("footprint", saved(footprint_figure, "footprint")),
        ("finance", saved(finance_figure, "finance")),
        ("availability", saved(availability_figure, "availability")),
    ]
    return out


def fan_of(
    rset: ReplicationSet,
    scenario: Scenario,
    colour: str,
    q: tuple[float, float],
    series: str = "people_covered",
) -> charts.FanData:
    """The band of what *series* gained since day 0 (people or villages reached), per day."""
    values = rset.series[series]
    b = band(values - values[:, :1], q)
    return charts.FanData(scenario.start_date, b.median, b.lo, b.hi, colour)


class FanContext(TypedDict):
    """What a fan chart draws besides its bands (keyword arguments of :func:`fan_figure`)."""

    references: list[RefPoint]
    place_references: list[RefPoint]
    note: str


def fan_context(scenario: Scenario, rset: ReplicationSet, total_population: int) -> FanContext:
    """What a fan chart draws besides its bands: the scenario's references on the scale of
    people and places reached (their day-0 values subtracted), and a note on the start."""
    people0 = float(rset.series["people_covered"][0, 0])
    places0 = float(rset.series["villages_covered"][0, 0])
    days = rset.series["people_covered"].shape[1]
    refs = scenario.references
    start = scenario.start_date
    share = people0 / max(total_population, 1)
    return {
        "references": reference_points(
            refs, start, days, {"people_reached": 0.0, "people_covered": people0}
        ),
        "place_references": reference_points(
            refs, start, days, {"villages_reached": 0.0, "villages_covered": places0}
        ),
        "note": f"newly covered since {start.isoformat()}; "
        + (
            f"covered at the start: {people0:,.0f} of {total_population:,} people "
            f"({share:.1%}), {places0:,.0f} places"
            if people0 > 0
            else f"no coverage at the start ({total_population:,} people)"
        ),
    }


def replication_plots(
    rset: ReplicationSet, folder: Path, total_population: int, band_labels: tuple[str, str]
) -> None:
    """A set of replications' fan chart of people and places reached, ``coverage.png``;
    *band_labels* name the band's quantiles (``p10``, ``p90``)."""
    sc = rset.scenario
    q = sc.outputs.band
    colour = charts.policy_colour([p.name for p in sc.policies], rset.policy)
    name = rset.policy or sc.name
    fig = charts.fan_figure(
        [(name, fan_of(rset, sc, colour, q))],
        places=[(name, fan_of(rset, sc, colour, q, "villages_covered"))],
        title=f"{sc.name}: people and places reached, {rset.reps} replications (seed {sc.seed})",
        band_label=f"{band_labels[0]}–{band_labels[1]} of replications",
        **fan_context(sc, rset, total_population),
    )
    save_figure(fig, folder / "coverage.png")


def comparison_plots(
    comp: Comparison,
    folder: Path,
    total_population: int,
    band_labels: tuple[str, str],
    interval_labels: tuple[str, str],
) -> None:
    """A comparison's charts: the policies' fan chart (``coverage.png``), their average public
    cost per person reached, the public cost per additional person reached against the
    baseline, and the paired difference in people reached over time."""
    sc = comp.scenario
    pols = [p.name for p in sc.policies]
    colour = {p: charts.policy_colour(pols, p) for p in comp.policies}
    reps = comp.sets[comp.baseline].reps
    q = sc.outputs.band
    fans = [(p, fan_of(comp.sets[p], sc, colour[p], q)) for p in comp.policies]
    places = [
        (p, fan_of(comp.sets[p], sc, colour[p], q, "villages_covered")) for p in comp.policies
    ]
    save_figure(
        charts.fan_figure(
            fans,
            places=places,
            title=f"{sc.name}: people and places reached by policy, {reps} replications "
            f"(seed {sc.seed})",
            band_label=f"{band_labels[0]}–{band_labels[1]} of replications",
            **fan_context(sc, comp.sets[comp.baseline], total_population),
        ),
        folder / "coverage.png",
    )
    per_person = "public_cost_per_person_reached_usd"  # the average
    rows = []
    for p in comp.policies:
        iv = comp.summary(p, per_person)
        rows.append((p, iv.mean, iv.lo, iv.hi, colour[p]))
    save_figure(
        charts.interval_figure(
            rows,
            title=f"{sc.name}: public cost per person reached ({interval_labels[0]}–"
            f"{interval_labels[1]} of {reps} replications)",
            xlabel="public cost per person reached (USD)",
        ),
        folder / "public_cost_per_person.png",
    )
    # What a funder buys with the policy: the cost of its effect, not its average cost.
    icers = []
    for p in comp.policies:
        if p == comp.baseline:
            continue
        iv = comp.icer(p)
        icers.append((p, iv.mean, iv.lo, iv.hi, colour[p]))
    if icers:
        save_figure(
            charts.interval_figure(
                icers,
                title=f"{sc.name}: public cost per additional person reached, against "
                f"{comp.baseline}\n(paired on {reps} replications; {comp.ci_level:.0%} Fieller "
                "interval; no bar: the interval is unbounded)",
                xlabel="public US$ per additional person reached (incremental)",
            ),
            folder / "public_cost_per_additional_person.png",
        )
    base = comp.sets[comp.baseline].series["people_covered"]
    diffs = []
    for p in comp.policies:
        if p == comp.baseline:
            continue
        b = paired_band(base, comp.sets[p].series["people_covered"], comp.ci_level)
        diffs.append((p, charts.FanData(sc.start_date, b.mean, b.lo, b.hi, colour[p])))
    if diffs:
        save_figure(
            charts.difference_figure(
                diffs,
                title=f"{sc.name}: people reached, difference from {comp.baseline} (paired "
                f"on {reps} replications)",
                ylabel=f"people reached − {comp.baseline}",
                band_label=f"{comp.ci_level:.0%} CI of the mean difference",
            ),
            folder / "difference_people_covered.png",
        )


def sweep_plots(scenario: Scenario, design: Any, records: list[Any], folder: Path) -> None:
    """A sweep's people covered against each swept value, ``sweep_people_covered.png``."""
    save_figure(
        charts.sweep_figure(scenario, design, records, "people_covered"),
        folder / "sweep_people_covered.png",
    )
