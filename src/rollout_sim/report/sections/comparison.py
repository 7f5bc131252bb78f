"""The policy comparison: what each policy buys against the baseline, every outcome by policy
(``comparison.csv``) and the paired differences (``differences.csv``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ...outcomes import ICER, format_difference, format_long, long_unit_of, title_of
from ..folder import as_float
from ..view import Cell, Table, number_heads, table

__all__ = ["METRIC_ORDER", "comparison_table", "differences_table", "icer_table"]

#: The order the comparison's tables show the metrics in; yearly figures follow, then any
#: other (the poverty estimates).
METRIC_ORDER = (
    "people_covered",
    "people_reached",
    "people_covered_net",
    "villages_covered",
    "sites_on_air",
    "days_to_reach_25pct",
    "days_to_reach_50pct",
    "days_to_reach_75pct",
    "mean_new_villages_per_day",
    "capex_usd",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "availability",
    "people_days_lost",
    "defaults",
    "revenue_usd",
    "debt_usd",
    "cash_usd",
    ICER,
    "people_served",
    "places_served",
)
_YEAR_METRIC = re.compile(r"^people_covered_(\d{4})$")
_STAT_COLUMN = re.compile(r"^(?P<metric>.+)_(?P<stat>mean|p\d+(?:\.\d+)?)$")
_CI_COLUMN = re.compile(r"^ci(?P<level>\d+(?:\.\d+)?)_(?P<side>lo|hi)$")
#: The average public cost per person reached (all public money ÷ all people reached).
_PER_PERSON = "public_cost_per_person_reached_usd"


def _metric_order(names: Iterable[str]) -> list[str]:
    """Known metrics in their reading order, then yearly figures, then anything new."""
    names = list(dict.fromkeys(names))
    known = [n for n in METRIC_ORDER if n in names]
    years = sorted(n for n in names if _YEAR_METRIC.match(n))
    return known + years + [n for n in names if n not in known and n not in years]


def comparison_table(rows: list[dict[str, str]], baseline: str | None) -> Table:
    """comparison.csv (one row a policy; ``<metric>_mean``/``_pLO``/``_pHI``), turned so each
    metric is a row and each policy a column: easier to read across policies."""
    if not rows:
        return table(["Measure"], [])
    stats: dict[str, list[str]] = {}
    for col in rows[0]:
        m = _STAT_COLUMN.match(col)
        if m:
            stats.setdefault(m.group("metric"), []).append(m.group("stat"))
    policies = [r.get("policy", "?") for r in rows]
    body: list[list[str | Cell]] = []
    bounds = ("", "")
    for name in _metric_order(stats):
        unit = long_unit_of(name)
        quantiles = sorted((s for s in stats[name] if s != "mean"), key=lambda s: float(s[1:]))
        cells = []
        for r in rows:
            mean = as_float(r.get(f"{name}_mean"))
            sub = ""
            if len(quantiles) >= 2:
                lo, hi = (
                    as_float(r.get(f"{name}_{quantiles[0]}")),
                    as_float(r.get(f"{name}_{quantiles[-1]}")),
                )
                bounds = (quantiles[0].upper(), quantiles[-1].upper())
                if lo is not None and hi is not None:
                    sub = f"{format_long(lo, unit)} – {format_long(hi, unit)}"
            cells.append(Cell(format_long(mean, unit), num=True, sub=sub))
        body.append([title_of(name), *cells])
    head = [Cell(f"{p} (baseline)" if p == baseline else p, num=True) for p in policies]
    caption = "Mean across replications"
    if bounds[0]:
        caption += f"; below each, the interval from {bounds[0]} to {bounds[1]}"
    return table(["Measure", *head], body, caption=caption + ".")


def differences_table(rows: list[dict[str, str]]) -> Table:
    """differences.csv: each policy minus the baseline, paired, with its confidence interval.

    A difference whose interval excludes zero is marked, so a reader sees at a glance which
    gains are more than noise between replications.
    """
    if not rows:
        return table(["Measure"], [])
    ci_cols = {
        m.group("side"): (col, m.group("level")) for col in rows[0] if (m := _CI_COLUMN.match(col))
    }
    policies = list(dict.fromkeys(r.get("policy", "?") for r in rows))
    baseline = rows[0].get("baseline", "")
    by = {(r.get("policy", "?"), r.get("metric", "?")): r for r in rows}
    body: list[list[str | Cell]] = []
    for name in _metric_order(r.get("metric", "?") for r in rows):
        unit = long_unit_of(name)
        cells = []
        for p in policies:
            r = by.get((p, name))
            if r is None:
                cells.append(Cell("—", num=True))
                continue
            diff = as_float(r.get("difference"))
            lo = as_float(r.get(ci_cols["lo"][0])) if "lo" in ci_cols else None
            hi = as_float(r.get(ci_cols["hi"][0])) if "hi" in ci_cols else None
            sub = ""
            if lo is not None and hi is not None:
                sub = f"[{format_difference(lo, unit)}, {format_difference(hi, unit)}]"
            clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
            cells.append(
                Cell(format_difference(diff, unit), num=True, sub=sub, cls="clear" if clear else "")
            )
        body.append([title_of(name), *cells])
    level = ci_cols.get("lo", ("", ""))[1]
    caption = (
        f"Each policy minus {baseline}, paired on the same replications (mean difference); "
        f"below each, its {level} % confidence interval. Bold: the interval excludes zero."
    )
    return table(["Measure", *(Cell(p, num=True) for p in policies)], body, caption=caption)


def icer_table(diff_rows: list[dict[str, str]], comp_rows: list[dict[str, str]]) -> Table:
    """What each policy buys against the baseline: people it adds, public money it adds, and
    their ratio (the ``public_cost_per_additional_person_usd`` row of differences.csv, with
    Fieller's interval), beside the average public cost per person reached."""
    ci_cols = {
        m.group("side"): col for col in (diff_rows[0] if diff_rows else {})
        if (m := _CI_COLUMN.match(col))
    }  # fmt: skip
    by = {(r.get("policy", "?"), r.get("metric", "?")): r for r in diff_rows}
    average = {r.get("policy", "?"): r.get(f"{_PER_PERSON}_mean") for r in comp_rows}
    policies = list(dict.fromkeys(r.get("policy", "?") for r in diff_rows))

    def cell(policy: str, metric: str, fmt: Callable[[object], str]) -> Cell:
        r = by.get((policy, metric))
        if r is None:
            return Cell("—", num=True)
        lo, hi = (as_float(r.get(ci_cols[k])) if k in ci_cols else None for k in ("lo", "hi"))
        sub = f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else "[unbounded]"
        clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
        return Cell(fmt(as_float(r.get("difference"))), num=True, sub=sub,
                    cls="clear" if clear else "")  # fmt: skip

    def people(v: object) -> str:
        return format_difference(v, "count")

    def money(v: object) -> str:
        return format_difference(v, "money")

    def per_person(v: object) -> str:
        return format_long(v, "money")

    baseline = diff_rows[0].get("baseline", "") if diff_rows else ""
    return table(
        [
            "Policy",
            *number_heads(
                "Additional people reached",
                "Additional public cost",
                "Public cost per additional person",
                "Average public cost per person reached",
            ),
        ],
        [
            (
                p,
                cell(p, "people_reached", people),
                cell(p, "public_cost_usd", money),
                cell(p, ICER, per_person),
                Cell(per_person(as_float(average.get(p))), num=True),
            )
            for p in policies
        ],
        caption=f"Against {baseline}, paired on the same replications: below each, its "
        "confidence interval (Fieller's for the cost per additional person; unbounded when "
        "the effect on people reached is not clearly different from zero). The incremental "
        "cost is what the policy's effect costs; the average counts people the operator "
        "would have reached anyway.",
    )
