"""The prepared world on disk, keyed by the hash of everything it depends on.

Building a national world (coverage index, transport graph, Peru's starting network) takes a
few seconds; loading the arrays back takes a fraction of one. The key (:func:`world_key`)
covers the geography, radii, hop ranges, transport settings, the world seed, the content of a
village file, the shipped data and the package version, so a stale world is never reused.
Writes are atomic; a cache that cannot be written or read is skipped, never fatal.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ..scenario.schema import Scenario
from .build import World, build_world, check_scenario_against_villages, world_key
from .coverage import CoverageIndex
from .graph import TransportEdges
from .villages import Villages

__all__ = ["cache_dir", "load_world", "prepared_world", "save_world"]

_VILLAGE_ARRAYS = ("ids", "names", "lat", "lon", "population", "zone", "region", "service")
_OPTIONAL = ("urban", "poverty", "extreme_poverty")


def cache_dir() -> Path:
    """``$ROLLOUT_SIM_CACHE``, else ``~/.cache/rollout-sim``."""
    env = os.environ.get("ROLLOUT_SIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "rollout-sim"


def _path(folder: Path, key: str) -> Path:
    return folder / "worlds" / f"{key}.npz"


def save_world(world: World, folder: Path) -> Path | None:
    """Write *world* under *folder* (atomically); None if it cannot be written."""
    v = world.villages
    arrays: dict[str, Any] = {f"v_{k}": getattr(v, k) for k in _VILLAGE_ARRAYS}
    for k in _OPTIONAL:
        value = getattr(v, k)
        if value is not None:
            arrays[f"v_{k}"] = value
    meta = {"zone_names": list(v.zone_names), "region_names": list(v.region_names)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays.update(
        pops=world.pops,
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
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    return path


def load_world(key: str, folder: Path) -> World | None:
    """The cached world with this key, or None (missing or unreadable)."""
    path = _path(folder, key)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            kw: dict[str, Any] = {k: z[f"v_{k}"] for k in _VILLAGE_ARRAYS}
            for k in _OPTIONAL:
                kw[k] = z[f"v_{k}"] if f"v_{k}" in z.files else None
            villages = Villages(
                zone_names=tuple(meta["zone_names"]), region_names=tuple(meta["region_names"]), **kw
            )
            coverage = CoverageIndex(
                z["cov_indptr"], z["cov_indices"], z["cov_t_indptr"], z["cov_t_indices"]
            )
            edges = TransportEdges(z["e_u"], z["e_v"], z["e_km"], z["e_kind"], z["e_hours"])
            return World(
                villages,
                z["pops"],
                z["depots"],
                z["radius_km"],
                z["hop_km"],
                coverage,
                edges,
                key,
            )
    except (OSError, ValueError, KeyError):
        return None


def prepared_world(scenario: Scenario, folder: Path | None = None) -> tuple[World, bool]:
    """(world, came from the cache?): load it if cached, else build and cache it."""
    folder = cache_dir() if folder is None else folder
    key = world_key(scenario)
    world = load_world(key, folder)
    if world is not None:
        # Operator-level checks (zones, regions, depots) depend on the scenario, not the world.
        check_scenario_against_villages(scenario, world.villages)
        return world, True
    world = build_world(scenario)
    save_world(world, folder)
    return world, False
