"""An operator's credit lines: on-demand drawdowns for capex, tranches, debt service, default.

Each line keeps its balance in a :class:`~.loans.LoanBook`; this module adds what depends on
the simulation: when a line is open, the covenant (debt ≤ ratio × cumulative capex), booking
drawdowns and debt service in the ledger, and the default when debt service cannot be paid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import InitVar, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import simpy

from ..scenario.schema import CreditLine
from ..units import cents
from .finance import Treasury
from .loans import LoanBook, annuity_payment

if TYPE_CHECKING:
    from .funding import FundingPort

__all__ = ["CreditDesk", "Facility"]


class Facility:
    """One credit line of one operator (*public* names the funding instrument, if any)."""

    def __init__(
        self, spec: CreditLine, start_day: float, end_day: float | None, public: str | None = None
    ) -> None:
        self.spec = spec
        self.public = public
        self.book = LoanBook(
            limit_usd=spec.limit_usd,
            annual_rate=spec.annual_rate,
            grace_months=spec.grace_months,
            tenor_months=spec.tenor_months,
        )
        self.start_day = start_day
        self.end_day = end_day
        self.months = 0  # debt-service dates passed
        self.blocked = False  # the covenant refused the last on-demand drawdown

    def open_at(self, t: float) -> bool:
        return (
            not self.book.frozen
            and t >= self.start_day
            and (self.end_day is None or t <= self.end_day)
        )


@dataclass(eq=False)
class CreditDesk:
    """All credit lines of one operator: the credit its treasury draws on.

    Built before the treasury, which is given the desk and starts its dated flows
    (:meth:`start`); whatever the desk books, it books through the treasury it is handed.
    """

    env: simpy.Environment
    specs: InitVar[list[tuple[CreditLine, str | None]]]
    start_date: date
    capex_paid: Callable[[], float]
    log: Callable[[str, str], None]
    funding: FundingPort | None = None
    defaulted: bool = field(default=False, init=False)
    facilities: list[Facility] = field(default_factory=list, init=False)

    def __post_init__(self, specs: list[tuple[CreditLine, str | None]]) -> None:
        for spec, public in specs:
            start = float((spec.start_date - self.start_date).days) if spec.start_date else 0.0
            end = float((spec.end_date - self.start_date).days) + 1 if spec.end_date else None
            self.facilities.append(Facility(spec, max(start, 0.0), end, public))

    def start(self, treasury: Treasury) -> None:
        """Start the lines' dated flows into *treasury*: lines drawn on demand that open later
        (capex waiting for money may then draw), and scheduled tranches."""
        for f in self.facilities:
            if f.start_day > 0 and f.spec.drawdown == "on_demand":
                self.env.process(self._open_later(f, treasury))
            if f.spec.tranches:
                self.env.process(self._tranches(f, treasury))

    @property
    def debt_usd(self) -> float:
        return cents(sum(f.book.balance_usd for f in self.facilities))

    def _open_later(self, f: Facility, treasury: Treasury) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(f.start_day)
        treasury.serve()  # capex waiting for money may now draw on the line

    def _tranches(self, f: Facility, treasury: Treasury) -> Generator[simpy.Event, Any, None]:
        assert f.spec.tranches is not None
        for tranche in f.spec.tranches:
            day = float((tranche.date - self.start_date).days)
            if day > self.env.now:
                yield self.env.timeout(day - self.env.now)
            drawn = f.book.draw(tranche.amount_usd)
            if drawn > 0:
                self._flow(f, "loan_drawdown", drawn)
                treasury.receive(drawn, "loan_drawdown", f.spec.lender, "tranche")
            else:
                self.log("tranche_refused", f"{f.spec.lender}: line frozen")

    def draw_for_capex(self, treasury: Treasury, shortfall: float, amount: float) -> bool:
        """Draw *shortfall* into *treasury* for a capex payment of *amount*, all or nothing.
        Returns success."""
        if self.defaulted:
            return False
        now = self.env.now
        capex_after = self.capex_paid() + amount
        debt = self.debt_usd
        need = shortfall
        plan: list[tuple[Facility, float]] = []
        for f in self.facilities:
            if f.spec.drawdown != "on_demand" or not f.open_at(now):
                continue
            # A dollar drawn adds *k* to next month's debt service, which the reserve keeps
            # back too: covering *need* takes need / (1 − k) (none when k ≥ 1, a last month).
            k = self._service_per_usd(f)
            if k >= 1.0:
                continue
            gross = math.ceil(need / (1.0 - k) * 100.0) / 100.0
            room = f.book.available_usd
            if f.spec.max_debt_to_capex is not None:
                covenant_room = f.spec.max_debt_to_capex * capex_after - debt
                if covenant_room < min(room, gross) and not f.blocked:
                    f.blocked = True
                    self.log(
                        "covenant_block",
                        f"{f.spec.lender}: debt would exceed {f.spec.max_debt_to_capex:g} × capex",
                    )
                elif covenant_room >= min(room, gross):
                    f.blocked = False
                room = min(room, max(covenant_room, 0.0))
            take = cents(min(room, gross))
            if take > 0:
                plan.append((f, take))
                need = cents(need - take * (1.0 - k))
                debt += take
            if need <= 0:
                break
        if need > 0:
            return False
        for f, take in plan:
            drawn = f.book.draw(take)
            treasury.book(drawn, "loan_drawdown", f.spec.lender, "capex")
            self._flow(f, "loan_drawdown", drawn)
        return True

    def _service_per_usd(self, f: Facility) -> float:
        """What a dollar drawn on *f* now adds to :meth:`next_service_usd`: the month's
        interest, or in repayment the level instalment per dollar of balance."""
        r = f.book.monthly_rate
        month = f.months + 1
        if month > f.book.terms.grace_months:
            left = max(f.book.terms.last_month - month + 1, 1)
            return max(annuity_payment(1.0, r, left), r)
        return r

    def _flow(self, f: Facility, kind: str, amount: float) -> None:
        if f.public is not None and self.funding is not None:
            self.funding.loan_flow(f.public, kind, amount)

    def next_service_usd(self) -> float:
        """An estimate of next month's debt service, kept back from capex (a debt-service
        reserve): an operator that spent it on towers would default at the next due date."""
        total = 0.0
        for f in self.facilities:
            b = f.book.balance_usd
            if b <= 0 or self.defaulted:
                continue
            r = f.book.monthly_rate
            month = f.months + 1
            total += b * r
            if month > f.book.terms.grace_months:
                left = max(f.book.terms.last_month - month + 1, 1)
                # Not b·r / (1 − (1+r)^−left): with a tiny rate 1 + r == 1 and that divides
                # by zero; the shared annuity handles every rate down to 0.
                payment = annuity_payment(b, r, left)
                total += max(payment - b * r, 0.0)
        return cents(total)

    def service(self, treasury: Treasury) -> bool:
        """Pay this month's debt service from *treasury*; returns False (and books nothing) if
        cash is short."""
        now = self.env.now
        dues: list[tuple[Facility, float, float]] = []
        for f in self.facilities:
            if now <= f.start_day or self.defaulted:
                continue
            f.months += 1
            if f.book.balance_usd <= 0:
                continue
            interest, principal = f.book.due(f.months)
            dues.append((f, interest, principal))
        total = cents(sum(i + p for _, i, p in dues))
        if total > treasury.cash:
            return False
        for f, interest, principal in dues:
            if interest > 0:
                treasury.book(-interest, "interest", f.spec.lender, f"month {f.months}")
                self._flow(f, "interest", -interest)
            if principal > 0:
                treasury.book(-principal, "principal", f.spec.lender, f"month {f.months}")
                self._flow(f, "principal", -principal)
            f.book.pay(interest, principal)
        return True

    def default(self) -> list[tuple[str, float]]:
        """Debt service went unpaid: every line freezes. Returns (lender, balance) per line."""
        self.defaulted = True
        for f in self.facilities:
            f.book.freeze()
        return [(f.spec.lender, f.book.balance_usd) for f in self.facilities]
