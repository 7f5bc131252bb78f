"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs the same :func:`~.tasks.run_task` on the same tasks, so the records — and
every output built from them — are identical whichever runs them and in whatever order they
finish. Parallelism is across replications, never inside one: a replication is a sequence of
events, and splitting it would cost more in coordination than it saves.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import suppress
from typing import Any, Protocol

from ..errors import InputError
from .tasks import RunRecord, Task, collect_after_each_run, run_task

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DaskExecutor",
    "Executor",
    "PoolExecutor",
    "SerialExecutor",
    "check_executor_options",
    "check_scheduler_address",
    "default_jobs",
    "make_executor",
    "probe_scheduler",
]

Done = Callable[[Task, RunRecord], None]

#: Seconds to wait for a Dask scheduler to answer before giving up.
DEFAULT_CONNECT_TIMEOUT = 20.0
#: Address schemes a Dask scheduler listens on.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


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


def _die_with_parent(parent: int, every_seconds: float = 0.5) -> None:
    """Exit this worker as soon as *parent* is gone (even after ``kill -9``).

    A pool worker waits on a queue whose other end its siblings also hold, so it would never
    see the parent's death by itself and would live on as an orphan. A small thread notices
    the change of parent (the orphan is re-parented) and ends the process.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="rollout-sim-parent-watch", daemon=True).start()


def _worker_init(parent: int) -> None:
    # Workers leave Ctrl-C to the parent, which stops handing out work and lets the running
    # replications finish and be saved, instead of every process dying mid-write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    collect_after_each_run()


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
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, initializer=_worker_init, initargs=(os.getpid(),)
            )
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

    def __init__(
        self, jobs: int, scheduler: str | None = None, timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        if scheduler is not None:
            scheduler = check_scheduler_address(scheduler)
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
            probe_scheduler(scheduler, timeout)
            try:
                self._client = Client(scheduler, timeout=f"{timeout}s")
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler ({exc or type(exc).__name__})",
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


def check_scheduler_address(text: str) -> str:
    """*text* if it is a scheduler address (``[SCHEME://]HOST:PORT``), else one-line error."""

    def bad(why: str) -> InputError:
        return InputError(
            f"{why}; expected a Dask scheduler address such as tcp://10.0.0.5:8786",
            source="--scheduler",
            value=text,
        )

    address = text.strip()
    if not address:
        raise bad("empty")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    elif scheme not in SCHEDULER_SCHEMES:
        raise bad(f"unknown scheme {scheme}:// (Dask uses {', '.join(SCHEDULER_SCHEMES)})")
    host, colon, port = rest.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address
    if not colon or not host or any(c in host for c in "/?#@ \t[]"):
        raise bad("not a HOST:PORT address")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise bad("the port must be a number from 1 to 65535")
    return f"{scheme}://{rest}"


def probe_scheduler(address: str, timeout: float) -> None:
    """Ask *address* who it is, giving up after *timeout* seconds in all (one-line errors).

    ``distributed.Client`` can wait forever on a peer that accepts connections but never
    answers; this asks for the scheduler's identity under one overall deadline first.
    """
    import asyncio

    from distributed.comm import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), timeout))
    except TimeoutError:
        raise InputError(
            f"no answer from a Dask scheduler within {timeout:g} s (raise --connect-timeout "
            "if the cluster is slow to answer)",
            source="--scheduler",
            value=address,
        ) from None
    except Exception as exc:
        raise InputError(
            f"cannot talk to a Dask scheduler there ({type(exc).__name__}: {exc})"[:240],
            source="--scheduler",
            value=address,
        ) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise InputError(
            "something answered there, but not a Dask scheduler",
            source="--scheduler",
            value=address,
        )


def check_executor_options(kind: str | None, jobs: int | None, scheduler: str | None) -> None:
    """Refuse executor options that would be ignored (one line, before any work): a
    scheduler address without ``--executor dask``, several jobs on the serial executor."""
    if scheduler is not None and kind != "dask":
        # Not silently ignored: the user meant their cluster to run it.
        raise InputError(
            "a scheduler address is used only with --executor dask",
            source="--scheduler",
            value=scheduler,
        )
    if kind == "serial" and jobs is not None and jobs > 1:
        raise InputError(
            f"runs one task at a time; expected --jobs 1 or another executor (got --jobs {jobs})",
            source="--executor",
            value=kind,
        )


def make_executor(
    kind: str | None,
    jobs: int | None,
    scheduler: str | None,
    n_tasks: int,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Executor:
    """The executor the options ask for: serial for one task, processes by default.

    *n_tasks* is the most tasks it will run at once: a local pool never starts more workers
    than that (each would hold a copy of the world for nothing)."""
    check_executor_options(kind, jobs, scheduler)
    jobs = default_jobs() if jobs is None else jobs
    if kind is None:
        kind = "serial" if n_tasks <= 1 or jobs <= 1 else "processes"
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return PoolExecutor(min(jobs, max(n_tasks, 1)))
    if kind == "dask":
        return DaskExecutor(jobs, scheduler, timeout)
    raise InputError("expected serial, processes or dask", source="--executor", value=kind)
