"""Units every part of the model shares: days in a year, and money to the cent."""

from __future__ import annotations

from typing import Final

__all__ = ["DAYS_PER_YEAR", "cents"]

#: Days in a (Julian) year: converts simulation days to the years that rates, budgets and
#: adoption curves are quoted in.
DAYS_PER_YEAR: Final = 365.25


def cents(amount: float) -> float:
    """Round US$ to the cent (every amount the ledger books is)."""
    return round(amount, 2)
