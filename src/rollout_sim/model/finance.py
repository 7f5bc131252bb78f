"""The ledger (every cash movement is one row) and each operator's treasury.

Cash is never stored apart from the ledger: a treasury's balance is the running sum of its own
ledger rows, so "cash = sum of the ledger" holds by construction. Payments that cannot be made
wait in a queue and are served when money arrives (an event, not polling): repairs first,
then running costs, then capex, first come first served within a class. A capex payment that
cash cannot cover may draw on the operator's credit lines (see :mod:`.credit`).

A going concern protects its running costs: capex is paid only while cash stays above a
reserve (a fixed amount, plus some months of running costs, plus the next debt service).
Money a funder pays *towards* a bill (an opex fund's share) is booked only once the bill is
in the queue, so it can never be spent on a bill of lower priority first.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol

import simpy

from ..units import cents

__all__ = [
    "CATEGORIES",
    "PAYMENT_PRIORITY",
    "CapexReserve",
    "CapexSupport",
    "CreditSource",
    "Halted",
    "Ledger",
    "Treasury",
]

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

_CATEGORY = {c: c for c in CATEGORIES}

#: Order in which waiting payments are served (lower first): repairs bring revenue back, so
#: they come before the running-cost backlog; capex waits for both.
PAYMENT_PRIORITY: Final = {"repair": 0, "opex": 1, "capex": 2}


class Halted(Exception):
    """A waiting payment was cancelled: the operator stopped building (e.g. after a default)."""


@dataclass
class Ledger:
    """Append-only list of cash movements, stored column-wise."""

    operators: tuple[str, ...]
    # Numbers in compact arrays, text in lists (mostly shared strings): a 30-year run books
    # hundreds of thousands of rows.
    time: array[float] = field(default_factory=lambda: array("d"))
    operator: array[int] = field(default_factory=lambda: array("i"))
    category: list[str] = field(default_factory=list)
    amount: array[float] = field(default_factory=lambda: array("d"))
    counterparty: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)
    #: The operator's cash right after each row (the running sum of its rows).
    balance: array[float] = field(default_factory=lambda: array("d"))
    _cash: dict[int, float] = field(default_factory=dict)

    def cash(self, op: int) -> float:
        """An operator's cash: the sum of its rows so far, to the cent."""
        return self._cash.get(op, 0.0)

    def record(
        self, t: float, op: int, category: str, amount: float, counterparty: str, ref: str = ""
    ) -> float:
        """Append a row; returns the amount as booked (rounded to the cent)."""
        shared = _CATEGORY.get(category)  # the shared string, not a copy per row
        if shared is None:
            raise ValueError(f"unknown ledger category {category!r}")
        return self.record_cents(t, op, shared, cents(amount), counterparty, ref)

    def record_cents(
        self, t: float, op: int, category: str, booked: float, counterparty: str, ref: str
    ) -> float:
        """:meth:`record` of an amount in cents already (a ``cents()`` result, or its
        negation: rounding it again gives it back) under a category's shared name: the row
        as ``record`` appends it, without the lookup and the rounding (a repair bill's)."""
        self.time.append(t)
        self.operator.append(op)
        self.category.append(category)
        self.amount.append(booked)
        self.counterparty.append(counterparty)
        self.ref.append(ref)
        cash = self._cash[op] = cents(self._cash.get(op, 0.0) + booked)
        self.balance.append(cash)
        return booked

    def __len__(self) -> int:
        return len(self.time)

    def row_sum(self, op: int) -> float:
        """Sum of an operator's rows recomputed from scratch (O(rows); for checks)."""
        return cents(sum(a for o, a in zip(self.operator, self.amount, strict=True) if o == op))


class _Payment(NamedTuple):
    amount: float
    category: str
    counterparty: str
    ref: str
    #: Succeeds when paid; None for a bill nobody waits for (:meth:`Treasury.owe`).
    event: simpy.Event | None
    village: int = -1


#: Subsidy towards a capex payment: (village, amount, commit) -> USD (booked when committed).
CapexSupport = Callable[[int, float, bool], float]


class CreditSource(Protocol):
    """Credit a treasury may draw on: its dated flows (tranches, lines that open later) pay
    into the treasury from the start, and a capex payment that cash cannot cover may draw."""

    def start(self, treasury: Treasury) -> None:
        """Start the dated flows into *treasury* (called once, when the treasury is built)."""

    def draw_for_capex(self, treasury: Treasury, shortfall: float, amount: float) -> bool:
        """Draw *shortfall* into *treasury* for a capex payment of *amount*; True if drawn."""
        ...


@dataclass(frozen=True)
class CapexReserve:
    """Cash a going concern keeps back from capex (running costs and repairs may use it): a
    fixed amount plus amounts computed when a capex payment is weighed (next month's debt
    service, months of running costs), added up in order."""

    fixed_usd: float = 0.0
    extra: tuple[Callable[[], float], ...] = ()

    def usd(self) -> float:
        return self.fixed_usd + sum(f() for f in self.extra)


class Treasury:
    """An operator's cash: pays in priority order, waits for cash when there is none.

    Built with what it consults when it pays capex: the *reserve* kept back, the *credit* it
    may draw on (whose dated flows start now) and the subsidies towards a site's capex
    (*capex_support*).

    The waiting payments are queues of its own rather than a SimPy ``Container``: a container
    serves any request its level covers, whereas here the first unpaid payment in priority
    order blocks every one behind it, and a capex payment's need depends on the reserve, the
    subsidies and the credit at the moment it is weighed. One first-in first-out queue per
    priority class (not one heap): a money-bound operator keeps thousands of capex payments
    waiting, and each repair bill pushed through a heap of them cost dozens of comparisons.
    """

    def __init__(
        self,
        env: simpy.Environment,
        ledger: Ledger,
        op: int,
        *,
        reserve: CapexReserve | None = None,
        credit: CreditSource | None = None,
        capex_support: CapexSupport | None = None,
    ) -> None:
        self.env = env
        self.ledger = ledger
        self.op = op
        #: Waiting payments, one queue per priority class (index: PAYMENT_PRIORITY).
        self._queues: tuple[deque[_Payment], ...] = tuple(
            deque() for _ in range(len(PAYMENT_PRIORITY))
        )
        self._reserve = CapexReserve() if reserve is None else reserve
        self._credit = credit
        self._capex_support = capex_support
        self._held = 0
        self._stopped: set[str] = set()
        if credit is not None:
            credit.start(self)

    @property
    def cash(self) -> float:
        """Cash now: always the ledger's running sum of this operator's rows."""
        return self.ledger.cash(self.op)

    @property
    def waiting(self) -> int:
        """Payments queued for cash."""
        return sum(len(q) for q in self._queues)

    def book(self, amount: float, category: str, counterparty: str, ref: str = "") -> float:
        """Book a movement now, without queueing (the caller has checked the cash)."""
        return self.ledger.record(self.env.now, self.op, category, amount, counterparty, ref)

    def receive(self, amount: float, category: str, counterparty: str, ref: str = "") -> None:
        """Book an inflow and serve any payments now affordable."""
        if amount < 0:
            raise ValueError("receive() takes a non-negative amount")
        if cents(amount) == 0:
            return
        self.book(amount, category, counterparty, ref)
        self.serve()

    def pay(
        self,
        amount: float,
        category: str,
        counterparty: str,
        ref: str = "",
        village: int = -1,
        support: Callable[[], object] | None = None,
    ) -> simpy.Event:
        """An event that succeeds once *amount* has been paid.

        Payments wait behind earlier ones of the same or a higher priority class. A capex
        payment names its *village* so that subsidies for that site can be applied.
        *support* books money a funder pays towards this bill (with :meth:`book`); it is called
        after the bill is queued and before anything is served, so that money goes to this
        bill in its priority class, never to a waiting bill of a lower class.
        """
        event = self.env.event()
        if category in self._stopped:
            event.defused = True  # nobody need hear of it: a payment booked as payable
            event.fail(Halted(category))
            return event
        self._queue(amount, category, counterparty, ref, event, village, support)
        return event

    def owe(
        self,
        amount: float,
        category: str,
        counterparty: str,
        ref: str = "",
        support: Callable[[], object] | None = None,
    ) -> None:
        """Book a bill as payable, to be paid in its turn like :meth:`pay`'s, when nobody waits
        for it (a crew goes to a repair whether or not it is paid yet).

        No event: a national run books ~70,000 repair bills, and an event each, scheduled and
        processed with no process listening, was a seventh of the run's events. Dropped
        quietly once *category* is stopped."""
        if category in self._stopped:
            return
        self._queue(amount, category, counterparty, ref, None, -1, support)

    def _queue(
        self,
        amount: float,
        category: str,
        counterparty: str,
        ref: str,
        event: simpy.Event | None,
        village: int,
        support: Callable[[], object] | None,
    ) -> None:
        if category not in PAYMENT_PRIORITY:
            raise ValueError(f"payments of {category!r} are not queued")
        priority = PAYMENT_PRIORITY[category]
        booked = cents(amount)
        # Nothing waits before it and no funder's share is booked first: serving would weigh
        # this payment alone, once. Weighed here, it is paid without passing through the queue
        # (most repair bills), or queued where it blocks.
        alone = support is None and not self._held and not any(self._queues[: priority + 1])
        if alone and category != "capex" and booked <= self.ledger.cash(self.op):
            # What _settle and _pay do for it, without a payment built (~60,000 repair bills a
            # national run): no reserve, subsidy or credit, only its own amount against cash.
            self.ledger.record_cents(
                self.env.now, self.op, _CATEGORY[category], -booked, counterparty, ref
            )
            if event is not None:
                event.succeed(booked)
            return
        payment = _Payment(booked, category, counterparty, ref, event, village)
        if alone:
            settled = self._settle(payment)
            if settled is None:
                self._queues[priority].append(payment)
            else:
                self._pay(payment, settled)
            return
        self._queues[priority].append(payment)
        if support is not None:
            support()
        # A new bill can only be paid itself (with the money earmarked for it, never more than
        # the bill): a blocked payment of a lower class stays blocked, so it is weighed again
        # when money arrives, not at every repair bill (with thousands of capex payments
        # waiting, weighing the first one's subsidy, reserve and credit was most of a repair).
        self.serve(through=priority)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Book several flows of one instant, then serve once, in priority order.

        Without it, money arriving first (revenue, equity) would pay waiting capex before the
        running costs of the same instant were even queued.
        """
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self.serve()

    def serve(self, through: int = len(PAYMENT_PRIORITY) - 1) -> None:
        """Pay waiting payments in order while money allows (credit may top up capex), those
        of the priority classes up to *through* (default: all)."""
        if self._held:
            return
        for queue in self._queues[: through + 1]:  # in priority order
            while queue:
                p = queue[0]
                support = self._settle(p)
                if support is None:
                    return  # the first unpaid payment blocks every one behind it
                queue.popleft()
                self._pay(p, support)

    def _settle(self, p: _Payment) -> float | None:
        """Whether *p* can be paid now: the subsidy towards it (0 but for capex), or None if
        cash cannot cover it. Capex keeps the reserve back and may draw on credit for the
        shortfall (booked now, before the payment)."""
        capex = p.category == "capex"
        support = 0.0
        if capex and self._capex_support is not None and p.village >= 0:
            support = self._capex_support(p.village, p.amount, False)
        own = cents(p.amount - support)
        keep = self._reserve.usd() if capex else 0.0
        cash = self.cash
        if own + keep > cash:
            short = cents(own + keep - cash)
            if (
                not capex
                or self._credit is None
                or not self._credit.draw_for_capex(self, short, p.amount)
            ):
                return None
        return support

    def _pay(self, p: _Payment, support: float) -> None:
        """Book *p* (and the subsidy towards it, first), and tell whoever waits for it."""
        if support > 0:
            assert self._capex_support is not None
            self._capex_support(p.village, p.amount, True)  # books the subsidy first
        self.book(-p.amount, p.category, p.counterparty, p.ref)
        if p.event is not None:
            p.event.succeed(p.amount)

    def stop(self, category: str) -> int:
        """Pay no more *category* (a stop is final): every waiting payment of it, and every
        later one, fails with :class:`Halted`. Returns how many were waiting.

        A payment nobody waits for (a repair booked as payable) is dropped quietly."""
        self._stopped.add(category)
        queue = self._queues[PAYMENT_PRIORITY[category]]  # a class is one category
        dropped = list(queue)
        queue.clear()
        for p in dropped:
            if p.event is not None:
                p.event.defused = True  # no process needs to hear of it
                p.event.fail(Halted(category))
        return len(dropped)
