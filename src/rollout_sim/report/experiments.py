"""Results folders of replications (``run --reps``) and policy comparisons (``compare``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from .. import __version__
from ..experiments.compare import Comparison
from ..experiments.replications import KEPT_SERIES, ReplicationSet
from ..experiments.stats import band, interval
from ..fileio import JsonObject, atomic_write, results_dir, write_manifest
from ..scenario.load import dump_scenario, scenario_hash
from ..scenario.schema import Scenario
from ..summaries import (
    ComparisonSummary,
    Difference,
    ReplicationsSummary,
    Spread,
    SweepRow,
    SweepSummary,
)
from .writer import versions, write_csv

__all__ = ["pct_label", "write_comparison", "write_replications", "write_sweep"]


def pct_label(q: float) -> str:
    """0.1 → 'p10', 0.05 → 'p5', 0.975 → 'p97.5'."""
    return "p" + f"{q * 100:.3f}".rstrip("0").rstrip(".")


def _num(x: float, nd: int = 4) -> str:
    return "" if not np.isfinite(x) else f"{x:.{nd}f}"


def _series_rows(
    scenario: Scenario, rset: ReplicationSet, quantiles: tuple[float, float], policy: bool
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    start = scenario.start_date
    for name in KEPT_SERIES:
        b = band(rset.series[name], quantiles)
        for d in range(len(b.mean)):
            row: list[Any] = [(start + timedelta(days=d)).isoformat()]
            if policy:
                row.append(rset.policy or "")
            row += [name, _num(b.mean[d]), _num(b.median[d]), _num(b.lo[d]), _num(b.hi[d])]
            rows.append(row)
    return rows


def _replication_rows(rset: ReplicationSet, names: list[str], policy: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for k in range(rset.reps):
        row: list[Any] = [rset.policy or ""] if policy else []
        row += [k, "-".join(str(x) for x in rset.seeds[k])]
        row += [_num(float(rset.metrics[n][k])) if n in rset.metrics else "" for n in names]
        row += [f"{float(v[k]):.10g}" for v in rset.inputs.values()]  # the drawn inputs
        rows.append(row)
    return rows


def _json(summary: BaseModel) -> str:
    return json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"


def _round(x: float) -> float | None:
    return None if not np.isfinite(x) else round(x, 4)


def _metric_summary(rset: ReplicationSet, level: float) -> dict[str, Spread]:
    out: dict[str, Spread] = {}
    for name, values in rset.metrics.items():
        iv = interval(values, level)
        out[name] = Spread(mean=_round(iv.mean), lo=_round(iv.lo), hi=_round(iv.hi), n=iv.n)
    return out


def _manifest(scenario: Scenario, extra: JsonObject, tmp: Path) -> JsonObject:
    """Write the folder's manifest (last: it lists every file) and return it."""
    fields = {
        "rollout_sim_version": __version__,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.seed,
        "versions": versions(),
        **extra,
    }
    return write_manifest(tmp, fields)


def write_replications(
    rset: ReplicationSet,
    out: Path,
    *,
    total_population: int,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
) -> ReplicationsSummary:
    """``timeseries_summary.csv``, ``replications.csv``, ``summary.json``, fan chart."""
    sc = rset.scenario
    q = sc.outputs.band
    lo, hi = pct_label(q[0]), pct_label(q[1])
    summary = ReplicationsSummary(
        **{
            "scenario": sc.name,
            "policy": rset.policy,
            "replications": rset.reps,
            "seed": sc.seed,
            "interval": f"central {sc.outputs.interval_level:.0%} of replications",
            "metrics": _metric_summary(rset, sc.outputs.interval_level),
        }
    )
    names = rset.metric_names()
    with results_dir(out) as tmp:
        write_csv(
            tmp / "timeseries_summary.csv",
            ["date", "series", "mean", "median", lo, hi],
            _series_rows(sc, rset, q, policy=False),
        )
        write_csv(
            tmp / "replications.csv",
            ["replication", "seed_spawn_key", *names, *rset.inputs],
            _replication_rows(rset, names, policy=False),
        )
        atomic_write(tmp / "summary.json", _json(summary))
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(sc))
        if plots:
            from ..plots import replication_plots  # matplotlib only when plotting

            replication_plots(rset, tmp / "plots", total_population, (lo, hi))
        _manifest(
            sc,
            {
                "policy": rset.policy,
                "replications": rset.reps,
                "replication_wall_seconds": [round(w, 3) for w in rset.wall_seconds],
                **(extra_manifest or {}),
            },
            tmp,
        )
    return summary


#: Public cost per additional person reached against the baseline (an ICER): a row of
#: differences.csv whose ``difference`` is the ratio, with Fieller's interval.
ICER = "public_cost_per_additional_person_usd"


def _diff_json(d: Any) -> Difference:
    return Difference(difference=_round(d.mean), ci=[_round(d.lo), _round(d.hi)], n=d.n)


def write_comparison(
    comp: Comparison,
    out: Path,
    *,
    total_population: int,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
) -> ComparisonSummary:
    """``comparison.csv``, ``differences.csv``, series and replications, plots."""
    sc = comp.scenario
    q = sc.outputs.band
    a = (1.0 - comp.level) / 2.0
    ilo, ihi = pct_label(a), pct_label(1.0 - a)
    names = comp.metric_names()
    comp_rows: list[list[Any]] = []
    for pol in comp.policies:
        row: list[Any] = [pol, comp.sets[pol].reps]
        for n in names:
            iv = comp.summary(pol, n)
            row += [_num(iv.mean), _num(iv.lo), _num(iv.hi)]
        comp_rows.append(row)
    comp_header = ["policy", "replications"]
    for n in names:
        comp_header += [f"{n}_mean", f"{n}_{ilo}", f"{n}_{ihi}"]
    diff_rows: list[list[Any]] = []
    summary_diffs: dict[str, dict[str, Difference]] = {}
    for pol in comp.policies:
        if pol == comp.baseline:
            continue
        summary_diffs[pol] = {}
        for n in names:
            d = comp.difference(pol, n)
            base = comp.summary(comp.baseline, n).mean
            mine = comp.summary(pol, n).mean
            diff_rows.append(
                [
                    pol,
                    comp.baseline,
                    n,
                    _num(base),
                    _num(mine),
                    _num(d.mean),
                    _num(d.lo),
                    _num(d.hi),
                    d.n,
                ]
            )
            summary_diffs[pol][n] = _diff_json(d)
        icer = comp.icer(pol)
        # An ICER is not a difference of two means: its baseline and policy columns are blank.
        diff_rows.append(
            [pol, comp.baseline, ICER, "", "", _num(icer.mean), _num(icer.lo), _num(icer.hi),
             icer.n]
        )  # fmt: skip
        summary_diffs[pol][ICER] = _diff_json(icer)
    summary = ComparisonSummary(
        **{
            "scenario": sc.name,
            "baseline": comp.baseline,
            "policies": comp.policies,
            "replications": {p: comp.sets[p].reps for p in comp.policies},
            "seed": sc.seed,
            "interval": f"central {comp.level:.0%} of replications",
            "difference_ci": f"{comp.ci_level:.0%} t-interval of the mean paired difference",
            "metrics": {p: _metric_summary(comp.sets[p], comp.level) for p in comp.policies},
            "differences": summary_diffs,
        }
    )
    lo, hi = pct_label(q[0]), pct_label(q[1])
    with results_dir(out) as tmp:
        write_csv(tmp / "comparison.csv", comp_header, comp_rows)
        write_csv(
            tmp / "differences.csv",
            [
                "policy",
                "baseline",
                "metric",
                "baseline_mean",
                "policy_mean",
                "difference",
                f"ci{comp.ci_level * 100:g}_lo",
                f"ci{comp.ci_level * 100:g}_hi",
                "n",
            ],
            diff_rows,
        )
        series_rows: list[list[Any]] = []
        rep_rows: list[list[Any]] = []
        for pol in comp.policies:
            series_rows += _series_rows(sc, comp.sets[pol], q, policy=True)
            rep_rows += _replication_rows(comp.sets[pol], names, policy=True)
        write_csv(
            tmp / "timeseries_summary.csv",
            ["date", "policy", "series", "mean", "median", lo, hi],
            series_rows,
        )
        write_csv(
            tmp / "replications.csv",
            ["policy", "replication", "seed_spawn_key", *names, *comp.sets[comp.baseline].inputs],
            rep_rows,
        )
        if comp.sample is not None or len(comp.policies) > 1:
            from .uncertainty import write_regret  # regret.csv and its plot

            write_regret(comp, tmp, plots=plots)
        atomic_write(tmp / "summary.json", _json(summary))
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(sc))
        if plots:
            from ..plots import comparison_plots  # matplotlib only when plotting

            comparison_plots(comp, tmp / "plots", total_population, (lo, hi), (ilo, ihi))
        _manifest(
            sc,
            {
                "baseline": comp.baseline,
                "policies": comp.policies,
                "replications": {p: comp.sets[p].reps for p in comp.policies},
                "replication_wall_seconds": {
                    p: [round(w, 3) for w in comp.sets[p].wall_seconds] for p in comp.policies
                },
                **(extra_manifest or {}),
            },
            tmp,
        )
    return summary


#: The outcomes a sweep's results table shows per point and policy (means of replications).
SWEEP_TABLE = (
    "people_covered",
    "people_served",
    "mean_new_villages_per_day",
    "public_cost_usd",
    "availability",
)


def write_sweep(
    scenario: Scenario,
    design: Any,
    records: list[Any],
    out: Path,
    *,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
) -> SweepSummary:
    """``design.csv`` (one row per point), ``outcomes.csv`` (one row per run), plots."""
    names: list[str] = []
    for rec in records:
        for n in rec.metrics:
            if n not in names:
                names.append(n)
    design_rows = [[i, *[p.get(k, "") for k in design.paths]] for i, p in enumerate(design.points)]
    outcome_rows = []
    for rec in sorted(records, key=lambda r: (r.point, r.policy or "", r.rep)):
        run_id = f"p{rec.point}-{rec.policy or 'none'}-r{rec.rep}"
        row: list[Any] = [run_id, rec.point, rec.policy or "", rec.rep]
        row += [design.points[rec.point].get(k, "") for k in design.paths]
        row += [_num(float(rec.metrics.get(n, np.nan))) for n in names]
        outcome_rows.append(row)
    # Mean outcomes of each point under each policy, over its replications (console, report).
    table = []
    keys = sorted({(r.point, r.policy or "") for r in records})
    for point, policy in keys:
        mine = [r for r in records if r.point == point and (r.policy or "") == policy]
        outcomes: dict[str, float | None] = {}
        for n in SWEEP_TABLE:
            vals = np.array([float(r.metrics.get(n, np.nan)) for r in mine])
            vals = vals[np.isfinite(vals)]
            outcomes[n] = round(float(vals.mean()), 4) if len(vals) else None
        table.append(
            SweepRow(
                point=point,
                values={k: design.points[point].get(k) for k in design.paths},
                policy=policy or None,
                replications=len(mine),
                outcomes=outcomes,
            )
        )
    summary = SweepSummary(
        scenario=scenario.name,
        parameters=list(design.paths),
        points=len(design.points),
        runs=len(records),
        table=table,
    )
    with results_dir(out) as tmp:
        write_csv(tmp / "design.csv", ["point", *design.paths], design_rows)
        write_csv(
            tmp / "outcomes.csv",
            ["run_id", "point", "policy", "replication", *design.paths, *names],
            outcome_rows,
        )
        atomic_write(tmp / "summary.json", _json(summary))
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(scenario))
        if plots:
            from ..plots import sweep_plots  # matplotlib only when plotting

            sweep_plots(scenario, design, records, tmp / "plots")
        _manifest(scenario, {"runs": len(records), **(extra_manifest or {})}, tmp)
    return summary
