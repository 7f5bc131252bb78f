"""A self-contained HTML report of a results folder (a run, replications, a comparison, a
calibration, a sensitivity analysis or an optimisation).

The report is one file, ``report.html``, that a reader can open, e-mail or print without the
folder beside it: the plots are embedded as ``data:`` URIs, the stylesheet is inline, and
nothing is fetched from the network (no scripts, fonts or links to other hosts). It is built
only from what the folder already holds, so writing it twice gives the same bytes.

It reads like a briefing: the headline with a few plain sentences of what happened, then
coverage, cost, the policy comparison, poverty, maps and the animated map, files and
provenance, and last the full parameter table, folded. This module is the view: it checks the
folder, renders ``templates/report.html.j2`` with the context :mod:`.context` builds from the
folder (each section in :mod:`.sections`) and writes the file.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path

import jinja2

from ..errors import InputError
from ..fileio import WriteError, atomic_write, is_report_file, prepare_file, regular_member
from ..scenario.comments import SourceComments, yaml_comments
from ..scenario.paths import format_path
from .context import report_context
from .folder import folder_kind, required_files
from .view import Kind, ReportContext

__all__ = [
    "REPORT_NAME",
    "SourceComments",
    "folder_kind",
    "format_key_path",
    "write_report",
    "yaml_comments",
]

#: File name of the report inside a results folder.
REPORT_NAME = "report.html"

#: The report has always exported the key-path formatter under this name; it is the loader's.
format_key_path = format_path


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rollout_sim", "report/templates"),
        autoescape=True,  # every value is text from the folder, never markup
        undefined=jinja2.StrictUndefined,  # a typo in the template fails loudly, not silently
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _context(results_dir: Path, kind: Kind, skip: set[Path]) -> ReportContext:
    """The report's context (its own step, so that an interruption there can be tested)."""
    return report_context(results_dir, kind, skip)


def write_report(
    results_dir: Path, out: Path | None = None, *, protect: Sequence[Path] = ()
) -> Path:
    """Write a self-contained HTML report of *results_dir*; return its path.

    *out* is the file to write (default ``results_dir / "report.html"``; a folder means
    ``report.html`` inside it); it may only be a new file or a report this tool wrote, never
    one of *protect* (input files). Only regular files inside *results_dir* are read and
    embedded, never what a symbolic link points to. Raises
    :class:`~rollout_sim.errors.InputError` if *results_dir* is not a results folder or lacks
    a file its kind always has.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        what = "a file" if results_dir.is_file() else "no such folder"
        raise InputError(f"not a results folder: {what}", source=str(results_dir))
    sweep = ("design.csv", "outcomes.csv")
    if all(regular_member(results_dir, n) is not None for n in sweep):
        raise InputError(
            "a sweep's folder has no report (its design.csv and outcomes.csv are the result); "
            "expected a folder of run, compare, calibrate, sensitivity or optimize",
            source=str(results_dir),
        )
    kind = folder_kind(results_dir)
    if kind is None:
        raise InputError(
            "not a results folder: it has none of summary.json, replications.csv, "
            "comparison.csv, calibration.json, sensitivity.csv or optimization.json",
            source=str(results_dir),
        )
    missing = [n for n in required_files(kind) if regular_member(results_dir, n) is None]
    if missing:
        raise InputError(
            f"incomplete {kind} results folder: missing {', '.join(missing)}",
            source=str(results_dir),
        )
    target = results_dir / REPORT_NAME if out is None else Path(out)
    if target.is_dir() and not target.is_symlink():
        target = target / REPORT_NAME
    target = prepare_file(target, label="--out", owned=is_report_file, protect=protect)
    # The report never lists itself: that would change it each time it is rewritten.
    ctx = _context(results_dir, kind, skip={target})
    html = _environment().get_template("report.html.j2").render(**ctx.variables())
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, html)
    except OSError as exc:
        raise WriteError(
            exc.errno or errno.EIO, f"{target}: could not write the report ({exc.strerror})"
        ) from None
    return target
