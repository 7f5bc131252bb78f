"""The credit line: a hand-computed schedule to the cent, r = 0, limits, freezing, validation."""

from __future__ import annotations

import math

import pytest

from rollout_sim.model.loans import LoanBook


def _service(book: LoanBook, months: range) -> list[tuple[float, float]]:
    """Pay everything due, month by month, as the operator would; returns (interest, principal)."""
    rows = []
    for month in months:
        interest, principal = book.due(month)
        book.pay(interest, principal)
        rows.append((interest, principal))
    return rows


def _cents(x: float) -> int:
    return round(x * 100)


def test_hand_computed_schedule_to_the_cent() -> None:
    # US$1,000,000 at 12 %/year nominal → r = 1 %/month; 6 months' grace, then 24 months.
    # Level payment 1e6·0.01/(1 − 1.01^−24) = 47,073.4722… → 47,073.47 (checked below too).
    level_usd = 47_073.47
    assert round(1e6 * 0.01 / (1 - 1.01**-24), 2) == level_usd
    book = LoanBook(limit_usd=1_000_000, annual_rate=0.12, grace_months=6, tenor_months=24)
    assert book.monthly_rate == pytest.approx(0.01)
    assert book.draw(1_000_000) == 1_000_000.00
    rows = _service(book, range(1, 31))

    for interest, principal in rows[:6]:  # months 1–6: interest only
        assert (interest, principal) == (10_000.00, 0.0)
    payments = [_cents(i + p) for i, p in rows[6:]]  # months 7–30
    assert payments[:-1] == [_cents(level_usd)] * 23
    # Month 7 by hand: interest 10,000.00, principal 37,073.47, balance 962,926.53.
    assert rows[6] == (10_000.00, 37_073.47)
    # The last payment clears the balance exactly; it absorbs 23 months of sub-cent rounding
    # (each payment is 0.22 cent short of the exact annuity), so it is a few cents higher.
    assert abs(payments[-1] - _cents(level_usd)) <= 5
    assert book.balance_usd == 0.00
    assert sum(_cents(p) for _, p in rows) == 100_000_000  # 1,000,000.00 exactly
    assert book.due(31) == (0.0, 0.0)


def test_schedule_matches_month_by_month_servicing_and_leaves_book_untouched() -> None:
    book = LoanBook(limit_usd=1_000_000, annual_rate=0.12, grace_months=6, tenor_months=24)
    book.draw(1_000_000)
    rows = book.schedule(30)
    assert book.balance_usd == 1_000_000.00  # a dry run
    assert [r[0] for r in rows] == list(range(1, 31))
    assert rows[-1][3] == 0.0
    assert book.schedule(range(1, 31)) == rows
    assert [(i, p) for _, i, p, _ in rows] == _service(book, range(1, 31))


def test_zero_rate_gives_equal_principal() -> None:
    book = LoanBook(limit_usd=1200, annual_rate=0.0, grace_months=2, tenor_months=12)
    book.draw(1200)
    rows = book.schedule(14)
    assert all(r[1] == 0.0 for r in rows)
    assert [r[2] for r in rows[:2]] == [0.0, 0.0]
    assert [r[2] for r in rows[2:]] == [100.0] * 12
    # An amount that does not divide evenly: 1000/3 = 333.33 twice, then 333.34 to close.
    book = LoanBook(limit_usd=1000, annual_rate=0.0, grace_months=0, tenor_months=3)
    book.draw(1000)
    assert [r[2] for r in book.schedule(3)] == [333.33, 333.33, 333.34]


def test_draw_respects_limit_and_rounds_to_cents() -> None:
    book = LoanBook(limit_usd=500_000, annual_rate=0.1, grace_months=3, tenor_months=12)
    assert book.available_usd == 500_000
    assert book.draw(123.456) == 123.46
    assert book.draw(-50) == 0.0
    assert book.draw(1e9) == pytest.approx(499_876.54)
    assert book.available_usd == 0.0
    assert book.draw(1.0) == 0.0
    assert book.drawn_usd == 500_000.00
    # Repayment does not make the amount available again: a term loan, not a revolver.
    interest, principal = book.due(4)
    book.pay(interest, principal)
    assert book.balance_usd < 500_000
    assert book.available_usd == 0.0
    with pytest.raises(ValueError):
        book.draw(math.nan)


def test_freeze_stops_drawdowns_but_not_service() -> None:
    book = LoanBook(limit_usd=100_000, annual_rate=0.06, grace_months=0, tenor_months=10)
    assert book.draw(40_000) == 40_000
    book.freeze()
    assert book.frozen
    assert book.available_usd == 0.0
    assert book.draw(10_000) == 0.0
    assert book.drawn_usd == 40_000
    rows = book.schedule(10)
    assert rows[-1][3] == 0.0
    assert sum(_cents(r[2]) for r in rows) == 4_000_000


def test_drawdown_after_grace_is_reamortised() -> None:
    book = LoanBook(limit_usd=2_000_000, annual_rate=0.12, grace_months=6, tenor_months=24)
    book.draw(1_000_000)
    before = _service(book, range(1, 13))  # through month 12: six level payments made
    level = _cents(sum(before[6]))
    assert all(_cents(i + p) == level for i, p in before[6:])
    assert book.draw(500_000) == 500_000
    after = _service(book, range(13, 31))
    payments = [_cents(i + p) for i, p in after]
    assert payments[0] > level  # the new money is amortised over the 18 months left
    assert len(set(payments[:-1])) == 1  # and level again from then on
    assert book.balance_usd == 0.0
    assert sum(_cents(p) for _, p in before + after) == 150_000_000


def test_balance_left_after_term_is_due_at_once() -> None:
    book = LoanBook(limit_usd=10_000, annual_rate=0.12, grace_months=1, tenor_months=3)
    book.draw(10_000)
    _service(book, range(1, 3))  # months 1–2 paid, then the operator defaults on 3 and 4
    left = book.balance_usd
    assert book.due(5) == (round(left * 0.01, 2), left)
    # A missed month re-amortises: month 3 is due again on the next call, over 2 months.
    _interest, principal = book.due(3)
    assert 0 < principal < left


def test_partial_payment_reamortises_and_never_goes_negative() -> None:
    book = LoanBook(limit_usd=10_000, annual_rate=0.12, grace_months=0, tenor_months=4)
    book.draw(10_000)
    interest, principal = book.due(1)
    book.pay(interest, principal / 2)
    rows = book.schedule(range(2, 5))
    assert rows[-1][3] == 0.0
    book.pay(0.0, 1e9)
    assert book.balance_usd == 0.0
    with pytest.raises(ValueError):
        book.pay(-1.0, 0.0)
    with pytest.raises(ValueError):
        book.due(0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit_usd": -1.0},
        {"limit_usd": math.nan},
        {"annual_rate": -0.01},
        {"annual_rate": math.inf},
        {"grace_months": -1},
        {"grace_months": 1.5},
        {"tenor_months": 0},
        {"tenor_months": True},
    ],
)
def test_constructor_validation(kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {
        "limit_usd": 1000.0,
        "annual_rate": 0.1,
        "grace_months": 0,
        "tenor_months": 12,
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        LoanBook(**args)  # type: ignore[arg-type]
