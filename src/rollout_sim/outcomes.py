"""Outcome metrics, each defined once: name, label, unit, which way is better, how one run is
reduced to it, and how it is written.

Everything that shows a run's outcomes reads them from here: the replication records
(``replications.csv``), comparisons and their paired differences, regret, sensitivity, the
console tables and the HTML report. A metric that only some scenarios have (a year's coverage,
the impact estimates) comes from :func:`outcomes_for`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from .metrics import availability, days_to_share, mean_new_villages_per_day, people_days_lost
from .results import Results
from .scenario.schema import Scenario

__all__ = [
    "ICER",
    "MILESTONE_SHARES",
    "Outcome",
    "format_value",
    "label_of",
    "outcome",
    "outcomes_for",
    "reduce_run",
    "year_ends",
]

Unit = Literal[
    "people", "places", "sites", "usd", "usd_per_person", "share", "days", "count", "rate"
]
Better = Literal["higher", "lower", "none"]

#: Shares of the people uncovered at the start whose milestone dates are reported.
MILESTONE_SHARES = (0.25, 0.5, 0.75)
#: Public cost per *additional* person reached against a baseline: a comparison-level outcome
#: (a ratio of paired differences), not a per-run one.
ICER = "public_cost_per_additional_person_usd"


@dataclass(frozen=True)
class Outcome:
    """One outcome metric of a run."""

    name: str
    label: str
    short: str  # a column heading
    unit: Unit
    better: Better
    reduce: Callable[[Results], float]

    def format(self, value: float | None, short: bool = False) -> str:
        return format_value(value, self.unit, short)


def format_value(value: float | None, unit: str, short: bool = False) -> str:
    """A number as people read it: 1,234 people; US$ 5.9 M; 97.5%; never cut, never ``nan``.
    *short* abbreviates large numbers (385.6k, 5.92M) for wide tables."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if short and abs(value) >= 1e6:
        return f"{value / 1e6:.2f}M"
    if short and abs(value) >= 1e4:
        return f"{value / 1e3:.1f}k"
    if unit in ("usd", "usd_per_person"):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if unit in ("people", "places", "sites", "days"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _last(series: str) -> Callable[[Results], float]:
    return lambda r: float(r.daily[series][-1])


def _reached(r: Results) -> float:
    return float(r.daily["people_covered"][-1] - r.initial_people_covered)


def _public(r: Results) -> float:
    return round(float(r.public.amount.sum()), 2)


def _per_person(r: Results) -> float:
    reached = _reached(r)
    return _public(r) / reached if reached > 0 else math.nan


def _availability(r: Results) -> float:
    a = availability(r)
    return math.nan if a is None else a


def _milestone(share: float) -> Callable[[Results], float]:
    def days(r: Results) -> float:
        hit = days_to_share(r, share)
        return math.nan if hit is None else float(hit)

    return days


def _defaults(r: Results) -> float:
    return float(sum(1 for _, _, kind, _ in r.events if kind == "default"))


_BASE: tuple[Outcome, ...] = (
    Outcome("people_covered", "people covered", "people", "people", "higher",
            _last("people_covered")),
    Outcome("people_covered_net", "people covered, net of outages", "served now", "people",
            "higher", _last("people_covered_net")),
    Outcome("people_reached", "people newly reached by the rollout", "reached", "people",
            "higher", _reached),
    Outcome("villages_covered", "villages covered", "villages", "places", "higher",
            _last("villages_covered")),
    Outcome("places_served", "places served by the operators", "places served", "places",
            "higher", _last("places_served")),
    Outcome("people_served", "people served by the operators", "people served", "people",
            "higher", _last("people_served")),
    Outcome("sites_on_air", "sites on air", "sites", "sites", "none", _last("sites_on_air")),
    *(
        Outcome(f"days_to_reach_{int(s * 100)}pct",
                f"days to reach {int(s * 100)}% of the people uncovered at the start",
                f"days to {int(s * 100)}%", "days", "lower", _milestone(s))
        for s in MILESTONE_SHARES
    ),
    Outcome("mean_new_villages_per_day", "new villages covered per day (mean)", "villages/day",
            "rate", "higher", mean_new_villages_per_day),
    Outcome("capex_usd", "capex", "capex", "usd", "none", _last("capex_cumulative_usd")),
    Outcome("public_cost_usd", "public cost", "public cost", "usd", "lower", _public),
    Outcome("public_cost_per_person_reached_usd",
            "public cost per person reached (average)", "$/person (avg)", "usd_per_person",
            "lower", _per_person),
    Outcome("availability", "availability (site time in service)", "avail.", "share", "higher",
            _availability),
    Outcome("people_days_lost", "people-days of service lost to outages", "days lost",
            "people", "lower", people_days_lost),
    Outcome("defaults", "defaults", "defaults", "count", "lower", _defaults),
    Outcome("revenue_usd", "revenue", "revenue", "usd", "higher",
            _last("revenue_cumulative_usd")),
    Outcome("debt_usd", "debt at the end", "debt", "usd", "none", _last("debt_usd")),
    Outcome("cash_usd", "cash at the end", "cash", "usd", "none", _last("cash_usd")),
)  # fmt: skip

_BY_NAME = {o.name: o for o in _BASE}
_LABELS = {ICER: "public cost per additional person reached (incremental)"}


def year_ends(start: date, horizon_days: int) -> list[tuple[int, int]]:
    """(year, day index) of every 31 December inside the horizon."""
    out = []
    for year in range(start.year, start.year + horizon_days // 365 + 2):
        day = (date(year, 12, 31) - start).days
        if 0 <= day < horizon_days:
            out.append((year, day))
    return out


def _covered_on(day: int) -> Callable[[Results], float]:
    return lambda r: float(r.daily["people_covered"][day])


def _impact(key: str, name: str) -> Callable[[Results], float]:
    return lambda r: float(r.impact_daily[f"{key}_{name}"][-1])


def _lifted_per_million(name: str) -> Callable[[Results], float]:
    def per_million(r: Results) -> float:
        public = _public(r)
        lifted = float(r.impact_daily[f"people_out_of_poverty_{name}"][-1])
        return lifted / (public / 1e6) if public > 0 else math.nan

    return per_million


def outcomes_for(scenario: Scenario) -> list[Outcome]:
    """Every outcome a run of *scenario* has, in reporting order."""
    out = list(_BASE[:7])
    out += [
        Outcome(f"people_covered_{year}", f"people covered at the end of {year}",
                f"people {year}", "people", "higher", _covered_on(day))
        for year, day in year_ends(scenario.start_date, scenario.horizon_days)
    ]  # fmt: skip
    out += list(_BASE[7:])
    if scenario.impact.enabled:
        for name in ("low", "central", "high"):
            out += [
                Outcome(f"people_out_of_poverty_{name}",
                        f"people out of poverty ({name} estimate)", f"out of poverty ({name})",
                        "people", "higher", _impact("people_out_of_poverty", name)),
                Outcome(f"people_out_of_extreme_poverty_{name}",
                        f"people out of extreme poverty ({name} estimate)",
                        f"out of extreme poverty ({name})", "people", "higher",
                        _impact("people_out_of_extreme_poverty", name)),
                Outcome(f"people_out_of_poverty_per_million_public_usd_{name}",
                        f"people out of poverty per US$ million public ({name})",
                        f"per US$ M ({name})", "rate", "higher", _lifted_per_million(name)),
            ]  # fmt: skip
    return out


def outcome(name: str, scenario: Scenario | None = None) -> Outcome:
    """The outcome called *name* (KeyError if there is none)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    if scenario is not None:
        for o in outcomes_for(scenario):
            if o.name == name:
                return o
    raise KeyError(name)


def label_of(name: str) -> str:
    """A metric's label, for names not in the registry its words."""
    if name in _LABELS:
        return _LABELS[name]
    o = _BY_NAME.get(name)
    return o.label if o is not None else name.replace("_", " ")


def reduce_run(r: Results) -> dict[str, float]:
    """One run's outcomes as a flat dict of numbers (NaN: not reached / undefined)."""
    return {o.name: float(np.float64(o.reduce(r))) for o in outcomes_for(r.scenario)}
