"""What the report's template receives: tables of cells, embedded images, the parameter rows,
and the context of the whole page (:class:`ReportContext`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal

from ..outcomes import LongUnit, format_long
from ..summaries import Spread

__all__ = [
    "KIND_TITLES",
    "Assumption",
    "AssumptionGroup",
    "Availability",
    "Calibration",
    "Cell",
    "Comparison",
    "Image",
    "Kind",
    "Optimization",
    "ReportContext",
    "Section",
    "Table",
    "number_heads",
    "spread_cell",
    "table",
]

Kind = Literal["run", "replications", "comparison", "calibration", "sensitivity", "optimize"]

KIND_TITLES: dict[Kind, str] = {
    "run": "Single run",
    "replications": "Replications",
    "comparison": "Policy comparison",
    "calibration": "Calibration",
    "sensitivity": "Sensitivity analysis",
    "optimize": "Policy optimisation",
}


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, a muted second line (an interval) and a CSS class."""

    text: str
    num: bool = False
    sub: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Table:
    """A table for the template's ``table`` macro."""

    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


def number_heads(*texts: str) -> list[Cell]:
    """The heads of columns of numbers, aligned like the numbers under them."""
    return [Cell(t, num=True) for t in texts]


def table(
    head: Sequence[str | Cell], rows: Iterable[Sequence[str | Cell]], caption: str = ""
) -> Table:
    """A :class:`Table` of *head* and *rows*, plain text taken as plain cells."""

    def cell(c: str | Cell) -> Cell:
        return c if isinstance(c, Cell) else Cell(c)

    return Table(tuple(map(cell, head)), tuple(tuple(map(cell, r)) for r in rows), caption)


def spread_cell(spread: Spread | None, unit: LongUnit) -> Cell:
    """A metric across replications: its mean, and its interval below it."""
    if spread is None:
        return Cell("—", num=True)
    lo, hi = spread.lo, spread.hi
    sub = (
        f"{format_long(lo, unit)} – {format_long(hi, unit)}"
        if lo is not None and hi is not None
        else ""
    )
    return Cell(format_long(spread.mean, unit), num=True, sub=sub)


@dataclass(frozen=True)
class Image:
    """A plot embedded as a ``data:`` URI."""

    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Assumption:
    """One row of the assumptions table."""

    key: str
    value: str
    note: str
    origin: Literal["file", "schema", "none"]


@dataclass(frozen=True)
class AssumptionGroup:
    """The rows under one top-level key (``geography``, ``operators``, ...)."""

    name: str
    rows: tuple[Assumption, ...]


@dataclass(frozen=True)
class Section:
    """A section of figures and tables (cost, availability, poverty)."""

    images: list[Image] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Availability:
    """Availability: its figure (sites down, share of covered people served) and tables."""

    image: Image | None
    tables: list[Table]


@dataclass(frozen=True)
class Comparison:
    """The policy comparison: each policy's description, what each buys, the outcomes by
    policy and the paired differences, and the comparison's figures."""

    described: list[tuple[str, str]]
    buys: Table
    policies: Table
    differences: Table
    images: list[Image]


@dataclass(frozen=True)
class Calibration:
    """The calibration's fit: how it went, its tables and its plot."""

    tables: list[Table]
    image: Image | None
    method: str
    converged: bool
    within_tolerance: bool
    message: str


@dataclass(frozen=True)
class Optimization:
    """A policy optimisation: the Pareto trials, the plot of every trial by its objectives,
    and every trial (folded, at the end: the front is what a reader chooses from)."""

    pareto: Table
    image: Image | None
    trials: Table
    trials_run: int


@dataclass
class ReportContext:
    """Everything the template shows, in the order a briefing reads: the headline and its
    story, coverage, cost, the policy comparison, poverty, maps, any other figure, the files,
    and last (folded) every parameter of the scenario."""

    kind: Kind
    kind_title: str
    folder: str
    title: str
    description: str
    facts: list[tuple[str, str]]
    headline: Table
    story: list[str]
    references: Table | None
    assumptions: list[AssumptionGroup]
    assumptions_count: int
    assumptions_source: str | None
    assumptions_file: str
    files: Table
    manifest: Table | None
    coverage_images: list[Image] = field(default_factory=list)
    cost: Section | None = None
    availability: Availability | None = None
    comparison: Comparison | None = None
    impact: Section | None = None
    calibration: Calibration | None = None
    #: Regret across replications (a comparison) or the inputs ranked (a sensitivity folder).
    uncertainty: Section | None = None
    optimization: Optimization | None = None
    map_images: list[Image] = field(default_factory=list)
    other_images: list[Image] = field(default_factory=list)
    toc: list[tuple[str, str]] = field(default_factory=list)

    def variables(self) -> dict[str, object]:
        """The template's variables: one per field."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
