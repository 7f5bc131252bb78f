"""Write a run's results folder (atomically, through :mod:`rollout_sim.fileio`).

Everything is written into a hidden temporary folder beside the target and moved into place
only when complete: a crash or a full disk never leaves a half-written folder that looks
complete, earlier results are replaced only by a whole new set, and only a folder this tool
wrote is ever replaced.
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import shutil
from contextlib import ExitStack
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..fileio import JsonObject, atomic_write, results_dir, write_manifest
from ..metrics import summarise
from ..model import netcore
from ..model.backhaul import BH_NAMES
from ..results import FOOTPRINT_COLUMNS, TIMESERIES_COLUMNS, Results
from ..scenario.load import dump_scenario, scenario_hash
from ..summaries import RunSummary
from ..world import reach
from .drawers import Drawers, drawings_alongside

__all__ = ["versions", "write_csv", "write_run"]

DEPENDENCIES = ("simpy", "networkx", "numpy", "scipy", "matplotlib", "pyyaml", "pydantic", "rich")


def _fmt(x: float, nd: int) -> str:
    return f"{x:.{nd}f}" if math.isfinite(x) else ""


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """A CSV file (``\\n`` line ends, UTF-8), written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    atomic_write(path, buf.getvalue())


#: How each timeseries column is written (decimals); counts are whole numbers.
_DECIMALS = {
    "rural_people_covered_share": 6,
    "people_covered_share": 6,
    "initially_uncovered_reached_share": 6,
    "subscribers": 1,
}
_MONEY = {c for c in TIMESERIES_COLUMNS if c.endswith("_usd")}


def timeseries_columns(results: Results) -> list[str]:
    """The fixed columns, then any optional ones the scenario turned on (impact)."""
    return [*TIMESERIES_COLUMNS, *results.impact_daily]


def timeseries_rows(results: Results) -> list[list[Any]]:
    d = {**results.daily, **results.impact_daily}
    cols = [c for c in timeseries_columns(results) if c != "date"]
    fmts = []
    for c in cols:
        nd = 2 if c in _MONEY or "_usd" in c else _DECIMALS.get(c, 1 if "poverty" in c else 0)
        fmts.append(f"{{:.{nd}f}}")
    values = [d[c] for c in cols]
    rows = []
    for i, day in enumerate(results.dates()):
        row: list[Any] = [day.isoformat()]
        row.extend(f.format(v[i] + 0.0) for f, v in zip(fmts, values, strict=True))
        rows.append(row)
    return rows


FUNDING_COLUMNS = ["day", "date", "instrument", "funder", "operator", "kind", "amount_usd", "ref"]


def funding_rows(results: Results) -> list[list[Any]]:
    """Funders' payments (+) and receipts (−): public cost is their sum."""
    p = results.public
    start = results.scenario.start_date
    last = results.horizon_days - 1
    return [
        [
            f"{p.time[i]:.4f}",
            _date(start, p.time[i], last),
            str(p.instrument[i]),
            str(p.funder[i]),
            results.operators[int(p.operator[i])],
            str(p.kind[i]),
            f"{p.amount[i]:.2f}",
            str(p.ref[i]),
        ]
        for i in range(len(p))
    ]


def events_rows(results: Results) -> list[list[Any]]:
    start = results.scenario.start_date
    last = results.horizon_days - 1
    return [
        [
            f"{t:.4f}",
            _date(start, t, last),
            results.operators[op],
            kind,
            detail,
        ]
        for t, op, kind, detail in results.events
    ]


def _day(start: Any, t: float, last: int) -> Any:
    """The date of simulated time *t* (finite). The horizon's end instant (day *last* + 1,
    where the closing accruals are booked) is the end of its last day, *last*, as in the
    daily series: never the day after ``end_date``."""
    return start + timedelta(days=min(int(t), last))


def _date(start: Any, day: float, last: int) -> str:
    """:func:`_day` as ISO text, "" for a day that never came (inf or NaN)."""
    return _day(start, day, last).isoformat() if math.isfinite(day) else ""


SITES_COLUMNS = [
    "village_id", "village_name", "operator", "kind", "zone", "backhaul", "backhaul_parent",
    "claim_day", "build_start_day", "build_start_date", "built_day", "on_air_day", "on_air_date",
    "capex_usd", "villages_newly_covered", "people_newly_covered", "status",
]  # fmt: skip


def _site_status(build_start: float, built: float, on_air: float) -> str:
    """Where a site stood at the horizon: ``on_air``; ``built`` (waiting for its backhaul
    parent to be on air); ``building``; or ``not_started`` (claimed: in permits, waiting for
    money or a crew, or stopped by a default). Its capex is paid when its build starts, so
    the ``capex_usd`` of the sites not started is planned, not spent."""
    if math.isfinite(on_air):
        return "on_air"
    if math.isfinite(built):
        return "built"
    return "building" if math.isfinite(build_start) else "not_started"


def sites_rows(results: Results) -> list[list[Any]]:
    s = results.sites
    v = results.world.villages
    start = results.scenario.start_date
    last = results.horizon_days - 1
    ids = v.ids.tolist()
    from .geojson import parent_labels

    parents = parent_labels(results)
    rows = []
    for i in range(len(s)):
        vi = int(s.village[i])
        rows.append(
            [
                ids[vi],
                str(v.names[vi]),
                results.operators[int(s.operator[i])],
                "upgrade" if s.upgrade[i] else "greenfield",
                v.zone_names[int(v.zone[vi])],
                BH_NAMES[int(s.backhaul[i])],
                parents[i],
                _fmt(s.claim_day[i], 4),
                _fmt(s.build_start_day[i], 4),
                _date(start, s.build_start_day[i], last),
                _fmt(s.built_day[i], 4),
                _fmt(s.on_air_day[i], 4),
                _date(start, s.on_air_day[i], last),
                f"{s.capex_usd[i]:.2f}",
                int(s.villages_new[i]),
                int(s.people_new[i]),
                _site_status(s.build_start_day[i], s.built_day[i], s.on_air_day[i]),
            ]
        )
    return rows


OPERATORS_COLUMNS = ["date", "operator", *FOOTPRINT_COLUMNS]


def operators_rows(results: Results) -> list[list[Any]]:
    """Per operator and day, its footprint as operators report it (``operators.csv``)."""
    dates = [d.isoformat() for d in results.dates()]
    rows: list[list[Any]] = []
    for name, series in results.operator_daily.items():
        columns = [series[c].astype(np.int64).tolist() for c in FOOTPRINT_COLUMNS]
        rows.extend([day, name, *values] for day, *values in zip(dates, *columns, strict=True))
    return rows


MAINTENANCE_COLUMNS = [
    "operator", "village_id", "zone", "failed_day", "failed_date", "season", "people_cut_off",
    "sites_down", "crew_took_day", "wait_days", "repaired_day", "repaired_date", "downtime_days",
]  # fmt: skip


def maintenance_rows(results: Results) -> list[list[Any]]:
    """Every failure (``maintenance.csv``): the site, when, the people it cut off (with its
    backhaul subtree), the sites down with it, when a crew took the job, when it was repaired
    (blank: still open at the horizon)."""
    v = results.world.villages
    start = results.scenario.start_date
    last = results.horizon_days - 1
    seasonal = results.scenario.maintenance.failures.seasonal
    rainy = set(seasonal.months) if seasonal else set()
    rows: list[list[Any]] = []
    for k, name in enumerate(results.operators):
        log = results.maintenance_of(k)["log"]
        if log is None:
            continue
        for i in range(len(log)):
            vi = int(log.village[i])
            failed, taken, done = log.failed[i], log.taken[i], log.repaired[i]
            day = _day(start, failed, last)
            rows.append(
                [
                    name,
                    str(v.ids[vi]),
                    v.zone_names[int(v.zone[vi])],
                    f"{failed:.4f}",
                    day.isoformat(),
                    "rainy" if day.month in rainy else "dry",
                    int(log.people[i]),
                    int(log.sites_down[i]),
                    _fmt(taken, 4),
                    _fmt(taken - failed, 4),
                    _fmt(done, 4),
                    _date(start, done, last),
                    _fmt(done - failed, 4),
                ]
            )
    rows.sort(key=lambda r: (float(r[3]), r[0], r[1]))
    return rows


LEDGER_COLUMNS = [
    "day", "date", "operator", "category", "amount_usd", "counterparty", "ref", "balance_usd",
]  # fmt: skip


def ledger_rows(results: Results) -> list[list[Any]]:
    lg = results.ledger
    start = results.scenario.start_date
    last = results.horizon_days - 1
    operators = results.operators
    # Whole columns as Python values: the same text as indexing the arrays, a third the time.
    columns = zip(
        lg.time.tolist(),
        lg.operator.tolist(),
        lg.category.tolist(),
        lg.amount.tolist(),
        lg.counterparty.tolist(),
        lg.ref.tolist(),
        lg.balance.tolist(),
        strict=True,
    )
    return [
        [
            f"{t:.4f}",
            _day(start, t, last).isoformat(),
            operators[int(op)],
            str(category),
            f"{amount:.2f}",
            str(counterparty),
            str(ref),
            f"{balance:.2f}",
        ]
        for t, op, category, amount, counterparty, ref, balance in columns
    ]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    # Which paths ran, compiled or Python: the results are the same either way, the speed is
    # not (rollout_sim.compiled).
    out["outage_path"] = "compiled" if netcore.available() else "python"
    out["relay_reach"] = "compiled" if reach.compiled() else "python"
    return out


def write_run(
    results: Results,
    out: Path,
    *,
    plots: bool = True,
    extra_manifest: JsonObject | None = None,
    source: Path | None = None,
    geojson: bool = True,
    timing: dict[str, float] | None = None,
    started: float | None = None,
    drawers: Drawers | None = None,
) -> RunSummary:
    """Write the results folder of one run to *out*; returns the summary.

    *source* is the scenario file as the user wrote it (copied as ``scenario.source.yaml`` so
    that reports can show its comments); *geojson* adds the GIS exports. *timing* (phases of
    the command so far, seconds) gets the writing phases added and is recorded in the
    manifest under ``timing``, with the command's total from *started* (``perf_counter``).

    With plots, the drawings are shared out with forked processes while this one writes the
    tables and the GeoJSON (:mod:`rollout_sim.report.drawers`): *drawers* forked before the
    run draw them all; without them one forked now starts on them and this process draws what
    it has not taken yet, after its tables. ``plots_seconds`` is then the time of every
    drawing but the animated map's, wherever drawn, ``maps_seconds`` the map's and the
    snapshots', ``animation_seconds`` the animated map's, and the phases add up to more than
    the wall time; ``plots_start_seconds`` is the time to hand the results over (and, without
    drawers forked before the run, to import matplotlib and fork one),
    ``drawing_here_seconds`` this process's share of the drawing, and
    ``waiting_for_drawers_seconds`` how long it then waited for the drawers.
    """
    import time

    timing = dict(timing or {})
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timing[name] = round(now - clock, 3)
        clock = now

    with results_dir(out) as tmp, ExitStack() as stack:
        drawings = None
        if plots:
            # Forked processes draw from here on, while this one sums up the run and writes
            # the tables and the GeoJSON (and then draws too, if they were not forked before
            # the run: see drawings_alongside).
            drawings = stack.enter_context(drawings_alongside(results, tmp / "plots", drawers))
            phase("plots_start_seconds")
        summary = summarise(results)
        phase("summary_seconds")
        write_csv(tmp / "timeseries.csv", timeseries_columns(results), timeseries_rows(results))
        write_csv(tmp / "sites.csv", SITES_COLUMNS, sites_rows(results))
        write_csv(
            tmp / "ledger.csv",
            LEDGER_COLUMNS,
            ledger_rows(results),
        )
        write_csv(
            tmp / "events.csv", ["day", "date", "operator", "event", "detail"], events_rows(results)
        )
        write_csv(tmp / "funding.csv", FUNDING_COLUMNS, funding_rows(results))
        write_csv(tmp / "operators.csv", OPERATORS_COLUMNS, operators_rows(results))
        write_csv(tmp / "maintenance.csv", MAINTENANCE_COLUMNS, maintenance_rows(results))
        atomic_write(
            tmp / "summary.json", json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"
        )
        atomic_write(tmp / "scenario.resolved.yaml", dump_scenario(results.scenario))
        phase("tables_seconds")
        if geojson:
            from .geojson import backhaul_layer, sites_layer, villages_layer, write_layer

            write_layer(sites_layer(results), tmp / "sites.geojson")
            which = results.scenario.outputs.villages_geojson
            if which != "none":
                write_layer(villages_layer(results, which), tmp / "villages.geojson")
            write_layer(backhaul_layer(results), tmp / "backhaul.geojson")
            phase("geojson_seconds")
        if drawings is not None:
            drawings.draw_here()
            phase("drawing_here_seconds")
            stack.close()  # waits for the drawers; raises if a drawing failed
            phase("waiting_for_drawers_seconds")
            took = drawings.seconds
            timing["plots_seconds"] = round(sum(v for k, v in took.items() if k != "animation"), 3)
            timing["maps_seconds"] = round(took.get("map", 0.0) + took.get("snapshots", 0.0), 3)
            timing["animation_seconds"] = took.get("animation", 0.0)
        if source is not None and source.is_file():
            shutil.copyfile(source, tmp / "scenario.source.yaml")
        manifest = {
            "rollout_sim_version": __version__,
            "scenario": results.scenario.name,
            "scenario_hash": scenario_hash(results.scenario),
            "world_key": results.world.key,
            "seed": results.scenario.seed,
            "seed_entropy": results.seed_entropy,
            "seed_spawn_key": list(results.seed_spawn_key),
            "replications": 1,
            "simulation_wall_seconds": round(results.wall_seconds, 3),
            "versions": versions(),
            **(extra_manifest or {}),
        }
        if started is not None:
            timing["total_wall_seconds"] = round(time.perf_counter() - started, 3)
        if timing:
            manifest["timing"] = timing
        write_manifest(tmp, manifest)
    return summary
