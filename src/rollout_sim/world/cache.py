"""The prepared world on disk, keyed by the hash of everything it depends on.

Building a national world (coverage index, transport graph, Peru's starting network) takes a
few seconds; loading the arrays back takes a fraction of one. The key (:func:`world_key`)
covers the geography, radii, hop ranges, transport settings, the world seed, the content of a
village file, the shipped data and the package version, so a stale world is never reused.
Writes are atomic (temporary file, ``fsync``, rename). An entry that cannot be read — missing,
truncated, a flipped byte (the zip's CRC catches it), arrays that do not fit together — is a
cache miss: the world is rebuilt and the entry written afresh. A cache that cannot be written
is skipped. Neither is ever fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..fileio import atomic_write, stale_temp_files
from ..scenario.schema import Scenario
from .build import World, build_world, check_scenario_against_villages, world_key
from .coverage import CoverageIndex
from .graph import TransportEdges
from .villages import Villages

__all__ = ["cache_dir", "load_world", "prepared_world", "save_world"]

_VILLAGE_ARRAYS = ("ids", "names", "lat", "lon", "population", "zone", "region", "service")
_OPTIONAL = ("urban", "poverty", "extreme_poverty", "ruggedness_m_per_km")


def cache_dir() -> Path:
    """``$ROLLOUT_SIM_CACHE``, else ``~/.cache/rollout-sim``."""
    env = os.environ.get("ROLLOUT_SIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "rollout-sim"


def _path(folder: Path, key: str) -> Path:
    return folder / "worlds" / f"{key}.npz"


def save_world(world: World, folder: Path) -> Path | None:
    """Write *world* under *folder* (atomically); None if it cannot be written."""
    v = world.villages
    arrays: dict[str, NDArray[np.generic]] = {f"v_{k}": getattr(v, k) for k in _VILLAGE_ARRAYS}
    for k in _OPTIONAL:
        value = getattr(v, k)
        if value is not None:
            arrays[f"v_{k}"] = value
    meta = {"zone_names": list(v.zone_names), "region_names": list(v.region_names)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays.update(
        pops=world.pops,
        pop_open=world.pop_open_ordinal,
        depots=world.depots,
        radius_km=world.radius_km,
        hop_km=world.hop_km,
        cov_indptr=world.coverage.indptr,
        cov_indices=world.coverage.indices,
        cov_t_indptr=world.coverage.t_indptr,
        cov_t_indices=world.coverage.t_indices,
        e_u=world.edges.u,
        e_v=world.edges.v,
        e_km=world.edges.km,
        e_kind=world.edges.kind,
        e_hours=world.edges.hours,
    )
    path = _path(folder, world.key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_temp_files(path.parent):  # of runs killed while saving
            with contextlib.suppress(OSError):
                stale.unlink()
        # numpy's stub lets **arrays also fill savez's allow_pickle (bool): every key here is
        # an array name, never that.
        atomic_write(path, lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]
    except OSError:
        return None
    return path


def _consistent(world: World) -> bool:
    """The arrays fit together: lengths agree and every index points inside the world."""
    n = len(world.villages)
    v = world.villages
    cov = world.coverage
    e = world.edges

    def csr_ok(indptr: Any, indices: Any) -> bool:
        return bool(
            len(indptr) == n + 1
            and indptr[0] == 0
            and indptr[-1] == len(indices)
            and np.all(np.diff(indptr) >= 0)
            and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < n))
        )

    def in_range(a: Any) -> bool:
        return len(a) == 0 or bool(a.min() >= 0 and a.max() < n)

    return (
        all(len(getattr(v, k)) == n for k in _VILLAGE_ARRAYS)
        and csr_ok(cov.indptr, cov.indices)
        and csr_ok(cov.t_indptr, cov.t_indices)
        and len(e.u) == len(e.v) == len(e.km) == len(e.kind) == len(e.hours)
        and in_range(e.u)
        and in_range(e.v)
        and in_range(world.pops)
        and len(world.pop_open_ordinal) == len(world.pops)
        and in_range(world.depots)
        and bool(np.all(np.isfinite(v.xy)))
    )


def load_world(key: str, folder: Path, warn: Callable[[str], Any] | None = None) -> World | None:
    """The cached world with this key, or None (missing, or damaged: then *warn* says so)."""
    path = _path(folder, key)
    if not path.exists():
        return None
    world = _read(path, key)
    if world is None and warn is not None:
        warn(f"the cached world {path} is damaged; building it again")
    return world


def _read(path: Path, key: str) -> World | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            columns = {k: z[f"v_{k}"] for k in _VILLAGE_ARRAYS}
            # An optional column not saved is None, the Villages default.
            optional = {k: z[f"v_{k}"] for k in _OPTIONAL if f"v_{k}" in z.files}
            villages = Villages(
                zone_names=tuple(meta["zone_names"]),
                region_names=tuple(meta["region_names"]),
                **columns,
                **optional,
            )
            coverage = CoverageIndex(
                z["cov_indptr"], z["cov_indices"], z["cov_t_indptr"], z["cov_t_indices"]
            )
            edges = TransportEdges(z["e_u"], z["e_v"], z["e_km"], z["e_kind"], z["e_hours"])
            world = World(
                villages,
                z["pops"],
                z["depots"],
                z["radius_km"],
                z["hop_km"],
                coverage,
                edges,
                key,
                z["pop_open"] if "pop_open" in z.files else None,
            )
    except Exception:  # any damage: BadZipFile, a bad CRC, EOFError, bad JSON, odd shapes...
        return None
    return world if _consistent(world) else None


def prepared_world(
    scenario: Scenario, folder: Path | None = None, warn: Callable[[str], Any] | None = None
) -> tuple[World, bool]:
    """(world, came from the cache?): load it if cached, else build and cache it.

    A damaged cache entry is reported through *warn* (one line) and rebuilt.
    """
    folder = cache_dir() if folder is None else folder
    key = world_key(scenario)
    world = load_world(key, folder, warn)
    if world is not None:
        # Operator-level checks (zones, regions, depots) depend on the scenario, not the world.
        check_scenario_against_villages(scenario, world.villages)
        return world, True
    world = build_world(scenario)
    save_world(world, folder)
    return world, False
