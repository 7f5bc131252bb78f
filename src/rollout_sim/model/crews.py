"""Idle crews waiting for work, woken one per job.

A shared "work arrived" event would wake every idle crew for each job, and all but one would
go straight back to sleep: with 200 crews that is a storm of useless resumptions (DESIGN §4).
Each idle crew waits on its own event instead, and new work wakes as many crews as it can use.
"""

from __future__ import annotations

from collections import deque

import simpy

__all__ = ["IdlePool"]


class IdlePool:
    """FIFO of idle crews' wake-up events."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._idle: deque[simpy.Event] = deque()

    def __len__(self) -> int:
        return len(self._idle)

    def wait(self) -> simpy.Event:
        """An event this crew sleeps on until woken."""
        event = self.env.event()
        self._idle.append(event)
        return event

    def wake(self, n: int = 1) -> None:
        """Wake up to *n* idle crews, longest idle first."""
        while n > 0 and self._idle:
            event = self._idle.popleft()
            if not event.triggered:
                event.succeed()
                n -= 1

    def wake_all(self) -> None:
        self.wake(len(self._idle))
