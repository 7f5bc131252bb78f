"""Policy optimisation: search the ``optimize:`` block's decision variables with Optuna.

One objective uses the TPE sampler, two NSGA-II; both are seeded from the scenario seed, and
trials are proposed ``parallel_trials`` at a time (a setting of the search, not of the
machine), so the same scenario gives the same trials whatever executor runs them. Every trial
runs the same replications 0..R-1 (common random numbers, and the same draws of any
``uncertainties:``), so trials differ only by their decision values. Objectives and
constraints are means over those replications; a trial whose constraint is violated is
infeasible (Optuna's ``constraints_func``), and only feasible trials can be on the Pareto
front or chosen as best.

The best trial: with one objective, the feasible trial with the best mean (the earliest on a
tie); with two, the Pareto trial best on the first objective (then the second).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from ..scenario.bounded import ScalarField, resolve_scalar
from ..scenario.optimize import Optimize
from ..scenario.paths import PathKey
from ..scenario.schema import Scenario
from ..scenario.validate import blame_source
from .compare import check_policies
from .metric_refs import MetricRef, parse_metric
from .runner import Batch
from .uncertainty import (
    replication_payloads,
    replication_sample,
    resolve_uncertainties,
    uncertain_tasks,
    with_values,
)

__all__ = ["OptimizePlan", "OptimizeResult", "Trial", "check_optimize", "dominates", "pareto"]


@dataclass(frozen=True)
class Goal:
    """An objective (*maximize*) or a constraint (*low*/*high*) on a metric."""

    metric: MetricRef
    maximize: bool = True
    low: float | None = None
    high: float | None = None

    def violation(self, value: float) -> float:
        """How far *value* is outside the constraint (<= 0: within it)."""
        if math.isnan(value):
            return math.inf
        over = -math.inf if self.high is None else value - self.high
        under = -math.inf if self.low is None else self.low - value
        return max(over, under)


@dataclass(frozen=True)
class OptimizePlan:
    """The ``optimize:`` block resolved against the scenario."""

    spec: Optimize
    policy: str | None
    variables: tuple[ScalarField, ...]
    objectives: tuple[Goal, ...]
    constraints: tuple[Goal, ...]


def _error(scenario: Scenario, where: PathKey, message: str, value: object) -> ScenarioError:
    text = "optimize" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
    blamed = blame_source(scenario, ("optimize", *where), message)
    return ScenarioError(message, source=blamed, where=text, value=value)


def check_optimize(scenario: Scenario) -> OptimizePlan | None:
    """The ``optimize:`` block resolved (None: the scenario has none); one-line
    :class:`ScenarioError` on the first problem: an unknown policy, path or metric, a range
    outside what the field allows, a variable that is also uncertain or belongs to a policy
    the trials do not run."""
    spec = scenario.optimize
    if spec is None:
        return None
    if spec.policy is not None:
        try:
            check_policies(scenario, [spec.policy])
        except Exception as exc:
            raise _error(
                scenario, ("policy",), str(getattr(exc, "message", exc)), spec.policy
            ) from None
    data = scenario.model_dump(mode="json")
    uncertain = {x.path for x in resolve_uncertainties(scenario)}
    runs = spec.policy if spec.policy is not None else scenario.baseline_policy
    fields: list[ScalarField] = []
    for i, v in enumerate(spec.variables):
        f, problem = resolve_scalar(data, v.path)
        if f is None:
            raise _error(scenario, ("variables", i, "path"), problem, v.path)
        if len(f.path) > 1 and f.path[0] == "policies" and isinstance(f.path[1], int):
            # Another policy's setting changes nothing the trials run: every trial would be
            # the same, and the "best" value an arbitrary one.
            owner = scenario.policies[f.path[1]].name
            if owner != runs:
                message = (
                    f"is a setting of policy {owner!r}, which the trials do not run (they run "
                    f"{runs!r}: optimize.policy)"
                )
                raise _error(scenario, ("variables", i, "path"), message, v.path)
        if f.path in uncertain:
            raise _error(
                scenario,
                ("variables", i, "path"),
                "also in uncertainties: a value is either chosen or drawn",
                v.path,
            )
        if any(f.path == g.path for g in fields):
            raise _error(scenario, ("variables", i, "path"), "chosen twice", v.path)
        if f.whole and not v.integer:
            message = f"{f.where} takes whole numbers: add integer: true"
            raise _error(scenario, ("variables", i, "path"), message, v.path)
        for key in ("low", "high"):
            x = float(getattr(v, key))
            if not f.allows(x):
                message = f"outside what {f.where} allows ({f.limits()})"
                raise _error(scenario, ("variables", i, key), message, x)
        if v.integer and math.ceil(v.low) > math.floor(v.high):
            raise _error(
                scenario,
                ("variables", i, "low"),
                "integer: true but low..high holds no whole number",
                v.low,
            )
        fields.append(f)
    goals: list[Goal] = []
    for i, o in enumerate(spec.objectives):
        m = _metric(scenario, o.metric, o.date, ("objectives", i, "metric"))
        goals.append(Goal(m, maximize=o.maximize))
    cons: list[Goal] = []
    for i, c in enumerate(spec.constraints):
        m = _metric(scenario, c.metric, c.date, ("constraints", i, "metric"))
        cons.append(Goal(m, low=c.min, high=c.max))
    return OptimizePlan(spec, runs, tuple(fields), tuple(goals), tuple(cons))


def _metric(scenario: Scenario, name: str, date: object, where: PathKey) -> MetricRef:
    from ..errors import InputError

    try:
        return parse_metric(scenario, name, "optimize", date)  # type: ignore[arg-type]
    except InputError as exc:
        raise _error(scenario, where, exc.message, name) from None


@dataclass
class Trial:
    """One trial: its decision values, objective and constraint means, feasibility."""

    number: int
    params: dict[str, float]  # by the variable's path as written
    objectives: list[float]
    constraints: list[float]
    feasible: bool


def dominates(a: Sequence[float], b: Sequence[float], maximize: Sequence[bool]) -> bool:
    """*a* is at least as good as *b* on every objective and better on one."""
    better = False
    for x, y, up in zip(a, b, maximize, strict=True):
        gx, gy = (x, y) if up else (-x, -y)
        if gx < gy:
            return False
        better = better or gx > gy
    return better


def pareto(trials: Sequence[Trial], maximize: Sequence[bool]) -> list[Trial]:
    """The feasible trials no other feasible trial dominates, in trial order."""
    ok = [t for t in trials if t.feasible and all(np.isfinite(t.objectives))]
    return [t for t in ok if not any(dominates(o.objectives, t.objectives, maximize) for o in ok)]


@dataclass
class OptimizeResult:
    plan: OptimizePlan
    trials: list[Trial]
    front: list[Trial]
    best: Trial | None
    best_scenario: Scenario | None
    sampler: str

    @property
    def maximize(self) -> list[bool]:
        return [g.maximize for g in self.plan.objectives]


def _choose(front: list[Trial], maximize: list[bool]) -> Trial | None:
    if not front:
        return None
    sign = [1.0 if up else -1.0 for up in maximize]
    return min(
        front, key=lambda t: ([-s * v for s, v in zip(sign, t.objectives, strict=True)], t.number)
    )


def trial_scenario(scenario: Scenario, plan: OptimizePlan, params: dict[str, float]) -> Scenario:
    """*scenario* with a trial's decision values."""
    values = {f.path: params[f.text] for f in plan.variables}
    integer = {
        f.path for f, v in zip(plan.variables, plan.spec.variables, strict=True) if v.integer
    }
    return with_values(scenario, values, integer, "optimize trial")


def run_optimize(
    scenario: Scenario,
    plan: OptimizePlan,
    *,
    batch: Batch | None = None,
    on_trial: Callable[[Trial], object] | None = None,
) -> OptimizeResult:
    """Run the search (see the module's docstring)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = plan.spec
    batch = batch or Batch()
    reps = spec.replications
    sample = replication_sample(scenario, reps)
    maximize = [g.maximize for g in plan.objectives]

    def constraints(t: optuna.trial.FrozenTrial) -> Sequence[float]:
        return list(t.user_attrs.get("violations", [0.0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's notes on experimental options
        if len(plan.objectives) == 1:
            sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
                seed=scenario.seed % 2**32, constraints_func=constraints
            )
        else:
            population = max(4, min(50, spec.trials // 4))
            sampler = optuna.samplers.NSGAIISampler(
                seed=scenario.seed % 2**32,
                constraints_func=constraints,
                population_size=population,
            )
        study = optuna.create_study(
            directions=["maximize" if up else "minimize" for up in maximize], sampler=sampler
        )
        trials: list[Trial] = []
        while len(trials) < spec.trials:
            asked = [
                study.ask() for _ in range(min(spec.parallel_trials, spec.trials - len(trials)))
            ]
            plans = []
            for ot in asked:
                params = {
                    f.text: float(
                        ot.suggest_int(f.text, math.ceil(v.low), math.floor(v.high), log=v.log)
                        if v.integer
                        else ot.suggest_float(f.text, v.low, v.high, log=v.log)
                    )
                    for f, v in zip(plan.variables, spec.variables, strict=True)
                }
                sc = trial_scenario(scenario, plan, params)
                tasks = uncertain_tasks(
                    replication_payloads(sc, reps, sample), plan.policy, point=ot.number
                )
                plans.append((ot, params, tasks))
            records = batch.run([t for _, _, ts in plans for t in ts])
            for ot, params, tasks in plans:
                recs = [records[t.key] for t in tasks]
                objs = [g.metric.mean(recs) for g in plan.objectives]
                cons = [g.metric.mean(recs) for g in plan.constraints]
                violations = [g.violation(v) for g, v in zip(plan.constraints, cons, strict=True)]
                ok = all(v <= 0 for v in violations) and all(np.isfinite(objs))
                ot.set_user_attr("violations", [min(v, 1e300) for v in violations] or [0.0])
                if all(np.isfinite(objs)):
                    study.tell(ot, objs)
                else:
                    study.tell(ot, state=optuna.trial.TrialState.FAIL)
                trial = Trial(ot.number, params, objs, cons, ok)
                trials.append(trial)
                if on_trial is not None:
                    on_trial(trial)
    front = pareto(trials, maximize)
    best = _choose(front, maximize)
    best_sc = None if best is None else trial_scenario(scenario, plan, best.params)
    name = "TPE" if len(maximize) == 1 else "NSGA-II"
    return OptimizeResult(plan, trials, front, best, best_sc, name)
