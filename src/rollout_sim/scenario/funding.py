"""Funding instruments and policies as scenario data.

An instrument is a YAML object with a ``type``, the funder who pays, the operators it applies to,
a budget cap and an active window. A policy is a named list of instruments; a scenario lists its
policies and names the baseline that the others are compared with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .types import (
    MAX_DAYS,
    MAX_HORIZON_YEARS,
    MAX_POPULATION,
    Date,
    Int,
    NotBool,
    PosUsd,
    StrictModel,
    Usd,
    check_exactly_one,
)

__all__ = [
    "CapexSubsidy",
    "CreditInstrument",
    "Eligibility",
    "EquityInjection",
    "Instrument",
    "LoanGuarantee",
    "OpexFund",
    "OutputBasedSubsidy",
    "Payment",
    "Policy",
    "Viability",
    "check_drawdown",
]

#: A share that must pay something: (0, 1].
Share = Annotated[float, Field(gt=0, le=1), NotBool]
#: A rate or share that may be zero: [0, 1].
Rate = Annotated[float, Field(ge=0, le=1), NotBool]


class Viability(StrictModel):
    """A site is non-viable when its own discounted cash flow over ``years`` is below zero."""

    years: Annotated[Int, Field(ge=1, le=50)] = 10
    """Years of the site's cash flow (sources §4: ≈ 10-year payback)."""

    discount_rate: Rate = 0.15
    """Annual discount rate (sources §4: WACC 15%, assumption)."""


class Eligibility(StrictModel):
    """Which sites an instrument pays for (all conditions must hold; default: every site)."""

    zones: list[str] | None = None
    """Only sites in these zones."""

    max_village_population: Annotated[Int, Field(ge=0, le=MAX_POPULATION)] | None = None
    """Only sites whose host village has at most this many people."""

    negative_viability: Viability | None = None
    """Only sites whose own discounted cash flow is negative."""


class _Instrument(StrictModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    """Label in outputs (default: the type and its position)."""

    funder: Annotated[str, Field(min_length=1)] = "government"
    """Who pays (appears as the counterparty in the ledger)."""

    operators: list[str] | None = None
    """Operators it applies to (default: all)."""

    budget_usd: Usd | None = None
    """Most the instrument pays out in all, USD (default: no cap)."""

    start_date: Date | None = None
    """Active from (default: scenario start)."""

    end_date: Date | None = None
    """Active until (default: the horizon)."""

    @model_validator(mode="after")
    def _window(self) -> _Instrument:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Payment(StrictModel):
    date: Date
    """Day the payment reaches the operator."""

    amount_usd: PosUsd
    """Amount, USD."""


def check_drawdown(
    drawdown: str, tranches: list[Any] | None, limit_usd: float, limit_name: str = "limit_usd"
) -> None:
    """The rules every credit line follows (an operator's own or a policy's): tranches only
    with drawdown 'tranches', in date order, adding up to no more than the limit."""
    if drawdown == "tranches" and not tranches:
        raise ValueError("drawdown 'tranches' needs a non-empty 'tranches' list")
    if drawdown == "on_demand" and tranches:
        raise ValueError("'tranches' is only used with drawdown 'tranches'")
    if tranches:
        total = sum(t.amount_usd for t in tranches)
        if total > limit_usd + 1e-6:
            raise ValueError(f"tranches add up to {total:,.2f}, above {limit_name}")
        days = [t.date for t in tranches]
        if days != sorted(days):
            raise ValueError("tranche dates must be in order")


class EquityInjection(_Instrument):
    """Public equity paid into the operator: once (``amount_usd`` at start) or by schedule."""

    type: Literal["equity"]
    amount_usd: PosUsd | None = None
    """One payment at the start date."""

    schedule: list[Payment] | None = None
    """Or several dated payments."""

    @model_validator(mode="after")
    def _one_way(self) -> EquityInjection:
        check_exactly_one(amount_usd=self.amount_usd, schedule=self.schedule)
        return self


class CreditInstrument(_Instrument):
    """A public credit line (concessional or commercial); the funder is the lender."""

    type: Literal["credit_line"]
    limit_usd: Usd
    """Most the operator can draw in all, USD (budget_usd caps it when lower)."""

    annual_rate: Rate
    """Nominal annual interest rate, 0 to 1 (monthly rate = annual / 12): a concessional line
    charges less than the market."""

    grace_months: Annotated[Int, Field(ge=0, le=600)] = 0
    """Months of interest-only payments from the line's start."""

    tenor_months: Annotated[Int, Field(ge=1, le=1200)]
    """Months of annuity repayment after the grace period."""

    drawdown: Literal["on_demand", "tranches"] = "on_demand"
    """Drawn for capex when the operator's cash runs short, or paid in by schedule."""

    tranches: list[Payment] | None = None
    """With drawdown 'tranches': the dated payments, in order, adding up to no more than the
    limit (and the budget)."""

    max_debt_to_capex: Annotated[float, Field(gt=0, le=100), NotBool] | None = None
    """Covenant: no drawdown that would take the operator's debt above this share of its
    cumulative capex (at most 100)."""

    @model_validator(mode="after")
    def _drawdown(self) -> CreditInstrument:
        # The line the operator gets is capped by the budget too (model.funding).
        budget = self.budget_usd
        if budget is not None and budget < self.limit_usd:
            check_drawdown(self.drawdown, self.tranches, budget, "budget_usd")
        else:
            check_drawdown(self.drawdown, self.tranches, self.limit_usd)
        return self


class CapexSubsidy(_Instrument):
    """Pays a share of the capex of eligible sites when the capex is paid."""

    type: Literal["capex_subsidy"]
    share: Share
    """Share of the site's capex paid by the funder."""

    eligibility: Eligibility = Field(default_factory=Eligibility)


class OutputBasedSubsidy(_Instrument):
    """Pays per person and/or village newly covered, after a verification delay."""

    type: Literal["output_based"]
    usd_per_person: Usd = 0.0
    """Per person newly covered."""

    usd_per_village: Usd = 0.0
    """Per village newly covered."""

    verification_days: Annotated[float, Field(ge=0, le=MAX_DAYS), NotBool] = 90.0
    """Days from a site's first day on air to the payment (assumption)."""

    eligibility: Eligibility = Field(default_factory=Eligibility)

    @model_validator(mode="after")
    def _pays_something(self) -> OutputBasedSubsidy:
        if self.usd_per_person == 0 and self.usd_per_village == 0:
            raise ValueError("give usd_per_person and/or usd_per_village")
        return self


CostKind = Literal["opex", "repair"]


def _both_costs() -> list[CostKind]:
    return ["opex", "repair"]


class OpexFund(_Instrument):
    """Pays a share of running and/or repair costs for some years."""

    type: Literal["opex_fund"]
    share: Share
    """Share of each covered cost paid by the funder."""

    years: Annotated[float, Field(gt=0, le=MAX_HORIZON_YEARS), NotBool]
    """For this many years from the start date (at most 100)."""

    covers: list[CostKind] = Field(default_factory=_both_costs)
    """Which costs it shares."""


class LoanGuarantee(_Instrument):
    """Guarantees the operators' credit lines: a lower rate, and first-loss cover at default."""

    type: Literal["loan_guarantee"]
    lenders: list[str] | None = None
    """Lines it covers (default: all)."""

    rate_reduction: Rate = 0.0
    """Cut in the annual rate of guaranteed lines (e.g. 0.03)."""

    first_loss_share: Rate = 0.5
    """Share of the outstanding debt the guarantor pays the lender at default."""


Instrument = Annotated[
    EquityInjection
    | CreditInstrument
    | CapexSubsidy
    | OutputBasedSubsidy
    | OpexFund
    | LoanGuarantee,
    Field(discriminator="type"),
]


class Policy(StrictModel):
    """A funding policy: the instruments a funder puts in place, compared with the others."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    """Name in outputs and on the command line (--policy, --policies): letters, digits, '_',
    '.', '-'."""

    description: str = ""
    """What the policy is, in a sentence (shown in tables and the report)."""

    instruments: Annotated[list[Instrument], Field(max_length=100)] = Field(default_factory=list)
    """Equity, credit lines, subsidies and funds, each with its budget and window (none: the
    operators' own money only)."""

    @model_validator(mode="after")
    def _labels(self) -> Policy:
        seen: set[str] = set()
        for i, inst in enumerate(self.instruments):
            if inst.name is None:
                inst.name = f"{inst.type}{i + 1}"
            if inst.name in seen:
                raise ValueError(f"instrument names must be unique in a policy: {inst.name!r}")
            seen.add(inst.name)
        return self
