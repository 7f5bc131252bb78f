"""Build the world a scenario describes: villages, PoPs, depots, coverage index, graph.

The world depends only on the geography, coverage radii, backhaul reach and transport settings,
never on the operators or the run's random streams, so one world serves every replication and
every policy of a scenario (see :func:`world_key`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from ..errors import ScenarioError
from ..scenario.schema import PlacesSpec, Scenario
from .coverage import CoverageIndex, build_coverage_index
from .graph import TransportEdges, build_transport_edges, to_networkx, travel_csr
from .peru import peru_capitals, peru_villages
from .village_files import read_villages
from .villages import Villages, synthetic_villages

__all__ = ["World", "build_world", "check_scenario_against_villages", "world_key"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class World:
    """Everything fixed during a run. Built by :func:`build_world`; treat it as read-only."""

    def __init__(
        self,
        villages: Villages,
        pops: IntArray,
        depots: IntArray,
        radius_km: FloatArray,
        hop_km: FloatArray,
        coverage: CoverageIndex,
        edges: TransportEdges,
        key: str,
    ) -> None:
        self.villages = villages
        self.pops = pops
        self.depots = depots
        self.radius_km = radius_km
        self.hop_km = hop_km
        self.coverage = coverage
        self.edges = edges
        self.key = key
        xy = villages.xy
        if len(pops):
            d, k = cKDTree(xy[pops]).query(xy)
            self.pop_dist_km: FloatArray = np.asarray(d, dtype=np.float64)
            self.pop_nearest: IntArray = np.asarray(k, dtype=np.int64)
        else:
            self.pop_dist_km = np.full(len(villages), np.inf)
            self.pop_nearest = np.full(len(villages), -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.villages)

    @cached_property
    def graph(self) -> nx.Graph:
        """The transport graph as networkx (built on first use; ~1 s per 100k villages)."""
        v = self.villages
        return to_networkx(
            self.edges,
            v.ids.tolist(),
            self.pops.tolist(),
            self.depots.tolist(),
            extra_node_attrs={
                "population": v.population.tolist(),
                "zone": [v.zone_names[z] for z in v.zone.tolist()],
                "x_km": v.x_km.tolist(),
                "y_km": v.y_km.tolist(),
            },
        )

    @cached_property
    def hop_trees(self) -> list[tuple[float, NDArray[np.int64], cKDTree]]:
        """(hop range, village indices, KD-tree of them) per distinct hop range."""
        out = []
        for hop in np.unique(self.hop_km).tolist():
            idx = np.flatnonzero(self.hop_km == hop)
            out.append((float(hop), idx, cKDTree(self.villages.xy[idx])))
        return out

    @cached_property
    def travel_hours(self) -> csr_matrix:
        """Sparse symmetric travel-time matrix over villages (scipy csgraph view)."""
        return travel_csr(self.edges, len(self.villages))


def world_key(scenario: Scenario) -> str:
    """Hash of everything the world depends on (for caching across runs)."""
    from .. import __version__

    parts: dict[str, Any] = {
        "version": __version__,
        "geography": scenario.geography.model_dump(mode="json"),
        "radius": scenario.coverage.radius_km,
        "hop": scenario.backhaul.microwave.hop_range_km,
        "transport": scenario.transport.model_dump(mode="json"),
        "seed": _world_seed(scenario),
    }
    if scenario.geography.file is not None:
        try:
            with open(scenario.geography.file.path, "rb") as fh:
                parts["file_sha256"] = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            parts["file_sha256"] = None
    if scenario.geography.dataset == "peru":
        parts["data_sha256"] = _peru_data_hash()
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _peru_data_hash() -> str:
    from importlib import resources

    data = resources.files("rollout_sim.data").joinpath("peru_places.csv.gz").read_bytes()
    return hashlib.sha256(data).hexdigest()


def _world_seed(scenario: Scenario) -> int:
    syn = scenario.geography.synthetic
    if syn is not None and syn.seed is not None:
        return syn.seed
    return scenario.seed


def _load_villages(scenario: Scenario) -> Villages:
    geo = scenario.geography
    if geo.dataset == "peru":
        villages = peru_villages(geo.peru, geo.departments)
    elif geo.file is not None:
        villages = read_villages(
            geo.file.path,
            default_zone=geo.file.default_zone,
            default_region=geo.file.default_region,
        )
    else:
        assert geo.synthetic is not None
        villages = synthetic_villages(geo.synthetic, _world_seed(scenario))
    if geo.regions is not None:
        unknown = [r for r in geo.regions if r not in villages.region_names]
        if unknown:
            raise ScenarioError(
                f"unknown region {unknown[0]!r}; the villages have regions "
                f"{_list(villages.region_names)}",
                where="geography.regions",
            )
        keep_codes = [villages.region_names.index(r) for r in geo.regions]
        villages = villages.subset(np.isin(villages.region, keep_codes))
    if len(villages) == 0:
        raise ScenarioError("no villages left; expected at least one", where="geography")
    return villages


def _list(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _per_village(table: dict[str, float], villages: Villages) -> FloatArray:
    values = np.array([table[z] for z in villages.zone_names], dtype=np.float64)
    return values[villages.zone]


def check_scenario_against_villages(scenario: Scenario, villages: Villages) -> None:
    """Named consistency checks between the scenario and the villages it runs on.

    Every zone present must have a radius, a hop range, capex and build times; every region,
    depot and listed village an operator names must exist.
    """
    zones = villages.zone_names
    tables: list[tuple[str, dict[str, Any]]] = [
        ("coverage.radius_km", scenario.coverage.radius_km),
        ("backhaul.microwave.hop_range_km", scenario.backhaul.microwave.hop_range_km),
    ]
    for i, op in enumerate(scenario.operators):
        tables += [
            (f"operators[{i}].capex_usd.greenfield", op.capex_usd.greenfield),
            (f"operators[{i}].capex_usd.upgrade", op.capex_usd.upgrade),
            (f"operators[{i}].build_days", op.build_days),
        ]
    for where, table in tables:
        missing = [z for z in zones if z not in table]
        if missing:
            raise ScenarioError(
                f"no value for zone {missing[0]!r}; the villages have zones {_list(zones)}",
                where=where,
            )
    index = villages.index_of()
    for i, op in enumerate(scenario.operators):
        for field, names, known in (
            ("regions", op.regions, villages.region_names),
            ("zones", op.zones, zones),
        ):
            for name in names or ():
                if name not in known:
                    raise ScenarioError(
                        f"unknown {field[:-1]} {name!r}; the villages have {_list(known)}",
                        where=f"operators[{i}].{field}",
                    )
        for field, ids in (("depots", op.depots), ("siting.villages", op.siting.villages)):
            for vid in ids or ():
                if vid not in index:
                    raise ScenarioError(
                        f"unknown village id {vid!r}", where=f"operators[{i}].{field}"
                    )


def _place(spec: PlacesSpec, villages: Villages, where: str) -> IntArray:
    """Village indices for PoPs or depots: given ids, capitals (Peru), or the largest villages
    spread apart."""
    if spec.capitals is not None:
        return peru_capitals(villages, spec.capitals)
    if spec.villages is not None:
        index = villages.index_of()
        out = []
        for vid in spec.villages:
            if vid not in index:
                raise ScenarioError(f"unknown village id {vid!r}", where=f"{where}.villages")
            out.append(index[vid])
        return np.array(sorted(set(out)), dtype=np.int64)
    assert spec.largest_villages is not None
    want = spec.largest_villages
    order = np.lexsort((np.arange(len(villages)), -villages.population))
    xy = villages.xy
    chosen: list[int] = []
    sep2 = spec.min_spacing_km**2
    for i in order.tolist():
        if len(chosen) >= want:
            break
        if chosen:
            d2 = ((xy[chosen] - xy[i]) ** 2).sum(axis=1)
            if d2.min() < sep2:
                continue
        chosen.append(i)
    return np.array(sorted(chosen), dtype=np.int64)


def build_world(scenario: Scenario) -> World:
    """Build (and check) the world of *scenario*. O(n log n) in the number of villages."""
    villages = _load_villages(scenario)
    check_scenario_against_villages(scenario, villages)
    pops = _place(scenario.geography.pops, villages, "geography.pops")
    depots = _place(scenario.geography.depots, villages, "geography.depots")
    radius = _per_village(scenario.coverage.radius_km, villages)
    hop = _per_village(scenario.backhaul.microwave.hop_range_km, villages)
    coverage = build_coverage_index(villages.xy, radius)
    names = villages.zone_names
    coast = np.array([z == "coast" for z in names], dtype=bool)[villages.zone]
    jungle = np.array([z == "jungle" for z in names], dtype=bool)[villages.zone]
    edges = build_transport_edges(
        villages.xy,
        coast,
        jungle,
        detour_factor=scenario.transport.detour_factor,
        speed_kmh=scenario.transport.speed_kmh,
    )
    return World(villages, pops, depots, radius, hop, coverage, edges, world_key(scenario))
