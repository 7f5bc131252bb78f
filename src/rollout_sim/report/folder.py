"""Reading a results folder for its report: only regular files inside it (never what a link
points to), each failure one :class:`~rollout_sim.errors.InputError` naming the file; the
summaries through their typed models; the plots as ``data:`` URIs."""

from __future__ import annotations

import base64
import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError
from ..fileio import regular_member
from ..summaries import (
    CalibrationSummary,
    ComparisonSummary,
    OptimizationSummary,
    ReplicationsSummary,
    RunSummary,
)
from .view import Image, Kind

_M = TypeVar("_M", bound=BaseModel)

__all__ = [
    "Figures",
    "Summary",
    "TrialRow",
    "TrialTable",
    "as_float",
    "folder_kind",
    "plot_names",
    "read_calibration",
    "read_csv",
    "read_json",
    "read_optimization",
    "read_summary",
    "read_trials",
    "read_yaml",
    "required_files",
]

Summary = RunSummary | ReplicationsSummary | ComparisonSummary


def folder_kind(results_dir: Path) -> Kind | None:
    """What *results_dir* holds, from the files that only that kind of folder writes.

    ``None`` if it is not a results folder. A comparison also writes ``replications.csv``, so
    ``comparison.csv`` is checked first. An optimisation is known by either of its own files,
    so that a folder missing one is reported as an incomplete optimisation, not as no folder.
    """
    kinds: tuple[tuple[str, Kind], ...] = (
        ("optimization.json", "optimize"),
        ("trials.csv", "optimize"),
        ("sensitivity.csv", "sensitivity"),
        ("comparison.csv", "comparison"),
        ("calibration.json", "calibration"),
        ("replications.csv", "replications"),
        ("summary.json", "run"),
    )
    for name, kind in kinds:
        if regular_member(results_dir, name) is not None:
            return kind
    return None


def required_files(kind: Kind) -> tuple[str, ...]:
    """The files every folder of *kind* has (the report needs them all)."""
    if kind == "calibration":
        return ("calibration.json", "scenario.calibrated.yaml")
    if kind == "sensitivity":
        return ("sensitivity.csv", "sensitivity.json", "scenario.resolved.yaml")
    if kind == "optimize":  # best.yaml only when a trial was feasible; the plot may be off
        return ("optimization.json", "trials.csv", "pareto.csv", "scenario.resolved.yaml")
    if kind == "comparison":
        return ("summary.json", "scenario.resolved.yaml", "differences.csv")
    return ("summary.json", "scenario.resolved.yaml")


def _checked(path: Path) -> Path:
    """*path* if it is a regular file of the folder; never what a link points to."""
    if regular_member(path.parent, path.name) is None:
        raise InputError(
            "not a regular file (a link, a folder or a special file); the report reads only "
            "files the results folder holds itself",
            source=str(path),
        )
    return path


def _text(path: Path) -> str:
    """The text of *path* (a regular file of its folder), or one line saying why not."""
    try:
        return _checked(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None


def read_json(path: Path) -> Any:
    """The JSON value of *path* (a regular file of its folder)."""
    text = _text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}: {exc.msg})", source=str(path)
        ) from None


def _typed(path: Path, model: type[_M], what: str) -> _M:
    """The JSON file *path* read through its pydantic *model*; one error line naming the first
    key that does not fit (*what*: what the file should be, for the message)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=str(path))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "(top level)"
        raise InputError(
            f"not {what} rollout-sim writes ({where}: {first['msg']})", source=str(path)
        ) from None


def read_summary(path: Path, kind: Kind) -> Summary:
    """``summary.json`` of a folder of *kind* (not a calibration), through its typed model."""
    model: type[Summary] = (
        RunSummary
        if kind == "run"
        else ReplicationsSummary
        if kind == "replications"
        else ComparisonSummary
    )
    return _typed(path, model, f"the summary of a {kind}")


def read_calibration(path: Path) -> CalibrationSummary:
    """``calibration.json`` of a calibration folder, through its typed model."""
    return _typed(path, CalibrationSummary, "a calibration")


def read_optimization(path: Path) -> OptimizationSummary:
    """``optimization.json`` of an optimisation folder, through its typed model."""
    return _typed(path, OptimizationSummary, "an optimisation summary")


def read_yaml(path: Path) -> Any:
    """The YAML value of *path* (a regular file of its folder)."""
    text = _text(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", source=str(path)) from None


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of the CSV file *path* (a regular file of its folder)."""
    try:
        with _checked(path).open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None


def as_float(text: Any) -> float | None:
    """A CSV or JSON number; ``None`` for blanks, NaN and anything else."""
    if isinstance(text, bool) or text is None:
        return None
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# An optimisation's trials


@dataclass(frozen=True)
class TrialRow:
    """One row of ``trials.csv`` or ``pareto.csv``: a trial's decision values (in the order of
    :attr:`TrialTable.variables`), objective and constraint means (None: undefined), whether it
    met every constraint, and (``trials.csv`` only) whether it is on the front and chosen."""

    number: int
    params: tuple[float, ...]
    objectives: tuple[float | None, ...]
    constraints: tuple[float | None, ...]
    feasible: bool
    pareto: bool
    best: bool


@dataclass(frozen=True)
class TrialTable:
    """``trials.csv`` or ``pareto.csv``: the columns' meaning, from the header, and the rows.

    *variables* are the decision variables' paths as written; *objectives* and *constraints*
    the metrics' labels (``people_reached@2021-12-31``)."""

    variables: tuple[str, ...]
    objectives: tuple[str, ...]
    constraints: tuple[str, ...]
    rows: tuple[TrialRow, ...]


def _numbered(header: list[str], start: int, prefix: str) -> tuple[list[str], int]:
    """The labels of the columns ``<prefix>_1:<label>``, ``<prefix>_2:<label>``, ... from
    *start*; and the index after them."""
    labels: list[str] = []
    i = start
    while i < len(header):
        number, colon, label = header[i].partition(":")
        if not colon or number != f"{prefix}_{len(labels) + 1}":
            break
        labels.append(label)
        i += 1
    return labels, i


def read_trials(path: Path) -> TrialTable:
    """``trials.csv`` or ``pareto.csv`` of an optimisation folder (a regular file of it),
    each column and value checked; one error line naming the line and column that does not
    fit."""

    def bad(what: str) -> InputError:
        return InputError(f"not a table of trials rollout-sim writes ({what})", source=str(path))

    try:
        with _checked(path).open(newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None
    if not lines:
        raise bad("it is empty")
    header = lines[0]
    if header[:1] != ["trial"]:
        raise bad("the first column is not 'trial'")
    first = next(
        (i for i, h in enumerate(header) if h.startswith("objective_") or h == "feasible"),
        len(header),
    )
    variables = header[1:first]
    objectives, i = _numbered(header, first, "objective")
    constraints, i = _numbered(header, i, "constraint")
    if not variables or not objectives:
        raise bad("no decision variable or no objective column")
    rest = header[i:]
    if rest not in (["feasible"], ["feasible", "pareto", "best"]):
        raise bad(f"column {i + 1}: expected 'feasible' and then, in trials.csv, 'pareto', 'best'")

    def number(text: str, line: int, column: str, *, blank: bool) -> float | None:
        if blank and text == "":
            return None  # an objective undefined in some replication
        v = as_float(text)
        if v is None:
            raise bad(f"line {line}, {column}: {text!r} is not a number")
        return v

    def flag(text: str, line: int, column: str, yes: str, no: str) -> bool:
        if text not in (yes, no):
            raise bad(f"line {line}, {column}: {text!r}: expected {yes!r} or {no!r}")
        return text == yes

    n_obj, n_con = len(objectives), len(constraints)
    rows: list[TrialRow] = []
    for line, cells in enumerate(lines[1:], 2):
        if len(cells) != len(header):
            raise bad(f"line {line} has {len(cells)} values for {len(header)} columns")
        trial = cells[0]
        if not (trial.isascii() and trial.isdigit()):
            raise bad(f"line {line}, trial: {trial!r} is not a trial number")
        values = [
            number(text, line, column, blank=k > len(variables))
            for k, (text, column) in enumerate(zip(cells, header, strict=True))
            if 0 < k < i
        ]
        extra = dict(zip(rest, cells[i:], strict=True))
        rows.append(
            TrialRow(
                number=int(trial),
                params=tuple(v for v in values[: len(variables)] if v is not None),
                objectives=tuple(values[len(variables) : len(variables) + n_obj]),
                constraints=tuple(values[len(variables) + n_obj : len(variables) + n_obj + n_con]),
                feasible=flag(extra["feasible"], line, "feasible", "yes", "no"),
                pareto="pareto" in extra and flag(extra["pareto"], line, "pareto", "yes", "no"),
                best="best" in extra and flag(extra["best"], line, "best", "yes", ""),
            )
        )
    return TrialTable(tuple(variables), tuple(objectives), tuple(constraints), tuple(rows))


# --------------------------------------------------------------------------------------------
# The plots


#: What the report embeds from ``plots/``, in the order it looks for a name: the PNG, the
#: animation, and the SVG only where there is neither (the SVGs are the PNGs for print).
_IMAGE_TYPES = (("png", "image/png"), ("gif", "image/gif"), ("svg", "image/svg+xml"))


def _image(results_dir: Path, name: str, alt: str, caption: str) -> Image | None:
    """``plots/<name>.png`` (or ``.gif``, or ``.svg``) as a data URI; None if there is none."""
    for ext, mime in _IMAGE_TYPES:
        path = regular_member(results_dir, f"plots/{name}.{ext}")
        if path is not None:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return Image(f"data:{mime};base64,{data}", alt, caption)
    return None


def plot_names(results_dir: Path) -> list[str]:
    """The names (without extension) of every embeddable plot in ``plots/``, sorted.

    Only regular files inside the folder count (:func:`regular_member`): a ``plots`` that is
    a link, or a plot that is one, is not listed, so it is never read.
    """
    plots = results_dir / "plots"
    if plots.is_symlink() or not plots.is_dir():
        return []
    try:
        entries = sorted(os.listdir(plots))
    except OSError:
        return []
    exts = {ext for ext, _ in _IMAGE_TYPES}
    names = set()
    for entry in entries:
        stem, dot, ext = entry.rpartition(".")
        if dot and ext in exts and regular_member(results_dir, f"plots/{entry}") is not None:
            names.add(stem)
    return sorted(names)


#: Captions of plots that no section places (a sweep's, or one added later).
_OTHER_FIGURES = {
    "sweep_people_covered": (
        "People covered across the sweep",
        "People covered at the horizon against each swept value: every run a dot, the means "
        "joined.",
    ),
}


class Figures:
    """The folder's plots, handed out to sections by name; :meth:`rest` gives the ones no
    section asked for, so that every plot in ``plots/`` is in the report."""

    def __init__(self, results_dir: Path) -> None:
        self.dir = results_dir
        self.names = plot_names(results_dir)
        self.used: set[str] = set()

    def take(self, name: str, alt: str, caption: str) -> Image | None:
        """The plot *name* (None if the folder has none), marked as placed."""
        self.used.add(name)
        return _image(self.dir, name, alt, caption) if name in self.names else None

    def taken(self, *images: Image | None) -> list[Image]:
        """The images a section took that the folder has, in order."""
        return [img for img in images if img is not None]

    def rest(self) -> list[Image]:
        """Every plot no section took, in name order."""
        out = []
        for name in self.names:
            if name in self.used:
                continue
            alt, caption = _OTHER_FIGURES.get(name, (name.replace("_", " "), ""))
            img = _image(self.dir, name, alt, caption or f"plots/{name}")
            if img is not None:
                out.append(img)
        return out
