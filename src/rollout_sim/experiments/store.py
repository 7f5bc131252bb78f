"""Finished replications on disk, one file each, so an interrupted run can resume.

Each record is written to ``<store>/<task key>.npz`` the moment it is done, through a temporary
file and an atomic rename: a file either is complete or does not exist. The key holds the
scenario hash, so a changed scenario never reuses stale runs.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .tasks import RunRecord, Task

__all__ = ["RunStore"]


class RunStore:
    """A folder of finished run records keyed by task."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, task: Task) -> Path:
        return self.folder / f"{task.key}.npz"

    def has(self, task: Task) -> bool:
        return self.path(task).exists()

    def save(self, task: Task, record: RunRecord) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "point": record.point,
            "policy": record.policy,
            "rep": record.rep,
            "metrics": record.metrics,
            "wall_seconds": record.wall_seconds,
            "peak_rss_mb": record.peak_rss_mb,
        }
        tmp = self.folder / f".{task.key}.{uuid.uuid4().hex[:8]}.tmp"
        arrays: dict[str, Any] = {f"series_{k}": v for k, v in record.series.items()}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with tmp.open("wb") as fh:
            np.savez(fh, **arrays)  # uncompressed: saving is on the main process's path
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path(task))

    def load(self, task: Task) -> RunRecord:
        with np.load(self.path(task)) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            series = {k[len("series_") :]: z[k] for k in z.files if k.startswith("series_")}
        metrics = {k: (np.nan if v is None else float(v)) for k, v in meta["metrics"].items()}
        return RunRecord(
            point=int(meta["point"]),
            policy=meta["policy"],
            rep=int(meta["rep"]),
            metrics=metrics,
            series=series,
            wall_seconds=float(meta["wall_seconds"]),
            peak_rss_mb=float(meta["peak_rss_mb"]),
        )

    def missing(self, tasks: list[Task]) -> list[Task]:
        return [t for t in tasks if not self.has(t)]

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
