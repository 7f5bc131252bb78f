"""The scenario schema: typed, validated, with units in names and documented defaults.

Every default here is either traced to ``docs/defaults.md`` (which cites docs/sources.md) or
labelled an assumption there. Unknown keys are rejected (``extra="forbid"``); the loader turns
pydantic's errors into one line with the file, key path and value.

The sections live beside it: :mod:`.geography` (villages, PoPs, depots), :mod:`.network`
(coverage, backhaul, transport), :mod:`.operators` (money, siting, building), :mod:`.maintenance`,
:mod:`.durations` (build and repair times), :mod:`.funding`, :mod:`.calibration` and
:mod:`.impact`; this module holds the whole :class:`Scenario` and re-exports every section's
models, so ``from rollout_sim.scenario.schema import Operator`` keeps working.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from .calibration import Calibration
from .durations import (
    BuildTime,
    FixedDays,
    GammaDays,
    LogNormalDays,
    TriangularDays,
    UniformDays,
)
from .funding import Policy
from .geography import (
    DEFAULT_ZONES,
    Geography,
    PeruOptions,
    PlacesSpec,
    SyntheticGeography,
    VillageFile,
)
from .geography import PERU_REGIONAL_FIBRE as PERU_REGIONAL_FIBRE
from .geography import ZoneName as ZoneName
from .impact import Impact
from .maintenance import Failures, Maintenance, Seasonal
from .network import EDGE_KIND_NAMES as EDGE_KIND_NAMES
from .network import MAX_HOP_KM as MAX_HOP_KM
from .network import MAX_RADIUS_KM as MAX_RADIUS_KM
from .network import (
    Backhaul,
    Coverage,
    CoverageTerrain,
    FibreBackhaul,
    MicrowaveBackhaul,
    SatelliteBackhaul,
    Transport,
)
from .network import EdgeKind as EdgeKind
from .operators import Adoption, CapexTable, CreditLine, Operator, Revenue, Siting, Tranche
from .optimize import Optimize
from .types import (
    MAX_DAYS,
    MAX_HORIZON_YEARS,
    MAX_SEED,
    Bool,
    Date,
    Int,
    NotBool,
    StartDate,
    StrictModel,
)
from .uncertainty import Uncertainty

__all__ = [
    "DEFAULT_ZONES",
    "Adoption",
    "Backhaul",
    "BuildTime",
    "CapexTable",
    "Coverage",
    "CoverageTerrain",
    "CreditLine",
    "Failures",
    "FibreBackhaul",
    "FixedDays",
    "GammaDays",
    "Geography",
    "LogNormalDays",
    "Maintenance",
    "MicrowaveBackhaul",
    "Operator",
    "Outputs",
    "PeruOptions",
    "PlacesSpec",
    "Reference",
    "Revenue",
    "SatelliteBackhaul",
    "Scenario",
    "Seasonal",
    "Siting",
    "SyntheticGeography",
    "Tranche",
    "Transport",
    "TriangularDays",
    "UniformDays",
    "VillageFile",
]


class Reference(StrictModel):
    """A published figure to report beside the simulated one (not fitted)."""

    label: Annotated[str, Field(min_length=1)]
    """What it is, with its source."""

    metric: Literal[
        "people_reached",
        "people_covered",
        "villages_covered",
        "villages_reached",
        "sites_on_air",
        "places_served",
        "people_served",
    ]
    """people_reached / villages_reached = covered minus covered at the start; places_served /
    people_served = inside the coverage of the modelled operators' sites in service, whoever else
    covers them (what operators report)."""

    date: Date
    """The date the figure refers to."""

    value: Annotated[float, Field(ge=0, le=1e15), NotBool]
    """The published figure (a count of people, villages or sites)."""


class Outputs(StrictModel):
    plots: Bool = True
    """Write plots/*.png."""

    villages_geojson: Literal["reached", "all", "none"] = "reached"
    """villages.geojson of a run: the places the rollout reached (covered first by a modelled
    operator, or hosting its site), every place (a national world: tens of MB), or none."""

    band: tuple[
        Annotated[float, Field(gt=0, lt=1), NotBool], Annotated[float, Field(gt=0, lt=1), NotBool]
    ] = (0.1, 0.9)
    """Quantiles of the band in fan charts and series summaries."""

    interval_level: Annotated[float, Field(gt=0, lt=1), NotBool] = 0.9
    """Central interval of each metric across replications."""

    ci_level: Annotated[float, Field(gt=0, lt=1), NotBool] = 0.95
    """Confidence level of paired differences against the baseline."""

    @model_validator(mode="after")
    def _ordered(self) -> Outputs:
        if self.band[0] >= self.band[1]:
            raise ValueError("band must be (low, high) with low < high")
        return self


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _horizon_days(years: float) -> int:
    """Simulated days of a horizon of *years*; half-days round up (not to even), so 2 and 6
    years round the same way."""
    return int(years * 365.25 + 0.5)


class Scenario(StrictModel):
    """A complete scenario: the world, the operators, the horizon."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    """Short name; also the results folder name (letters, digits, _ . -)."""

    description: str = ""
    seed: Annotated[Int, Field(ge=0, le=MAX_SEED)] = 0
    """Master seed: the world and every random stream derive from it."""

    start_date: StartDate
    """Day 0 of the simulation (1900-01-01 to 2200-12-31)."""

    end_date: Date | None = None
    """Last simulated day (inclusive); at most 100 years after start_date."""

    horizon_years: Annotated[float, Field(gt=0, le=MAX_HORIZON_YEARS), NotBool] | None = None
    """Alternative to end_date: years after start_date (at most 100)."""

    geography: Geography = Field(default_factory=Geography)
    coverage: Coverage = Field(default_factory=Coverage)
    backhaul: Backhaul = Field(default_factory=Backhaul)
    transport: Transport = Field(default_factory=Transport)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    # Each operator keeps several arrays the size of the world: a few dozen is plenty.
    operators: Annotated[list[Operator], Field(min_length=1, max_length=50)]
    outputs: Outputs = Field(default_factory=Outputs)
    policies: Annotated[list[Policy], Field(max_length=100)] = Field(default_factory=list)
    """Funding policies to run and compare."""

    baseline_policy: str | None = None
    """The policy others are compared with (default: the first)."""

    calibration: Calibration | None = None
    """What `rollout-sim calibrate` fits, and to what."""

    references: list[Reference] = Field(default_factory=list)
    """Published figures to report beside the results."""

    impact: Impact = Field(default_factory=Impact)
    """Welfare and poverty effects of the coverage delivered (docs/impact.md)."""

    uncertainties: Annotated[list[Uncertainty], Field(max_length=100)] = Field(default_factory=list)
    """Values that are not known, as distributions: `run --reps` and `compare` draw them per
    replication, `sensitivity` ranks them (docs/uncertainty.md)."""

    optimize: Optimize | None = None
    """What `rollout-sim optimize` searches, and for what (docs/uncertainty.md)."""

    #: The ``--set`` assignments applied, by the key path each wrote (filled in by
    #: ``load_scenario``): checks made after loading (zones against the villages) name the
    #: ``--set`` to blame rather than the file. Not part of the scenario's data or hash.
    _overrides: dict[tuple[str | int, ...], str] = PrivateAttr(default_factory=dict)

    @property
    def overrides(self) -> Mapping[tuple[str | int, ...], str]:
        """The ``--set`` assignments applied, by the key path each wrote, in the order given (a
        mapping an assignment created is listed under its own path too); empty when none was.
        Read-only: provenance, not part of the scenario's data, dump or hash."""
        return MappingProxyType(self._overrides)

    def record_overrides(self, overridden: Mapping[tuple[str | int, ...], str]) -> None:
        """Keep *overridden* (see :attr:`overrides`): the loader's last step."""
        self._overrides = dict(overridden)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.', '-'"
            )
        return value

    @field_validator("horizon_years")
    @classmethod
    def _at_least_a_day(cls, value: float | None) -> float | None:
        # The horizon is rounded to whole days (below): less than half a day would be none.
        if value is not None and _horizon_days(value) < 1:
            raise ValueError(f"expected a horizon of at least one day ({1 / 365.25:.5f} years)")
        return value

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        if self.end_date is not None and self.horizon_years is not None:
            raise ValueError("give end_date or horizon_years, not both")
        if self.end_date is None:
            years = 5.0 if self.horizon_years is None else self.horizon_years
            self.end_date = self.start_date + timedelta(days=_horizon_days(years) - 1)
            self.horizon_years = None
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        if (self.end_date - self.start_date).days + 1 > MAX_DAYS:
            raise ValueError(
                f"end_date {self.end_date} is more than {MAX_HORIZON_YEARS} years after "
                f"start_date {self.start_date}; expected a horizon of at most "
                f"{MAX_HORIZON_YEARS} years"
            )
        names = [op.name for op in self.operators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"operator names must be unique; repeated: {', '.join(dup)}")
        pnames = [p.name for p in self.policies]
        pdup = sorted({n for n in pnames if pnames.count(n) > 1})
        if pdup:
            raise ValueError(f"policy names must be unique; repeated: {', '.join(pdup)}")
        if self.baseline_policy is not None and self.baseline_policy not in pnames:
            raise ValueError(
                f"baseline_policy {self.baseline_policy!r} is not a policy; "
                f"policies: {', '.join(pnames) or 'none'}"
            )
        if self.baseline_policy is None and self.policies:
            self.baseline_policy = self.policies[0].name
        for p in self.policies:
            for inst in p.instruments:
                for op in inst.operators or ():
                    if op not in names:
                        raise ValueError(
                            f"policy {p.name!r}, instrument {inst.name!r}: unknown operator "
                            f"{op!r}; operators: {', '.join(names)}"
                        )
        return self

    def policy(self, name: str | None) -> Policy | None:
        """The named policy (None: the baseline, or no policy if there are none)."""
        if name is None:
            name = self.baseline_policy
        if name is None:
            return None
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def horizon_days(self) -> int:
        """Number of simulated days (rows of the daily series)."""
        assert self.end_date is not None
        return (self.end_date - self.start_date).days + 1
