"""One operator's credit line: drawdowns, balance and the monthly debt-service schedule.

Pure bookkeeping (no simpy, no clock): the caller asks what is due on a given month with
:meth:`LoanBook.due`, books it, and reports what it paid with :meth:`LoanBook.pay`. Months are
counted from the line's start; month 1 is the first monthly debt-service date. All amounts are
US$ rounded to the cent, like the ledger that records them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..units import cents

__all__ = ["LoanBook", "LoanTerms", "annuity_payment"]

#: Below this r·n the annuity uses its series in r: the closed form's 1 − (1 + r)^−n would be a
#: difference of nearly equal numbers (and exactly 0, a division by zero, once 1 + r == 1).
_SMALL_RN = 1e-9


def annuity_payment(balance_usd: float, monthly_rate: float, months: int) -> float:
    """Level payment amortising *balance_usd* over *months* at *monthly_rate* (unrounded).

    ``B·r / (1 − (1+r)^−n)``, with 1 − (1+r)^−n computed as −expm1(−n·log1p(r)) so it keeps
    full precision for small r. As r → 0 the payment tends to B/n; below r·n = 1e-9 the series
    B/n·(1 + r(n+1)/2) is used, whose next term is O((r·n)²) ≈ 1e-18 relative: exact to the
    cent for any balance, and defined for every rate down to 0.
    """
    r, n = monthly_rate, months
    if r * n < _SMALL_RN:
        return balance_usd / n * (1.0 + r * (n + 1) / 2.0)
    return balance_usd * r / -math.expm1(-n * math.log1p(r))


@dataclass(frozen=True)
class _Level:
    """A running annuity: the level payment fixed when the balance was (re-)amortised.

    It stays valid while the book follows it, i.e. on month *next_month* with balance
    *balance_usd*; anything else (a drawdown, a missed or partial payment) re-amortises.
    """

    next_month: int
    balance_usd: float
    payment_usd: float


@dataclass(frozen=True)
class LoanTerms:
    """What a line's contract fixes, checked once: it never changes."""

    #: The most that can ever be drawn in total.
    limit_usd: float
    #: Nominal, a year (the book charges a twelfth of it a month).
    annual_rate: float
    #: Months of interest only, counted from month 1.
    grace_months: int
    #: Months of amortisation after the grace period.
    tenor_months: int

    def __post_init__(self) -> None:
        for name in ("limit_usd", "annual_rate"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        for name, least in (("grace_months", 0), ("tenor_months", 1)):
            months = getattr(self, name)
            if isinstance(months, bool) or not isinstance(months, int) or months < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {months!r}")

    @property
    def last_month(self) -> int:
        """The final scheduled month, grace_months + tenor_months: the balance is cleared then."""
        return self.grace_months + self.tenor_months


class LoanBook:
    """Balance and schedule of one term credit line: interest-only grace, then an annuity.

    * Rates: the monthly rate is ``annual_rate / 12`` (the nominal convention, as loan contracts
      quote it), not the effective ``(1 + annual_rate)^(1/12) − 1``.
    * Drawdowns: up to *limit_usd* in total. Repaid principal does not become available again
      (a term loan, not a revolver). A frozen line (covenant breach, lender pull-out) lends no more.
    * Months 1..grace_months: interest only. Months grace_months+1 .. grace_months+tenor_months:
      an annuity amortising the balance over the months left. The level payment
      ``B·r / (1 − (1+r)^−n)`` (``B/n`` when r = 0; n = months left including this one) is fixed
      when amortisation starts and kept while the book follows it, so payments are equal to the
      cent and the last month, which clears the balance, absorbs the sub-cent rounding. A drawdown
      or a payment that differs from what was due re-amortises the new balance over the months
      left. (Recomputing the payment every month from the rounded balance would drift by a cent
      now and then.) After the term the whole balance is due at once.

    The balances are plain attributes: read them; only :meth:`draw`, :meth:`pay` and
    :meth:`freeze` change them. Each call is O(1); :meth:`schedule` is O(months).
    """

    def __init__(
        self, *, limit_usd: float, annual_rate: float, grace_months: int, tenor_months: int
    ) -> None:
        self.terms = LoanTerms(limit_usd, annual_rate, grace_months, tenor_months)
        #: Total drawn since the line opened.
        self.drawn_usd = 0.0
        #: Principal outstanding.
        self.balance_usd = 0.0
        #: Total interest reported through :meth:`pay`.
        self.interest_paid_usd = 0.0
        #: True once :meth:`freeze` was called: no further drawdowns.
        self.frozen = False
        self._level: _Level | None = None
        # What the last due() quoted, so pay() can tell whether the book followed the annuity.
        self._quoted: tuple[int, float, float, float] | None = None

    @property
    def monthly_rate(self) -> float:
        """r = annual_rate / 12 (nominal convention): what the book charges a month."""
        return self.terms.annual_rate / 12.0

    @property
    def available_usd(self) -> float:
        """Still drawable: limit − total drawn (repaying does not restore it); 0 if frozen."""
        if self.frozen:
            return 0.0
        return max(cents(self.terms.limit_usd - self.drawn_usd), 0.0)

    def freeze(self) -> None:
        """Stop further drawdowns; the balance is still serviced on schedule."""
        self.frozen = True

    # -- operations --------------------------------------------------------------------------

    def draw(self, amount_usd: float) -> float:
        """Draw min(amount, available), rounded to the cent and ≥ 0; returns what was drawn.

        Because *available* is itself a whole number of cents, rounding the drawn amount never
        exceeds the limit. A drawdown after grace is re-amortised at the next :meth:`due`.
        """
        if math.isnan(amount_usd):
            raise ValueError("amount_usd is NaN")
        drawn = cents(min(max(amount_usd, 0.0), self.available_usd))
        if drawn <= 0:
            return 0.0
        self.drawn_usd = cents(self.drawn_usd + drawn)
        self.balance_usd = cents(self.balance_usd + drawn)
        self._level = None
        return drawn

    def due(self, month: int) -> tuple[float, float]:
        """(interest, principal) due on *month* (1-based), both rounded to the cent.

        Interest is round(balance × r, 2). Principal is 0 during grace; after grace it is the
        level payment minus the interest, capped at the balance; on the last month, or any month
        after the term, it is the whole balance. Does not change the balance: call :meth:`pay`.
        """
        if isinstance(month, bool) or not isinstance(month, int) or month < 1:
            raise ValueError(f"month must be an integer >= 1, got {month!r}")
        balance = self.balance_usd
        interest = cents(balance * self.monthly_rate)
        if balance <= 0:
            self._quoted = None
            return 0.0, 0.0
        if month <= self.terms.grace_months:
            self._quoted = None
            return interest, 0.0
        if month >= self.terms.last_month:
            self._quoted = None
            return interest, balance
        level = self._level
        if level is None or level.next_month != month or level.balance_usd != balance:
            payment = self._annuity_usd(balance, self.terms.last_month - month + 1)
        else:
            payment = level.payment_usd
        principal = min(max(cents(payment - interest), 0.0), balance)
        self._quoted = (month, balance, payment, principal)
        return interest, principal

    def pay(self, interest_usd: float, principal_usd: float) -> None:
        """Record a payment: the balance falls by *principal_usd* (never below 0).

        Paying exactly what :meth:`due` quoted keeps the level payment; paying anything else
        re-amortises what is left at the next :meth:`due`.
        """
        if not (interest_usd >= 0 and principal_usd >= 0):
            raise ValueError(
                f"payments must be >= 0, got interest {interest_usd!r}, principal {principal_usd!r}"
            )
        before = self.balance_usd
        repaid = min(cents(principal_usd), before)
        self.balance_usd = max(cents(before - repaid), 0.0)
        self.interest_paid_usd = cents(self.interest_paid_usd + interest_usd)
        quoted = self._quoted
        if quoted is not None and quoted[1] == before and quoted[3] == repaid:
            self._level = _Level(quoted[0] + 1, self.balance_usd, quoted[2])
        else:
            self._level = None
        self._quoted = None

    def schedule(self, months: int | Iterable[int]) -> list[tuple[int, float, float, float]]:
        """Rows (month, interest, principal, balance_after) assuming no further drawdowns.

        *months* is a count n (months 1..n) or an iterable of month numbers in order. Each due
        amount is paid in full on a copy of the book, so this one is left untouched.
        """
        book = copy.copy(self)
        month_list = range(1, months + 1) if isinstance(months, int) else months
        rows: list[tuple[int, float, float, float]] = []
        for month in month_list:
            interest, principal = book.due(month)
            book.pay(interest, principal)
            rows.append((month, interest, principal, book.balance_usd))
        return rows

    def _annuity_usd(self, balance_usd: float, months_left: int) -> float:
        """Level payment amortising *balance_usd* over *months_left* months, to the cent."""
        return cents(annuity_payment(balance_usd, self.monthly_rate, months_left))
