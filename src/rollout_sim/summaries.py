"""Typed summaries: what crosses from the analysis to the writers, the console and the report.

Each is a pydantic model, so it is built with types checked, written as ``summary.json`` with
:meth:`~pydantic.BaseModel.model_dump` (``mode="json"``) and read back, by the report, with
:meth:`~pydantic.BaseModel.model_validate` — never by string keys. Field order is the JSON
key order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CalibrationEvaluation",
    "CalibrationSummary",
    "ComparisonSummary",
    "DefaultEvent",
    "Difference",
    "Final",
    "FittedParameter",
    "Footprint",
    "IdentificationCheck",
    "Initial",
    "InstrumentTotals",
    "Milestone",
    "ObjectiveChange",
    "OperatorSummary",
    "OptimizationBest",
    "OptimizationConstraint",
    "OptimizationObjective",
    "OptimizationSummary",
    "PointTargetSummary",
    "ReferenceCheck",
    "ReplicationsSummary",
    "RunSummary",
    "SeriesTargetSummary",
    "Simulated",
    "Spread",
    "SweepRow",
    "SweepSummary",
    "TargetRow",
    "TargetSummary",
    "WindowTargetSummary",
]


class _Summary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Initial(_Summary):
    villages_covered: int
    people_covered: int


class Final(_Summary):
    """The state on the last day."""

    sites_built: int
    sites_on_air: int
    villages_covered: int
    people_covered: int
    rural_people_covered_share: float
    people_covered_share: float
    initially_uncovered_reached_share: float
    capex_cumulative_usd: float
    cash_usd: float
    debt_usd: float
    people_covered_net: int
    places_served: int
    people_served: int
    sites_down: int
    subscribers: float
    revenue_cumulative_usd: float
    opex_cumulative_usd: float
    repair_cumulative_usd: float
    interest_cumulative_usd: float


class DefaultEvent(_Summary):
    day: float
    operator: str
    detail: str


class InstrumentTotals(_Summary):
    paid_out_usd: float
    received_usd: float


class ReferenceCheck(_Summary):
    """A published figure beside the simulated value on its date (None: outside the horizon)."""

    label: str
    metric: str
    date: str
    reference: float
    simulated: float | None


class Milestone(_Summary):
    day: int | None
    date: str | None


class Footprint(_Summary):
    """An operator's footprint at the horizon, as operators report it."""

    sites_built: int
    sites_in_service: int
    places_served: int
    people_served: int
    places_first_covered: int
    people_first_covered: int


class OperatorSummary(_Summary):
    name: str
    build_crews: int
    sites_claimed: int
    sites_built: int
    sites_on_air: int
    upgrades_on_air: int
    backhaul_on_air: dict[str, int]
    people_newly_covered: int
    initial_sites: int
    footprint: Footprint
    capex_usd: float
    revenue_usd: float
    opex_usd: float
    repair_usd: float
    interest_usd: float
    loan_drawdown_usd: float
    principal_repaid_usd: float
    cash_end_usd: float
    availability: float | None
    failures: int
    repairs: int
    mean_repair_wait_days: float | None
    mean_downtime_per_failure_days: float | None
    defaulted: bool


class RunSummary(_Summary):
    """One run: totals at the horizon, rates, milestones and per-operator figures."""

    scenario: str
    policy: str | None
    seed: int
    start_date: str
    end_date: str | None
    horizon_days: int
    villages: int
    population: int
    initial: Initial
    final: Final
    availability: float | None
    people_days_lost: float
    defaults: list[DefaultEvent]
    people_reached: int
    mean_new_villages_per_day: float
    capex_per_person_reached_usd: float | None
    public_cost_usd: float
    public_cost_per_person_reached_usd: float | None
    instruments: dict[str, InstrumentTotals]
    references: list[ReferenceCheck]
    #: By estimate set (low, central, high): the impact figures at the horizon.
    impact: dict[str, dict[str, float | None]] | None
    days_to_reach: dict[str, Milestone]
    days_to_reach_means: str
    operators: list[OperatorSummary]


class Spread(_Summary):
    """A metric over replications: its mean and a central interval (None: undefined)."""

    mean: float | None
    lo: float | None
    hi: float | None
    n: int


class ReplicationsSummary(_Summary):
    scenario: str
    policy: str | None
    replications: int
    seed: int
    interval: str
    metrics: dict[str, Spread]


class Difference(_Summary):
    """A policy minus the baseline, paired on replications, with its confidence interval."""

    difference: float | None
    ci: list[float | None]
    n: int


class ComparisonSummary(_Summary):
    scenario: str
    baseline: str
    policies: list[str]
    replications: dict[str, int]
    seed: int
    interval: str
    difference_ci: str
    metrics: dict[str, dict[str, Spread]]
    differences: dict[str, dict[str, Difference]]


class SweepRow(_Summary):
    """One design point under one policy: its values and mean outcomes over replications."""

    point: int
    values: dict[str, object]
    policy: str | None
    replications: int
    outcomes: dict[str, float | None]


class SweepSummary(_Summary):
    scenario: str
    parameters: list[str]
    points: int
    runs: int
    table: list[SweepRow]


# --- calibration.json ----------------------------------------------------------------------

#: A target's simulated value (window, point) or values (series), a mean over replications;
#: None where it is undefined (an availability with no site on air).
Simulated = float | list[float | None] | None


class ObjectiveChange(_Summary):
    before: float | None
    after: float | None


class FittedParameter(_Summary):
    """A fitted parameter: its bounds, the scenario's value and the fitted one; how far the
    targets move across its range (sensitivity) and whether they pin it down (None: the
    identification check was not run)."""

    path: str
    bounds: list[float]
    integer: bool
    before: float
    after: float
    sensitivity: float | None
    identified: bool | None


class WindowTargetSummary(_Summary):
    """A daily series' mean over a window, before and after the fit."""

    metric: str
    kind: Literal["window_mean"]
    label: str
    weight: float
    start: str
    end: str
    value: float
    tolerance: float | None
    rel_tolerance: float | None
    before: Simulated
    after: Simulated


class PointTargetSummary(_Summary):
    """A metric's value on a date (None: the starting network's), before and after the fit."""

    metric: str
    kind: Literal["point"]
    label: str
    weight: float
    date: str | None
    value: float
    tolerance: float | None
    rel_tolerance: float | None
    before: Simulated
    after: Simulated


class SeriesTargetSummary(_Summary):
    """An observed series (date, value) and the simulated values on its dates."""

    metric: str
    kind: Literal["series"]
    label: str
    weight: float
    file: str
    observed: list[tuple[str, float]]
    tolerance: float | None
    rel_tolerance: float | None
    before: Simulated
    after: Simulated


TargetSummary = Annotated[
    WindowTargetSummary | PointTargetSummary | SeriesTargetSummary, Field(discriminator="kind")
]


class TargetRow(_Summary):
    """One point of a target (a window, a date, a date of a series) before and after the fit;
    *index* is the target's position among the calibration's targets."""

    index: int
    label: str
    metric: str
    kind: str
    date: str
    value: float
    tolerance: float | None
    rel_tolerance: float | None
    weight: float
    before: float | None
    after: float | None
    error_pct: float | None
    within: bool | None


class CalibrationEvaluation(_Summary):
    """One evaluation: the parameter values and what they gave."""

    params: dict[str, float]
    simulated: list[Simulated]
    errors: list[float | None]
    objective: float | None
    within_tolerance: bool


class IdentificationCheck(_Summary):
    """The scaled Jacobian around the fit and what it says the targets cannot tell."""

    step_share_of_range: float
    rows: list[str]
    jacobian: dict[str, list[float] | None]
    sensitivity: dict[str, float | None]
    not_identified: list[str]
    collinear: list[tuple[str, str, float]]
    warnings: list[str]
    evaluations: list[CalibrationEvaluation]


class CalibrationSummary(_Summary):
    """``calibration.json``: the fit, target by target and point by point, the identification
    check and every evaluation."""

    scenario: str
    method: str
    converged: bool
    message: str
    replications_per_evaluation: int
    objective: ObjectiveChange
    parameters: list[FittedParameter]
    targets: list[TargetSummary]
    rows: list[TargetRow]
    within_tolerance: bool
    warnings: list[str]
    identification: IdentificationCheck | None
    evaluations: list[CalibrationEvaluation]
    #: What could not be kept of the scenario file's layout in ``scenario.calibrated.yaml``.
    calibrated_file_notes: list[str]


# --- optimization.json ---------------------------------------------------------------------


class OptimizationObjective(_Summary):
    """An objective of the search: a metric (``name`` or ``name@date``) and its direction."""

    metric: str
    direction: Literal["maximize", "minimize"]


class OptimizationConstraint(_Summary):
    """A constraint on a metric's mean over the replications: at least *min*, at most *max*."""

    metric: str
    min: float | None
    max: float | None


class OptimizationBest(_Summary):
    """The chosen trial's decision values (by the variable's path as written) and objective
    means (None: undefined)."""

    params: dict[str, float]
    objectives: list[float | None]


class OptimizationSummary(_Summary):
    """``optimization.json``: how the search ran, the Pareto trials and the chosen one."""

    scenario: str
    sampler: str
    policy: str | None
    trials: int
    replications_per_trial: int
    objectives: list[OptimizationObjective]
    #: Absent from folders written before the report read them: none recorded.
    constraints: list[OptimizationConstraint] = Field(default_factory=list)
    feasible_trials: int
    pareto_trials: list[int]
    best_trial: int | None
    best: OptimizationBest | None
