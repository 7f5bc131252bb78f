"""Regret across replications: how much worse each policy does than the best one, case by case.

In replication *k* (one draw of the uncertain inputs and of the event noise, the same for
every policy) the best policy on a metric is the one with the highest value (or the lowest,
for metrics where lower is better: costs, days, defaults). A policy's regret there is how far
it falls short of that best: best − own for higher-is-better metrics, own − best otherwise,
so regret is never negative and is 0 for the best policy. A robust policy has a small
maximum regret: it is never far from the best, whatever the replication drew. Replications
where any policy's value is undefined (NaN: a milestone never reached) are left out of that
metric, and counted in ``n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..arrays import FloatArray
from ..outcomes import outcome

__all__ = ["RegretRow", "regret_metrics", "regret_table", "regrets"]


@dataclass(frozen=True)
class RegretRow:
    """One policy's regret on one metric, over the replications where every policy has it."""

    policy: str
    metric: str
    better: str  # higher | lower
    mean_regret: float
    max_regret: float
    share_best: float  # of replications in which this policy is (one of) the best
    n: int


def regret_metrics(names: Sequence[str]) -> list[str]:
    """The metrics among *names* that have a better direction (regret needs one)."""
    out = []
    for name in names:
        try:
            better = outcome(name).better
        except KeyError:  # a year's coverage or an impact estimate: more is better
            better = "higher" if name.startswith("people_") else "none"
        if better != "none":
            out.append(name)
    return out


def _better(name: str) -> str:
    try:
        return outcome(name).better
    except KeyError:
        return "higher"


def regrets(values: FloatArray, higher: bool) -> FloatArray:
    """Regret of each policy (row) in each replication (column) of *values* (policies ×
    replications): best − own, or own − best when lower is better."""
    if higher:
        return np.asarray(values.max(axis=0) - values, dtype=np.float64)
    return np.asarray(values - values.min(axis=0), dtype=np.float64)


def regret_table(
    metrics: Mapping[str, Mapping[str, FloatArray]], names: Sequence[str]
) -> list[RegretRow]:
    """Regret rows for every metric of *names* (with a direction) and every policy of
    *metrics* (policy → metric → values per replication, all policies on the same
    replications)."""
    policies = list(metrics)
    rows: list[RegretRow] = []
    for name in regret_metrics(names):
        better = _better(name)
        values = np.vstack([np.asarray(metrics[p][name], dtype=np.float64) for p in policies])
        keep = np.all(np.isfinite(values), axis=0)
        v = values[:, keep]
        n = int(keep.sum())
        r = regrets(v, better == "higher") if n else np.zeros((len(policies), 0))
        for i, pol in enumerate(policies):
            if n == 0:
                rows.append(RegretRow(pol, name, better, np.nan, np.nan, np.nan, 0))
                continue
            best = r[i] == 0.0
            rows.append(
                RegretRow(
                    pol,
                    name,
                    better,
                    float(r[i].mean()),
                    float(r[i].max()),
                    float(best.mean()),
                    n,
                )
            )
    return rows
