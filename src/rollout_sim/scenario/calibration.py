"""The ``calibration:`` block of a scenario: what to fit, to what, within which bounds.

Targets name a metric (see :func:`daily_metrics`, :data:`OPERATOR_METRICS` and the ``start.``
metrics); the schema checks only the *form* of the name, because operator and zone names are
known only with the whole scenario (``experiments.calibrate.check_calibration`` resolves them).
How tolerances and weights enter the fit is explained in ``docs/calibration.md``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from .types import Bool, Date, Int, NotBool, StrictModel

__all__ = [
    "FOOTPRINT_METRICS",
    "OPERATOR_METRICS",
    "START_PLACES",
    "START_SHARE_PREFIX",
    "Calibration",
    "FitParameter",
    "PointTarget",
    "SeriesTarget",
    "WindowTarget",
    "daily_metrics",
    "is_start_metric",
    "metric_forms",
]


#: A level of a daily series (people, villages, sites or a share): 0 .. 1e15.
Level = Annotated[float, Field(ge=0, le=1e15), NotBool]

#: The daily series targets use most, first in error messages (the others follow them).
_PREFERRED_DAILY: Final = (
    "new_villages_covered",
    "villages_covered",
    "people_covered",
    "people_covered_net",
    "sites_on_air",
    "sites_built",
    "coverage_share",
    "subscribers",
)


@lru_cache(maxsize=1)
def daily_metrics() -> tuple[str, ...]:
    """Every daily series of ``timeseries.csv`` (``results.TIMESERIES_COLUMNS`` less the date),
    the most used first."""
    # Imported here: results imports the scenario schema, which imports this module.
    from ..results import TIMESERIES_COLUMNS

    rest = [c for c in TIMESERIES_COLUMNS if c != "date" and c not in _PREFERRED_DAILY]
    return (*[c for c in _PREFERRED_DAILY if c in TIMESERIES_COLUMNS], *rest)


#: An operator's footprint as it would report it: the one list, which
#: ``results.FOOTPRINT_COLUMNS`` (the columns of ``operators.csv``) is.
FOOTPRINT_METRICS: Final = (
    "sites_built",
    "sites_in_service",
    "places_served",
    "people_served",
    "places_first_covered",
    "people_first_covered",
)
#: What ``<operator>.<column>`` may name: its footprint, the share of its built sites on fibre,
#: and the share of its sites' time in service.
OPERATOR_METRICS: Final = (*FOOTPRINT_METRICS, "fibre_share_of_sites", "availability")
#: Places covered at day 0 by the starting network.
START_PLACES: Final = "start.places_4g"
#: ``start.people_share.<zone>``: share of a zone's people covered at day 0 by it.
START_SHARE_PREFIX: Final = "start.people_share."


def is_start_metric(name: str) -> bool:
    """A metric of the starting network (a value at day 0, not a series)."""
    return name == START_PLACES or (
        name.startswith(START_SHARE_PREFIX) and len(name) > len(START_SHARE_PREFIX)
    )


def metric_forms() -> str:
    """Every form of metric name, for error messages."""
    daily = ", ".join(repr(m) for m in daily_metrics())
    columns = ", ".join(repr(m) for m in OPERATOR_METRICS)
    return (
        f"{daily} (daily series), '<operator>.<column>' with column {columns}, or "
        f"{START_PLACES!r}, '{START_SHARE_PREFIX}<zone>'"
    )


def _metric_form(name: str) -> str:
    operator, dot, column = name.rpartition(".")
    if (
        name in daily_metrics()
        or is_start_metric(name)
        or (dot and operator and column in OPERATOR_METRICS)
    ):
        return name
    raise ValueError(f"input should be {metric_forms()}")


#: A metric name of a valid form (whether its operator or zone exists is checked later).
Metric = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_metric_form)]
#: How much a target counts in the objective (0: reported beside the fit, not fitted).
Weight = Annotated[float, Field(ge=0, le=1e6), NotBool]
#: A text naming where a target's figure comes from.
Label = Annotated[str, Field(max_length=300)]
#: A relative tolerance: a share of the target value (0.1 = ±10%).
RelTolerance = Annotated[float, Field(gt=0, le=10), NotBool]

_METRIC = (
    "A daily series of timeseries.csv, <operator>.<column> (an operator's sites_built, "
    "sites_in_service, places_served, people_served, places_first_covered, "
    "people_first_covered, fibre_share_of_sites or availability), start.places_4g or "
    "start.people_share.<zone> (docs/calibration.md)."
)
_WEIGHT = "Weight of the target in the objective (default 1; 0: shown, not fitted)."
_LABEL = "Where the figure comes from (shown in tables), e.g. 'OSIPTEL 2021 report'."
_REL = "Good enough within ± this share of the value (0.1 = ±10%); instead of tolerance."


def _one_tolerance(target: WindowTarget | SeriesTarget | PointTarget, given: bool) -> None:
    if given and target.rel_tolerance is not None:
        raise ValueError(
            "give tolerance (absolute, in the metric's units) or rel_tolerance (a share of the "
            "value), not both"
        )


class WindowTarget(StrictModel):
    """A daily series' mean over a date window should equal ``value`` (± ``tolerance``).

    For ``<operator>.availability`` the "mean" is the share of the operator's site-time in
    service within the window (site-days in service ÷ site-days on air)."""

    kind: Literal["window_mean"] = "window_mean"
    metric: Metric = Field(description=_METRIC + " e.g. new_villages_covered.")
    start: Date
    """First day of the window."""

    end: Date
    """Last day of the window (inclusive)."""

    value: Level
    """The target mean."""

    tolerance: Level = 0.0
    """Good enough when |simulated − value| ≤ tolerance, in the metric's units (0: only an exact
    match)."""

    rel_tolerance: RelTolerance | None = Field(None, description=_REL)
    weight: Weight = Field(1.0, description=_WEIGHT)
    label: Label = Field("", description=_LABEL)

    @model_validator(mode="after")
    def _ordered(self) -> WindowTarget:
        if self.end < self.start:
            raise ValueError("end is before start")
        _one_tolerance(self, "tolerance" in self.model_fields_set)
        if self.value == 0 and self.tolerance == 0:
            raise ValueError(_ZERO)
        return self


#: A relative error of a target of 0 is undefined.
_ZERO = "a target value of 0 needs an absolute tolerance above 0"


class SeriesTarget(StrictModel):
    """Observed values of a daily series on some dates; each point is a term of the fit."""

    kind: Literal["series"]
    metric: Metric = Field(description=_METRIC + " e.g. villages_covered.")
    file: Annotated[str, Field(min_length=1)]
    """CSV with columns date,value (more columns are ignored); relative paths are relative to the
    scenario file."""

    start_level: Level | None = None
    """If set, the simulated series is compared as (value − its value on day 0) + start_level: for
    an operator's own totals when the modelled world starts with other coverage (e.g. IpT's 2,000
    places at launch among 40,000 already covered)."""

    tolerance: Level | None = None
    """Good enough when every point is within ± this, in the metric's units."""

    rel_tolerance: RelTolerance | None = Field(None, description=_REL)
    weight: Weight = Field(1.0, description=_WEIGHT + " Every point counts with it.")
    label: Label = Field("", description=_LABEL)

    @model_validator(mode="after")
    def _one(self) -> SeriesTarget:
        _one_tolerance(self, self.tolerance is not None)
        return self


class PointTarget(StrictModel):
    """A metric's value on one date should equal ``value``; for the ``start.`` metrics (the
    starting network), its value at day 0, with no date."""

    kind: Literal["point"]
    metric: Metric = Field(
        description=_METRIC + " e.g. ipt.places_served, or start.places_4g (no date)."
    )
    date: Date | None = None
    """The day whose end state is compared (none for start.* metrics)."""

    value: Level
    """The target value."""

    tolerance: Level | None = None
    """Good enough when |simulated − value| ≤ this, in the metric's units."""

    rel_tolerance: RelTolerance | None = Field(None, description=_REL)
    weight: Weight = Field(1.0, description=_WEIGHT)
    label: Label = Field("", description=_LABEL)

    @model_validator(mode="after")
    def _dated(self) -> PointTarget:
        if is_start_metric(self.metric):
            if self.date is not None:
                raise ValueError(
                    f"{self.metric} is the starting network's value at day 0: give no date"
                )
        elif self.date is None:
            raise ValueError("date is required (only the start.* metrics take none)")
        _one_tolerance(self, self.tolerance is not None)
        if self.value == 0 and not self.tolerance:
            raise ValueError(_ZERO)
        return self


def _target_kind(value: Any) -> str:
    """Targets are window means unless they say ``kind: series`` or ``kind: point``."""
    if isinstance(value, dict):
        return str(value.get("kind", "window_mean"))
    return str(getattr(value, "kind", "window_mean"))


Target = Annotated[
    Annotated[WindowTarget, Tag("window_mean")]
    | Annotated[SeriesTarget, Tag("series")]
    | Annotated[PointTarget, Tag("point")],
    Discriminator(_target_kind),
]


class FitParameter(StrictModel):
    path: Annotated[str, Field(min_length=1)]
    """Key path of the scenario value to fit, as for --set (e.g. operators.0.build_crews)."""

    bounds: tuple[
        Annotated[float, Field(ge=-1e15, le=1e15), NotBool],
        Annotated[float, Field(ge=-1e15, le=1e15), NotBool],
    ]
    """Lowest and highest value to try (each within ±1e15)."""

    integer: Bool = False
    """Round to whole numbers (crews, sites)."""

    also: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=100)] = Field(
        default_factory=list
    )
    """More key paths that take the same value (one parameter for several keys, e.g. a radius for
    every zone)."""

    @model_validator(mode="after")
    def _ordered(self) -> FitParameter:
        if self.bounds[1] <= self.bounds[0]:
            raise ValueError("bounds must be (low, high) with low < high")
        return self


class Calibration(StrictModel):
    """Fit ``parameters`` so the simulation meets ``targets`` (mean over ``replications``)."""

    targets: Annotated[list[Target], Field(min_length=1, max_length=100)]
    """What the fit aims at: observed points, series or window means, each with its tolerance."""

    parameters: Annotated[list[FitParameter], Field(min_length=1, max_length=100)]
    """The scenario values the fit may move, each within its bounds."""

    replications: Annotated[Int, Field(ge=1, le=10_000)] = 10
    """Replications per evaluation (the same seeds every time)."""

    max_evaluations: Annotated[Int, Field(ge=2, le=10_000)] = 40
    """Stop after this many evaluations (the identification check's are extra)."""

    method: Literal["auto", "bisection", "nelder-mead", "powell"] = "auto"
    """'bisection' for one parameter and one window target (the rate must move one way with the
    parameter); 'nelder-mead' or 'powell' (scipy) otherwise; 'auto' picks bisection where it can,
    else nelder-mead."""

    stop_when_within: Bool = False
    """Stop as soon as every fitted target with a tolerance is within it."""

    identification: Bool = True
    """After the fit, measure how each target moves with each parameter (two more evaluations per
    parameter) and warn about parameters the targets cannot pin down."""

    @model_validator(mode="after")
    def _something_to_fit(self) -> Calibration:
        if all(t.weight == 0 for t in self.targets):
            raise ValueError("every target has weight 0: give at least one a weight above 0")
        return self
