"""Outcome metrics, each defined once: name, label, unit, which way is better, how one run is
reduced to it, and how it is written.

Everything that shows a run's outcomes reads them from here: the replication records
(``replications.csv``), comparisons and their paired differences, regret, sensitivity, the
console tables and the HTML report. A metric that only some scenarios have (a year's coverage,
the impact estimates) comes from :func:`outcomes_for`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import numpy as np

from .metrics import availability, days_to_share, mean_new_villages_per_day, people_days_lost
from .results import Results
from .scenario.schema import Scenario

__all__ = [
    "HEADLINE",
    "ICER",
    "MILESTONE_SHARES",
    "REPLICATION_TABLE",
    "REPORT_HEADLINE",
    "LongUnit",
    "Outcome",
    "format_difference",
    "format_long",
    "format_value",
    "label_of",
    "long_formatter",
    "long_unit_of",
    "outcome",
    "outcomes_for",
    "reduce_run",
    "short_of",
    "show",
    "show_long",
    "title_of",
    "unit_of",
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
    money = "$" if unit in ("usd", "usd_per_person") else ""
    if short and abs(value) >= 1e6:
        return f"{money}{value / 1e6:.2f}M"
    if short and abs(value) >= 1e4:
        return f"{money}{value / 1e3:.1f}k"
    if money:
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"
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


def _poverty_figures(poverty: str) -> dict[str, tuple[str, Unit]]:
    """The people out of *poverty* ("poverty", "extreme poverty") in ``summary.json``'s
    ``impact``: over the run, at the horizon, and in person-years."""
    name = "people_out_of_" + poverty.replace(" ", "_")
    return {
        name: (f"people out of {poverty}", "people"),
        f"{name}_at_horizon": (f"people out of {poverty} at the horizon", "people"),
        f"{name}_person_years": (f"person-years out of {poverty}", "people"),
    }


#: Figures that are not per-run outcomes: the incremental cost of a comparison, and a run's
#: poverty figures (``summary.json``'s ``impact``, by parameter set), with their units.
_FIGURES: dict[str, tuple[str, Unit]] = {
    ICER: ("public cost per additional person reached (incremental)", "usd_per_person"),
    **_poverty_figures("poverty"),
    **_poverty_figures("extreme poverty"),
    "added_consumption_usd_per_day_at_horizon": ("added consumption a day at the horizon", "usd"),
    "added_consumption_usd_total": ("added consumption over the horizon", "usd"),
    "people_out_of_poverty_per_million_public_usd": (
        "people out of poverty per US$ 1 M of public cost",
        "rate",
    ),
}
_LABELS = {name: label for name, (label, _) in _FIGURES.items()}
_SHORT = {ICER: "$/extra person"}
_UNITS: dict[str, str] = {name: unit for name, (_, unit) in _FIGURES.items()}

#: The outcomes a comparison's headline tables show, in order.
HEADLINE = (
    "people_covered",
    "days_to_reach_50pct",
    "mean_new_villages_per_day",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    ICER,
    "availability",
    "defaults",
)
#: How fast, what it cost and how reliable: the end of the replication table and of the
#: report's headline.
_PACE_COST_RELIABILITY = (
    "days_to_reach_50pct",
    "capex_usd",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "availability",
    "defaults",
)
#: The outcomes a set of replications' table shows, in order.
REPLICATION_TABLE = (
    "people_covered",
    "people_covered_net",
    "people_served",
    "villages_covered",
    "places_served",
    "sites_on_air",
    "mean_new_villages_per_day",
    *_PACE_COST_RELIABILITY,
)
#: The few outcomes the report's headline shows for replications and comparisons, in order.
REPORT_HEADLINE = (
    "people_covered",
    "people_reached",
    "villages_covered",
    "sites_on_air",
    *_PACE_COST_RELIABILITY,
)


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


def _year_outcome(year: int, day: int) -> Outcome:
    return Outcome(f"people_covered_{year}", f"people covered at the end of {year}",
                   f"people {year}", "people", "higher", _covered_on(day))  # fmt: skip


def _impact_outcomes(name: str) -> list[Outcome]:
    return [
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


def outcomes_for(scenario: Scenario) -> list[Outcome]:
    """Every outcome a run of *scenario* has, in reporting order."""
    out = list(_BASE[:7])
    ends = year_ends(scenario.start_date, scenario.horizon_days)
    out += [_year_outcome(year, day) for year, day in ends]
    out += list(_BASE[7:])
    if scenario.impact.enabled:
        for name in ("low", "central", "high"):
            out += _impact_outcomes(name)
    return out


_YEAR_NAME = re.compile(r"^people_covered_(\d{4})$")
_IMPACT_NAME = re.compile(r"^people_out_of_\w+_(low|central|high)$")


def _dynamic(name: str) -> Outcome | None:
    """The outcome a scenario may have under *name* (a year's coverage, an impact estimate),
    for its label and unit: which day a year ends on depends on the scenario, so its
    ``reduce`` here is not for use."""
    year = _YEAR_NAME.match(name)
    if year:
        return _year_outcome(int(year.group(1)), -1)
    impact = _IMPACT_NAME.match(name)
    if impact:
        return next((o for o in _impact_outcomes(impact.group(1)) if o.name == name), None)
    return None


def outcome(name: str, scenario: Scenario | None = None) -> Outcome:
    """The outcome called *name* (KeyError if there is none)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    if scenario is not None:
        for o in outcomes_for(scenario):
            if o.name == name:
                return o
    raise KeyError(name)


def short_of(name: str) -> str:
    """A metric's column heading."""
    o = _BY_NAME.get(name)
    return _SHORT.get(name, o.short if o is not None else name.replace("_", " "))


def unit_of(name: str) -> str:
    """A metric's unit (how it is formatted); dynamic names by their pattern."""
    if name in _UNITS:
        return _UNITS[name]
    o = _BY_NAME.get(name) or _dynamic(name)
    if o is not None:
        return o.unit
    if name.startswith("people"):
        return "people"
    return "rate"


def show(name: str, value: float | None, short: bool = False) -> str:
    """*value* of the metric *name* as people read it."""
    return format_value(value, unit_of(name), short)


def label_of(name: str) -> str:
    """A metric's label, for names not in the registry its words."""
    if name in _LABELS:
        return _LABELS[name]
    o = _BY_NAME.get(name) or _dynamic(name)
    return o.label if o is not None else name.replace("_", " ")


def reduce_run(r: Results) -> dict[str, float]:
    """One run's outcomes as a flat dict of numbers (NaN: not reached / undefined)."""
    return {o.name: float(np.float64(o.reduce(r))) for o in outcomes_for(r.scenario)}


# --- the report's long form ------------------------------------------------------------------

#: How the report writes a value, in tables and sentences where there is room to spell units
#: out (:func:`format_value` is the console's compact form): ``count`` 1,234; ``big`` 1.23 M;
#: ``money`` US$ 5.92 M; ``share`` 12.3 %; ``availability`` 97.50 % (near 100 % the second
#: decimal tells networks apart); ``days`` 120 days; ``rate`` 1.25; ``number`` 3 or 0.3333;
#: differences of shares in ``points`` (1.20 pp) and of days as ``day_count`` (12.5).
LongUnit = Literal[
    "count", "big", "money", "share", "availability", "days", "rate", "number", "points",
    "day_count",
]  # fmt: skip

#: The long unit of each unit; and of the metrics whose unit says too little.
_LONG_OF_UNIT: dict[str, LongUnit] = {
    "people": "count",
    "places": "count",
    "sites": "count",
    "usd": "money",
    "usd_per_person": "money",
    "share": "share",
    "days": "days",
    "count": "number",  # a mean over replications: 0.5 defaults
    "rate": "rate",
}
_LONG_OF_METRIC: dict[str, LongUnit] = {"availability": "availability", "people_days_lost": "big"}
#: Differences of shares are percentage points; of days, a plain number with a decimal.
_LONG_DIFFERENCE: dict[LongUnit, LongUnit] = {
    "share": "points",
    "availability": "points",
    "days": "day_count",
}


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


#: The units written as one number: (scale, format spec, suffix).
_PLAIN: Final[Mapping[str, tuple[int, str, str]]] = {
    "count": (1, ",.0f", ""),
    "share": (100, ".1f", " %"),
    "availability": (100, ".2f", " %"),
    "days": (1, ",.0f", " days"),
    "rate": (1, ",.2f", ""),
    "points": (100, ".2f", " pp"),
    "day_count": (1, ",.1f", ""),
}


def long_formatter(unit: LongUnit) -> Callable[[object], str]:
    """:func:`format_long` for one *unit*: a table column's formatter."""
    return functools.partial(format_long, unit=unit)


def format_long(value: object, unit: LongUnit) -> str:
    """*value* as the report writes it (see :data:`LongUnit`); anything but a finite number is
    "—" (a day never reached: "not reached")."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "not reached" if unit == "days" else "—"
    v = value
    if unit in _PLAIN:
        scale, spec, suffix = _PLAIN[unit]
        return f"{v * scale:{spec}}{suffix}"
    if unit == "big":
        return f"{v / 1e6:,.2f} M" if abs(v) >= 1e6 else f"{v:,.0f}"
    if unit == "money":
        if v == 0:
            return "US$ 0"
        sign, a = ("−" if v < 0 else ""), abs(v)
        if a >= 1e6:
            return f"{sign}US$ {a / 1e6:,.2f} M"
        if a >= 100:
            return f"{sign}US$ {a:,.0f}"
        return f"{sign}US$ {a:,.2f}"
    if float(v).is_integer():  # number
        return f"{v:,.0f}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"


def format_difference(value: object, unit: LongUnit) -> str:
    """A difference (one policy minus another) as the report writes it: the magnitude in the
    difference's unit with its sign, + for gains."""
    if not _is_number(value):
        return "—"
    assert isinstance(value, int | float)
    text = format_long(abs(value), _LONG_DIFFERENCE.get(unit, unit))
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def long_unit_of(name: str) -> LongUnit:
    """How the report writes the metric *name*."""
    return _LONG_OF_METRIC.get(name) or _LONG_OF_UNIT.get(unit_of(name), "number")


def show_long(name: str, value: object) -> str:
    """*value* of the metric *name* as the report writes it."""
    return format_long(value, long_unit_of(name))


def title_of(name: str) -> str:
    """A metric's label as a table row begins: "Public cost", "People out of poverty"."""
    label = label_of(name)
    return label[:1].upper() + label[1:]
