"""Finished replications on disk, one file each, so an interrupted run can resume.

Each record is written to ``<store>/<task key>.npz`` the moment it is done, through a temporary
file, ``fsync`` and an atomic rename (with SIGINT/SIGTERM held back meanwhile): a file either
is complete or does not exist. The key holds the scenario hash, so a changed scenario never
reuses stale runs; the record repeats its task's identity inside (and which measure made its
values: a calibration's targets read from observed files may change while the scenario does
not), so a damaged file or one copied over another is found on ``--resume`` and run again
instead of being trusted.

The store folder carries a marker (``store.json``); the tool only ever deletes records of a
folder that is provably its own store.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import OutputRefused, atomic_write, stale_temp_files
from .tasks import RunRecord, Task

__all__ = ["STORE_FORMAT", "DamagedRecord", "RunStore"]

STORE_FORMAT = "rollout-sim-store/1"
_MARKER = "store.json"
_RECORD = re.compile(r"^[0-9a-f]{16}-p\d+-.+-r\d+\.npz$")
_TEMP = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}$|^\..+\.[0-9a-f]{8}\.tmp$")


class DamagedRecord(Exception):
    """A stored record that cannot be trusted (unreadable, or not the task's)."""


class RunStore:
    """A folder of finished run records keyed by task."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # --- the folder ---------------------------------------------------------------------

    def _ours(self) -> bool:
        """The folder is absent, empty, marked as a store, or holds only records (v0.1)."""
        f = self.folder
        if not f.exists() and not f.is_symlink():
            return True
        if f.is_symlink() or not f.is_dir():
            return False
        marker = f / _MARKER
        if marker.is_file() and not marker.is_symlink():
            try:
                if json.loads(marker.read_bytes()).get("format") == STORE_FORMAT:
                    return True
            except (OSError, ValueError, AttributeError):
                return False
        return all(
            (_RECORD.match(p.name) or _TEMP.match(p.name)) and p.is_file() and not p.is_symlink()
            for p in f.iterdir()
        )

    def check(self) -> None:
        """Refuse (one line, exit 2) to use a folder of that name the tool did not make."""
        if not self._ours():
            raise OutputRefused(
                "a folder of that name holds files rollout-sim did not write; it keeps its "
                "finished replications there: move that folder or choose another --out "
                "(nothing was changed)",
                source=str(self.folder),
            )

    def _open(self) -> None:
        self.check()
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = self.folder / _MARKER
        if not marker.exists():
            atomic_write(marker, json.dumps({"format": STORE_FORMAT}) + "\n")
        for stale in stale_temp_files(self.folder):  # of killed runs
            with contextlib.suppress(OSError):
                stale.unlink()

    def path(self, task: Task) -> Path:
        return self.folder / f"{task.key}.npz"

    # --- records ------------------------------------------------------------------------

    def has(self, task: Task) -> bool:
        return self.path(task).exists()

    def save(self, task: Task, record: RunRecord) -> None:
        self._open()
        meta = {
            "key": task.key,
            "point": record.point,
            "policy": record.policy,
            "rep": record.rep,
            "metrics": record.metrics,
            "wall_seconds": record.wall_seconds,
            "peak_rss_mb": record.peak_rss_mb,
            "measure": task.measure_id,
        }
        arrays: dict[str, Any] = {f"series_{k}": v for k, v in record.series.items()}
        arrays.update({f"value_{k}": v for k, v in record.values.items()})
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        # Uncompressed: saving is on the main process's path.
        atomic_write(self.path(task), lambda fh: np.savez(fh, **arrays))

    def load(self, task: Task) -> RunRecord:
        """The task's record; :class:`DamagedRecord` if the file is unreadable or not its own."""
        path = self.path(task)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                series = {k[len("series_") :]: z[k] for k in z.files if k.startswith("series_")}
                values = {k[len("value_") :]: z[k] for k in z.files if k.startswith("value_")}
            record = RunRecord(
                point=int(meta["point"]),
                policy=meta["policy"],
                rep=int(meta["rep"]),
                metrics={
                    k: (np.nan if v is None else float(v)) for k, v in meta["metrics"].items()
                },
                series=series,
                wall_seconds=float(meta["wall_seconds"]),
                peak_rss_mb=float(meta["peak_rss_mb"]),
                values=values,
            )
            key = meta.get("key")
            measure = meta.get("measure", "")
        except Exception as exc:  # any damage at all: a truncated zip, a flipped byte, bad JSON
            raise DamagedRecord(f"{path}: unreadable ({type(exc).__name__})") from None
        if key is not None and key != task.key:
            raise DamagedRecord(f"{path}: holds another run ({key})")
        if (record.point, record.policy, record.rep) != (task.point, task.policy, task.rep):
            raise DamagedRecord(
                f"{path}: holds point {record.point}, policy {record.policy}, replication "
                f"{record.rep}, not this run's"
            )
        if measure != task.measure_id:
            raise DamagedRecord(f"{path}: holds values measured for other targets")
        if task.measure is not None:
            if not values:
                raise DamagedRecord(f"{path}: its measured values are missing")
        elif not series or len({len(v) for v in series.values()}) != 1:
            raise DamagedRecord(f"{path}: its daily series are missing or of unequal length")
        return record

    def discard(self, task: Task) -> None:
        """Delete a task's record (a damaged one, to be run again)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(task).unlink()

    def missing(self, tasks: list[Task]) -> list[Task]:
        return [t for t in tasks if not self.has(t)]

    def clear(self) -> None:
        """Delete every record (and the marker) of this store; nothing else is touched."""
        if not self.folder.is_dir():
            return
        self.check()
        for p in self.folder.iterdir():
            if (_RECORD.match(p.name) or _TEMP.match(p.name)) and p.is_file():
                with contextlib.suppress(OSError):
                    p.unlink()
        with contextlib.suppress(OSError):
            (self.folder / _MARKER).unlink()
        with contextlib.suppress(OSError):
            self.folder.rmdir()
