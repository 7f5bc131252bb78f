"""The cost and availability sections: a run's money and outages in totals and by operator; the
cost measures of replications and comparisons, by policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...outcomes import format_long, long_formatter, long_unit_of, title_of
from ...summaries import RunSummary, Spread
from ..view import Cell, Table, number_heads, spread_cell, table

__all__ = ["COST_METRICS", "availability_tables", "cost_table", "finance_tables"]

#: Cost measures of replications and comparisons, in the order the cost table shows them.
COST_METRICS = (
    "capex_usd",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "revenue_usd",
    "debt_usd",
    "cash_usd",
)


def _total(values: Iterable[float]) -> float | None:
    """The sum over operators (None: there are none)."""
    known = list(values)
    return sum(known) if known else None


_money = long_formatter("money")
_count = long_formatter("count")
_rate = long_formatter("rate")


def finance_tables(summary: RunSummary) -> list[Table]:
    """A run's money over the horizon, in total and by operator."""
    final, ops = summary.final, summary.operators
    totals = [
        ("Revenue", final.revenue_cumulative_usd),
        ("Operating costs (opex)", final.opex_cumulative_usd),
        ("Repairs", final.repair_cumulative_usd),
        ("Interest", final.interest_cumulative_usd),
        ("Capex", final.capex_cumulative_usd),
        ("Loans drawn", _total(o.loan_drawdown_usd for o in ops)),
        ("Principal repaid", _total(o.principal_repaid_usd for o in ops)),
        ("Public money received (public cost)", summary.public_cost_usd),
        ("Debt at the end", final.debt_usd),
        ("Cash at the end", final.cash_usd),
    ]
    tables = [
        table(
            ["Total over the horizon", Cell("US$", num=True)],
            [(label, Cell(_money(v), num=True)) for label, v in totals],
        )
    ]
    if ops:
        heads = ("Capex", "Revenue", "Opex", "Repairs", "Interest", "Cash at the end")
        tables.append(
            table(
                ["Operator", *number_heads(*heads), "Defaulted"],
                [
                    (
                        o.name,
                        *(
                            Cell(_money(v), num=True)
                            for v in (
                                o.capex_usd,
                                o.revenue_usd,
                                o.opex_usd,
                                o.repair_usd,
                                o.interest_usd,
                                o.cash_end_usd,
                            )
                        ),
                        "yes" if o.defaulted else "no",
                    )
                    for o in ops
                ],
                caption="By operator.",
            )
        )
    return tables


def availability_tables(summary: RunSummary) -> list[Table]:
    """A run's failures, repairs and service lost, in total and by operator."""
    final, ops = summary.final, summary.operators
    totals = [
        ("Failures", _count(_total(o.failures for o in ops))),
        ("Repairs", _count(_total(o.repairs for o in ops))),
        (
            "Availability (share of site-days on air)",
            format_long(summary.availability, "availability"),
        ),
        ("People-days of service lost", format_long(summary.people_days_lost, "big")),
        ("Sites down at the end", _count(final.sites_down)),
        ("People covered at the end, net of outages", _count(final.people_covered_net)),
    ]
    tables = [
        table(["Measure", Cell("Value", num=True)], [(a, Cell(b, num=True)) for a, b in totals])
    ]
    if ops:
        tables.append(
            table(
                [
                    "Operator",
                    *number_heads(
                        "Failures",
                        "Repairs",
                        "Availability",
                        "Mean wait for a crew",
                        "Mean downtime per failure",
                    ),
                ],
                [
                    (
                        o.name,
                        Cell(_count(o.failures), num=True),
                        Cell(_count(o.repairs), num=True),
                        Cell(format_long(o.availability, "availability"), num=True),
                        Cell(f"{_rate(o.mean_repair_wait_days)} days", num=True),
                        Cell(f"{_rate(o.mean_downtime_per_failure_days)} days", num=True),
                    )
                    for o in ops
                ],
                caption="By operator.",
            )
        )
    return tables


def cost_table(by_policy: Mapping[str, Mapping[str, Spread]], interval: str) -> Table:
    """The cost measures of each policy (one a column), means with their intervals."""
    names = [m for m in COST_METRICS if any(m in v for v in by_policy.values())]
    rows: list[list[str | Cell]] = []
    for name in names:
        unit = long_unit_of(name)
        rows.append([title_of(name), *(spread_cell(v.get(name), unit) for v in by_policy.values())])
    return table(
        ["Measure", *number_heads(*by_policy)],
        rows,
        caption=f"Means across replications; below each, the {interval}. Public cost: what "
        "funders pay out less what comes back, within the horizon.",
    )
