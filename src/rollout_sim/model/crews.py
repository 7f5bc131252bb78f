"""The queue of work construction crews wait on: a SimPy store that closes when its operator
stops. (Maintenance crews are not processes: see :mod:`.maintenance`.)

A crew asks its queue for the next job (``yield queue.get()``) and, when there is none, waits
in the queue's get queue: SimPy hands each new job to the crew that has waited longest, one job
per crew, so work wakes exactly the crews it can use (a shared "work arrived" event would wake
every idle crew for each job, and all but one would go back to sleep). When the operator stops
(a default), :meth:`close` fails every waiting request, and every later one, with
:class:`~.finance.Halted`: idle crews stop at once, crews at work finish the job in hand and
stop when they ask for the next.
"""

from __future__ import annotations

import simpy
from simpy.resources.store import StoreGet, StorePut

from .finance import Halted

__all__ = ["WorkQueue"]


class WorkQueue(simpy.Store):
    """A first-come, first-served :class:`simpy.Store` of jobs that can be closed."""

    def __init__(self, env: simpy.Environment, what: str = "work") -> None:
        super().__init__(env)
        self.what = what
        self.closed = False

    def close(self) -> None:
        """No more work: drop the jobs queued; every waiting request, and every later one,
        fails with :class:`Halted`."""
        self.closed = True
        self.items.clear()
        waiting = list(self.get_queue)
        self.get_queue.clear()
        for request in waiting:
            request.fail(Halted(self.what))

    def _do_put(self, event: StorePut) -> bool | None:
        if self.closed:
            event.succeed()  # nobody will take it: dropped
            return None
        return super()._do_put(event)

    def _do_get(self, event: StoreGet) -> bool | None:
        if self.closed:
            event.fail(Halted(self.what))
            return True
        return super()._do_get(event)
