"""The ``optimize:`` block: which policy settings ``rollout-sim optimize`` searches, for what.

Decision variables are scalar scenario values by key path (usually a policy's instrument:
``policies.output_based.instruments.0.usd_per_person``) with the range to search; objectives
are outcome metrics to maximise or minimise (at the horizon, or on a date for the daily
ones); constraints bound outcomes (a public budget). Names of metrics and the paths are
checked against the whole scenario (``experiments.optimize.check_optimize``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .types import Bool, Date, Int, NotBool, StrictModel

__all__ = ["Constraint", "DecisionVariable", "Objective", "Optimize"]


Number = Annotated[float, Field(ge=-1e15, le=1e15), NotBool]
MetricName = Annotated[str, Field(min_length=1, max_length=200)]

_METRIC = (
    "An outcome of replications.csv (people_reached, people_served, public_cost_usd, ...); "
    "with a date, a daily series of the replication records (people_covered, people_served, "
    "public_cost_cumulative_usd, ...) or people_reached on that date."
)
_DATE = "Read the metric on this date instead of at the horizon (daily series only)."


class DecisionVariable(StrictModel):
    path: Annotated[str, Field(min_length=1, max_length=300)]
    """Key path of the value to choose, as for --set (e.g.
    policies.output_based.instruments.0.usd_per_person)."""

    low: Number
    """Lowest value to try."""

    high: Number
    """Highest value to try."""

    integer: Bool = False
    """Whole numbers only."""

    log: Bool = False
    """Search on a log scale (low must be above 0)."""

    @model_validator(mode="after")
    def _ordered(self) -> DecisionVariable:
        if not self.low < self.high:
            raise ValueError("need low < high")
        if self.log and self.low <= 0:
            raise ValueError("log: true needs low > 0")
        return self


class Objective(StrictModel):
    metric: MetricName = Field(description=_METRIC)
    direction: Literal["maximize", "minimize", "maximise", "minimise"]
    """maximize (maximise) or minimize (minimise)."""

    date: Date | None = Field(None, description=_DATE)

    @property
    def maximize(self) -> bool:
        return self.direction in ("maximize", "maximise")


class Constraint(StrictModel):
    metric: MetricName = Field(description=_METRIC)
    date: Date | None = Field(None, description=_DATE)
    max: Number | None = None
    """The mean over replications must be <= this."""

    min: Number | None = None
    """The mean over replications must be >= this."""

    @model_validator(mode="after")
    def _bounded(self) -> Constraint:
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError("need min <= max")
        return self


class Optimize(StrictModel):
    """Search ``variables`` for the best ``objectives`` (means over ``replications``, the same
    seeds for every trial) within ``constraints``."""

    policy: Annotated[str, Field(min_length=1)] | None = None
    """The policy every trial runs (default: the baseline)."""

    variables: Annotated[list[DecisionVariable], Field(min_length=1, max_length=50)]
    """The scenario values the search may choose, each within its range."""

    objectives: Annotated[list[Objective], Field(min_length=1, max_length=2)]
    """One (Optuna's TPE sampler) or two (NSGA-II, a Pareto front) objectives."""

    constraints: Annotated[list[Constraint], Field(max_length=20)] = Field(default_factory=list)
    """Limits on outcome means a trial must meet to be feasible: only feasible trials can be
    best or on the Pareto front (none: every trial is feasible)."""

    trials: Annotated[Int, Field(ge=2, le=10_000)] = 40
    """Trials to run."""

    replications: Annotated[Int, Field(ge=1, le=10_000)] = 3
    """Replications per trial (the same seeds for every trial: paired)."""

    parallel_trials: Annotated[Int, Field(ge=1, le=256)] = 4
    """Trials proposed at once and run together (their replications share the workers). Part of the
    search, so the results do not depend on --jobs."""
