"""The ledger (every cash movement is one row) and each operator's treasury.

Cash is never stored apart from the ledger: a treasury's balance is the running sum of its own
ledger rows, so "cash = sum of the ledger" holds by construction. Payments that cannot be made
wait in a FIFO and are served when money arrives (an event, not polling).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

import simpy

__all__ = ["CATEGORIES", "Ledger", "Treasury"]

#: Ledger categories; inflows are positive amounts, outflows negative.
CATEGORIES: Final = (
    "equity",
    "capex",
    "opex",
    "repair",
    "revenue",
    "loan_drawdown",
    "interest",
    "principal",
    "subsidy",
)


def _cents(amount: float) -> float:
    return round(amount, 2)


@dataclass
class Ledger:
    """Append-only list of cash movements, stored column-wise."""

    operators: tuple[str, ...]
    time: list[float] = field(default_factory=list)
    operator: list[int] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)
    counterparty: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)

    def record(
        self, t: float, op: int, category: str, amount: float, counterparty: str, ref: str = ""
    ) -> float:
        """Append a row; returns the amount as booked (rounded to the cent)."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown ledger category {category!r}")
        booked = _cents(amount)
        self.time.append(t)
        self.operator.append(op)
        self.category.append(category)
        self.amount.append(booked)
        self.counterparty.append(counterparty)
        self.ref.append(ref)
        return booked

    def __len__(self) -> int:
        return len(self.time)

    def balance(self, op: int) -> float:
        """Sum of an operator's rows (O(rows); the treasury keeps it incrementally)."""
        return _cents(sum(a for o, a in zip(self.operator, self.amount, strict=True) if o == op))


@dataclass
class _Payment:
    amount: float
    category: str
    counterparty: str
    ref: str
    event: simpy.Event


class Treasury:
    """An operator's cash: pays in order of request, waits for cash when there is none."""

    def __init__(self, env: simpy.Environment, ledger: Ledger, op: int) -> None:
        self.env = env
        self.ledger = ledger
        self.op = op
        self._cash = 0.0
        self._waiting: deque[_Payment] = deque()

    @property
    def cash(self) -> float:
        return self._cash

    @property
    def waiting(self) -> int:
        """Payments queued for cash."""
        return len(self._waiting)

    def receive(self, amount: float, category: str, counterparty: str, ref: str = "") -> None:
        """Book an inflow and serve any payments now affordable."""
        if amount < 0:
            raise ValueError("receive() takes a non-negative amount")
        self._cash = _cents(
            self._cash
            + self.ledger.record(self.env.now, self.op, category, amount, counterparty, ref)
        )
        self._serve()

    def pay(self, amount: float, category: str, counterparty: str, ref: str = "") -> simpy.Event:
        """An event that succeeds once *amount* has been paid (FIFO behind earlier payments)."""
        event = self.env.event()
        self._waiting.append(_Payment(_cents(amount), category, counterparty, ref, event))
        self._serve()
        return event

    def _serve(self) -> None:
        while self._waiting and self._waiting[0].amount <= self._cash:
            p = self._waiting.popleft()
            booked = self.ledger.record(
                self.env.now, self.op, p.category, -p.amount, p.counterparty, p.ref
            )
            self._cash = _cents(self._cash + booked)
            p.event.succeed(p.amount)

    def describe(self) -> dict[str, Any]:
        return {"cash_usd": self._cash, "payments_waiting": len(self._waiting)}
