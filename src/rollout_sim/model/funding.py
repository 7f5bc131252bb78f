"""Funding instruments at run time: who pays what, when, within each instrument's budget.

A :class:`FundingDesk` holds the active policy's instruments and is consulted by the operators
at the moments that matter — a capex payment, a month's running costs, a repair, a site's first
day on air, a default. Every payment a funder makes (or receives back) is one row of the public
flows table, and, when it moves an operator's cash, also one row of that operator's ledger with
the instrument's label as counterparty, so public cost can be audited against the ledger.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np
import simpy
from numpy.typing import NDArray

from ..arrays import FloatArray
from ..scenario.funding import (
    CapexSubsidy,
    CreditInstrument,
    Eligibility,
    EquityInjection,
    Instrument,
    LoanGuarantee,
    OpexFund,
    OutputBasedSubsidy,
    Policy,
    Viability,
)
from ..scenario.schema import CreditLine, Operator, Revenue, Tranche
from ..units import DAYS_PER_YEAR, cents
from .demand import bass_integral
from .finance import Treasury

__all__ = ["FundingDesk", "FundingPort", "PublicFlows", "SiteColumns", "SiteFacts", "site_npv"]

#: A number or an array of them: a site's figure, or many candidates' at once.
_F = TypeVar("_F", float, FloatArray)


class SiteFacts(NamedTuple):
    """What funding rules look at for one site: its zone (index), the population of its host
    village, the people it covers newly (expected, for a site not yet claimed), its capex and
    its running cost a year (site and backhaul, US$), and its reference (the village id).

    A named tuple, not a frozen dataclass: a capex subsidy weighs every candidate the siting
    queue looks at (~130,000 a national run), and a frozen dataclass's field-by-field set-up
    was a third of building one."""

    zone: int
    village_population: int
    people: float
    capex_usd: float
    opex_usd_year: float
    ref: str


class SiteColumns(NamedTuple):
    """:class:`SiteFacts` of many candidate sites at once, as columns (no references: what
    weighing candidates needs)."""

    zone: NDArray[np.integer]
    village_population: NDArray[np.integer]
    people: FloatArray
    capex_usd: FloatArray
    opex_usd_year: FloatArray


class FundingPort(Protocol):
    """What one operator needs from the funding desk, asked at the moments that matter: its
    credit lines and equity when it starts, subsidies towards a capex payment, funds' shares of
    running and repair costs as they are billed, its public loans' flows, payments for a site's
    first day on air, and guarantees at a default. Given to the operator (and by it to its
    credit desk, maintenance crews and books) when they are built."""

    @property
    def has_capex_subsidy(self) -> bool: ...

    def funds_cover(self, kind: str) -> bool:
        """Whether any opex fund of the policy covers *kind* of running cost (else
        :meth:`running_cost_support` of it is always nothing)."""
        ...

    def credit_lines(self, start: date) -> list[tuple[CreditLine, str | None]]: ...

    def start_flows(self, treasury: Treasury) -> None:
        """Start the policy's dated flows into *treasury* (called once, when it is built)."""
        ...

    def capex_support(
        self, site: SiteFacts, amount: float, commit: bool, treasury: Treasury | None = None
    ) -> float: ...

    def expected_capex_support(self, sites: SiteColumns) -> FloatArray:
        """:meth:`capex_support` of each candidate towards its own capex, not committed, at
        once (the same numbers, bit for bit)."""
        ...

    def running_cost_support(
        self, kind: str, amount: float, treasury: Treasury, ref: str = ""
    ) -> float: ...

    def loan_flow(self, label: str | None, kind: str, amount: float) -> None: ...

    def on_air(self, site: SiteFacts, villages: int, people: int, treasury: Treasury) -> None: ...

    def on_default(self, debts: list[tuple[str, float]]) -> None: ...


@dataclass
class PublicFlows:
    """Every payment by (positive) or to (negative) a funder, one row each."""

    time: list[float] = field(default_factory=list)
    instrument: list[str] = field(default_factory=list)
    funder: list[str] = field(default_factory=list)
    operator: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)

    def add(
        self, t: float, inst: str, funder: str, op: int, kind: str, amount: float, ref: str = ""
    ) -> None:
        self.time.append(t)
        self.instrument.append(inst)
        self.funder.append(funder)
        self.operator.append(op)
        self.kind.append(kind)
        self.amount.append(cents(amount))
        self.ref.append(ref)


def site_npv(
    people: _F,
    capex_usd: _F,
    opex_usd_year: _F,
    revenue: Revenue,
    viability: Viability,
) -> _F:
    """A site's own discounted cash flow over ``viability.years`` (USD; O(years)); of many
    sites at once (the same numbers) when the figures are arrays.

    Revenue in year y is ceiling × people × ARPU × 12 × share × ∫_{y-1}^{y} F (the Bass curve),
    opex is flat; both are discounted at the end of each year; capex is paid at once.
    """
    a = revenue.adoption
    per_person = a.ceiling_share * revenue.arpu_usd_month * 12.0 * revenue.operator_share
    revenue_factor, opex_factor = _npv_factors(viability.years, viability.discount_rate, a.p, a.q)
    inflow = people * per_person * revenue_factor
    return inflow - opex_usd_year * opex_factor - capex_usd


@lru_cache(maxsize=64)
def _npv_factors(years: int, discount_rate: float, p: float, q: float) -> tuple[float, float]:
    """The site-independent sums of :func:`site_npv`: discounted adopter-years per person and
    the discount factors' sum. Cached: a capex subsidy with a viability test weighs every
    candidate the siting queue looks at (~150,000 times in a national run), and evaluating
    the Bass integral each time was two thirds of that run."""
    t = np.arange(years + 1, dtype=np.float64)
    g = bass_integral(t, p, q)
    disc = (1.0 + discount_rate) ** -t[1:]
    return float((np.diff(g) * disc).sum()), float(disc.sum())


class _Live:
    """An instrument during a run: its budget left and its window in simulation days."""

    def __init__(self, spec: Instrument, policy: str, start: date, horizon: int) -> None:
        self.spec = spec
        self.label = f"{spec.funder}:{policy}.{spec.name}"
        self.t0 = float((spec.start_date - start).days) if spec.start_date else 0.0
        self.t1 = float((spec.end_date - start).days) + 1 if spec.end_date else float(horizon)
        self.paid = 0.0

    def remaining(self) -> float:
        cap = self.spec.budget_usd
        return np.inf if cap is None else max(cents(cap - self.paid), 0.0)

    def active(self, t: float) -> bool:
        return self.t0 <= t < self.t1

    def applies(self, op: str) -> bool:
        return self.spec.operators is None or op in self.spec.operators

    def take(self, wanted: float) -> float:
        """Commit up to *wanted* from the budget; returns what is granted (to the cent)."""
        got = cents(min(wanted, self.remaining()))
        if got > 0:
            self.paid = cents(self.paid + got)
        return max(got, 0.0)


class FundingDesk:
    """The policy's instruments, shared by all operators of one run."""

    def __init__(
        self,
        env: simpy.Environment,
        policy: Policy | None,
        operators: list[Operator],
        start: date,
        horizon_days: int,
        zone_names: tuple[str, ...],
    ) -> None:
        self.env = env
        self.policy = policy
        self.start = start
        self.flows = PublicFlows()
        self.zone_names = zone_names
        self.live = (
            [_Live(inst, policy.name, start, horizon_days) for inst in policy.instruments]
            if policy is not None
            else []
        )
        self.operators = operators
        self._cache: dict[tuple[int, type], list[_Live]] = {}

    def port(self, op: int) -> FundingPort:
        """Operator *op*'s view of the desk."""
        return _OperatorFunding(self, op)

    # --- set-up ----------------------------------------------------------------------------

    def has_capex_subsidy(self, op: int) -> bool:
        return bool(self._mine(op, CapexSubsidy))

    def funds_cover(self, op: int, kind: str) -> bool:
        return any(
            isinstance(x.spec, OpexFund) and kind in x.spec.covers for x in self._mine(op, OpexFund)
        )

    def _mine(self, op: int, kind: type) -> list[_Live]:
        key = (op, kind)
        found = self._cache.get(key)
        if found is None:
            name = self.operators[op].name
            found = self._cache[key] = [
                x for x in self.live if isinstance(x.spec, kind) and x.applies(name)
            ]
        return found

    def credit_lines(self, op: int, start: date) -> list[tuple[CreditLine, str | None]]:
        """The operator's own lines plus the policy's, each with its public label (or None);
        guaranteed lines get their rate cut."""
        spec = self.operators[op]
        lines: list[tuple[CreditLine, str | None]] = [(cl, None) for cl in spec.credit_lines]
        for x in self._mine(op, CreditInstrument):
            s = x.spec
            assert isinstance(s, CreditInstrument)
            limit = s.limit_usd if s.budget_usd is None else min(s.limit_usd, s.budget_usd)
            line = CreditLine(
                lender=x.label,
                limit_usd=limit,
                annual_rate=s.annual_rate,
                grace_months=s.grace_months,
                tenor_months=s.tenor_months,
                drawdown=s.drawdown,
                tranches=[Tranche(date=t.date, amount_usd=t.amount_usd) for t in s.tranches]
                if s.tranches
                else None,
                start_date=s.start_date,
                end_date=s.end_date,
                max_debt_to_capex=s.max_debt_to_capex,
            )
            lines.append((line, x.label))
        cuts = self._mine(op, LoanGuarantee)
        out = []
        for line, label in lines:
            cut = 0.0
            for g in cuts:
                if isinstance(g.spec, LoanGuarantee) and self._guarantees(g, line.lender):
                    cut += g.spec.rate_reduction
            if cut:
                line = line.model_copy(update={"annual_rate": max(0.0, line.annual_rate - cut)})
            out.append((line, label))
        return out

    @staticmethod
    def _guarantees(g: _Live, lender: str) -> bool:
        lenders = g.spec.lenders  # type: ignore[union-attr]
        return lenders is None or lender in lenders or lender.split(":")[0] in lenders

    def start_flows(self, op: int, treasury: Treasury) -> None:
        """Start operator *op*'s dated flows: equity injections, and a call on the treasury
        when a capex subsidy opens after the start (capex waiting for money may now be paid,
        as when a credit line opens; nothing else would weigh it before money arrives)."""
        for x in self._mine(op, EquityInjection):
            self.env.process(self._equity(x, op, treasury))
        for x in self._mine(op, CapexSubsidy):
            if x.t0 > 0:
                self.env.process(self._opens(x.t0, treasury))

    def _opens(self, t0: float, treasury: Treasury) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(t0)
        treasury.serve()

    def _equity(self, x: _Live, op: int, treasury: Treasury) -> Generator[simpy.Event, Any, None]:
        s = x.spec
        assert isinstance(s, EquityInjection)
        if s.schedule is None:
            assert s.amount_usd is not None
            plan = [(x.t0, s.amount_usd)]
        else:
            plan = [(float((p.date - self.start).days), p.amount_usd) for p in s.schedule]
        for t, amount in plan:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            got = x.take(amount)
            if got > 0:
                treasury.receive(got, "equity", x.label, "policy equity")
                self.flows.add(self.env.now, x.label, s.funder, op, "equity", got)

    # --- eligibility -----------------------------------------------------------------------

    def eligible(self, rule: Eligibility, site: SiteFacts, capex: float, revenue: Revenue) -> bool:
        """Whether *site* meets *rule*, its capex taken as *capex* (what is being paid)."""
        if rule.zones is not None and self.zone_names[site.zone] not in rule.zones:
            return False
        limit = rule.max_village_population
        if limit is not None and site.village_population > limit:
            return False
        if rule.negative_viability is not None:
            npv = site_npv(site.people, capex, site.opex_usd_year, revenue, rule.negative_viability)
            if npv >= 0:
                return False
        return True

    # --- payments --------------------------------------------------------------------------

    def capex_support(
        self,
        op: int,
        site: SiteFacts,
        amount: float,
        commit: bool,
        treasury: Treasury | None = None,
    ) -> float:
        """What capex subsidies pay towards a capex payment of *amount* now.

        With ``commit`` the budgets are charged and the subsidy booked (before the capex)."""
        now = self.env.now
        total = 0.0
        for x in self._mine(op, CapexSubsidy):
            s = x.spec
            assert isinstance(s, CapexSubsidy)
            if not x.active(now) or not self.eligible(
                s.eligibility, site, amount, self.operators[op].revenue
            ):
                continue
            want = min(s.share * amount, amount - total)
            got = x.take(want) if commit else cents(min(want, x.remaining()))
            if got <= 0:
                continue
            total = cents(total + got)
            if commit:
                assert treasury is not None
                treasury.book(got, "subsidy", x.label, site.ref)
                self.flows.add(now, x.label, s.funder, op, "capex_subsidy", got, site.ref)
        return total

    def expected_capex_support(self, op: int, sites: SiteColumns) -> FloatArray:
        """:meth:`capex_support` of each of *sites* towards its own capex, not committed:
        the same numbers, bit for bit (the same float operations elementwise, and each amount
        rounded to the cent by the same ``round``).

        The siting queue weighs every candidate (~100,000 nationally) by its operator's own
        dollars when it starts: one call instead of a call per candidate."""
        now = self.env.now
        amount = np.asarray(sites.capex_usd, dtype=np.float64)
        total = np.zeros(len(amount))
        for x in self._mine(op, CapexSubsidy):
            s = x.spec
            assert isinstance(s, CapexSubsidy)
            if not x.active(now):
                continue
            ok = self.eligible_all(s.eligibility, sites, amount, self.operators[op].revenue)
            want = np.minimum(s.share * amount[ok], amount[ok] - total[ok])
            got = np.array([cents(g) for g in np.minimum(want, x.remaining()).tolist()])
            paid = got > 0
            idx = np.flatnonzero(ok)[paid]
            total[idx] = [
                cents(t + g) for t, g in zip(total[idx].tolist(), got[paid].tolist(), strict=True)
            ]
        return total

    def eligible_all(
        self, rule: Eligibility, sites: SiteColumns, capex: FloatArray, revenue: Revenue
    ) -> np.ndarray:
        """:meth:`eligible` of each of *sites* (a boolean array)."""
        ok = np.ones(len(capex), dtype=bool)
        if rule.zones is not None:
            zones = [z for z, name in enumerate(self.zone_names) if name in rule.zones]
            ok &= np.isin(sites.zone, zones)
        limit = rule.max_village_population
        if limit is not None:
            ok &= ~(sites.village_population > limit)
        if rule.negative_viability is not None:
            npv = site_npv(
                sites.people, capex, sites.opex_usd_year, revenue, rule.negative_viability
            )
            ok &= ~(npv >= 0)
        return ok

    def running_cost_support(
        self, op: int, kind: str, amount: float, treasury: Treasury, ref: str = ""
    ) -> float:
        """Opex funds' share of a running or repair cost incurred now (paid in at once).

        Call it as the *support* of the bill's :meth:`Treasury.pay`, after the bill is queued.
        """
        now = self.env.now
        total = 0.0
        for x in self._mine(op, OpexFund):
            s = x.spec
            assert isinstance(s, OpexFund)
            if kind not in s.covers or not x.active(now):
                continue
            if now >= x.t0 + s.years * DAYS_PER_YEAR:
                continue
            got = x.take(min(s.share * amount, amount - total))
            if got <= 0:
                continue
            total = cents(total + got)
            # Booked, not served: the bill it pays is already queued (Treasury.pay(support=)),
            # and serving here could spend it on a waiting bill of a lower priority.
            treasury.book(got, "subsidy", x.label, ref or kind)
            self.flows.add(now, x.label, s.funder, op, f"{kind}_fund", got, ref)
        return total

    def on_air(
        self, op: int, site: SiteFacts, villages: int, people: int, treasury: Treasury
    ) -> None:
        """A site's first day on air: schedule output-based payments after verification."""
        now = self.env.now
        for x in self._mine(op, OutputBasedSubsidy):
            s = x.spec
            assert isinstance(s, OutputBasedSubsidy)
            if not x.active(now) or not self.eligible(
                s.eligibility, site, site.capex_usd, self.operators[op].revenue
            ):
                continue
            amount = s.usd_per_person * people + s.usd_per_village * villages
            if amount > 0:
                self.env.process(self._pay_output(x, op, amount, treasury, site.ref))

    def _pay_output(
        self, x: _Live, op: int, amount: float, treasury: Treasury, ref: str
    ) -> Generator[simpy.Event, Any, None]:
        s = x.spec
        assert isinstance(s, OutputBasedSubsidy)
        yield self.env.timeout(s.verification_days)
        got = x.take(amount)
        if got > 0:
            treasury.receive(got, "subsidy", x.label, ref)
            self.flows.add(self.env.now, x.label, s.funder, op, "output_based", got, ref)

    def loan_flow(self, op: int, label: str | None, kind: str, amount: float) -> None:
        """Mirror a public credit line's drawdown (+) or repayment (−) in the public flows."""
        if label is None:
            return
        funder = label.split(":")[0]
        self.flows.add(self.env.now, label, funder, op, kind, amount)

    def on_default(self, op: int, debts: list[tuple[str, float]]) -> None:
        """Guarantors pay their first-loss share of the guaranteed lines' debt to the lenders."""
        now = self.env.now
        for g in self._mine(op, LoanGuarantee):
            s = g.spec
            assert isinstance(s, LoanGuarantee)
            if not g.active(now):
                continue
            for lender, balance in debts:
                if balance > 0 and self._guarantees(g, lender):
                    got = g.take(s.first_loss_share * balance)
                    if got > 0:
                        self.flows.add(now, g.label, s.funder, op, "guarantee_call", got, lender)


class _OperatorFunding:
    """One operator's view of the funding desk (a :class:`FundingPort`)."""

    def __init__(self, desk: FundingDesk, op: int) -> None:
        self._desk = desk
        self._op = op

    @property
    def has_capex_subsidy(self) -> bool:
        return self._desk.has_capex_subsidy(self._op)

    def funds_cover(self, kind: str) -> bool:
        return self._desk.funds_cover(self._op, kind)

    def credit_lines(self, start: date) -> list[tuple[CreditLine, str | None]]:
        return self._desk.credit_lines(self._op, start)

    def start_flows(self, treasury: Treasury) -> None:
        self._desk.start_flows(self._op, treasury)

    def capex_support(
        self, site: SiteFacts, amount: float, commit: bool, treasury: Treasury | None = None
    ) -> float:
        return self._desk.capex_support(self._op, site, amount, commit, treasury)

    def expected_capex_support(self, sites: SiteColumns) -> FloatArray:
        return self._desk.expected_capex_support(self._op, sites)

    def running_cost_support(
        self, kind: str, amount: float, treasury: Treasury, ref: str = ""
    ) -> float:
        return self._desk.running_cost_support(self._op, kind, amount, treasury, ref)

    def loan_flow(self, label: str | None, kind: str, amount: float) -> None:
        self._desk.loan_flow(self._op, label, kind, amount)

    def on_air(self, site: SiteFacts, villages: int, people: int, treasury: Treasury) -> None:
        self._desk.on_air(self._op, site, villages, people, treasury)

    def on_default(self, debts: list[tuple[str, float]]) -> None:
        self._desk.on_default(self._op, debts)
