"""What each kind of results folder draws in its ``plots/``, under which names.

The names are the report's too: it places ``coverage``, ``finance``, ``map``... in their
sections and shows any other plot under "Other figures". Each writer saves PNGs (and SVGs
beside them) into *folder* and draws nothing else.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..experiments.stats import band, paired_band
from . import experiments as charts  # the charts of many runs
from .animation import write_rollout_gif
from .axes import RefPoint, reference_points, save_figure
from .maps import map_figure, snapshots_figure
from .series import (
    availability_figure,
    coverage_figure,
    finance_figure,
    footprint_figure,
    impact_figure,
)

if TYPE_CHECKING:
    from ..experiments.compare import Comparison
    from ..experiments.replications import ReplicationSet
    from ..results import Results
    from ..scenario.schema import Scenario

__all__ = [
    "FanContext",
    "comparison_plots",
    "fan_context",
    "fan_of",
    "maps_alongside",
    "replication_plots",
    "run_animation",
    "run_charts",
    "run_maps",
    "sweep_plots",
]


def _fork_context() -> ForkContext | None:
    """A context to fork a child that draws beside this process, or None to draw here.

    Forking shares the run's results without pickling them. Only where fork is the safe
    default (Linux), from a process that may have children (not a pool's daemonic worker) and
    holds no other threads (a forked copy of a thread's locks could deadlock).
    """
    if sys.platform != "linux" or threading.active_count() > 1:
        return None
    if multiprocessing.current_process().daemon:
        return None
    return multiprocessing.get_context("fork")


#: The signals that interrupt a command (see ``cli/app.py``).
_STOPS = {signal.SIGINT, signal.SIGTERM}


def _child_main(work: Callable[[], dict[str, float]], send: Connection) -> None:
    """The forked child: do *work*, send back what it timed.

    SIGINT and SIGTERM end it at once, silently (the default action): the parent turns them
    into an interruption and discards the half-written folder after this child has ended.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent for the fork
    send.send(work())
    send.close()


@contextmanager
def _alongside(work: Callable[[], dict[str, float]]) -> Iterator[dict[str, float]]:
    """Run *work* in a forked child while the body runs here; wait for it, and raise if it
    failed (its traceback is on stderr). Without fork, *work* runs here after the body.

    Yields a dict that gets what *work* returned (its phase times) once it has finished. If
    the body raises (an interruption), the child is ended first: nothing it writes outlives
    the body's folder, which the caller discards.
    """
    timing: dict[str, float] = {}
    ctx = _fork_context()
    if ctx is None:
        yield timing
        timing.update(work())
        return
    # The child flushes its copy of these buffers when it ends: text still buffered here
    # would be written twice.
    sys.stdout.flush()
    sys.stderr.flush()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, args=(work, send), name="rollout-sim maps")
    # Signals are held back while forking: the child must not run this process's handlers
    # (they raise KeyboardInterrupt) before it has set its own, and one arriving here is
    # delivered below, where the child is ended.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        child.start()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    done = False
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        send.close()
        yield timing
        done = True
    finally:
        if not done:
            child.terminate()
        child.join()
        if not done:
            receive.close()
    try:
        if child.exitcode != 0 or not receive.poll():
            raise RuntimeError(
                f"drawing the maps failed (child process exit code {child.exitcode})"
            )
        timing.update(receive.recv())
    finally:
        receive.close()


def _run_maps(results: Results, folder: Path) -> dict[str, float]:
    start = time.perf_counter()
    run_maps(results, folder)
    return {"maps_seconds": round(time.perf_counter() - start, 3)}


def run_maps(results: Results, folder: Path) -> None:
    """One run's map and its yearly snapshots (``map.png``, ``snapshots.png``)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_figure(map_figure(results), folder / "map.png")
    save_figure(snapshots_figure(results), folder / "snapshots.png")


def run_charts(results: Results, folder: Path) -> None:
    """One run's charts of daily series: coverage, finance, availability, footprint, and
    poverty (with impact on)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_figure(coverage_figure(results), folder / "coverage.png")
    save_figure(finance_figure(results), folder / "finance.png")
    save_figure(availability_figure(results), folder / "availability.png")
    save_figure(footprint_figure(results), folder / "footprint.png")
    if results.impact_daily:
        save_figure(impact_figure(results), folder / "impact.png")


def run_animation(results: Results, folder: Path) -> None:
    """One run's animated map, ``rollout.gif`` (apart: it is timed apart)."""
    write_rollout_gif(results, folder / "rollout.gif")


@contextmanager
def maps_alongside(results: Results, folder: Path) -> Iterator[dict[str, float]]:
    """Draw one run's maps and animated map (:func:`run_maps`, :func:`run_animation`) in a
    forked child while the body writes the rest (tables, charts, GeoJSON): on two cores the
    main job's writing takes little more than the longer of the two shares.

    Yields a dict that gets the child's phase times (``maps_seconds``,
    ``animation_seconds``) when the body has ended. Where no child can be forked (see
    :func:`_fork_context`) the maps are drawn here after the body. An exception in the body
    ends the child before it propagates.
    """

    def work() -> dict[str, float]:
        timing = _run_maps(results, folder)
        start = time.perf_counter()
        run_animation(results, folder)
        timing["animation_seconds"] = round(time.perf_counter() - start, 3)
        return timing

    folder.mkdir(parents=True, exist_ok=True)
    with _alongside(work) as timing:
        yield timing


def fan_of(
    rset: ReplicationSet,
    scenario: Scenario,
    colour: str,
    q: tuple[float, float],
    series: str = "people_covered",
) -> charts.FanData:
    """The band of what *series* gained since day 0 (people or villages reached), per day."""
    values = rset.series[series]
    b = band(values - values[:, :1], q)
    return charts.FanData(scenario.start_date, b.median, b.lo, b.hi, colour)


class FanContext(TypedDict):
    """What a fan chart draws besides its bands (keyword arguments of :func:`fan_figure`)."""

    references: list[RefPoint]
    place_references: list[RefPoint]
    note: str


def fan_context(scenario: Scenario, rset: ReplicationSet, total_population: int) -> FanContext:
    """What a fan chart draws besides its bands: the scenario's references on the scale of
    people and places reached (their day-0 values subtracted), and a note on the start."""
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


def replication_plots(
    rset: ReplicationSet, folder: Path, total_population: int, band_labels: tuple[str, str]
) -> None:
    """A set of replications' fan chart of people and places reached, ``coverage.png``;
    *band_labels* name the band's quantiles (``p10``, ``p90``)."""
    sc = rset.scenario
    q = sc.outputs.band
    colour = charts.policy_colour([p.name for p in sc.policies], rset.policy)
    name = rset.policy or sc.name
    fig = charts.fan_figure(
        [(name, fan_of(rset, sc, colour, q))],
        places=[(name, fan_of(rset, sc, colour, q, "villages_covered"))],
        title=f"{sc.name}: people and places reached, {rset.reps} replications (seed {sc.seed})",
        band_label=f"{band_labels[0]}–{band_labels[1]} of replications",
        **fan_context(sc, rset, total_population),
    )
    save_figure(fig, folder / "coverage.png")


def comparison_plots(
    comp: Comparison,
    folder: Path,
    total_population: int,
    band_labels: tuple[str, str],
    interval_labels: tuple[str, str],
) -> None:
    """A comparison's charts: the policies' fan chart (``coverage.png``), their average public
    cost per person reached, the public cost per additional person reached against the
    baseline, and the paired difference in people reached over time."""
    sc = comp.scenario
    pols = [p.name for p in sc.policies]
    colour = {p: charts.policy_colour(pols, p) for p in comp.policies}
    reps = comp.sets[comp.baseline].reps
    q = sc.outputs.band
    fans = [(p, fan_of(comp.sets[p], sc, colour[p], q)) for p in comp.policies]
    places = [
        (p, fan_of(comp.sets[p], sc, colour[p], q, "villages_covered")) for p in comp.policies
    ]
    save_figure(
        charts.fan_figure(
            fans,
            places=places,
            title=f"{sc.name}: people and places reached by policy, {reps} replications "
            f"(seed {sc.seed})",
            band_label=f"{band_labels[0]}–{band_labels[1]} of replications",
            **fan_context(sc, comp.sets[comp.baseline], total_population),
        ),
        folder / "coverage.png",
    )
    per_person = "public_cost_per_person_reached_usd"  # the average
    rows = []
    for p in comp.policies:
        iv = comp.summary(p, per_person)
        rows.append((p, iv.mean, iv.lo, iv.hi, colour[p]))
    save_figure(
        charts.interval_figure(
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
        icers.append((p, iv.mean, iv.lo, iv.hi, colour[p]))
    if icers:
        save_figure(
            charts.interval_figure(
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
        diffs.append((p, charts.FanData(sc.start_date, b.mean, b.lo, b.hi, colour[p])))
    if diffs:
        save_figure(
            charts.difference_figure(
                diffs,
                title=f"{sc.name}: people reached, difference from {comp.baseline} (paired "
                f"on {reps} replications)",
                ylabel=f"people reached − {comp.baseline}",
                band_label=f"{comp.ci_level:.0%} CI of the mean difference",
            ),
            folder / "difference_people_covered.png",
        )


def sweep_plots(scenario: Scenario, design: Any, records: list[Any], folder: Path) -> None:
    """A sweep's people covered against each swept value, ``sweep_people_covered.png``."""
    save_figure(
        charts.sweep_figure(scenario, design, records, "people_covered"),
        folder / "sweep_people_covered.png",
    )
