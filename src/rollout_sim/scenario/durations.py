"""How long things take: the distributions of build, permit and repair times, in days."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .types import (
    Days,
    NonNegDays,
    StrictModel,
    check_triangular,
)

__all__ = [
    "BuildTime",
    "FixedDays",
    "GammaDays",
    "LogNormalDays",
    "TriangularDays",
    "UniformDays",
    "lognormal_days",
]


class FixedDays(StrictModel):
    """Always the same duration."""

    distribution: Literal["fixed"]
    days: Days
    """The duration, days (at least 0.001, about a minute and a half)."""


class UniformDays(StrictModel):
    """Uniform between two durations."""

    distribution: Literal["uniform"]
    low_days: NonNegDays
    """Shortest duration, days."""

    high_days: Days
    """Longest duration, days (at least low_days)."""

    @model_validator(mode="after")
    def _ordered(self) -> UniformDays:
        if self.high_days < self.low_days:
            raise ValueError("high_days must be >= low_days")
        return self


class TriangularDays(StrictModel):
    """Triangular: the usual way planners state (optimistic, likely, pessimistic)."""

    distribution: Literal["triangular"]
    low_days: NonNegDays
    """Optimistic (shortest) duration, days."""

    mode_days: NonNegDays
    """Most likely duration, days (from low_days to high_days)."""

    high_days: Days
    """Pessimistic (longest) duration, days (above low_days)."""

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDays:
        names = ("low_days", "mode_days", "high_days")
        check_triangular(self.low_days, self.mode_days, self.high_days, names)
        return self


class LogNormalDays(StrictModel):
    """Log-normal with the given mean and standard deviation (of the days, not of the log)."""

    distribution: Literal["lognormal"]
    mean_days: Days
    """Mean duration, days."""

    sd_days: NonNegDays
    """Standard deviation of the duration, days (0: always the mean)."""


class GammaDays(StrictModel):
    """Gamma with the given mean and standard deviation."""

    distribution: Literal["gamma"]
    mean_days: Days
    """Mean duration, days."""

    sd_days: Days
    """Standard deviation of the duration, days (above 0)."""


BuildTime = Annotated[
    FixedDays | UniformDays | TriangularDays | LogNormalDays | GammaDays,
    Field(discriminator="distribution"),
]


def lognormal_days(mean: float, sd: float) -> LogNormalDays:
    """A log-normal duration of this mean and standard deviation, days."""
    return LogNormalDays(distribution="lognormal", mean_days=mean, sd_days=sd)
