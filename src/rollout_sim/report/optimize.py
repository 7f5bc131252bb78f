"""The results folder of ``rollout-sim optimize``: ``trials.csv``, ``pareto.csv``,
``best.yaml`` (the user's scenario file with the chosen trial's values, comments kept, as
``calibrate`` writes ``scenario.calibrated.yaml``), ``optimization.json`` and the Pareto plot."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .. import __version__
from ..experiments.optimize import OptimizeResult, Trial
from ..fileio import JsonObject, atomic_write, results_dir, write_manifest
from ..scenario.load import apply_override, dump_scenario, read_yaml, scenario_hash
from ..scenario.paths import PathKey
from ..scenario.schema import Scenario
from ..summaries import (
    OptimizationBest,
    OptimizationConstraint,
    OptimizationObjective,
    OptimizationSummary,
)
from .writer import versions, write_csv

__all__ = ["OPTIMIZATION_NAME", "best_yaml", "write_optimization"]

#: The machine-readable summary of an optimisation folder.
OPTIMIZATION_NAME = "optimization.json"


def _num(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.10g}"


def _header(res: OptimizeResult) -> list[str]:
    plan = res.plan
    return [
        "trial",
        *(f.text for f in plan.variables),
        *(f"objective_{i + 1}:{g.metric.label}" for i, g in enumerate(plan.objectives)),
        *(f"constraint_{i + 1}:{g.metric.label}" for i, g in enumerate(plan.constraints)),
        "feasible",
    ]


def _row(res: OptimizeResult, t: Trial, extra: list[Any]) -> list[Any]:
    return [
        t.number,
        *(repr(t.params[f.text]) for f in res.plan.variables),
        *(_num(v) for v in t.objectives),
        *(_num(v) for v in t.constraints),
        "yes" if t.feasible else "no",
        *extra,
    ]


def best_yaml(scenario: Scenario, res: OptimizeResult, source: Path | None) -> str:
    """The text of ``best.yaml``: the scenario file with only the decision variables (and the
    command line's ``--set`` values) changed, comments kept; without a source file, or if the
    round trip fails its check, the resolved scenario."""
    from .calibration import roundtrip_edit  # the same careful edit as a calibrated file

    assert res.best is not None and res.best_scenario is not None
    best = res.best
    header = (
        f"# Trial {best.number} of rollout-sim optimize {__version__} ({res.sampler}, "
        f"{len(res.trials)} trials x {res.plan.spec.replications} replications): "
        + "; ".join(f"{f.text} = {best.params[f.text]!r}" for f in res.plan.variables)
        + "\n"
    )
    fallback = header + dump_scenario(res.best_scenario)
    if source is None:
        return fallback
    try:
        text = Path(source).read_text(encoding="utf-8")
        raw, _ = read_yaml(Path(source))
    except (OSError, UnicodeDecodeError, ValueError):
        return fallback
    data = copy.deepcopy(raw)
    edits: list[tuple[PathKey, Any]] = []
    for assignment in dict.fromkeys(scenario.overrides.values()):
        path = apply_override(data, assignment)
        node: Any = data
        for part in path:
            node = node[part]
        edits.append((path, copy.deepcopy(node)))
    for f, v in zip(res.plan.variables, res.plan.spec.variables, strict=True):
        value = best.params[f.text]
        edits.append((f.path, int(value) if v.integer else float(value)))
    try:
        body, _off = roundtrip_edit(text, edits)
        check = yaml.safe_load(body)
        for path, value in edits:
            node = check
            for part in path:
                node = node[part]
            if node != value:
                return fallback
    except Exception:  # a YAML 1.1 file ruamel cannot round-trip: the resolved scenario
        return fallback
    return header + body


def write_optimization(
    scenario: Scenario,
    res: OptimizeResult,
    out: Path,
    *,
    source: Path | None,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
) -> None:
    """Write the folder (see the module's docstring)."""
    on_front = {t.number for t in res.front}
    best = res.best.number if res.best is not None else None
    trial_rows = [
        _row(res, t, ["yes" if t.number in on_front else "no", "yes" if t.number == best else ""])
        for t in res.trials
    ]
    summary = OptimizationSummary(
        scenario=scenario.name,
        sampler=res.sampler,
        policy=res.plan.policy,
        trials=len(res.trials),
        replications_per_trial=res.plan.spec.replications,
        objectives=[
            OptimizationObjective(
                metric=g.metric.label, direction="maximize" if g.maximize else "minimize"
            )
            for g in res.plan.objectives
        ],
        constraints=[
            OptimizationConstraint(metric=g.metric.label, min=g.low, max=g.high)
            for g in res.plan.constraints
        ],
        feasible_trials=sum(t.feasible for t in res.trials),
        pareto_trials=sorted(on_front),
        best_trial=best,
        best=None
        if res.best is None
        else OptimizationBest(
            params=res.best.params,
            objectives=[v if math.isfinite(v) else None for v in res.best.objectives],
        ),
    )
    with results_dir(out) as tmp:
        write_csv(tmp / "trials.csv", [*_header(res), "pareto", "best"], trial_rows)
        write_csv(tmp / "pareto.csv", _header(res), [_row(res, t, []) for t in res.front])
        if res.best is not None:
            atomic_write(tmp / "best.yaml", best_yaml(scenario, res, source))
        atomic_write(
            tmp / OPTIMIZATION_NAME, json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"
        )
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(scenario))
        if plots and res.trials:
            from ..outcomes import unit_of
            from ..plots.axes import save_figure
            from ..plots.uncertainty import pareto_figure

            points = np.array([t.objectives for t in res.trials], dtype=float)
            index = {t.number: i for i, t in enumerate(res.trials)}
            fig = pareto_figure(
                [g.metric.title for g in res.plan.objectives],
                points,
                [t.feasible for t in res.trials],
                [index[n] for n in sorted(on_front)],
                None if best is None else index[best],
                [unit_of(g.metric.unit_name) for g in res.plan.objectives],
            )
            save_figure(fig, tmp / "plots" / "pareto.png", svg=False)
        write_manifest(
            tmp,
            {
                "rollout_sim_version": __version__,
                "kind": "optimization",
                "scenario": scenario.name,
                "scenario_hash": scenario_hash(scenario),
                "seed": scenario.seed,
                "versions": versions(),
                **(extra_manifest or {}),
            },
        )
