"""Append-only records the engine writes while it runs (turned into tables afterwards)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

__all__ = ["FailureLog", "SiteLog", "Trace"]


@dataclass
class SiteLog:
    """One entry per site claimed; columns as lists, filled in as the site progresses."""

    village: list[int] = field(default_factory=list)
    operator: list[int] = field(default_factory=list)
    upgrade: list[bool] = field(default_factory=list)
    backhaul: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    claim_day: list[float] = field(default_factory=list)
    build_start_day: list[float] = field(default_factory=list)
    built_day: list[float] = field(default_factory=list)
    on_air_day: list[float] = field(default_factory=list)
    capex_usd: list[float] = field(default_factory=list)
    villages_new: list[int] = field(default_factory=list)
    people_new: list[int] = field(default_factory=list)

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
        self.village.append(village)
        self.operator.append(operator)
        self.upgrade.append(upgrade)
        self.backhaul.append(backhaul)
        self.parent.append(parent)
        self.claim_day.append(t)
        self.build_start_day.append(float("nan"))
        self.built_day.append(float("nan"))
        self.on_air_day.append(float("nan"))
        self.capex_usd.append(capex)
        self.villages_new.append(0)
        self.people_new.append(0)
        return len(self.village) - 1

    def __len__(self) -> int:
        return len(self.village)


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
