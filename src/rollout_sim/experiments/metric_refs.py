"""Outcome metrics as ``sensitivity`` and ``optimize`` name them: an outcome of the
replication records (``people_reached``), or a daily series on a date
(``people_served@2025-12-31``).

A dated metric reads the replication record's kept daily series (``tasks.KEPT_SERIES``) on
that day; ``people_reached`` on a date is the people covered then less those covered at the
start (the record's ``people_reached`` minus what was covered after that day).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..outcomes import label_of, outcomes_for
from ..scenario.schema import Scenario
from .tasks import KEPT_SERIES, RunRecord

__all__ = ["MetricRef", "known_metrics", "parse_metric"]


@dataclass(frozen=True)
class MetricRef:
    """A metric of one replication: an outcome's *name*, read at the horizon or on *day*."""

    name: str
    day: int | None = None
    date: dt.date | None = None

    @property
    def label(self) -> str:
        """How tables and files name it: ``people_served`` or ``people_served@2025-12-31``."""
        return self.name if self.date is None else f"{self.name}@{self.date.isoformat()}"

    @property
    def title(self) -> str:
        text = label_of(self.name)
        return text if self.date is None else f"{text} on {self.date.isoformat()}"

    @property
    def unit_name(self) -> str:
        """The outcome whose unit it has (for formatting)."""
        return self.name

    def value(self, rec: RunRecord) -> float:
        """Its value in one replication's record (NaN: undefined there)."""
        if self.day is None:
            return float(rec.metrics.get(self.name, math.nan))
        if self.name == "people_reached":
            covered = rec.series["people_covered"]
            after = float(covered[-1] - covered[self.day])
            return float(rec.metrics.get("people_reached", math.nan)) - after
        return float(rec.series[self.name][self.day])

    def mean(self, records: Sequence[RunRecord]) -> float:
        """Its mean over replications (in order; NaN if undefined in any)."""
        return float(np.mean([self.value(r) for r in records]))


def known_metrics(scenario: Scenario) -> list[str]:
    """The outcomes a replication of *scenario* has."""
    return [o.name for o in outcomes_for(scenario)]


_DATED = (*KEPT_SERIES, "people_reached", "public_cost_usd")


def parse_metric(
    scenario: Scenario, text: str, source: str, date: dt.date | None = None
) -> MetricRef:
    """*text* (``name`` or ``name@YYYY-MM-DD``, or a name with *date*) resolved; an
    :class:`InputError` naming *source* if it is not a metric of *scenario*."""
    name, at, when = text.partition("@")
    if at:
        try:
            date = dt.date.fromisoformat(when.strip())
        except ValueError:
            raise InputError(
                "expected a date as YYYY-MM-DD after @", source=source, value=text
            ) from None
    name = name.strip()
    if date is None:
        known = known_metrics(scenario)
        if name not in known:
            raise InputError(
                f"not an outcome; expected one of: {', '.join(known)}", source=source, value=text
            )
        return MetricRef(name)
    if name not in _DATED:
        raise InputError(
            f"a metric on a date must be a daily series: one of {', '.join(_DATED)}",
            source=source,
            value=text,
        )
    day = (date - scenario.start_date).days
    if not 0 <= day < scenario.horizon_days:
        raise InputError(
            f"the date is outside the simulated days {scenario.start_date}..{scenario.end_date}",
            source=source,
            value=text,
        )
    series = "public_cost_cumulative_usd" if name == "public_cost_usd" else name
    return MetricRef(series if series != name else name, day, date)
