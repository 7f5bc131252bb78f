"""Records the engine keeps while it runs, turned into tables afterwards."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

__all__ = ["FailureLog", "MaintenanceRecord", "SiteRegister", "Trace"]


class SiteRegister:
    """Every site an operator claimed, by village, and the order the sites were claimed in.

    A village hosts at most one site, so each fact about a site is one array over villages
    (-1, NaN or 0 where there is no site): its operator, whether it upgrades an existing
    site, its backhaul and backhaul parent (a village, ``-1 - k`` for PoP *k*, 0 otherwise),
    the days it was claimed, started, built and first on air, its capex, and the villages and
    people it covered first (``*_new``) or was expected to when claimed (``people_planned``).
    ``rows`` lists the villages in the order of the claims: row *i* of ``sites.csv`` is the
    site at ``rows[i]``. These arrays are the only record of a site's facts; the network keeps
    only whether sites are in service, and the results take the site table from here.
    The starting network's 4G sites belong to nobody and are not registered.
    """

    def __init__(self, n: int) -> None:
        #: Villages in the order their sites were claimed.
        self.rows: array[int] = array("q")
        self.operator = np.full(n, -1, dtype=np.int64)
        self.upgrade = np.zeros(n, dtype=bool)
        self.backhaul = np.zeros(n, dtype=np.int8)
        self.parent = np.zeros(n, dtype=np.int64)
        self.claim_day = np.full(n, np.nan)
        self.build_start_day = np.full(n, np.nan)
        self.built_day = np.full(n, np.nan)
        self.on_air_day = np.full(n, np.nan)
        self.capex_usd = np.zeros(n)
        self.villages_new = np.zeros(n, dtype=np.int64)
        self.people_new = np.zeros(n, dtype=np.int64)
        self.people_planned = np.zeros(n, dtype=np.int64)

    def add(
        self,
        village: int,
        operator: int,
        upgrade: bool,
        backhaul: int,
        parent: int,
        t: float,
        capex: float,
    ) -> int:
        """Register the site claimed at *village* at time *t*; returns its row."""
        if self.operator[village] >= 0:
            raise ValueError(f"village {village} already has a site")
        self.operator[village] = operator
        self.upgrade[village] = upgrade
        self.backhaul[village] = backhaul
        self.parent[village] = parent
        self.claim_day[village] = t
        self.capex_usd[village] = capex
        self.rows.append(village)
        return len(self.rows) - 1

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Trace:
    """A step function sampled at state changes: (time, value) pairs, time non-decreasing.

    Compact double arrays: a long run appends a pair at every outage and repair."""

    time: array[float] = field(default_factory=lambda: array("d"))
    value: array[float] = field(default_factory=lambda: array("d"))

    def add(self, t: float, value: float) -> None:
        self.time.append(t)
        self.value.append(value)


@dataclass
class FailureLog:
    """One row per site failure: when, where, whom it cut off, and how it was repaired.

    ``taken`` (a crew took the job) and ``repaired`` stay NaN while the failure is open."""

    village: array[int] = field(default_factory=lambda: array("q"))
    failed: array[float] = field(default_factory=lambda: array("d"))
    people: array[int] = field(default_factory=lambda: array("q"))
    sites_down: array[int] = field(default_factory=lambda: array("q"))
    taken: array[float] = field(default_factory=lambda: array("d"))
    repaired: array[float] = field(default_factory=lambda: array("d"))

    def add(self, village: int, t: float, people: int, sites_down: int) -> int:
        self.village.append(village)
        self.failed.append(t)
        self.people.append(people)
        self.sites_down.append(sites_down)
        self.taken.append(float("nan"))
        self.repaired.append(float("nan"))
        return len(self.village) - 1

    def __len__(self) -> int:
        return len(self.village)


class MaintenanceRecord(TypedDict):
    """One operator's maintenance over a run (a dict: tests and notebooks index it by name)."""

    failures: int
    repairs: int
    #: When each failure happened, days.
    failure_days: list[float]
    #: Per repair: from failure to a crew taking the job, and from failure to repair, days.
    wait_days: list[float]
    downtime_days: list[float]
    #: Every failure, row by row (``maintenance.csv``); None: no log kept.
    log: FailureLog | None
    defaulted: bool
