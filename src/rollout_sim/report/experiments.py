"""Results folders of replications (``run --reps``) and policy comparisons (``compare``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..experiments.compare import Comparison
from ..experiments.replications import KEPT_SERIES, ReplicationSet
from ..experiments.stats import band, interval, paired_band
from ..fileio import atomic_write, results_dir, write_manifest
from ..scenario.load import dump_scenario, scenario_hash
from ..scenario.schema import Scenario
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
        rows.append(row)
    return rows


def _metric_summary(rset: ReplicationSet, level: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in rset.metrics.items():
        iv = interval(values, level)
        out[name] = {
            "mean": None if not np.isfinite(iv.mean) else round(iv.mean, 4),
            "lo": None if not np.isfinite(iv.lo) else round(iv.lo, 4),
            "hi": None if not np.isfinite(iv.hi) else round(iv.hi, 4),
            "n": iv.n,
        }
    return out


def _manifest(scenario: Scenario, extra: dict[str, Any], tmp: Path) -> dict[str, Any]:
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


def _fan(
    rset: ReplicationSet,
    scenario: Scenario,
    colour: str,
    q: tuple[float, float],
    series: str = "people_covered",
) -> Any:
    """The band of what *series* gained since day 0 (people or villages reached), per day."""
    from ..plots import FanData

    values = rset.series[series]
    b = band(values - values[:, :1], q)
    return FanData(scenario.start_date, b.median, b.lo, b.hi, colour)


def _fan_context(scenario: Scenario, rset: ReplicationSet, total_population: int) -> dict[str, Any]:
    """What a fan chart draws besides its bands: the scenario's references on the scale of
    people and places reached (their day-0 values subtracted), and a note on the start."""
    from ..plots import reference_points

    people0 = float(rset.series["people_covered"][0, 0])
    places0 = float(rset.series["villages_covered"][0, 0])
    days = rset.series["people_covered"].shape[1]
    refs = scenario.references
    start = scenario.start_date
    share = people0 / max(total_population, 1)
    return {
        "references": reference_points(
            refs, start, days, {"people_reached": 0.0, "people_covered": people0}
        ),
        "place_references": reference_points(
            refs, start, days, {"villages_reached": 0.0, "villages_covered": places0}
        ),
        "note": f"newly covered since {start.isoformat()}; "
        + (
            f"covered at the start: {people0:,.0f} of {total_population:,} people "
            f"({share:.1%}), {places0:,.0f} places"
            if people0 > 0
            else f"no coverage at the start ({total_population:,} people)"
        ),
    }


def write_replications(
    rset: ReplicationSet,
    out: Path,
    *,
    total_population: int,
    plots: bool = True,
    extra_manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``timeseries_summary.csv``, ``replications.csv``, ``summary.json``, fan chart."""
    sc = rset.scenario
    q = sc.outputs.band
    lo, hi = pct_label(q[0]), pct_label(q[1])
    summary = {
        "scenario": sc.name,
        "policy": rset.policy,
        "replications": rset.reps,
        "seed": sc.seed,
        "interval": f"central {sc.outputs.interval_level:.0%} of replications",
        "metrics": _metric_summary(rset, sc.outputs.interval_level),
    }
    names = rset.metric_names()
    with results_dir(out) as tmp:
        write_csv(
            tmp / "timeseries_summary.csv",
            ["date", "series", "mean", "median", lo, hi],
            _series_rows(sc, rset, q, policy=False),
        )
        write_csv(
            tmp / "replications.csv",
            ["replication", "seed_spawn_key", *names],
            _replication_rows(rset, names, policy=False),
        )
        atomic_write(tmp / "summary.json", json.dumps(summary, indent=2) + "\n")
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(sc))
        if plots:
            from ..plots import fan_figure, policy_colour, save_figure

            pols = [p.name for p in sc.policies]
            colour = policy_colour(pols, rset.policy)
            name = rset.policy or sc.name
            fig = fan_figure(
                [(name, _fan(rset, sc, colour, q))],
                places=[(name, _fan(rset, sc, colour, q, "villages_covered"))],
                title=f"{sc.name}: people and places reached, {rset.reps} replications "
                f"(seed {sc.seed})",
                band_label=f"{lo}–{hi} of replications",
                **_fan_context(sc, rset, total_population),
            )
            save_figure(fig, tmp / "plots" / "coverage.png")
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

#: Metrics shown in the console tables, in order, with short column labels.
HEADLINE = {
    "people_covered": "people",
    "days_to_reach_50pct": "days to reach 50%",
    "mean_new_villages_per_day": "villages/day",
    "public_cost_usd": "public cost",
    "public_cost_per_person_reached_usd": "$/person (avg)",
    ICER: "$/extra person",
    "availability": "avail.",
    "defaults": "defaults",
}


def _diff_json(d: Any) -> dict[str, Any]:
    return {
        "difference": None if not np.isfinite(d.mean) else round(d.mean, 4),
        "ci": [None if not np.isfinite(x) else round(x, 4) for x in (d.lo, d.hi)],
        "n": d.n,
    }


def write_comparison(
    comp: Comparison,
    out: Path,
    *,
    total_population: int,
    plots: bool = True,
    extra_manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
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
    summary_diffs: dict[str, dict[str, Any]] = {}
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
    summary = {
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
            tmp / "replications.csv", ["policy", "replication", "seed_spawn_key", *names], rep_rows
        )
        atomic_write(tmp / "summary.json", json.dumps(summary, indent=2) + "\n")
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(sc))
        if plots:
            _comparison_plots(comp, tmp / "plots", total_population, (lo, hi), (ilo, ihi))
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


def _comparison_plots(
    comp: Comparison,
    folder: Path,
    total_population: int,
    band_labels: tuple[str, str],
    interval_labels: tuple[str, str],
) -> None:
    from ..plots import (
        FanData,
        difference_figure,
        fan_figure,
        interval_figure,
        policy_colour,
        save_figure,
    )

    sc = comp.scenario
    pols = [p.name for p in sc.policies]
    reps = comp.sets[comp.baseline].reps
    q = sc.outputs.band
    fans = [(p, _fan(comp.sets[p], sc, policy_colour(pols, p), q)) for p in comp.policies]
    places = [
        (p, _fan(comp.sets[p], sc, policy_colour(pols, p), q, "villages_covered"))
        for p in comp.policies
    ]
    save_figure(
        fan_figure(
            fans,
            places=places,
            title=f"{sc.name}: people and places reached by policy, {reps} replications "
            f"(seed {sc.seed})",
            band_label=f"{band_labels[0]}–{band_labels[1]} of replications",
            **_fan_context(sc, comp.sets[comp.baseline], total_population),
        ),
        folder / "coverage.png",
    )
    per_person = "public_cost_per_person_reached_usd"  # the average
    rows = []
    for p in comp.policies:
        iv = comp.summary(p, per_person)
        rows.append((p, iv.mean, iv.lo, iv.hi, policy_colour(pols, p)))
    save_figure(
        interval_figure(
            rows,
            title=f"{sc.name}: public cost per person reached ({interval_labels[0]}–"
            f"{interval_labels[1]} of {reps} replications)",
            xlabel="public cost per person reached (USD)",
        ),
        folder / "public_cost_per_person.png",
    )
    # What a funder buys with the policy: the cost of its effect, not its average cost.
    icers = []
    for p in comp.policies:
        if p == comp.baseline:
            continue
        iv = comp.icer(p)
        icers.append((p, iv.mean, iv.lo, iv.hi, policy_colour(pols, p)))
    if icers:
        save_figure(
            interval_figure(
                icers,
                title=f"{sc.name}: public cost per additional person reached, against "
                f"{comp.baseline}\n(paired on {reps} replications; {comp.ci_level:.0%} Fieller "
                "interval; no bar: the interval is unbounded)",
                xlabel="public US$ per additional person reached (incremental)",
            ),
            folder / "public_cost_per_additional_person.png",
        )
    base = comp.sets[comp.baseline].series["people_covered"]
    diffs = []
    for p in comp.policies:
        if p == comp.baseline:
            continue
        b = paired_band(base, comp.sets[p].series["people_covered"], comp.ci_level)
        diffs.append((p, FanData(sc.start_date, b.mean, b.lo, b.hi, policy_colour(pols, p))))
    if diffs:
        save_figure(
            difference_figure(
                diffs,
                title=f"{sc.name}: people reached, difference from {comp.baseline} (paired "
                f"on {reps} replications)",
                ylabel=f"people reached − {comp.baseline}",
                band_label=f"{comp.ci_level:.0%} CI of the mean difference",
            ),
            folder / "difference_people_covered.png",
        )


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
    extra_manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
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
        entry: dict[str, Any] = {
            "point": point,
            "values": {k: design.points[point].get(k) for k in design.paths},
            "policy": policy or None,
            "replications": len(mine),
        }
        for n in SWEEP_TABLE:
            vals = np.array([float(r.metrics.get(n, np.nan)) for r in mine])
            vals = vals[np.isfinite(vals)]
            entry[n] = round(float(vals.mean()), 4) if len(vals) else None
        table.append(entry)
    summary = {
        "scenario": scenario.name,
        "parameters": design.paths,
        "points": len(design.points),
        "runs": len(records),
        "table": table,
    }
    with results_dir(out) as tmp:
        write_csv(tmp / "design.csv", ["point", *design.paths], design_rows)
        write_csv(
            tmp / "outcomes.csv",
            ["run_id", "point", "policy", "replication", *design.paths, *names],
            outcome_rows,
        )
        atomic_write(tmp / "summary.json", json.dumps(summary, indent=2) + "\n")
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(scenario))
        if plots:
            from ..plots import save_figure, sweep_figure

            save_figure(
                sweep_figure(scenario, design, records, "people_covered"),
                tmp / "plots" / "sweep_people_covered.png",
            )
        _manifest(scenario, {"runs": len(records), **(extra_manifest or {})}, tmp)
    return summary
