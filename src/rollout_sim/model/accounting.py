"""One operator's monthly books: revenue, running costs, preventive maintenance, debt service.

Flows between two accounting dates are evaluated in closed form over the operator's sites
(vectorised; nothing ticks per village, subscriber or day): revenue from each site's Bass
adoption curve, less the share of the period the site was down; opex for each built site's
days in the period. Revenue comes in first, then debt service is due, then running costs are
queued for payment (after repairs, ahead of capex).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..scenario.schema import Operator
from ..units import DAYS_PER_YEAR, cents
from .credit import CreditDesk
from .demand import revenue_usd
from .finance import Treasury
from .network import Network

if TYPE_CHECKING:
    from .funding import FundingPort

__all__ = ["Accounts", "month_starts"]


def month_starts(start: date, horizon_days: int) -> list[float]:
    """Day offsets of the first of each month after *start*, before the horizon."""
    out: list[float] = []
    day = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    while (t := float((day - start).days)) < horizon_days:
        out.append(t)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


@dataclass(eq=False)
class Accounts:
    """Books an operator's monthly flows through its treasury."""

    network: Network
    op: int
    spec: Operator
    treasury: Treasury
    credit: CreditDesk
    #: Annual running cost of each village's site (the operator's, filled in as it claims).
    opex_usd_year: NDArray[np.float64]
    on_default: Callable[[], None]
    funding: FundingPort | None = None
    #: Whether the operator still maintains its sites (after a default with
    #: ``stop_maintenance`` it does not, and spends no preventive budget either).
    maintained: Callable[[], bool] = lambda: True

    def __post_init__(self) -> None:
        self._last_down = np.zeros(len(self.network.world))
        self._last_t = 0.0
        share = self.spec.revenue.operator_share
        self.revenue_from = "subscribers" if share >= 1 else "mobile operators (wholesale)"

    def close(self, t: float, *, due: bool = True) -> None:
        """Book the period from the last accounting date to *t*: every flow of the instant is
        booked before any waiting payment is served, so the month's running costs come before
        waiting capex (priority order), whatever arrived first. *due*: the month's debt
        service falls due at *t* (the first of a month; not at the horizon, where the last
        partial period books its accruals but no instalment falls due)."""
        with self.treasury.hold():
            self._close(t, due)

    def _close(self, t: float, due: bool = True) -> None:
        t1, t2 = self._last_t, t
        self._last_t = t
        if t2 <= t1:
            return
        sites = self.network.sites
        if self.spec.equity_usd_per_year > 0:
            self.treasury.receive(
                cents(self.spec.equity_usd_per_year * (t2 - t1) / DAYS_PER_YEAR),
                "equity",
                "shareholders",
                "scheduled equity",
            )
        mine = np.flatnonzero(sites.operator == self.op)
        on_air = mine[np.isfinite(sites.on_air_day[mine])]
        if len(on_air):
            # Downtime is asked for the sites on air only; a site's last figure is 0 until it
            # is first on air (only a site in service can go down).
            down_now = self.network.downtime_until(t2, on_air)
            since = np.maximum(sites.on_air_day[on_air], t1)
            span = t2 - since
            down = down_now - self._last_down[on_air]
            up = np.clip(1.0 - np.divide(down, span, out=np.zeros_like(span), where=span > 0), 0, 1)
            rev = self.spec.revenue
            amounts = revenue_usd(
                t1,
                t2,
                sites.on_air_day[on_air],
                sites.people_new[on_air].astype(np.float64),
                ceiling_share=rev.adoption.ceiling_share,
                p=rev.adoption.p,
                q=rev.adoption.q,
                arpu_usd_month=rev.arpu_usd_month,
                share=rev.operator_share,
                up_fraction=up,
            )
            self.treasury.receive(cents(float(amounts.sum())), "revenue", self.revenue_from)
            self._last_down[on_air] = down_now

        if due and not self.credit.service(self.treasury):
            self.on_default()

        built = mine[np.isfinite(sites.built_day[mine])]
        if len(built):
            days = t2 - np.maximum(sites.built_day[built], t1)
            opex = cents(float((self.opex_usd_year[built] * days).sum()) / DAYS_PER_YEAR)
            prev = self.spec.preventive_usd_per_site_year
            spend = (
                cents(prev * float(days.sum()) / DAYS_PER_YEAR)
                if prev > 0 and self.maintained()
                else 0.0
            )
            for amount, what in ((opex, "site running costs"), (spend, "preventive maintenance")):
                if amount <= 0:
                    continue
                self.treasury.pay(amount, "opex", what, support=self._support("opex", amount, what))

    def _support(self, kind: str, amount: float, what: str) -> Callable[[], object] | None:
        """Funds' share of a bill, booked once the bill is queued (see Treasury.pay)."""
        funding, treasury = self.funding, self.treasury
        if funding is None:
            return None
        return lambda: funding.running_cost_support(kind, amount, treasury, what)
