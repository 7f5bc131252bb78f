"""Compare funding policies on the same replications, with paired differences.

Every policy runs on replications 0..n-1 of the scenario seed, so replication k of policy A and
of policy B share their random draws and the difference B − A on replication k isolates the
policy's effect. Intervals: a central percentile interval of each metric across replications
(the spread of outcomes), and a t confidence interval of the mean paired difference against the
baseline (the uncertainty of the effect).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError, ScenarioError
from ..scenario.schema import Scenario
from ..world.build import World
from .replications import ReplicationSet, assemble
from .runner import Batch
from .stats import Interval, interval, paired_difference, paired_ratio
from .tasks import RunRecord, Task, remember_world
from .uncertainty import InputSample, replication_payloads, replication_sample, uncertain_tasks

__all__ = [
    "Comparison",
    "check_policies",
    "compare_policies",
    "comparison_from_records",
    "comparison_tasks",
    "policies_to_compare",
    "policy_order",
]


@dataclass
class Comparison:
    """Per-policy replication sets, all on the same seeds, and the baseline's name."""

    scenario: Scenario
    baseline: str
    sets: dict[str, ReplicationSet]
    level: float = 0.9
    ci_level: float = 0.95
    #: The uncertain inputs' values, the same on replication k for every policy (None: none).
    sample: InputSample | None = None

    @property
    def policies(self) -> list[str]:
        return list(self.sets)

    def metric_names(self) -> list[str]:
        names: list[str] = []
        for s in self.sets.values():
            for n in s.metric_names():
                if n not in names:
                    names.append(n)
        return names

    def summary(self, policy: str, metric: str) -> Interval:
        return interval(self.sets[policy].metrics[metric], self.level)

    def difference(self, policy: str, metric: str) -> Interval:
        base = self.sets[self.baseline].metrics[metric]
        return paired_difference(base, self.sets[policy].metrics[metric], self.ci_level)

    def icer(self, policy: str) -> Interval:
        """Public cost per *additional* person reached against the baseline (incremental
        cost-effectiveness ratio): Δ public cost ÷ Δ people reached, paired on the same
        replications, with Fieller's interval. Not the average cost per person: a policy that
        spends little more than the baseline to reach many more people is cheap here."""
        b, p = self.sets[self.baseline].metrics, self.sets[policy].metrics
        return paired_ratio(
            b["public_cost_usd"],
            p["public_cost_usd"],
            b["people_reached"],
            p["people_reached"],
            self.ci_level,
        )


def check_policies(scenario: Scenario, names: Sequence[str], option: str = "policies") -> None:
    """An :class:`InputError` (one line, naming *option*) for the first of *names* that is not
    one of the scenario's policies."""
    known = [p.name for p in scenario.policies]
    for name in names:
        if name not in known:
            hint = f"the scenario's policies: {', '.join(known)}" if known else "it defines none"
            raise InputError(f"unknown policy; {hint}", source=option, value=name)


def policies_to_compare(
    scenario: Scenario, chosen: Sequence[str] | None, option: str = "policies"
) -> tuple[str, list[str]]:
    """(baseline, policies in order) for ``compare``; one-line errors for a scenario without
    policies or an unknown name (*option* is where the names came from)."""
    if not scenario.policies:
        raise ScenarioError(
            "the scenario has no policies: block; add policies to compare (see "
            "scenarios/funding_policies.yaml)",
            where="policies",
        )
    check_policies(scenario, chosen or [], option)
    return policy_order(scenario, chosen)


def policy_order(scenario: Scenario, policies: Sequence[str] | None) -> tuple[str, list[str]]:
    """(baseline, policies to run with the baseline first); KeyError for an unknown name."""
    if not scenario.policies:
        raise ValueError("the scenario defines no policies to compare")
    known = [p.name for p in scenario.policies]
    chosen = list(policies) if policies else list(known)
    for name in chosen:
        if name not in known:
            raise KeyError(name)
    baseline = scenario.baseline_policy or known[0]
    chosen = [baseline] + [p for p in chosen if p != baseline]
    return baseline, chosen


def comparison_tasks(
    scenario: Scenario, policies: Sequence[str] | None, reps: int
) -> tuple[str, list[str], list[Task]]:
    """(baseline, policies in order, tasks): replications 0..reps-1 of every policy, each
    replication with the same drawn values of the uncertain inputs for every policy."""
    baseline, order = policy_order(scenario, policies)
    payloads = replication_payloads(scenario, reps, replication_sample(scenario, reps))
    return baseline, order, [t for pol in order for t in uncertain_tasks(payloads, pol)]


def comparison_from_records(
    scenario: Scenario,
    baseline: str,
    order: list[str],
    tasks: list[Task],
    records: Mapping[str, RunRecord],
) -> Comparison:
    """The comparison of finished runs (records by task key)."""
    sets = {
        pol: assemble(scenario, pol, [records[t.key] for t in tasks if t.policy == pol])
        for pol in order
    }
    out = scenario.outputs
    reps = len({t.rep for t in tasks})
    sample = replication_sample(scenario, reps)
    if sample is not None:
        for rset in sets.values():
            rset.inputs = sample.columns()
    return Comparison(scenario, baseline, sets, out.interval_level, out.ci_level, sample)


def compare_policies(
    scenario: Scenario,
    policies: Sequence[str] | None = None,
    reps: int = 10,
    *,
    world: World | None = None,
    batch: Batch | None = None,
) -> Comparison:
    """Run each policy (default: all, baseline first) on the same *reps* replications.

    What ``rollout-sim compare`` runs; *batch* defaults to this process, nothing saved.
    """
    baseline, order, tasks = comparison_tasks(scenario, policies, reps)
    if world is not None:
        remember_world(world)
    records = (batch or Batch()).run(tasks)
    return comparison_from_records(scenario, baseline, order, tasks, records)
