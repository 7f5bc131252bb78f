"""The one batch runner: tasks on an executor, each record streamed to a store, resumable.

Every command that runs replications goes through :func:`run_batch` (``run --reps``,
``compare``, ``sweep``, ``calibrate``'s evaluations) and so do the library functions behind
them. An interruption (Ctrl-C, or SIGTERM, which the command line turns into the same
``KeyboardInterrupt``) is turned here, and only here, into :class:`Interrupted`, which says how
much is saved and how to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .executors import Executor, SerialExecutor
from .store import DamagedRecord, RunStore
from .tasks import RunRecord, Task

__all__ = ["Batch", "Interrupted", "run_batch", "store_for"]


class Interrupted(Exception):
    """A batch was stopped (Ctrl-C or SIGTERM); the replications it finished are saved.

    *total* is None when the whole is not known in advance (a calibration's evaluations)."""

    def __init__(self, saved: int, total: int | None) -> None:
        self.saved = saved
        self.total = total
        of = "" if total is None else f" of {total}"
        super().__init__(
            f"interrupted: {saved}{of} replications are saved; run the same command with "
            "--resume to finish"
        )


def store_for(out: Path) -> RunStore:
    """The run store of a results folder: a hidden sibling, kept until the folder is written."""
    out = out.resolve()
    return RunStore(out.parent / f".{out.name}.runs")


def run_batch(
    tasks: list[Task],
    *,
    executor: Executor,
    store: RunStore | None = None,
    resume: bool = False,
    tick: Callable[[], object] | None = None,
    warn: Callable[[str], object] | None = None,
) -> dict[str, RunRecord]:
    """Records of all *tasks* by task key; finished ones are saved as they arrive.

    With *resume*, tasks already in the store are loaded, not run again; a stored record that
    is damaged or belongs to another run is reported through *warn* (one line naming the
    file) and run again. Without *resume* the store is emptied first, so nothing stale is
    mixed in. *tick* is called once per task done (loaded or run). Interrupted with a store:
    :class:`Interrupted` (what finished is saved); without one, the ``KeyboardInterrupt``.
    """
    try:
        return _run(tasks, executor, store, resume, tick, warn)
    except KeyboardInterrupt:
        if store is None:
            raise
        saved = len(tasks) - len(store.missing(tasks))
        raise Interrupted(saved, len(tasks)) from None


def _run(
    tasks: list[Task],
    executor: Executor,
    store: RunStore | None,
    resume: bool,
    tick: Callable[[], object] | None,
    warn: Callable[[str], object] | None,
) -> dict[str, RunRecord]:
    records: dict[str, RunRecord] = {}
    todo: list[Task] = []
    if store is not None and not resume:
        store.clear()
    for t in tasks:
        if store is not None and resume and store.has(t):
            try:
                records[t.key] = store.load(t)
            except DamagedRecord as exc:
                if warn is not None:
                    warn(f"{exc}; running that replication again")
                store.discard(t)
                todo.append(t)
                continue
            if tick is not None:
                tick()
        else:
            todo.append(t)

    def done(task: Task, record: RunRecord) -> None:
        if store is not None:
            store.save(task, record)
        records[task.key] = record
        if tick is not None:
            tick()

    executor.run(todo, done)
    return records


@dataclass
class Batch:
    """Where and how tasks run: what :func:`run_batch` takes besides the tasks, for the
    experiments to pass on; the caller makes the executor and closes it.

    A batch may run its tasks in several rounds (a calibration runs one per evaluation): the
    store is emptied before the first round unless *resume*, and later rounds keep what the
    earlier ones saved, so an interrupted calibration resumes every evaluation it finished.
    """

    executor: Executor = field(default_factory=SerialExecutor)
    store: RunStore | None = None
    resume: bool = False
    tick: Callable[[], object] | None = None
    warn: Callable[[str], object] | None = None
    #: The largest peak memory of a process that ran one of its tasks, MB.
    peak_rss_mb: float = 0.0
    #: Replications done in the rounds so far (run or loaded).
    done: int = 0
    rounds: int = 0

    def run(self, tasks: list[Task]) -> dict[str, RunRecord]:
        """Records of *tasks* by key (see :func:`run_batch`)."""
        try:
            records = run_batch(
                tasks,
                executor=self.executor,
                store=self.store,
                resume=self.resume or self.rounds > 0,
                tick=self.tick,
                warn=self.warn,
            )
        except Interrupted as stop:
            if self.rounds == 0:
                raise
            raise Interrupted(self.done + stop.saved, None) from None
        self.rounds += 1
        self.done += len(records)
        self.peak_rss_mb = max([self.peak_rss_mb, *(r.peak_rss_mb for r in records.values())])
        return records
