"""Run a list of tasks on an executor, streaming each record to a store, resuming if asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .store import DamagedRecord, RunStore
from .tasks import RunRecord, Task

__all__ = ["execute", "store_for"]


def store_for(out: Path) -> RunStore:
    """The run store of a results folder: a hidden sibling, kept until the folder is written."""
    out = out.resolve()
    return RunStore(out.parent / f".{out.name}.runs")


def execute(
    tasks: list[Task],
    executor: Any,
    *,
    store: RunStore | None = None,
    resume: bool = False,
    tick: Callable[[], Any] | None = None,
    warn: Callable[[str], Any] | None = None,
) -> dict[str, RunRecord]:
    """Records of all *tasks* by task key; finished ones are saved as they arrive.

    With *resume*, tasks already in the store are loaded, not run again; a stored record that
    is damaged or belongs to another run is reported through *warn* (one line naming the
    file) and run again. Without *resume* the store is emptied first, so nothing stale is
    mixed in.
    """
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
