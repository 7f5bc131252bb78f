"""Summary metrics: pure functions of :class:`Results` (no IO)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from .model.backhaul import BH_NAMES
from .results import FOOTPRINT_COLUMNS, Results
from .summaries import InstrumentTotals, Milestone, ReferenceCheck, RunSummary

__all__ = [
    "availability",
    "days_to_share",
    "mean_new_villages_per_day",
    "people_days_lost",
    "summarise",
]

MILESTONES = (0.25, 0.5, 0.75)


#: What milestones measure: the share of the people with no coverage at the start that the
#: rollout has reached (a share of everyone would count the towns covered on day 0).
MILESTONE_SERIES = "initially_uncovered_reached_share"


def days_to_share(results: Results, share: float) -> int | None:
    """First day (0-based) at whose end the rollout has reached *share* of the people who had
    no coverage at the start, or None."""
    hit = np.flatnonzero(results.daily[MILESTONE_SERIES] >= share)
    return int(hit[0]) if len(hit) else None


def mean_new_villages_per_day(
    results: Results, first_day: int = 0, last_day: int | None = None
) -> float:
    """Mean of ``new_villages_covered`` over days first_day..last_day (inclusive)."""
    series = results.daily["new_villages_covered"]
    last = len(series) - 1 if last_day is None else last_day
    window = series[first_day : last + 1]
    return float(window.mean()) if len(window) else 0.0


def availability(results: Results, operator: int | None = None) -> float | None:
    """Share of site-days in service since each site first came on air (None: no sites)."""
    s = results.sites
    on = np.isfinite(s.on_air_day)
    if operator is not None:
        on &= s.operator == operator
    exposure = float((results.horizon_days - s.on_air_day[on]).sum())
    if exposure <= 0:
        return None
    return 1.0 - float(results.site_downtime_days[on].sum()) / exposure


def people_days_lost(results: Results) -> float:
    """∫ (people covered − people covered net of outages) dt over the horizon, person-days."""
    h = float(results.horizon_days)
    first = results.first_covered_day
    ok = np.isfinite(first)
    gross = float((results.world.villages.population[ok] * (h - first[ok])).sum())
    t = np.append(results.net_times, h)
    net = float((results.net_people * np.diff(t)).sum())
    return max(gross - net, 0.0)


def _r(x: float, nd: int = 2) -> float:
    # + 0.0: a negated empty sum is -0.0, which JSON would show as "-0.0".
    return round(float(x), nd) + 0.0


def impact_summary_of(results: Results) -> dict[str, dict[str, float | None]] | None:
    """Impact at the horizon and in person-years per parameter set (None when off)."""
    if not results.scenario.impact.enabled:
        return None
    from .impact import impact_summary

    summary: dict[str, dict[str, float | None]] = {
        name: dict(values) for name, values in impact_summary(results.impact_sets).items()
    }
    public = float(results.public.amount.sum())
    for values in summary.values():
        lifted = values.get("people_out_of_poverty_at_horizon")
        values["people_out_of_poverty_per_million_public_usd"] = (
            None if not public or lifted is None else round(lifted / (public / 1e6), 3)
        )
    return summary


def references(results: Results) -> list[ReferenceCheck]:
    """The scenario's published figures beside the simulated values on their dates."""
    d = results.daily
    out = []
    for ref in results.scenario.references:
        day = (ref.date - results.scenario.start_date).days
        simulated: float | None = None
        if 0 <= day < results.horizon_days:
            if ref.metric == "people_reached":
                simulated = float(d["people_covered"][day]) - results.initial_people_covered
            elif ref.metric == "villages_reached":
                simulated = float(d["villages_covered"][day]) - results.initial_villages_covered
            else:
                simulated = float(d[ref.metric][day])
        out.append(
            ReferenceCheck(
                label=ref.label,
                metric=ref.metric,
                date=ref.date.isoformat(),
                reference=ref.value,
                simulated=simulated,
            )
        )
    return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _opt(x: float | None, nd: int) -> float | None:
    return None if x is None else _r(x, nd)


def summarise(results: Results) -> RunSummary:
    """Totals at the horizon, rates, milestones and per-operator figures."""
    d = results.daily
    sc = results.scenario
    sites = results.sites
    people_reached = int(d["people_covered"][-1]) - results.initial_people_covered
    capex = float(d["capex_cumulative_usd"][-1])
    milestones: dict[str, Milestone] = {}
    for share in MILESTONES:
        day = days_to_share(results, share)
        milestones[f"{int(share * 100)}pct"] = Milestone(
            day=day,
            date=None if day is None else (sc.start_date + timedelta(days=day)).isoformat(),
        )
    operators = []
    lg = results.ledger

    def total(rows: np.ndarray, category: str) -> float:
        return _r(abs(lg.amount[rows & (lg.category == category)].sum()))

    footprint = results.operator_daily
    for i, name in enumerate(results.operators):
        fp = footprint[name]
        mine = sites.operator == i
        rows = lg.operator == i
        m = results.maintenance_of(i)
        on_air = mine & np.isfinite(sites.on_air_day)
        operators.append(
            {
                "name": name,
                "build_crews": results.crews[i],
                "sites_claimed": int(mine.sum()),
                "sites_built": int((mine & np.isfinite(sites.built_day)).sum()),
                "sites_on_air": int(on_air.sum()),
                "upgrades_on_air": int((on_air & sites.upgrade).sum()),
                "backhaul_on_air": {
                    BH_NAMES[k]: int((on_air & (sites.backhaul == k)).sum())
                    for k in range(1, len(BH_NAMES))
                },
                "people_newly_covered": int(sites.people_new[mine].sum()),
                "initial_sites": int((mine & (sites.on_air_day == 0)).sum()),
                # As operators report: inside the coverage of its in-service sites, whoever
                # else covers them; and what it covered first (see operators.csv).
                "footprint": {c: int(fp[c][-1]) for c in FOOTPRINT_COLUMNS},
                "capex_usd": total(rows, "capex"),
                "revenue_usd": total(rows, "revenue"),
                "opex_usd": total(rows, "opex"),
                "repair_usd": total(rows, "repair"),
                "interest_usd": total(rows, "interest"),
                "loan_drawdown_usd": total(rows, "loan_drawdown"),
                "principal_repaid_usd": total(rows, "principal"),
                "cash_end_usd": _r(lg.amount[rows].sum()),
                "availability": _opt(availability(results, i), 6),
                "failures": m["failures"],
                "repairs": m["repairs"],
                "mean_repair_wait_days": _opt(_mean(m["wait_days"]), 3),
                "mean_downtime_per_failure_days": _opt(_mean(m["downtime_days"]), 3),
                "defaulted": m["defaulted"],
            }
        )
    public = results.public
    public_cost = _r(public.amount.sum())
    by_instrument: dict[str, InstrumentTotals] = {}
    for label in sorted(set(public.instrument.tolist())):
        m = public.instrument == label
        by_instrument[label] = InstrumentTotals(
            paid_out_usd=_r(public.amount[m & (public.amount > 0)].sum()),
            received_usd=_r(-public.amount[m & (public.amount < 0)].sum()),
        )
    return RunSummary.model_validate(
        {
            "scenario": sc.name,
            "policy": results.policy,
            "seed": sc.seed,
            "start_date": sc.start_date.isoformat(),
            "end_date": sc.end_date.isoformat() if sc.end_date else None,
            "horizon_days": results.horizon_days,
            "villages": len(results.world),
            "population": results.total_population,
            "initial": {
                "villages_covered": results.initial_villages_covered,
                "people_covered": results.initial_people_covered,
            },
            "final": {
                "sites_built": int(d["sites_built"][-1]),
                "sites_on_air": int(d["sites_on_air"][-1]),
                "villages_covered": int(d["villages_covered"][-1]),
                "people_covered": int(d["people_covered"][-1]),
                "rural_people_covered_share": _r(d["rural_people_covered_share"][-1], 6),
                "people_covered_share": _r(d["people_covered_share"][-1], 6),
                "initially_uncovered_reached_share": _r(
                    d["initially_uncovered_reached_share"][-1], 6
                ),
                "capex_cumulative_usd": _r(capex),
                "cash_usd": _r(d["cash_usd"][-1]),
                "debt_usd": _r(d["debt_usd"][-1]),
                "people_covered_net": int(d["people_covered_net"][-1]),
                "places_served": int(d["places_served"][-1]),
                "people_served": int(d["people_served"][-1]),
                "sites_down": int(d["sites_down"][-1]),
                "subscribers": _r(d["subscribers"][-1], 1),
                "revenue_cumulative_usd": _r(d["revenue_cumulative_usd"][-1]),
                "opex_cumulative_usd": _r(d["opex_cumulative_usd"][-1]),
                "repair_cumulative_usd": _r(d["repair_cumulative_usd"][-1]),
                "interest_cumulative_usd": _r(d["interest_cumulative_usd"][-1]),
            },
            "availability": _opt(availability(results), 6),
            "people_days_lost": _r(people_days_lost(results), 1),
            "defaults": [
                {"day": _r(t, 4), "operator": results.operators[op], "detail": detail}
                for t, op, kind, detail in results.events
                if kind == "default"
            ],
            "people_reached": people_reached,
            "mean_new_villages_per_day": _r(mean_new_villages_per_day(results), 4),
            "capex_per_person_reached_usd": _r(capex / people_reached) if people_reached else None,
            "public_cost_usd": public_cost,
            "public_cost_per_person_reached_usd": (
                _r(public_cost / people_reached) if people_reached else None
            ),
            "instruments": by_instrument,
            "references": references(results),
            "impact": impact_summary_of(results),
            "days_to_reach": milestones,
            "days_to_reach_means": "days until the rollout has reached this share of the people "
            "with no coverage at the start",
            "operators": operators,
        }
    )
