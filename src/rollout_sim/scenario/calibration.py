"""The ``calibration:`` block of a scenario: what to fit, to what, within which bounds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = ["Calibration", "FitParameter", "SeriesTarget", "WindowTarget"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


#: Daily series a target may name (see ``timeseries.csv``).
TargetMetric = Literal[
    "new_villages_covered",
    "villages_covered",
    "people_covered",
    "people_covered_net",
    "sites_on_air",
    "sites_built",
    "coverage_share",
    "subscribers",
]


class WindowTarget(_Model):
    """A daily series' mean over a date window should equal ``value`` (± ``tolerance``)."""

    kind: Literal["window_mean"] = "window_mean"
    metric: TargetMetric = Field(description="The daily series, e.g. new_villages_covered.")
    start: dt.date = Field(description="First day of the window.")
    end: dt.date = Field(description="Last day of the window (inclusive).")
    value: float = Field(description="The target mean.")
    tolerance: Annotated[float, Field(ge=0)] = Field(
        0.0, description="Good enough when |simulated − value| ≤ tolerance."
    )

    @model_validator(mode="after")
    def _ordered(self) -> WindowTarget:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class SeriesTarget(_Model):
    """Observed values of a daily series on some dates, fitted by least squares."""

    kind: Literal["series"]
    metric: TargetMetric
    file: Annotated[str, Field(min_length=1)] = Field(
        description="CSV with columns date,value (more columns are ignored); relative paths "
        "are relative to the scenario file."
    )
    start_level: float | None = Field(
        None,
        description="If set, the simulated series is compared as (value − its value on day 0) "
        "+ start_level: for an operator's own totals when the modelled world starts with other "
        "coverage (e.g. IpT's 2,000 places at launch among 40,000 already covered).",
    )


def _target_kind(value: Any) -> str:
    """Targets are window means unless they say ``kind: series``."""
    if isinstance(value, dict):
        return str(value.get("kind", "window_mean"))
    return str(getattr(value, "kind", "window_mean"))


Target = Annotated[
    Annotated[WindowTarget, Tag("window_mean")] | Annotated[SeriesTarget, Tag("series")],
    Discriminator(_target_kind),
]


class FitParameter(_Model):
    path: Annotated[str, Field(min_length=1)] = Field(
        description="Key path of the scenario value to fit, as for --set "
        "(e.g. operators.0.build_crews)."
    )
    bounds: tuple[float, float] = Field(description="Lowest and highest value to try.")
    integer: bool = Field(False, description="Round to whole numbers (crews, sites).")

    @model_validator(mode="after")
    def _ordered(self) -> FitParameter:
        if self.bounds[1] <= self.bounds[0]:
            raise ValueError("bounds must be (low, high) with low < high")
        return self


class Calibration(_Model):
    """Fit ``parameters`` so the simulation meets ``targets`` (mean over ``replications``)."""

    targets: Annotated[list[Target], Field(min_length=1)]
    parameters: Annotated[list[FitParameter], Field(min_length=1)]
    replications: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10, description="Replications per evaluation (the same seeds every time)."
    )
    max_evaluations: Annotated[int, Field(ge=2, le=10_000)] = Field(
        40, description="Stop after this many evaluations."
    )
    method: Literal["auto", "bisection", "nelder-mead"] = Field(
        "auto",
        description="'bisection' for one parameter and one window target (the rate must move "
        "one way with the parameter); 'nelder-mead' otherwise; 'auto' picks.",
    )
