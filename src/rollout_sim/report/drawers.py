"""Forked processes that draw a run's figures while the one that ran it writes its tables.

A national run's drawings (maps, yearly snapshots, animated map, charts: PNG and SVG) are ~5 s
of CPU against ~1 s for its tables and GeoJSON, so they are shared out between processes: each
takes the next drawing not yet taken (:class:`SharedDrawings`, longest first), so the
processes end close together whatever the machine.

Two ways to get the drawing processes, one way to share the work:

* :func:`drawers_for` forks them **before the run** (one per CPU, up to four), as soon as
  the world is loaded: they import matplotlib while the run simulates, taking turns so that
  the run keeps a CPU to itself (:func:`importer_count`), then get the results through a
  file (pickled without the world, which they have) and draw everything. The ``run``
  command does this, and it is also the only way a child can be forked in a terminal, where
  the spinner is a thread for the whole run.
* Without them, :func:`drawings_alongside` forks one drawer when writing starts and this
  process draws too, after its tables.

Forking is done only where it is safe (:func:`fork_context`); elsewhere everything is drawn
in this process, in turn. Whatever the way, a drawing that fails fails the run, and an
interruption ends the children before the half-written folder is discarded.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: multiprocessing.context has no ForkContext on Windows.
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext
    from multiprocessing.process import BaseProcess
    from multiprocessing.sharedctypes import Synchronized
    from multiprocessing.synchronize import Semaphore

    from ..results import Results
    from ..world.build import World

__all__ = [
    "Drawers",
    "Drawing",
    "SharedDrawings",
    "drawers_for",
    "drawings_alongside",
    "fork_context",
]

#: A drawing: its name (for timing) and what draws it into a folder.
Drawing = tuple[str, Callable[[Path], object]]

#: The signals that interrupt a command (see ``cli/app.py``).
_STOPS = {signal.SIGINT, signal.SIGTERM}

#: At most this many processes forked before a run: a national run has eight drawings, the
#: longest (the snapshots) ~a fifth of them all.
MAX_DRAWERS = 4


#: How long a drawer waits for its turn to import matplotlib before importing anyway: the
#: turns only keep a CPU for the run (:func:`importer_count`), so a turn never held up
#: longer than this (a sibling stopped while it imported) costs speed, never a hang.
IMPORT_TURN_SECONDS = 10.0


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux (where drawers are not forked anyway)
        return os.cpu_count() or 1


def drawer_count() -> int:
    """Processes to fork before a run: one per CPU this process may use, 1 to
    :data:`MAX_DRAWERS` (two on the standard 2-core machine, which keep both cores drawing
    while this process writes the tables)."""
    return max(1, min(_cpus(), MAX_DRAWERS))


def importer_count() -> int:
    """Drawers that import matplotlib at the same time, while the run simulates: one CPU
    fewer than this process may use (at least one), so that the simulation, which everything
    else waits for, keeps a CPU to itself.

    On two CPUs two drawers importing at once (~0.5 s of CPU each) left the run three
    processes for two CPUs: the national run simulated 0.14–0.35 s slower (medians of two
    alternated series, ``benchmarks/RESULTS.md``)."""
    return max(1, _cpus() - 1)


def fork_context() -> ForkContext | None:
    """A context to fork children that draw beside this process, or None to draw here.

    Only where fork is the safe default (Linux), from a process that may have children (not a
    pool's daemonic worker) and holds no other threads (a forked copy of a thread's locks
    could deadlock).
    """
    if sys.platform != "linux" or threading.active_count() > 1:
        return None
    if multiprocessing.current_process().daemon:
        return None
    return multiprocessing.get_context("fork")


def _run_drawings(results: Results) -> list[Drawing]:
    from ..plots.folders import run_drawings  # matplotlib: only in a process that draws

    return run_drawings(results)


class SharedDrawings:
    """A run's drawings, shared out: each process that calls :meth:`draw_here` takes the
    next drawing not yet taken (an index in shared memory, under its lock) until none is
    left. Without shared memory (*counter* None) every drawing is this process's.

    A process holds the lock for a few instructions; should one die holding it (killed from
    outside), the others see it gone (within about a second: *alive* says whether it is)
    instead of waiting for ever, and the run fails as any failed drawing does.
    """

    def __init__(
        self,
        drawings: list[Drawing],
        folder: Path,
        counter: Synchronized[int] | None,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.drawings = drawings
        self.folder = folder
        self._next = counter
        self._alive = alive
        self._taken_here = 0  # without shared memory: how many this process has drawn
        #: The time of each drawing drawn here, and (after drawings_alongside) of every
        #: drawing, wherever it was drawn.
        self.seconds: dict[str, float] = {}

    def _take(self) -> int | None:
        """The index of the next drawing not yet taken (now taken), or None."""
        shared = self._next
        if shared is None:
            i = self._taken_here
            self._taken_here += 1
            return i if i < len(self.drawings) else None
        lock = shared.get_lock()
        while not lock.acquire(timeout=1.0):
            if not self._alive():
                raise RuntimeError("drawing stopped: a process drawing alongside ended")
        try:
            i = int(shared.value)
            if i >= len(self.drawings):
                return None
            shared.value = i + 1
            return i
        finally:
            lock.release()

    def draw_here(self) -> dict[str, float]:
        """Draw, in this process, every drawing not yet taken; returns :attr:`seconds`."""
        while (i := self._take()) is not None:
            name, draw = self.drawings[i]
            start = time.perf_counter()
            draw(self.folder)
            self.seconds[name] = round(time.perf_counter() - start, 3)
        return self.seconds


class _Pickler(pickle.Pickler):
    """Pickles results without their world: the drawing processes have it already."""

    def __init__(self, file: IO[bytes], world: object) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._world = world

    def persistent_id(self, obj: Any) -> str | None:
        return "world" if obj is self._world else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], world: object) -> None:
        super().__init__(file)
        self._world = world

    def persistent_load(self, pid: Any) -> object:
        if pid != "world":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._world


def _child_setup() -> None:
    """SIGINT and SIGTERM end a drawing child at once, silently (the default action): the
    parent turns them into an interruption and discards the half-written folder after its
    children have ended."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent for the fork


def _parent_alive(parent: int) -> Callable[[], bool]:
    return lambda: os.getppid() == parent


def _import_drawing() -> None:
    """Import what drawing needs (matplotlib, the figures): ~0.5 s of CPU."""
    from ..plots import folders  # noqa: F401


def _import_in_turn(turns: Semaphore) -> None:
    """:func:`_import_drawing` once one of the *turns* is free (:func:`importer_count`; all
    are once the run has ended), or after :data:`IMPORT_TURN_SECONDS` whatever the others
    do."""
    mine = turns.acquire(timeout=IMPORT_TURN_SECONDS)
    try:
        _import_drawing()
    finally:
        if mine:
            turns.release()


def _drawer_main(
    world: World,
    counter: Synchronized[int],
    turns: Semaphore,
    receive: Connection,
    send: Connection,
    others: list[Connection],
    parent: int,
) -> None:
    """A drawer: import matplotlib in its turn (while the run simulates, if forked before
    it), wait for the results, draw what is not yet taken, report the times."""
    _child_setup()
    for c in others:  # the other drawers' pipe ends: their end-of-file must not wait for us
        c.close()
    _import_in_turn(turns)

    try:
        message = receive.recv_bytes()
    except EOFError:  # the parent ended without a run to draw (an error, an interruption)
        return
    folder_bytes, _, pickled = message.partition(b"\0")
    with open(os.fsdecode(pickled), "rb") as f:
        results: Results = _Unpickler(f, world).load()
    shared = SharedDrawings(
        _run_drawings(results), Path(os.fsdecode(folder_bytes)), counter, _parent_alive(parent)
    )
    send.send(shared.draw_here())
    send.close()


def _forked(ctx: ForkContext, target: Callable[..., None], args: tuple[Any, ...]) -> BaseProcess:
    """Start a child with SIGINT and SIGTERM held back while forking: the child must not run
    this process's handlers (they raise KeyboardInterrupt) before it has set its own, and one
    arriving here is delivered after the fork, where the caller can end the child."""
    child = ctx.Process(target=target, args=args, name="rollout-sim drawings")
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        child.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return child


def _end(children: list[BaseProcess]) -> None:
    for child in children:
        if child.exitcode is None:
            child.terminate()
    for child in children:
        child.join()


def _collect(children: list[BaseProcess], receives: list[Connection]) -> dict[str, float]:
    """Wait for every child; their drawings' times. Raises as soon as one has failed (its
    traceback is on stderr) or ended without reporting, ending the others: one killed while
    it held the lock that hands out drawings would leave them waiting for it."""
    timing: dict[str, float] = {}
    pending = list(zip(children, receives, strict=True))
    try:
        while pending:
            for child, receive in list(pending):
                child.join(timeout=0.2)
                if child.exitcode is None:
                    continue
                if child.exitcode != 0 or not receive.poll():
                    raise RuntimeError(f"drawing failed (child process exit code {child.exitcode})")
                timing.update(receive.recv())
                pending.remove((child, receive))
    finally:
        _end(children)
        for receive in receives:
            receive.close()
    return timing


class Drawers:
    """Drawing processes forked before a run (:func:`drawers_for`), waiting for its results.

    :meth:`draw` hands them a run's results and a folder; :meth:`wait` waits for them and
    returns every drawing's time. One run each: after :meth:`wait` (or :meth:`stop`) they are
    gone.
    """

    def __init__(self, ctx: ForkContext, world: World, count: int | None = None) -> None:
        count = drawer_count() if count is None else count
        self._world = world
        #: The index of the next drawing to take, shared with the drawers.
        self.counter: Synchronized[int] = ctx.Value("i", 0)
        #: Turns to import matplotlib while the run simulates (:func:`importer_count`); once
        #: it has ended (:meth:`draw`) every drawer gets one.
        self._turns = ctx.Semaphore(importer_count())
        # Flushed before forking: a child flushes its copy of these buffers when it ends.
        sys.stdout.flush()
        sys.stderr.flush()
        pipes = [ctx.Pipe(duplex=False) for _ in range(count)]  # (receive, send) to a child
        backs = [ctx.Pipe(duplex=False) for _ in range(count)]  # from a child
        self._to = [send for _, send in pipes]
        self._back = [receive for receive, _ in backs]
        self.children: list[BaseProcess] = []
        self._pickled: Path | None = None  # the results handed over (see draw)
        parent = os.getpid()
        try:
            for i in range(count):
                # Ends the child does not use: the parent's ends of every pipe, and the
                # other children's.
                others = [*self._to, *self._back]
                others += [p[0] for j, p in enumerate(pipes) if j != i]
                others += [b[1] for j, b in enumerate(backs) if j != i]
                ends = (pipes[i][0], backs[i][1], others)
                args = (world, self.counter, self._turns, *ends, parent)
                self.children.append(_forked(ctx, _drawer_main, args))
        except BaseException:
            self.stop()
            raise
        finally:
            for receive, _ in pipes:
                receive.close()
            for _, send in backs:
                send.close()

    def draw(self, results: Results, folder: Path) -> None:
        """Hand *results* to the drawers: they draw every drawing into *folder*.

        The results go through a file in *folder* (removed by :meth:`wait`), not the pipe: a
        pipe holds 64 kB, and a drawer still importing matplotlib (a short run) would hold
        this process up until it reads."""
        folder.mkdir(parents=True, exist_ok=True)
        self._pickled = folder / ".results-to-draw.pickle"
        with open(self._pickled, "wb") as f:
            _Pickler(f, self._world).dump(results)
        message = os.fsencode(folder) + b"\0" + os.fsencode(self._pickled)
        for send in self._to:
            send.send_bytes(message)
            send.close()
        # The run is over: no CPU to keep for it, so a drawer still waiting for its turn to
        # import (a short run) starts at once.
        for _ in self.children:
            self._turns.release()

    def wait(self) -> dict[str, float]:
        """Wait for the drawers; every drawing's time. Raises if a drawing failed."""
        try:
            return _collect(self.children, self._back)
        finally:
            if self._pickled is not None:
                self._pickled.unlink(missing_ok=True)

    def alive(self) -> bool:
        """Whether no drawer has died (a drawer that ended normally gave up the lock)."""
        return all(child.exitcode in (None, 0) for child in self.children)

    def stop(self) -> None:
        """End the drawers (nothing to draw, or the run was interrupted)."""
        for send in self._to:
            send.close()
        _end(self.children)
        for receive in self._back:
            receive.close()


@contextmanager
def drawers_for(world: World, enabled: bool = True) -> Iterator[Drawers | None]:
    """:class:`Drawers` forked now, for a run on *world* to come (None where they cannot be
    forked, or when not *enabled*); ended on leaving if they were not waited for."""
    ctx = fork_context() if enabled else None
    if ctx is None:
        yield None
        return
    drawers = Drawers(ctx, world)
    try:
        yield drawers
    finally:
        drawers.stop()


@contextmanager
def drawings_alongside(
    results: Results, folder: Path, drawers: Drawers | None = None
) -> Iterator[SharedDrawings]:
    """Share one run's drawings out while the body writes the rest, and wait for them.

    With *drawers* (forked before the run) they draw everything: the yielded drawings have
    nothing left for this process. Otherwise one drawer is forked now, starts drawing at once,
    and the body calls ``draw_here()`` after its own work to take what the drawer has not
    taken yet; where none can be forked, every drawing is drawn here, by ``draw_here()`` or
    after the body. The yielded object's ``seconds`` gets every drawing's time once the body
    has ended. An exception in the body ends the drawers before it propagates.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if drawers is not None:
        here = SharedDrawings([], folder, None)
    else:
        ctx = fork_context()
        drawings = _run_drawings(results)  # matplotlib here, before a fork: the drawer has it
        if ctx is None:
            here = SharedDrawings(drawings, folder, None)
            yield here
            here.draw_here()
            return
        drawers = Drawers(ctx, results.world, count=1)
        here = SharedDrawings(drawings, folder, drawers.counter, drawers.alive)
    try:
        drawers.draw(results, folder)
        yield here
        here.draw_here()  # what is left, if the body took none
        here.seconds.update(drawers.wait())
    except BaseException:
        drawers.stop()
        raise
