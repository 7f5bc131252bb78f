"""Files of uncertainty analyses: ``regret.csv`` in a comparison's folder, and the results
folder of ``rollout-sim sensitivity`` (``sensitivity.csv``, ``design.csv``, bar charts)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..experiments.compare import Comparison
from ..experiments.regret import RegretRow, regret_metrics, regret_table, regrets
from ..experiments.sensitivity import SensitivityResult
from ..fileio import JsonObject, atomic_write, results_dir, write_manifest
from ..outcomes import label_of, unit_of
from ..scenario.load import dump_scenario, scenario_hash
from ..scenario.schema import Scenario
from .writer import versions, write_csv

__all__ = [
    "REGRET_PLOTTED",
    "SENSITIVITY_NAME",
    "regret_rows",
    "write_regret",
    "write_sensitivity",
]

#: The metrics whose regret is drawn (plots/regret_<metric>.png), when the comparison has them.
REGRET_PLOTTED = ("people_reached", "people_served", "public_cost_usd")
#: The machine-readable summary of a sensitivity folder.
SENSITIVITY_NAME = "sensitivity.json"


def _num(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.6g}"


def regret_rows(comp: Comparison) -> list[RegretRow]:
    """Every policy's regret on every metric with a direction, over the same replications."""
    metrics = {p: comp.sets[p].metrics for p in comp.policies}
    return regret_table(metrics, comp.metric_names())


def write_regret(comp: Comparison, tmp: Path, *, plots: bool = True) -> list[RegretRow]:
    """``regret.csv`` (and ``plots/regret_<metric>.png``) into a comparison folder being
    written (*tmp*)."""
    rows = regret_rows(comp)
    write_csv(
        tmp / "regret.csv",
        ["policy", "metric", "better", "mean_regret", "max_regret", "share_best", "n"],
        [
            [
                r.policy,
                r.metric,
                r.better,
                _num(r.mean_regret),
                _num(r.max_regret),
                _num(r.share_best),
                r.n,
            ]
            for r in rows
        ],
    )
    if plots:
        from ..plots.axes import save_figure
        from ..plots.uncertainty import regret_figure

        names = comp.metric_names()
        for metric in [m for m in REGRET_PLOTTED if m in regret_metrics(names)]:
            better = next(r.better for r in rows if r.metric == metric)
            values = np.vstack([comp.sets[p].metrics[metric] for p in comp.policies])
            keep = np.all(np.isfinite(values), axis=0)
            if not keep.any():
                continue
            r = regrets(values[:, keep], better == "higher")
            share = {x.policy: x.share_best for x in rows if x.metric == metric}
            fig = regret_figure(
                f"Regret in {label_of(metric)} over {int(keep.sum())} replications",
                {p: r[i] for i, p in enumerate(comp.policies)},
                unit_of(metric),
                share,
                higher=better == "higher",
            )
            save_figure(fig, tmp / "plots" / f"regret_{metric}.png", svg=False)
    return rows


def _manifest(scenario: Scenario, extra: JsonObject, tmp: Path) -> None:
    write_manifest(
        tmp,
        {
            "rollout_sim_version": __version__,
            "scenario": scenario.name,
            "scenario_hash": scenario_hash(scenario),
            "seed": scenario.seed,
            "versions": versions(),
            **extra,
        },
    )


def write_sensitivity(
    scenario: Scenario,
    res: SensitivityResult,
    out: Path,
    *,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
) -> None:
    """The results folder of ``sensitivity``: ``sensitivity.csv`` (indices, ranked per
    metric), ``design.csv`` (each design row's input values and mean outcomes),
    ``sensitivity.json``, the resolved scenario and a bar chart per metric."""
    sobol = res.method == "sobol"
    head = [
        "parameter",
        "metric",
        *(("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma")),
    ]
    rows: list[list[Any]] = []
    for m in res.metrics:
        for r in res.ranked(m.label):
            stats = (
                (r.S1, r.S1_conf, r.ST, r.ST_conf)
                if sobol
                else (r.mu_star, r.mu_star_conf, r.sigma)
            )
            rows.append([r.parameter, r.metric, *(_num(v) for v in stats)])
    names = [x.name for x in res.inputs]
    design_rows = [
        [
            i,
            *(f"{v:.10g}" for v in res.sample.values[i]),
            *(_num(float(res.outputs[m.label][i])) for m in res.metrics),
        ]
        for i in range(len(res.unit))
    ]
    summary = {
        "scenario": scenario.name,
        "method": res.method,
        "samples": res.samples,
        "design_rows": len(res.unit),
        "replications_per_row": res.replications,
        "policy": res.policy,
        # Each input as the scenario gives it (mode, median, sigma, integer...: enough to
        # rebuild the analysis), and the support its draws had after truncation to the field.
        "inputs": [
            {
                **{
                    k: v
                    for k, v in x.spec.model_dump(mode="json", exclude_none=True).items()
                    if k != "path"
                },
                "path": x.name,
                "support": [_finite(x.low), _finite(x.high)],
            }
            for x in res.inputs
        ],
        "metrics": [m.label for m in res.metrics],
        "ranking": {m.label: [r.parameter for r in res.ranked(m.label)] for m in res.metrics},
    }
    with results_dir(out) as tmp:
        write_csv(tmp / "sensitivity.csv", head, rows)
        write_csv(tmp / "design.csv", ["row", *names, *(m.label for m in res.metrics)], design_rows)
        text = json.dumps(summary, indent=2, allow_nan=False, ensure_ascii=False)
        atomic_write(tmp / SENSITIVITY_NAME, text + "\n")
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(scenario))
        if plots:
            _sensitivity_plots(res, tmp / "plots")
        _manifest(scenario, {"kind": "sensitivity", **(extra_manifest or {})}, tmp)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


#: Per method, the bar chart of each metric: its title, the attributes of a row it draws (the
#: bars and their confidence half-widths), the bars' label, and the attribute drawn beside
#: each bar (Sobol: the first-order index).
_BARS: dict[str, tuple[str, str, str, str, str | None]] = {
    "sobol": ("Sobol' total indices", "ST", "ST_conf", "total index (ST)", "S1"),
    "morris": (
        "Morris elementary effects",
        "mu_star",
        "mu_star_conf",
        "mu* (mean |effect| over the input's range)",
        None,
    ),
}


def _sensitivity_plots(res: SensitivityResult, folder: Path) -> None:
    from ..plots.axes import save_figure
    from ..plots.uncertainty import sensitivity_figure

    title, value, conf, label, beside = _BARS[res.method]
    for i, m in enumerate(res.metrics):
        mine = [r for r in res.rows if r.metric == m.label]
        fig = sensitivity_figure(
            f"{title}: {m.title}",
            [r.parameter for r in mine],
            [getattr(r, value) for r in mine],
            [getattr(r, conf) for r in mine],
            label,
            None if beside is None else [getattr(r, beside) for r in mine],
        )
        save_figure(fig, folder / f"sensitivity_{i + 1}_{m.name}.png", svg=False)
