"""Welfare and poverty effects of coverage: dose–response parameter sets (sources §6).

A parameter set says how much a covered village gains as a function of its *years under
coverage*: nothing before ``lag_years``, then piecewise-linear curves (flat after the last point)
of the fractional consumption gain and of the percentage-point (pp) fall in the poverty and
extreme-poverty headcounts. Three sets bracket the evidence: ``low``, ``central`` (Nigeria) and
``high``. The model that applies them is :mod:`rollout_sim.impact`.

Where the sets' numbers come from (every figure not in sources §6 is labelled an assumption):

* Consumption and extreme poverty: the studies in sources §6, as reported (Nigeria in pp;
  Senegal's "−10%" read both ways, see :func:`_low` and :func:`_high`).
* Total poverty: none of the studies in sources §6 reports it (Nigeria's effect at the higher
  US$3.20 line is "negative but lower in magnitude and not significant", PRWP 9230 §4). Assumption:
  the set's consumption gain g shifts a log-normal distribution of consumption whose headcount is
  Peru's rural poverty H = 44.4% (sources §6), so the headcount falls by
  ``H − Φ(Φ⁻¹(H) − ln(1 + g)/σ)``. σ = 0.62 is fitted to Peru's two rates and lines: rural extreme
  poverty 12.8% (the ``extreme_poverty_rate`` default) and INEI's 2017 lines, S/338 (poverty) and
  S/183 (extreme) per person a month, σ = ln(338/183)/(Φ⁻¹(.444) − Φ⁻¹(.128)) ≈ 0.617 (the lines
  are INEI's, not yet in sources: assumption). That gives 3.7, 4.3, 4.9 and 8.2 pp for g = 6, 7, 8
  and 14%: below the extreme-poverty pp of the same set, as in Nigeria.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Final

from pydantic import Field, model_validator

from .types import Bool, NotBool, StrictModel

__all__ = [
    "IMPACT_SETS",
    "Impact",
    "ImpactParameters",
]

#: Names of the parameter sets, in the order reports show them.
IMPACT_SETS: Final = ("low", "central", "high")

Years = Annotated[float, Field(ge=0, le=50, allow_inf_nan=False), NotBool]
#: Fractional consumption gain: 0.06 = +6%. Above 1 (more than doubling consumption) is an order
#: of magnitude beyond any study in sources §6, so it is rejected as a likely unit error (6 ≠ 6%).
GainFraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool]
#: Percentage points of a headcount share, 0..100.
PercentagePoints = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), NotBool]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool]
#: Consumption per person, US$ a year: at most a million (far above any household survey).
ConsumptionUsd = Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False), NotBool]
#: A headcount effect by years under coverage: ``[years, percentage points]`` points.
HeadcountCurve = Annotated[list[tuple[Years, PercentagePoints]], Field(max_length=1000)]


class ImpactParameters(StrictModel):
    """One dose–response parameter set; the defaults are the central set (Nigeria, sources §6).

    Each curve is a list of ``[years, value]`` points, strictly increasing in years and none
    before ``lag_years``. The value at e years under coverage is 0 for e < ``lag_years``; from
    the lag on it is the linear interpolation of the points, held at the first point's value
    between the lag and the first point and at the last point's value after the last point (so
    the curve steps up at the lag unless a ``[lag, 0]`` point makes it ramp).
    """

    lag_years: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False), NotBool] = 1.0
    """No effect before this many years under coverage. sources §6: Nigeria's effects are 'not
    immediate' and appear after 1 year; Tanzania's only after > 1 year."""

    consumption_gain: Annotated[list[tuple[Years, GainFraction]], Field(max_length=1000)] = Field(
        default_factory=lambda: [(1.0, 0.06), (2.0, 0.08)], min_length=1
    )
    """Fractional gain in consumption per person by years under coverage. Default: Nigeria (Bahia et
    al. 2020, PRWP 9230; sources §6), +6% after 1 year of 3G/4G coverage, +8% after 2."""

    poverty_reduction_pp: HeadcountCurve = Field(
        default_factory=lambda: [(1.0, 3.7), (2.0, 4.9)], min_length=1
    )
    """Fall of the poverty headcount, percentage points, by years under coverage. No study in
    sources §6 reports it (assumption): the consumption gain (+6%, +8%) applied to a log-normal
    consumption distribution with Peru's rural headcount 44.4% and σ = 0.62 (module docstring) gives
    3.7 and 4.9 pp."""

    extreme_poverty_reduction_pp: HeadcountCurve = Field(
        default_factory=lambda: [(1.0, 4.0), (2.0, 7.0)], min_length=1
    )
    """Fall of the extreme-poverty headcount, percentage points, by years under coverage. Default:
    Nigeria (PRWP 9230; sources §6), −4 pp after 1 year, −7 pp after ≥ 2 (US$1.90-a-day line)."""

    source: str = "Nigeria: Bahia et al. 2020, World Bank PRWP 9230 (sources §6)"
    """Where the numbers come from, for reports."""

    @model_validator(mode="after")
    def _curves(self) -> ImpactParameters:
        for name, points in self.curves().items():
            years = [p[0] for p in points]
            if any(b <= a for a, b in pairwise(years)):
                raise ValueError(f"{name}: years must be strictly increasing, got {years}")
            if years[0] < self.lag_years:
                # A point before the lag would never take effect: almost surely a mistake.
                raise ValueError(
                    f"{name}: first point at {years[0]} years is before lag_years "
                    f"{self.lag_years} (no effect is counted before the lag)"
                )
        return self

    def curves(self) -> dict[str, list[tuple[float, float]]]:
        """The three curves by the name of the outcome they drive."""
        return {
            "consumption_gain": list(self.consumption_gain),
            "poverty_reduction_pp": list(self.poverty_reduction_pp),
            "extreme_poverty_reduction_pp": list(self.extreme_poverty_reduction_pp),
        }


def _low() -> ImpactParameters:
    """The smallest effects reported (sources §6), each outcome separately."""
    return ImpactParameters(
        lag_years=1.0,
        consumption_gain=[(1.0, 0.06), (2.0, 0.07)],
        poverty_reduction_pp=[(1.0, 3.7), (2.0, 4.3)],
        extreme_poverty_reduction_pp=[(1.0, 1.3)],
        source="Nigeria year 1 (PRWP 9230) and Tanzania's lower bound (PRWP 9749); Senegal's "
        "'−10% extreme poverty' (PRWP 9386) read as relative (sources §6)",
    )


def _high() -> ImpactParameters:
    """The largest effects reported (sources §6): Senegal, in full from the end of the lag."""
    return ImpactParameters(
        lag_years=1.0,
        consumption_gain=[(1.0, 0.14)],
        poverty_reduction_pp=[(1.0, 8.2)],
        extreme_poverty_reduction_pp=[(1.0, 10.0)],
        source="Senegal: Masaki et al. 2020, World Bank PRWP 9386 (sources §6), '−10% extreme "
        "poverty' read as percentage points",
    )


class Impact(StrictModel):
    """Welfare and poverty effects of the coverage a run delivers (sources §6).

    Applied to each counted village while it is in service: population × reduction(years in
    service), capped at its poor (extremely poor) population. Villages with their own poverty
    rates (Peru data: the district's INEI rates) use them; others use the scenario-level rates.
    """

    enabled: Bool = False
    """Estimate welfare and poverty effects."""

    low: ImpactParameters = Field(default_factory=_low)
    """Smallest effects, outcome by outcome. Consumption: Nigeria's +6% after 1 year, rising only to
    +7% after 2 (Tanzania's lower bound, PRWP 9749, 'only after > 1 year'; sources §6). Extreme
    poverty: Senegal's '10% decline' (PRWP 9386) read as relative, converted to pp with
    extreme_poverty_rate: 10% × 12.8% ≈ 1.3 pp. Poverty: from the consumption gain (assumption;
    module docstring): 3.7 and 4.3 pp."""

    central: ImpactParameters = Field(default_factory=ImpactParameters)
    """Nigeria (Bahia et al. 2020, PRWP 9230; sources §6): panel data with the date each household
    was covered; +6%/+8% consumption and −4/−7 pp extreme poverty after 1/2 years. Poverty: 3.7/4.9
    pp from the consumption gain (assumption)."""

    high: ImpactParameters = Field(default_factory=_high)
    """Senegal (Masaki et al. 2020, PRWP 9386; sources §6): +14% consumption and '−10%' extreme
    poverty, read as 10 pp (the larger reading; as a relative fall it is the low set's 1.3 pp). The
    study relates 3G coverage at the time of two household surveys (2011, 2018) to consumption, not
    the time since coverage, so the full effect is assumed from the end of the 1-year lag. Poverty:
    8.2 pp from the +14% gain (assumption)."""

    poverty_rate: Share = 0.444
    """Share of people in monetary poverty where the villages carry no rate (sources §6: Peru rural
    44.4%, INEI 2017)."""

    extreme_poverty_rate: Share = 0.128
    """Share of people in extreme monetary poverty where the villages carry no rate. Assumption:
    Peru rural 12.8% (INEI 2017; not yet in sources §6)."""

    consumption_usd_per_person_year: ConsumptionUsd = 1200.0
    """Baseline consumption per person that the fractional gain applies to, USD a year. Assumption:
    about Peru's 2017 poverty line (INEI, S/338 per person a month, national average; not in
    sources) × 12 at ≈ S/3.3 per US$ ≈ US$1,230, rounded down because rural lines are lower; with
    44% of rural people below the line, mean rural consumption is of that order."""

    include_urban: Bool = False
    """Count urban places too. Default no: the studies' effects are driven by rural households
    (Nigeria) and the rollout is rural; coverage shares are of rural people too."""

    include_initial_coverage: Bool = False
    """Count villages already served at day 0 (existing 4G). Default no: the effect of coverage they
    already had is not the rollout's."""

    @model_validator(mode="after")
    def _rates(self) -> Impact:
        if self.extreme_poverty_rate > self.poverty_rate:
            raise ValueError(
                f"extreme_poverty_rate {self.extreme_poverty_rate} exceeds poverty_rate "
                f"{self.poverty_rate} (the extremely poor are among the poor)"
            )
        return self

    def parameter_sets(self) -> dict[str, ImpactParameters]:
        """The parameter sets by name, in :data:`IMPACT_SETS` order."""
        return {"low": self.low, "central": self.central, "high": self.high}
