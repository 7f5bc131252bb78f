"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs the same :func:`~.tasks.run_task` on the same tasks, so the records — and
every output built from them — are identical whichever runs them and in whatever order they
finish. Parallelism is across replications, never inside one (DESIGN §4).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
from typing import Any, Protocol

from ..errors import InputError
from .tasks import RunRecord, Task, run_task

__all__ = [
    "DaskExecutor",
    "Executor",
    "PoolExecutor",
    "SerialExecutor",
    "default_jobs",
    "make_executor",
]

Done = Callable[[Task, RunRecord], None]


def default_jobs() -> int:
    """CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


class Executor(Protocol):
    name: str
    workers: int

    def run(self, tasks: list[Task], done: Done) -> None:
        """Run *tasks*; call *done(task, record)* in this process as each one finishes."""
        ...

    def close(self) -> None: ...


class SerialExecutor:
    """One after the other, in this process."""

    name = "serial"
    workers = 1

    def run(self, tasks: list[Task], done: Done) -> None:
        for task in tasks:
            done(task, run_task(task))

    def close(self) -> None:
        return None


def _ignore_sigint() -> None:
    # Workers leave Ctrl-C to the parent, which stops handing out work and lets the running
    # replications finish and be saved, instead of every process dying mid-write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class PoolExecutor:
    """A local pool of worker processes (forked: they inherit the world already built)."""

    name = "processes"

    def __init__(self, jobs: int) -> None:
        self.workers = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: list[Task], done: Done) -> None:
        if not tasks:
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_ignore_sigint)
        pending: dict[Future[RunRecord], Task] = {}
        queue = list(tasks)
        try:
            # Keep at most 2 tasks per worker in flight: an interruption then waits for few.
            while queue or pending:
                while queue and len(pending) < 2 * self.workers:
                    t = queue.pop(0)
                    pending[self._pool.submit(run_task, t)] = t
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = pending.pop(fut)
                    done(task, fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            # Save what is still running rather than lose it.
            for fut, task in list(pending.items()):
                if not fut.cancelled():
                    with suppress(BaseException):  # best effort while stopping
                        done(task, fut.result())
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """A Dask distributed cluster: a scheduler address, or a local cluster started here."""

    name = "dask"

    def __init__(self, jobs: int, scheduler: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(
                "the Dask executor needs the optional extra: pip install 'rollout-sim[dask]'",
                source="--executor dask",
            ) from None
        self._cluster: Any = None
        if scheduler is None:
            self._cluster = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client: Any = Client(self._cluster)
        else:
            try:
                self._client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler ({exc})",
                    source="--scheduler",
                    value=scheduler,
                ) from None
        info = self._client.scheduler_info()
        self.workers = max(1, len(info.get("workers", {})))

    def run(self, tasks: list[Task], done: Done) -> None:
        if not tasks:
            return
        from distributed import as_completed

        futures = {
            self._client.submit(run_task, t, pure=False, key=f"run-{t.key}"): t for t in tasks
        }
        try:
            for fut in as_completed(list(futures)):
                done(futures[fut], fut.result())
        except BaseException:
            self._client.cancel(list(futures))
            raise

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str | None, jobs: int | None, scheduler: str | None, n_tasks: int) -> Any:
    """The executor the options ask for: serial for one task, processes by default."""
    jobs = default_jobs() if jobs is None else jobs
    if kind is None:
        kind = "serial" if n_tasks <= 1 or jobs <= 1 else "processes"
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return PoolExecutor(jobs)
    if kind == "dask":
        return DaskExecutor(jobs, scheduler)
    raise InputError("expected serial, processes or dask", source="--executor", value=kind)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C for the duration (clean stop, exit code 130)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
