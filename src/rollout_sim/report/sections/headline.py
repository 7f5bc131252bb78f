"""The headline: the facts of the folder, the headline table, a few plain sentences a reader
can lift into a briefing (the story), and the scenario's published figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...outcomes import (
    ICER,
    REPORT_HEADLINE,
    format_difference,
    format_long,
    long_formatter,
    long_unit_of,
    title_of,
)
from ...summaries import (
    CalibrationSummary,
    ComparisonSummary,
    OptimizationSummary,
    ReplicationsSummary,
    RunSummary,
    Spread,
)
from ..folder import Summary, as_float
from ..view import KIND_TITLES, Cell, Kind, Table, number_heads, spread_cell, table

__all__ = [
    "comparison_headline",
    "comparison_story",
    "facts",
    "policy_descriptions",
    "references_table",
    "replications_headline",
    "replications_story",
    "run_headline",
    "run_story",
]

#: The average public cost per person reached (all public money ÷ all people reached).
_PER_PERSON = "public_cost_per_person_reached_usd"


_count = long_formatter("count")
_money = long_formatter("money")
_share = long_formatter("share")


def policy_descriptions(scenario: Mapping[str, Any]) -> dict[str, str]:
    """Each policy's description from the scenario, by name (folded text on one line)."""
    out: dict[str, str] = {}
    for p in scenario.get("policies") or []:
        if isinstance(p, dict) and p.get("name"):
            out[str(p["name"])] = " ".join(str(p.get("description") or "").split())
    return out


def facts(
    kind: Kind,
    scenario: Mapping[str, Any],
    summary: Summary | None,
    manifest: Mapping[str, Any],
    calibration: CalibrationSummary | None,
    optimization: OptimizationSummary | None = None,
) -> list[tuple[str, str]]:
    """Scenario name, dates, seed, replications and policy, as label/value pairs."""
    run = summary if isinstance(summary, RunSummary) else None
    name = scenario.get("name") or (summary.scenario if summary is not None else None)
    out = [("Scenario", str(name or "—")), ("Kind of results", KIND_TITLES[kind])]
    start = scenario.get("start_date") or (run.start_date if run else None)
    end = scenario.get("end_date") or (run.end_date if run else None)
    if start or end:
        span = f" ({run.horizon_days:,} days)" if run else ""
        out.append(("Simulated period", f"{start or '?'} to {end or '?'}{span}"))
    seed = summary.seed if summary is not None else manifest.get("seed", scenario.get("seed"))
    out.append(("Seed", str(seed) if seed is not None else "—"))
    if calibration is not None:
        reps = calibration.replications_per_evaluation
        out.append(("Replications", f"{reps} per evaluation" if reps else "—"))
    elif optimization is not None:
        out.append(("Replications", f"{optimization.replications_per_trial} per trial"))
    elif isinstance(summary, ComparisonSummary):
        counts = sorted(set(summary.replications.values()))
        out.append(("Replications", ", ".join(map(str, counts)) + " per policy"))
    elif isinstance(summary, ReplicationsSummary):
        out.append(("Replications", str(summary.replications or 1)))
    else:
        out.append(("Replications", str(manifest.get("replications") or 1)))
    if isinstance(summary, ComparisonSummary):
        out.append(("Baseline policy", summary.baseline or "—"))
        out.append(("Policies compared", ", ".join(summary.policies) or "—"))
    elif summary is not None or optimization is not None:
        ran = summary if summary is not None else optimization
        assert ran is not None
        policy = ran.policy
        text = policy if policy else "none (the scenario as is)"
        described = policy_descriptions(scenario).get(policy) if policy else None
        if optimization is not None and policy:
            # The scenario's description gives the values before the search, not the chosen.
            described = "its settings searched; the chosen trial's values are below"
        out.append(("Funding policy", f"{text}: {described}" if described else text))
    if manifest.get("rollout_sim_version"):
        out.append(("rollout-sim version", str(manifest["rollout_sim_version"])))
    return out


def run_headline(summary: RunSummary) -> Table:
    """A single run's measures at the horizon, each with a note."""
    final = summary.final

    def of(v: object, total: object) -> str:
        known = as_float(total) is not None and as_float(v) is not None
        return f"of {_count(total)}" if known else ""

    default_note = "; ".join(f"{d.operator} on day {_count(d.day)}" for d in summary.defaults)
    m50 = summary.days_to_reach.get("50pct")
    rows = [
        ("People reached (newly covered)", _count(summary.people_reached), ""),
        (
            "People covered at the horizon",
            _count(final.people_covered),
            of(final.people_covered, summary.population),
        ),
        ("People covered, net of outages", _count(final.people_covered_net), ""),
        ("Share of all people covered", _share(final.people_covered_share), ""),
        ("Share of rural people covered", _share(final.rural_people_covered_share), ""),
        (
            "Share of the people uncovered at the start now reached",
            _share(final.initially_uncovered_reached_share),
            "",
        ),
        (
            "Villages covered",
            _count(final.villages_covered),
            of(final.villages_covered, summary.villages),
        ),
        ("Sites on air", _count(final.sites_on_air), f"{_count(final.sites_built)} built"),
        (
            "Days to reach 50 % of the people uncovered at the start",
            format_long(m50.day if m50 else None, "days"),
            str((m50.date if m50 else None) or ""),
        ),
        (
            "New villages covered a day (mean)",
            format_long(summary.mean_new_villages_per_day, "rate"),
            "",
        ),
        (
            "Capex",
            _money(final.capex_cumulative_usd),
            f"{_money(summary.capex_per_person_reached_usd)} per person reached",
        ),
        (
            "Public cost",
            _money(summary.public_cost_usd),
            f"{_money(summary.public_cost_per_person_reached_usd)} per person reached",
        ),
        ("Availability", format_long(summary.availability, "availability"), ""),
        ("People-days of service lost", format_long(summary.people_days_lost, "big"), ""),
        ("Defaults", _count(len(summary.defaults)), default_note),
    ]
    return table(
        ["Measure", Cell("Value", num=True), "Note"],
        [(label, Cell(value, num=True), Cell(note, cls="muted")) for label, value, note in rows],
    )


def _interval(summary: ReplicationsSummary | ComparisonSummary) -> str:
    return summary.interval or "interval across replications"


def replications_headline(summary: ReplicationsSummary) -> Table:
    """The headline metrics' means across replications, with their intervals."""
    metrics = summary.metrics
    rows: list[list[str | Cell]] = [
        [title_of(name), spread_cell(metrics[name], long_unit_of(name))]
        for name in REPORT_HEADLINE
        if name in metrics
    ]
    return table(
        ["Measure", Cell("Mean", num=True)],
        rows,
        caption=f"Means across replications; below each, the {_interval(summary)}.",
    )


def comparison_headline(summary: ComparisonSummary) -> Table:
    """The headline metrics of each policy (a column each), with their intervals."""
    policies = summary.policies
    metrics = summary.metrics
    names = [m for m in REPORT_HEADLINE if any(m in metrics.get(p, {}) for p in policies)]
    rows: list[list[str | Cell]] = [
        [
            title_of(name),
            *(spread_cell(metrics.get(p, {}).get(name), long_unit_of(name)) for p in policies),
        ]
        for name in names
    ]
    return table(
        ["Measure", *number_heads(*policies)],
        rows,
        caption=f"Means across replications; below each, the {_interval(summary)}.",
    )


def _ratio(a: object, b: object) -> str:
    x, y = as_float(a), as_float(b)
    return f"{x / y:.0%}" if x is not None and y else "—"


def references_table(summary: Summary | None) -> Table | None:
    """A run's published figures beside the simulated values (None: it has none)."""
    refs = summary.references if isinstance(summary, RunSummary) else []
    if not refs:
        return None
    return table(
        [
            "Published figure",
            "Metric",
            "Date",
            *number_heads("Reported", "Simulated", "Simulated ÷ reported"),
        ],
        [
            (
                r.label,
                r.metric,
                r.date,
                Cell(_count(r.reference), num=True),
                Cell(_count(r.simulated), num=True),
                Cell(_ratio(r.simulated, r.reference), num=True),
            )
            for r in refs
        ],
        caption="The scenario's published or planned figures (references), beside the "
        "simulated value on the same date; the coverage chart draws them as points.",
    )


# --------------------------------------------------------------------------------------------
# The story: a few sentences a reader can lift into a briefing, from summary.json


def run_story(summary: RunSummary) -> list[str]:
    """What a single run did, in plain sentences: reach, coverage before and after, cost,
    the published figures, poverty."""
    final, initial = summary.final, summary.initial
    population = summary.population
    start, end = summary.start_date, summary.end_date
    days = summary.horizon_days
    period = f"From {start} to {end}" if start and end else f"Over {_count(days)} days"
    before = _share(initial.people_covered / population) if population else "—"
    places = final.villages_covered - initial.villages_covered
    story = [
        f"{period}, the rollout reached {_count(summary.people_reached)} people in "
        f"{_count(places)} places that had no coverage at the start: "
        f"{_share(final.initially_uncovered_reached_share)} of the people then "
        f"uncovered. Coverage of all people went from {before} to "
        f"{_share(final.people_covered_share)}."
    ]
    upgrades = sum(o.upgrades_on_air for o in summary.operators)
    story.append(
        f"It put {_count(final.sites_on_air)} sites on air"
        + (f" ({_count(upgrades)} of them upgrades of 2G sites)" if upgrades else "")
        + f" for {_money(final.capex_cumulative_usd)} of capex "
        f"({_money(summary.capex_per_person_reached_usd)} per person reached); "
        f"public money: {_money(summary.public_cost_usd)}."
    )
    for r in summary.references:
        ref, sim = r.reference, r.simulated
        if sim is None:
            continue
        ratio = f" ({sim / ref:.0%} of it)" if ref else ""
        story.append(
            f"{r.label}: simulated {_count(sim)} {r.metric.replace('_', ' ')} on {r.date}{ratio}."
        )
    impact = summary.impact
    if impact is not None and "central" in impact:
        key = "people_out_of_poverty_at_horizon"
        central = impact["central"].get(key)
        low = impact.get("low", {}).get(key)
        high = impact.get("high", {}).get(key)
        story.append(
            f"Poverty: about {_count(central)} people lifted out of poverty by the end "
            f"(central estimate; {_count(low)} to {_count(high)} across the low and high "
            "estimates)."
        )
    return story


def _mean(metrics: Mapping[str, Spread], name: str) -> float | None:
    found = metrics.get(name)
    return found.mean if found is not None else None


def replications_story(summary: ReplicationsSummary) -> list[str]:
    """What the replications did on average, with its interval, and at what public cost."""
    metrics = summary.metrics
    reached = metrics.get("people_reached")
    lo, hi = (reached.lo, reached.hi) if reached is not None else (None, None)
    return [
        f"Across {_count(summary.replications)} replications, the rollout reached "
        f"{_count(_mean(metrics, 'people_reached'))} people on average ({_interval(summary)}: "
        f"{_count(lo)} to {_count(hi)}), at a public cost of "
        f"{_money(_mean(metrics, 'public_cost_usd'))} "
        f"({_money(_mean(metrics, _PER_PERSON))} per person reached)."
    ]


def comparison_story(summary: ComparisonSummary) -> list[str]:
    """One sentence for the baseline, one per policy: what it adds and what that costs."""
    baseline = summary.baseline or "the baseline"
    base = summary.metrics.get(baseline, {})
    story = [
        f"Under {baseline}, the baseline, the rollout reaches "
        f"{_count(_mean(base, 'people_reached'))} people on average."
    ]
    ci = (summary.difference_ci or "confidence interval").split(" ")[0]
    for policy, d in summary.differences.items():
        people, cost, icer = (d.get(k) for k in ("people_reached", "public_cost_usd", ICER))
        lo, hi = [*(people.ci if people is not None else []), None, None][:2]
        added = format_difference(people.difference if people is not None else None, "count")
        sentence = (
            f"{policy}: {added} people reached (paired difference, {ci} CI "
            f"{format_difference(lo, 'count')} to {format_difference(hi, 'count')}) for "
            f"{format_difference(cost.difference if cost is not None else None, 'money')} of "
            "public cost"
        )
        per = as_float(icer.difference if icer is not None else None)
        sentence += (
            f": {_money(per)} per additional person."
            if per is not None
            else "; the cost per additional person is not defined (no clear effect on reach)."
        )
        story.append(sentence)
    return story
