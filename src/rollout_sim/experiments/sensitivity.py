"""Global sensitivity of outcomes to the uncertain inputs: Sobol' indices or Morris effects.

The design is made and analysed by SALib in probability space: every input varies over
0..1 and each design value is turned into a scenario value by the input's own distribution
(:meth:`~.uncertainty.UncertainInput.value`). Sobol' indices are variance shares, which a
monotone change of an input's scale leaves unchanged, so the indices are those of the
inputs *as distributed in the scenario* (not of uniform ranges stretched over their
supports). Morris effects are per move across the whole quantile range of an input (0 to 1),
so they compare inputs on the same footing.

The analysis (:func:`analyse`, :func:`indices_of`) takes plain arrays or a plain function, so
it is checked against functions with known indices (Ishigami); :func:`run_sensitivity`
evaluates the design with the simulator: one scenario per design row, each run on the same
replications (common random numbers: only the inputs differ between rows), through the batch
runner (any executor, resumable).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..arrays import FloatArray
from ..errors import InputError
from ..scenario.schema import Scenario
from .metric_refs import MetricRef
from .runner import Batch
from .tasks import RunRecord
from .uncertainty import (
    InputSample,
    UncertainInput,
    replication_payloads,
    resolve_uncertainties,
    sample_inputs,
    uncertain_tasks,
)

__all__ = [
    "DEFAULT_METRICS",
    "Method",
    "SensitivityResult",
    "SensitivityRow",
    "analyse",
    "design",
    "design_rows",
    "indices_of",
    "run_sensitivity",
]

Method = Literal["sobol", "morris"]

#: What ``sensitivity`` reports without ``--metric``: reach, service, cost, cost per person
#: and availability at the horizon.
DEFAULT_METRICS = (
    "people_reached",
    "people_served",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "availability",
)
#: Levels of the Morris grid (SALib's default).
MORRIS_LEVELS = 4
#: Bootstrap resamples of the confidence intervals, and their level.
RESAMPLES = 200
CONF_LEVEL = 0.95
#: What SALib reports for each method, named as the :class:`SensitivityRow` fields they fill.
_INDICES: dict[Method, tuple[str, ...]] = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma"),
}


@dataclass(frozen=True)
class SensitivityRow:
    """One input's indices for one metric. Sobol: S1, S1_conf, ST, ST_conf (mu_star ... NaN);
    Morris: mu_star, mu_star_conf, sigma (S1 ... NaN)."""

    parameter: str
    metric: str
    S1: float = math.nan
    S1_conf: float = math.nan
    ST: float = math.nan
    ST_conf: float = math.nan
    mu_star: float = math.nan
    mu_star_conf: float = math.nan
    sigma: float = math.nan

    @property
    def rank_key(self) -> float:
        """What the ranking sorts by (larger first): ST, or mu_star."""
        v = self.ST if not math.isnan(self.ST) else self.mu_star
        return -math.inf if math.isnan(v) else v


def _problem(names: Sequence[str]) -> dict[str, object]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_rows(method: Method, d: int, samples: int) -> int:
    """How many rows a design of *samples* base samples has (Sobol: N(d+2); Morris: r(d+1))."""
    return samples * (d + 2) if method == "sobol" else samples * (d + 1)


def design(method: Method, names: Sequence[str], samples: int, seed: int) -> FloatArray:
    """The design in probability space (rows × inputs, each in 0..1): Saltelli's extension of
    a scrambled Sobol' sequence (first-order and total indices), or Morris trajectories."""
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        below = 2 ** max(1, int(math.log2(max(samples, 2))))
        raise InputError(
            f"Sobol' designs need a power of 2 (try {below} or {below * 2})",
            source="--samples",
            value=samples,
        )
    problem = _problem(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's notes on sample sizes, said in the docs
        if method == "sobol":
            from SALib.sample import sobol

            x = sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        else:
            from SALib.sample import morris

            x = morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    return np.asarray(x, dtype=np.float64)


def analyse(
    method: Method,
    names: Sequence[str],
    unit: FloatArray,
    outputs: dict[str, FloatArray],
    seed: int,
) -> list[SensitivityRow]:
    """Indices of every input for every output (name → one value per design row). An output
    that is undefined (NaN) on some row, or the same on every row, gets NaN indices: nothing
    to apportion."""
    problem = _problem(names)
    rows: list[SensitivityRow] = []
    for metric, y in outputs.items():
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)) or float(np.ptp(y)) == 0.0:
            rows += [SensitivityRow(n, metric) for n in names]
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if method == "sobol":
                from SALib.analyze import sobol as sobol_analysis

                si = sobol_analysis.analyze(
                    problem,
                    y,
                    calc_second_order=False,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    seed=seed,
                )
            else:
                from SALib.analyze import morris as morris_analysis

                si = morris_analysis.analyze(
                    problem,
                    unit,
                    y,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    num_levels=MORRIS_LEVELS,
                    seed=seed,
                )
            rows += [
                SensitivityRow(n, metric, **{k: float(si[k][j]) for k in _INDICES[method]})
                for j, n in enumerate(names)
            ]
    return rows


def indices_of(
    method: Method,
    names: Sequence[str],
    func: Callable[[FloatArray], dict[str, FloatArray]],
    samples: int,
    seed: int,
) -> list[SensitivityRow]:
    """Indices of a plain function of the design (rows × inputs in 0..1 → outputs by name)."""
    unit = design(method, names, samples, seed)
    return analyse(method, names, unit, func(unit), seed)


@dataclass
class SensitivityResult:
    """A sensitivity analysis run with the simulator: its design, values and indices."""

    method: Method
    samples: int
    replications: int
    policy: str | None
    inputs: list[UncertainInput]
    unit: FloatArray  # the design in probability space
    sample: InputSample  # the design's scenario values
    metrics: list[MetricRef]
    outputs: dict[str, FloatArray]  # metric label → mean over replications, per design row
    rows: list[SensitivityRow]

    def ranked(self, metric: str) -> list[SensitivityRow]:
        """The rows of *metric*, most influential first."""
        return sorted((r for r in self.rows if r.metric == metric), key=lambda r: -r.rank_key)


def run_sensitivity(
    scenario: Scenario,
    method: Method,
    samples: int,
    metrics: Sequence[MetricRef],
    *,
    replications: int = 1,
    policy: str | None = None,
    batch: Batch | None = None,
) -> SensitivityResult:
    """Evaluate the design on the simulator (each row's scenario on replications
    0..replications-1, means per row) and analyse it. Seeded by the scenario seed."""
    inputs = resolve_uncertainties(scenario)
    if not inputs:
        raise InputError(
            "the scenario has no uncertainties: block; add the inputs to vary (see "
            "scenarios/uncertainty_demo.yaml)",
            source="uncertainties",
        )
    names = [x.name for x in inputs]
    unit = design(method, names, samples, scenario.seed)
    sample = sample_inputs(inputs, unit)
    tasks = []
    groups: list[list[str]] = []
    for i in range(len(unit)):
        one = InputSample(sample.inputs, sample.values[i : i + 1])
        payload = replication_payloads(scenario, 1, one)[0]
        mine = uncertain_tasks([payload] * replications, policy, point=i)
        tasks += mine
        groups.append([t.key for t in mine])
    records: dict[str, RunRecord] = (batch or Batch()).run(tasks)
    outputs = {
        m.label: np.array([m.mean([records[k] for k in keys]) for keys in groups]) for m in metrics
    }
    rows = analyse(method, names, unit, outputs, scenario.seed)
    return SensitivityResult(
        method,
        samples,
        replications,
        policy if policy is not None else scenario.baseline_policy,
        inputs,
        unit,
        sample,
        list(metrics),
        outputs,
        rows,
    )
