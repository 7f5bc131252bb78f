"""Files and provenance: every file of the folder with its size, and the manifest (versions,
hashes, seed, timings, the command that wrote the folder)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...fileio import regular_member
from ...outcomes import format_long
from ..folder import as_float
from ..view import Cell, Table, table

__all__ = ["files_table", "manifest_table"]


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"  # pragma: no cover - the loop always returns


def _where(path: Path) -> Path:
    """*path* absolute, its parent's links resolved (its own name kept)."""
    p = Path(os.path.abspath(path))
    return p.parent.resolve() / p.name


def files_table(results_dir: Path, skip: set[Path]) -> Table:
    """Every regular file of the folder but *skip* (and temporary files), with its size."""
    rows = []
    # Compared as absolute paths, parents' links resolved: *skip* is the checked --out
    # target, absolute, while the folder may be named relative to the working directory.
    skipped = {_where(p) for p in skip}
    found = [Path(root) / f for root, _, files in os.walk(results_dir) for f in files]
    for path in sorted(found, key=lambda p: p.relative_to(results_dir).as_posix()):
        rel = path.relative_to(results_dir)
        hidden_tmp = rel.name.startswith(".") and ".tmp" in rel.name
        if regular_member(results_dir, rel.as_posix()) is None or _where(path) in skipped:
            continue
        if hidden_tmp:
            continue
        size = path.stat().st_size
        rows.append(
            (
                Cell(rel.as_posix(), cls="key"),
                Cell(_size(size), num=True),
                Cell(f"{size:,}", num=True),
            )
        )
    return table(["File", Cell("Size", num=True), Cell("Bytes", num=True)], rows)


#: The phases of ``manifest.json``'s ``timing``, in the order they run.
_PHASES = (
    ("world_build_seconds", "World build time"),
    ("load_and_world_seconds", "Loading and world"),
    ("simulation_seconds", "Simulation"),
    ("tables_seconds", "Writing tables"),
    ("plots_seconds", "Plots and maps"),
    ("animation_seconds", "Animated map"),
    ("geojson_seconds", "GeoJSON"),
)


def manifest_table(manifest: Mapping[str, Any]) -> Table:
    """``manifest.json`` as a table a reader can quote."""
    timing = manifest.get("timing") or {}
    wall = as_float(timing.get("total_wall_seconds", manifest.get("simulation_wall_seconds")))
    rows: list[tuple[str, str]] = [
        ("rollout-sim version", str(manifest.get("rollout_sim_version", "—"))),
        ("Scenario", str(manifest.get("scenario", "—"))),
        ("Scenario hash", str(manifest.get("scenario_hash", "—"))),
    ]
    for key, label in (("calibrated_hash", "Calibrated scenario hash"), ("world_key", "World key")):
        if key in manifest:
            rows.append((label, str(manifest[key])))
    rows.append(("Seed", str(manifest.get("seed", "—"))))
    rows.append(("Wall time", f"{format_long(wall, 'rate')} s" if wall is not None else "—"))
    for key, label in _PHASES:
        if key in timing:
            rows.append((label, f"{format_long(as_float(timing[key]), 'rate')} s"))
    command = manifest.get("command")
    if isinstance(command, list):
        rows.append(("Command", shlex.join(map(str, command))))
    versions = manifest.get("versions")
    if isinstance(versions, dict):
        rows.append(("Versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return table(["Item", "Value"], rows)
