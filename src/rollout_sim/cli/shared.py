"""What every command does the same way: load the scenario, check where it writes before any
work, build the world, run a batch on the executor the options ask for, and say which command
made a results folder (its manifest)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from ..fileio import CommandTiming

if TYPE_CHECKING:
    from ..experiments.runner import Batch
    from ..scenario.schema import Scenario
    from ..world.build import World

__all__ = [
    "FolderOptions",
    "destination",
    "folder_options",
    "load",
    "manifest_fields",
    "maybe_report",
    "note",
    "open_batch",
    "plots_wanted",
    "protected_inputs",
    "timing_since",
    "warner",
    "world_of",
]


def protected_inputs(args: argparse.Namespace) -> list[Path]:
    """Files the command reads: their folders are never replaced."""
    return [p for p in (getattr(args, "scenario", None),) if p is not None]


def note(args: argparse.Namespace, text: str) -> None:
    """A note on stderr (not under --quiet)."""
    if not args.quiet:
        print(f"note: {text}", file=sys.stderr)


def warner(args: argparse.Namespace) -> Callable[[str], None]:
    """Print a warning line (also under --quiet: it says something went wrong and was fixed)."""

    def warn(text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)

    return warn


def load(args: argparse.Namespace, *extra: str) -> Scenario:
    """The scenario of the command line: the file, its ``--set`` overrides, then the command's
    own (*extra*, e.g. ``--reps`` of calibrate), then ``--seed`` (the one seed rule: it is
    the scenario's seed, from which every replication's seed derives)."""
    from ..errors import ScenarioError
    from ..experiments.optimize import check_optimize
    from ..experiments.uncertainty import check_uncertainties
    from ..scenario.load import load_scenario

    overrides = [*args.overrides, *extra]
    if getattr(args, "seed", None) is not None:
        overrides.append(f"seed={args.seed}")
    scenario = load_scenario(args.scenario, overrides)
    # The uncertainties: and optimize: blocks name other keys: checked against the whole
    # scenario, by every command, before anything runs or is written.
    try:
        check_uncertainties(scenario)
        check_optimize(scenario)
    except ScenarioError as exc:
        if exc.source is None and exc.where:  # the file is to blame: name the line too
            exc.source = _file_line(Path(args.scenario), exc.where)
        raise
    return scenario


def _file_line(path: Path, where: str) -> str:
    """``file:line`` of the key path *where* (``uncertainties[0].low``), or of the nearest
    key around it that the file writes; the file alone if it cannot be read again."""
    import re

    from ..errors import InputError
    from ..scenario.read import read_yaml

    try:
        _, lines = read_yaml(path)
    except (InputError, OSError):
        return str(path)
    key: tuple[str | int, ...] = tuple(
        int(index) if index else name for name, index in re.findall(r"(\w+)|\[(\d+)\]", where)
    )
    for cut in range(len(key), 0, -1):
        if key[:cut] in lines:
            return f"{path}:{lines[key[:cut]]}"
    return str(path)


def destination(args: argparse.Namespace, default: Path, *, store: bool = False) -> Path:
    """The results folder to write, checked before any work (refusals are exit 2).

    Only a folder this tool wrote (or an empty one) is replaced; leftovers of an interrupted
    write into the same place are recovered first. *store*: the command also keeps finished
    replications in the hidden run store beside the folder, which is checked too.
    """
    from ..experiments.runner import store_for
    from ..fileio import prepare_results_dir

    target: Path = args.out if args.out is not None else default
    path, notes = prepare_results_dir(target, protect=protected_inputs(args))
    for text in notes:
        note(args, text)
    if store:
        store_for(path).check()
    return target  # as the user wrote it, for the messages


def world_of(args: argparse.Namespace, scenario: Scenario) -> World:
    """The scenario's world: from the disk cache unless --no-cache (then built and not saved)."""
    from ..world.build import build_world
    from ..world.cache import prepared_world

    if args.no_cache:
        world = build_world(scenario)
    else:
        world, _cached = prepared_world(scenario, warn=warner(args))
    if not args.quiet:
        from ..world.warnings import implausible_settings

        for text in implausible_settings(scenario, world):
            print(f"warning: {text}", file=sys.stderr)
    return world


@contextmanager
def open_batch(
    args: argparse.Namespace,
    out: Path,
    n_tasks: int,
    tick: Callable[[], object] | None = None,
) -> Iterator[Batch]:
    """A batch on the executor the options ask for (at most *n_tasks* at once), saving into
    the run store beside *out* (resuming from it with --resume); the executor is closed
    after, however the batch ends."""
    from ..experiments.executors import DEFAULT_CONNECT_TIMEOUT, make_executor
    from ..experiments.runner import Batch, store_for

    timeout = args.connect_timeout if args.connect_timeout is not None else DEFAULT_CONNECT_TIMEOUT
    executor = make_executor(args.executor, args.jobs, args.scheduler, n_tasks, timeout)
    try:
        yield Batch(executor, store_for(out), args.resume, tick, warner(args))
    finally:
        executor.close()


def plots_wanted(args: argparse.Namespace, scenario: Scenario) -> bool:
    """Whether the command draws its plots: the scenario asks for them and --no-plots does not
    refuse them."""
    return scenario.outputs.plots and not args.no_plots


def timing_since(started: float, world_seconds: float | None = None) -> CommandTiming:
    """The manifest's timing of a command that began at *started* (``time.perf_counter``):
    the seconds it took in all, up to its manifest (tables and plots included), and, when it
    built a world first, how long that took, both to the millisecond."""
    phases = {} if world_seconds is None else {"world_build_seconds": round(world_seconds, 3)}
    return CommandTiming(started, phases)


def manifest_fields(
    args: argparse.Namespace,
    timing: dict[str, float] | None = None,
    batch: Batch | None = None,
) -> dict[str, object]:
    """What a command adds to its folder's manifest: its timing, where its replications ran
    (executor, workers, the peak memory of any process, whether it resumed) and the command
    line that made it."""
    fields: dict[str, object] = {}
    if timing is not None:
        fields["timing"] = timing
    if batch is not None:
        from ..experiments.tasks import peak_rss_mb

        fields.update(
            executor=batch.executor.name,
            workers=batch.executor.workers,
            peak_rss_mb=round(max(peak_rss_mb(), batch.peak_rss_mb), 1),
            resumed=bool(args.resume),
        )
    fields["command"] = ["rollout-sim", *args.argv]
    return fields


class FolderOptions(TypedDict):
    """What a batch command's results folder takes from its command line: the keyword arguments
    every ``write_*`` function of :mod:`rollout_sim.report` has."""

    plots: bool
    extra_manifest: dict[str, object]


def folder_options(
    args: argparse.Namespace,
    scenario: Scenario,
    started: float,
    batch: Batch,
    world_seconds: float | None = None,
) -> FolderOptions:
    """Whether the command draws its plots, and what it adds to the manifest: its timing since
    *started* (see :func:`timing_since`), where its batch ran and the command line."""
    return {
        "plots": plots_wanted(args, scenario),
        "extra_manifest": manifest_fields(args, timing_since(started, world_seconds), batch),
    }


def maybe_report(args: argparse.Namespace, out: Path) -> None:
    """``report.html`` too, with --report."""
    if getattr(args, "report", False):
        from ..report.html import write_report

        path = write_report(out)
        if not args.quiet:
            print(f"report: {path}")
