"""What each kind of results folder draws in its ``plots/``, under which names.

The names are the report's too: it places ``coverage``, ``finance``, ``map``... in their
sections and shows any other plot under "Other figures". Each writer saves PNGs (and SVGs
beside them) into *folder* and draws nothing else.
"""

from __future__ import annotations

import multiprocessing
import os
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
    "SharedDrawings",
    "comparison_plots",
    "drawings_alongside",
    "fan_context",
    "fan_of",
    "replication_plots",
    "run_drawings",
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


Drawing = tuple[str, Callable[[Path], object]]


def run_drawings(results: Results) -> list[Drawing]:
    """One run's drawings, as (name, draw into a folder): the map and its yearly snapshots
    (``map.png``, ``snapshots.png``), the animated map (``rollout.gif``), and the charts of
    daily series (coverage, poverty with impact on, finance, footprint, availability).

    Longest first (as measured nationally): two processes taking them in turn then end close
    together (:func:`drawings_alongside`).
    """

    def saved(figure: Callable[[Results], Any], name: str) -> Callable[[Path], object]:
        return lambda folder: save_figure(figure(results), folder / f"{name}.png")

    out: list[Drawing] = [
        ("snapshots", saved(snapshots_figure, "snapshots")),
        ("map", saved(map_figure, "map")),
        ("animation", lambda folder: write_rollout_gif(results, folder / "rollout.gif")),
    ]
    if results.impact_daily:
        out.append(("impact", saved(impact_figure, "impact")))
    out += [
        ("coverage", saved(coverage_figure, "coverage")),
        ("footprint", saved(footprint_figure, "footprint")),
        ("finance", saved(finance_figure, "finance")),
        ("availability", saved(availability_figure, "availability")),
    ]
    return out


class SharedDrawings:
    """One run's drawings (:func:`run_drawings`), shared out between this process and a
    forked child: each takes the next one not yet taken, the child from the start, this
    process when it calls :meth:`draw_here` (after its other work). ``seconds`` gets each
    drawing's time, wherever it was drawn, once the child has ended.

    A drawing is taken under a lock in shared memory. The child holds it for a few
    instructions; should it die holding it (killed from outside), this process sees the child
    gone instead of waiting for ever, and the run fails as any failed drawing does.
    """

    def __init__(self, drawings: list[Drawing], folder: Path, ctx: ForkContext | None) -> None:
        self.drawings = drawings
        self.folder = folder
        self.seconds: dict[str, float] = {}
        self._next = None if ctx is None else ctx.Value("i", 0)
        self._taken_here = 0  # without a child: how many this process has drawn
        #: The child drawing alongside (in the parent, once started).
        self.child: multiprocessing.process.BaseProcess | None = None
        self._parent = os.getpid()

    def _take(self) -> int | None:
        """The index of the next drawing not yet taken (now taken), or None."""
        shared = self._next
        if shared is None:
            i = self._taken_here
            self._taken_here += 1
            return i if i < len(self.drawings) else None
        lock = shared.get_lock()
        while not lock.acquire(timeout=1.0):
            child = self.child
            if child is not None and child.exitcode is not None:
                raise RuntimeError(f"drawing failed (child process exit code {child.exitcode})")
            if os.getpid() != self._parent and os.getppid() != self._parent:
                raise RuntimeError("drawing stopped: the process that forked this one ended")
        try:
            i = int(shared.value)
            if i >= len(self.drawings):
                return None
            shared.value = i + 1
            return i
        finally:
            lock.release()

    def draw_here(self) -> dict[str, float]:
        """Draw, in this process, every drawing not yet taken; returns their times."""
        timing = {}
        while (i := self._take()) is not None:
            name, draw = self.drawings[i]
            start = time.perf_counter()
            draw(self.folder)
            timing[name] = round(time.perf_counter() - start, 3)
        return timing


@contextmanager
def drawings_alongside(results: Results, folder: Path) -> Iterator[SharedDrawings]:
    """Draw one run's plots, maps and animated map (:func:`run_drawings`) in a forked child
    while the body writes the rest (tables, GeoJSON) and then calls ``draw_here()`` to take
    the drawings the child has not taken yet: on two cores the main job's writing takes about
    half its work, whatever share of it the drawings are on a given machine.

    Yields the :class:`SharedDrawings`, whose ``seconds`` has every drawing's time once the
    body has ended. Where no child can be forked (see :func:`_fork_context`) every drawing is
    drawn here, by ``draw_here()`` or after the body. An exception in the body ends the child
    before it propagates; a drawing that fails in the child fails the run (its traceback is on
    stderr).
    """
    folder.mkdir(parents=True, exist_ok=True)
    ctx = _fork_context()
    shared = SharedDrawings(run_drawings(results), folder, ctx)
    if ctx is None:
        yield shared
        shared.seconds.update(shared.draw_here())
        return
    # The child flushes its copy of these buffers when it ends: text still buffered here
    # would be written twice.
    sys.stdout.flush()
    sys.stderr.flush()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child_main, args=(shared.draw_here, send), name="rollout-sim drawings"
    )
    # Signals are held back while forking: the child must not run this process's handlers
    # (they raise KeyboardInterrupt) before it has set its own, and one arriving here is
    # delivered below, where the child is ended.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        child.start()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    shared.child = child
    done = False
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        send.close()
        yield shared
        shared.seconds.update(shared.draw_here())  # what is left, if the body did not
        done = True
    finally:
        if not done:
            child.terminate()
        child.join()
        if not done:
            receive.close()
    try:
        if child.exitcode != 0 or not receive.poll():
            raise RuntimeError(f"drawing failed (child process exit code {child.exitcode})")
        shared.seconds.update(receive.recv())
    finally:
        receive.close()


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
