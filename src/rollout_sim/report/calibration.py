"""The results folder of ``rollout-sim calibrate``: calibrated scenario, trace, fit plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..experiments.calibrate import CalibrationResult, Evaluation
from ..fileio import atomic_write, results_dir, write_manifest
from ..scenario.calibration import WindowTarget
from ..scenario.load import dump_scenario, scenario_hash
from .writer import versions

__all__ = ["calibration_summary", "write_calibration"]


def _eval_json(e: Evaluation) -> dict[str, Any]:
    return {
        "params": e.params,
        "simulated": e.simulated,
        "errors": [round(x, 6) for x in e.errors],
        "objective": round(e.objective, 9),
        "within_tolerance": e.ok,
    }


def calibration_summary(res: CalibrationResult) -> dict[str, Any]:
    targets = []
    for i, t in enumerate(res.spec.targets):
        row: dict[str, Any] = {"metric": t.metric, "kind": t.kind}
        if isinstance(t, WindowTarget):
            row.update(
                start=t.start.isoformat(),
                end=t.end.isoformat(),
                value=t.value,
                tolerance=t.tolerance,
            )
        else:
            dates, values = res.observed[i]
            row.update(
                file=t.file,
                observed=[[d.isoformat(), float(v)] for d, v in zip(dates, values, strict=True)],
            )
        row["before"] = res.initial.simulated[i]
        row["after"] = res.best.simulated[i]
        targets.append(row)
    return {
        "scenario": res.scenario.name,
        "method": res.method,
        "converged": res.converged,
        "message": res.message,
        "replications_per_evaluation": res.spec.replications,
        "parameters": [
            {
                "path": p.path,
                "bounds": list(p.bounds),
                "integer": p.integer,
                "before": res.initial.params[p.path],
                "after": res.best.params[p.path],
            }
            for p in res.spec.parameters
        ],
        "targets": targets,
        "within_tolerance": res.best.ok,
        "evaluations": [_eval_json(e) for e in res.evaluations],
    }


def write_calibration(
    res: CalibrationResult,
    out: Path,
    *,
    plots: bool = True,
    extra_manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``scenario.calibrated.yaml``, ``calibration.json``, ``plots/calibration.png``."""
    summary = calibration_summary(res)
    header = [
        f"# {res.scenario.name}, calibrated by rollout-sim {__version__} ({res.method}, "
        f"{len(res.evaluations)} evaluations, {res.spec.replications} replications each).",
    ]
    for p in summary["parameters"]:
        header.append(f"#   {p['path']}: {p['before']:g} -> {p['after']:g}")
    for t in summary["targets"]:
        if t["kind"] == "window_mean":
            header.append(
                f"#   mean {t['metric']} {t['start']}..{t['end']}: target {t['value']:g}, "
                f"before {t['before']:.3f}, after {t['after']:.3f}"
            )
    with results_dir(out) as tmp:
        atomic_write(
            tmp / "scenario.calibrated.yaml",
            "\n".join(header) + "\n" + dump_scenario(res.calibrated),
        )
        atomic_write(tmp / "calibration.json", json.dumps(summary, indent=2) + "\n")
        if plots:
            from ..plots import save_figure

            save_figure(calibration_figure(res), tmp / "plots" / "calibration.png")
        manifest = {
            "rollout_sim_version": __version__,
            "scenario": res.scenario.name,
            "scenario_hash": scenario_hash(res.scenario),
            "calibrated_hash": scenario_hash(res.calibrated),
            "seed": res.scenario.seed,
            "versions": versions(),
            **(extra_manifest or {}),
        }
        write_manifest(tmp, manifest)
    return summary


def calibration_figure(res: CalibrationResult) -> Any:
    """Target against simulated, before and after, one panel per target."""
    import matplotlib.pyplot as plt

    from ..plots import _date_axis, _dates

    targets = res.spec.targets
    fig, axes = plt.subplots(
        len(targets), 1, figsize=(9, 4.2 * len(targets)), squeeze=False, layout="constrained"
    )
    start = res.scenario.start_date
    for i, t in enumerate(targets):
        ax = axes[i][0]
        for ev, label, colour in (
            (res.initial, "before", "tab:grey"),
            (res.best, "after", "tab:blue"),
        ):
            s = ev.series[t.metric]
            dates = _dates(start, len(s))
            if isinstance(t, WindowTarget):
                # Trailing 30-day mean (fewer days at the start): no edge artefacts.
                c = np.concatenate([[0.0], np.cumsum(s)])
                idx = np.arange(1, len(s) + 1)
                lo = np.maximum(idx - 30, 0)
                smooth = (c[idx] - c[lo]) / (idx - lo)
                ax.plot(dates, smooth, color=colour, lw=1.5, label=f"{label} (30-day mean)")
            else:
                shown = s - s[0] + t.start_level if t.start_level is not None else s
                ax.plot(dates, shown, color=colour, lw=1.5, label=label)
        if isinstance(t, WindowTarget):
            a, b = np.datetime64(t.start, "D"), np.datetime64(t.end, "D")
            ax.axvspan(a, b, color="tab:green", alpha=0.08)
            ax.hlines(t.value, a, b, color="tab:green", lw=2, label=f"target {t.value:g}")
            if t.tolerance:
                ax.fill_between(
                    [a, b],
                    t.value - t.tolerance,
                    t.value + t.tolerance,
                    color="tab:green",
                    alpha=0.15,
                    lw=0,
                )
            for ev, colour in ((res.initial, "tab:grey"), (res.best, "tab:blue")):
                v = ev.simulated[i]
                assert isinstance(v, float)
                ax.hlines(v, a, b, color=colour, ls="--", lw=1)
            ax.set_ylabel(f"{t.metric.replace('_', ' ')} a day")
        else:
            dates_obs, values = res.observed[i]
            ax.scatter(
                np.array(dates_obs, dtype="datetime64[D]"),
                values,
                color="black",
                zorder=3,
                label="observed",
            )
            ax.set_ylabel(t.metric.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
        _date_axis(ax)
        params = ", ".join(
            f"{p.path.split('.')[-1]} {res.initial.params[p.path]:g}→{res.best.params[p.path]:g}"
            for p in res.spec.parameters
        )
        ax.set_title(f"{res.scenario.name}: {t.metric} ({params})")
    return fig
