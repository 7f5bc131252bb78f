"""Uncertain inputs: the ``uncertainties:`` block resolved, drawn and applied to scenarios.

Replication *k* of ``run --reps`` or ``compare`` runs the scenario with row *k* of a Latin
hypercube over the uncertain inputs (``scipy.stats.qmc.LatinHypercube``, seeded from the
scenario seed), mapped through each input's inverse distribution function. The sample
depends only on the scenario and the number of replications, never on the policy: every
policy sees the same values on replication *k* (and the same event noise, from the
replication's seed), so differences between policies stay paired.

Sensitivity analysis uses the same mapping (:meth:`UncertainInput.value`) for its own
designs: each input is sampled in probability space (0..1) and turned into a value by its
distribution, so the analysis respects the distributions written in the scenario.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..arrays import FloatArray
from ..errors import ScenarioError
from ..scenario.bounded import ScalarField, resolve_scalar
from ..scenario.load import parse_scenario
from ..scenario.paths import PathKey
from ..scenario.schema import Scenario
from ..scenario.uncertainty import (
    LogNormalUncertainty,
    NormalUncertainty,
    TriangularUncertainty,
    Uncertainty,
    UniformUncertainty,
)
from ..scenario.validate import blame_source
from .tasks import Task, scenario_payload

__all__ = [
    "LHS_SPAWN_KEY",
    "TAIL",
    "InputSample",
    "UncertainInput",
    "check_uncertainties",
    "lhs_unit",
    "replication_payloads",
    "replication_sample",
    "resolve_uncertainties",
    "sample_inputs",
    "uncertain_tasks",
    "with_values",
]


#: The spawn key of the Latin hypercube's seed under the scenario seed. Replication seeds
#: use one-element keys ``(k,)``, so a two-element key can never be one of theirs.
LHS_SPAWN_KEY = (0x4C4853, 0)
#: Quantiles an unbounded (normal, log-normal) distribution is drawn within: a design point
#: at probability 0 or 1 (Morris uses both) would otherwise be infinite.
TAIL = 1e-3


@dataclass(frozen=True)
class UncertainInput:
    """One item of ``uncertainties:`` resolved against the scenario."""

    spec: Uncertainty
    field: ScalarField
    low: float  # the support after truncation to the field's limits
    high: float

    @property
    def name(self) -> str:
        """The key path as written: the column name in replications.csv."""
        return self.spec.path

    @property
    def path(self) -> PathKey:
        return self.field.path

    @property
    def integer(self) -> bool:
        return self.spec.integer

    def value(self, u: FloatArray) -> FloatArray:
        """Values at probabilities *u* (each in 0..1): the inverse distribution function."""
        from scipy.stats import triang, truncnorm  # scipy.stats takes a while to import

        s = self.spec
        u = np.asarray(u, dtype=np.float64)
        if isinstance(s, UniformUncertainty):
            if s.integer:  # every whole number low..high equally likely
                first, last = math.ceil(s.low), math.floor(s.high)
                x = np.floor(first + u * (last - first + 1))
                return np.asarray(np.clip(x, first, last), dtype=np.float64)
            x = s.low + u * (s.high - s.low)
        elif isinstance(s, TriangularUncertainty):
            c = (s.mode - s.low) / (s.high - s.low)
            x = np.asarray(triang.ppf(u, c, loc=s.low, scale=s.high - s.low), dtype=np.float64)
        else:
            q = np.clip(u, TAIL, 1.0 - TAIL)
            if isinstance(s, NormalUncertainty):
                mu, sd, lo, hi = s.mean, s.sd, self.low, self.high
            else:  # log-normal: a normal of the logarithm
                mu, sd = math.log(s.median), s.sigma
                lo = math.log(self.low) if self.low > 0 else -math.inf
                hi = math.log(self.high) if math.isfinite(self.high) else math.inf
            a, b = (lo - mu) / sd, (hi - mu) / sd
            x = np.asarray(truncnorm.ppf(q, a, b, loc=mu, scale=sd), dtype=np.float64)
            if isinstance(s, LogNormalUncertainty):
                x = np.exp(x)
            x = np.clip(x, self.low, self.high)
        if s.integer:
            whole = self.field.whole_range()
            assert whole is not None  # checked when resolved
            lo_w = max(whole[0], math.ceil(self.low))
            hi_w = min(whole[1], math.floor(self.high))
            return np.asarray(np.clip(np.round(x), lo_w, hi_w), dtype=np.float64)
        return self._inside(x)

    def _inside(self, x: FloatArray) -> FloatArray:
        """Nudge values off an open limit of the field (a share > 0 drawn as exactly 0)."""
        f = self.field
        if f.low_open:
            x = np.where(x <= f.low, np.nextafter(f.low, math.inf), x)
        if f.high_open:
            x = np.where(x >= f.high, np.nextafter(f.high, -math.inf), x)
        return x


def _error(scenario: Scenario, i: int, key: str, message: str, value: object) -> ScenarioError:
    path: PathKey = ("uncertainties", i, key)
    blamed = blame_source(scenario, path, message)
    return ScenarioError(message, source=blamed, where=f"uncertainties[{i}].{key}", value=value)


def _support(s: Uncertainty, f: ScalarField) -> tuple[float, float, str, float]:
    """(low, high) after truncation, or a problem: (key, value) outside the field."""
    if isinstance(s, UniformUncertainty | TriangularUncertainty):
        keys = ["low", "mode", "high"] if isinstance(s, TriangularUncertainty) else ["low", "high"]
        for key in keys:
            v = float(getattr(s, key))
            if not f.allows(v):
                return (math.nan, math.nan, key, v)
        return (s.low, s.high, "", 0.0)
    for key in ("low", "high"):
        v = getattr(s, key)
        if v is not None and not f.allows(float(v)):
            return (math.nan, math.nan, key, float(v))
    if isinstance(s, NormalUncertainty) and not f.allows(s.mean):
        return (math.nan, math.nan, "mean", s.mean)
    if isinstance(s, LogNormalUncertainty) and not f.allows(s.median):
        return (math.nan, math.nan, "median", s.median)
    lo = f.low if s.low is None else max(f.low, s.low)
    hi = f.high if s.high is None else min(f.high, s.high)
    return (lo, hi, "", 0.0)


def resolve_uncertainties(scenario: Scenario) -> list[UncertainInput]:
    """Every item of ``uncertainties:`` resolved (its path exists and is a number, its values
    fit the field); :class:`ScenarioError` (one line) on the first problem."""
    data = scenario.model_dump(mode="json")
    out: list[UncertainInput] = []
    seen: dict[PathKey, int] = {}
    for i, s in enumerate(scenario.uncertainties):
        field, problem = resolve_scalar(data, s.path)
        if field is None:
            raise _error(scenario, i, "path", problem, s.path)
        if field.path[:1] in (("uncertainties",), ("optimize",), ("seed",)):
            raise _error(
                scenario,
                i,
                "path",
                "cannot draw the uncertainties, optimize or seed keys themselves",
                s.path,
            )
        if field.path in seen:
            message = f"drawn twice (also uncertainties[{seen[field.path]}])"
            raise _error(scenario, i, "path", message, s.path)
        seen[field.path] = i
        if field.whole and not s.integer:
            message = f"{field.where} takes whole numbers: add integer: true"
            raise _error(scenario, i, "path", message, s.path)
        lo, hi, key, bad = _support(s, field)
        if key:
            message = f"outside what {field.where} allows ({field.limits()})"
            raise _error(scenario, i, key, message, bad)
        if not lo < hi:
            message = f"no values left within what {field.where} allows ({field.limits()})"
            raise _error(scenario, i, "path", message, s.path)
        if s.integer:
            whole = field.whole_range()
            if whole is None or max(whole[0], math.ceil(lo)) > min(whole[1], math.floor(hi)):
                message = "integer: true but the range holds no whole number"
                raise _error(scenario, i, "path", message, s.path)
        item = UncertainInput(s, field, lo, hi)
        probe = item.value(np.array([0.5]))
        if not np.all(np.isfinite(probe)):  # e.g. a normal far outside its truncation
            message = f"the distribution has no probability within {field.limits()}"
            raise _error(scenario, i, "path", message, s.path)
        out.append(item)
    return out


def check_uncertainties(scenario: Scenario) -> None:
    """The checks of ``uncertainties:`` that need no simulation (run by every command)."""
    resolve_uncertainties(scenario)


def lhs_unit(n: int, d: int, seed: int) -> FloatArray:
    """*n* rows of a Latin hypercube in *d* dimensions, each in 0..1, from the scenario seed."""
    from scipy.stats import qmc

    ss = np.random.SeedSequence(entropy=seed, spawn_key=LHS_SPAWN_KEY)
    sampler = qmc.LatinHypercube(d=d, rng=np.random.default_rng(ss))
    return np.asarray(sampler.random(n), dtype=np.float64)


@dataclass(frozen=True)
class InputSample:
    """Values of the uncertain inputs: ``values[k, j]`` for row (replication) *k*, input *j*."""

    inputs: tuple[UncertainInput, ...]
    values: FloatArray

    @property
    def names(self) -> list[str]:
        return [x.name for x in self.inputs]

    def row(self, k: int) -> dict[PathKey, float]:
        return {x.path: float(self.values[k, j]) for j, x in enumerate(self.inputs)}

    def columns(self) -> dict[str, FloatArray]:
        """Each input's values by its name (what replications.csv adds)."""
        return {x.name: self.values[:, j] for j, x in enumerate(self.inputs)}


def sample_inputs(inputs: Sequence[UncertainInput], unit: FloatArray) -> InputSample:
    """Values at the probabilities *unit* (rows × inputs)."""
    values = np.column_stack([x.value(unit[:, j]) for j, x in enumerate(inputs)])
    return InputSample(tuple(inputs), values.reshape(len(unit), len(inputs)))


def replication_sample(scenario: Scenario, reps: int) -> InputSample | None:
    """The uncertain inputs' values for replications 0..reps-1 (None: the scenario has none)."""
    inputs = resolve_uncertainties(scenario)
    if not inputs:
        return None
    return sample_inputs(inputs, lhs_unit(reps, len(inputs), scenario.seed))


def with_values(
    scenario: Scenario, values: Mapping[PathKey, float], integer: set[PathKey], source: str
) -> Scenario:
    """A copy of *scenario* with the values at the key paths set (validated again)."""
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = round(value) if path in integer else float(value)
    return parse_scenario(data, source=source)


def replication_payloads(scenario: Scenario, reps: int, sample: InputSample | None) -> list[str]:
    """The scenario (as a task carries it) of replications 0..reps-1: the same for all without
    a *sample*; with one, replication *k*'s has row *k*'s values (so its own stored record)."""
    if sample is None:
        return [scenario_payload(scenario)] * reps
    integer = {x.path for x in sample.inputs if x.integer}
    return [
        scenario_payload(with_values(scenario, sample.row(k), integer, f"replication {k}"))
        for k in range(reps)
    ]


def uncertain_tasks(payloads: Sequence[str], policy: str | None, *, point: int = 0) -> list[Task]:
    """Replication *k* of the scenario *payloads[k]* under *policy*, for every *k*."""
    return [Task(p, policy, k, point) for k, p in enumerate(payloads)]
