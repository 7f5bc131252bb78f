"""Build the world a scenario describes: villages, PoPs, depots, coverage index, graph.

The world depends only on the geography, coverage (radii and terrain), backhaul reach and
transport settings, never on the operators or the run's random streams, so one world serves
every replication and every policy of a scenario (see :func:`world_key`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import InitVar, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from ..arrays import FloatArray, IntArray
from ..errors import InputError, ScenarioError
from ..fileio import JsonObject
from ..scenario.load import blame_source, format_path
from ..scenario.paths import PathKey
from ..scenario.schema import PlacesSpec, Scenario
from .coverage import (
    MAX_COVERAGE_PAIRS,
    CoverageIndex,
    Terrain,
    build_coverage_index,
    coverage_query_km,
    too_many_pairs,
)
from .graph import TransportEdges, build_transport_edges, to_networkx, travel_csr
from .peru import OPEN_FROM_START, fitted_start, peru_capitals, peru_pop_openings, peru_villages
from .reach import HopReach
from .village_files import read_village_bytes, read_villages
from .villages import SERVICE_CODES, Villages, synthetic_villages

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["World", "build_world", "check_scenario_against_villages", "world_key"]


@dataclass(frozen=True, eq=False)
class World:
    """Everything fixed during a run. Built by :func:`build_world`; read-only (frozen)."""

    villages: Villages
    pops: IntArray
    depots: IntArray
    radius_km: FloatArray
    hop_km: FloatArray
    coverage: CoverageIndex
    edges: TransportEdges
    key: str
    pop_open: InitVar[IntArray | None] = None
    #: Date ordinal (``date.toordinal``) each PoP opens on (*pop_open*); ``OPEN_FROM_START``
    #: (0) for one open before any start date. The world does not know the scenario's start:
    #: the model compares (``BackhaulPlanner``). Default: all open from the start.
    pop_open_ordinal: IntArray = field(init=False)
    #: Distance to, and index of, the nearest PoP of all, open or not yet: where fibre is or
    #: will be. What a site can use at a given time is the backhaul planner's business.
    pop_dist_km: FloatArray = field(init=False)
    pop_nearest: IntArray = field(init=False)

    def __post_init__(self, pop_open: IntArray | None) -> None:
        pops, n = self.pops, len(self.villages)
        if pop_open is None:
            ordinal = np.full(len(pops), OPEN_FROM_START, dtype=np.int64)
        else:
            ordinal = np.asarray(pop_open, dtype=np.int64)
        if len(pops):
            xy = self.villages.xy
            d, k = cKDTree(xy[pops]).query(xy)
            dist, nearest = np.asarray(d, dtype=np.float64), np.asarray(k, dtype=np.int64)
        else:
            dist, nearest = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        # Frozen: the derived columns are set once, here.
        object.__setattr__(self, "pop_open_ordinal", ordinal)
        object.__setattr__(self, "pop_dist_km", dist)
        object.__setattr__(self, "pop_nearest", nearest)

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
    def hop_reach(self) -> HopReach:
        """The villages within one microwave hop of each site, remembered across the runs
        of this process (built on first use)."""
        return HopReach(self.villages.xy, self.hop_km)

    @cached_property
    def setups(self) -> dict[tuple[object, ...], object]:
        """Day-0 set-ups that runs derive from this world and their scenario alone, whatever
        their seed or policy (an operator's backhaul planner: ``model.backhaul.starting_planner``),
        kept for the runs of this process."""
        return {}

    @cached_property
    def village_tree(self) -> cKDTree:
        """KD-tree of all villages' projected positions (built on first use: PoPs opening
        during a run look up the villages in their reach)."""
        return cKDTree(self.villages.xy)

    @cached_property
    def travel_hours(self) -> csr_matrix:
        """Sparse symmetric travel-time matrix over villages (scipy csgraph view)."""
        return travel_csr(self.edges, len(self.villages))


def world_key(scenario: Scenario) -> str:
    """Hash of everything the world depends on (for caching across runs)."""
    from .. import __version__

    parts: JsonObject = {
        "version": __version__,
        "geography": scenario.geography.model_dump(mode="json"),
        "radius": scenario.coverage.radius_km,
        "start_radius": scenario.coverage.start_radius_km,
        "terrain": (
            None
            if scenario.coverage.terrain is None
            else scenario.coverage.terrain.model_dump(mode="json")
        ),
        "hop": scenario.backhaul.microwave.hop_range_km,
        "transport": scenario.transport.model_dump(mode="json"),
        "seed": _world_seed(scenario),
    }
    if scenario.geography.file is not None:
        # The same checked, bounded read as loading the villages: a device or a huge file is
        # refused there (building the world), not read here for ever.
        try:
            raw = read_village_bytes(scenario.geography.file.path)
        except InputError:
            parts["file_sha256"] = None
        else:
            parts["file_sha256"] = hashlib.sha256(raw).hexdigest()
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
            _refuse(
                scenario,
                ("geography", "regions"),
                f"unknown region {unknown[0]!r}; the villages have regions "
                f"{_list(villages.region_names)}",
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


def _refuse(
    scenario: Scenario, path: tuple[str | int, ...], message: str, mentions: str = ""
) -> None:
    """Raise the one-line error for a problem at *path*, naming the ``--set`` that caused it
    (the CLI fills in the scenario file otherwise): one that wrote *path*, or one inside it
    of a key *mentions* names."""
    raise ScenarioError(
        message, source=blame_source(scenario, path, mentions), where=format_path(path)
    )


def zone_tables(scenario: Scenario) -> list[tuple[PathKey, Collection[str]]]:
    """The zones of every per-zone table of *scenario*, with its key path: each needs every
    zone the villages have (the model looks a value up for every village)."""
    maint = scenario.maintenance
    tables: list[tuple[PathKey, Collection[str]]] = [
        (("coverage", "radius_km"), scenario.coverage.radius_km),
        (("backhaul", "microwave", "hop_range_km"), scenario.backhaul.microwave.hop_range_km),
        (("maintenance", "failures", "mtbf_days"), maint.failures.mtbf_days),
        (("maintenance", "repair_days"), maint.repair_days),
        (("maintenance", "repair_cost_usd"), maint.repair_cost_usd),
    ]
    if scenario.coverage.start_radius_km is not None:
        tables.append((("coverage", "start_radius_km"), scenario.coverage.start_radius_km))
    for i, op in enumerate(scenario.operators):
        tables += [
            (("operators", i, "capex_usd", "greenfield"), op.capex_usd.greenfield),
            (("operators", i, "capex_usd", "upgrade"), op.capex_usd.upgrade),
            (("operators", i, "build_days"), op.build_days),
            *([(("operators", i, "permit_days"), op.permit_days)] if op.permit_days else []),
            (("operators", i, "opex_usd_year"), op.opex_usd_year),
        ]
    return tables


def check_scenario_against_villages(scenario: Scenario, villages: Villages) -> None:
    """Named consistency checks between the scenario and the villages it runs on.

    Every zone present must be in every per-zone table (:func:`zone_tables`); every region,
    zone, depot and listed village an operator or an instrument names must exist.
    """
    zones = villages.zone_names
    for path, table in zone_tables(scenario):
        missing = [z for z in zones if z not in table]
        if missing:
            _refuse(
                scenario,
                path,
                f"no value for zone {missing[0]!r}; the villages have zones {_list(zones)}",
            )
    index = villages.index_of()
    for i, op in enumerate(scenario.operators):
        for key, names, known in (
            ("regions", op.regions, villages.region_names),
            ("zones", op.zones, zones),
        ):
            for name in names or ():
                if name not in known:
                    _refuse(
                        scenario,
                        ("operators", i, key),
                        f"unknown {key[:-1]} {name!r}; the villages have {_list(known)}",
                    )
        for fields, ids in ((("depots",), op.depots), (("siting", "villages"), op.siting.villages)):
            for vid in ids or ():
                if vid not in index:
                    _refuse(scenario, ("operators", i, *fields), f"unknown village id {vid!r}")
    for p, policy in enumerate(scenario.policies):
        for k, inst in enumerate(policy.instruments):
            rule = getattr(inst, "eligibility", None)
            for name in getattr(rule, "zones", None) or ():
                if name not in zones:
                    _refuse(
                        scenario,
                        ("policies", p, "instruments", k, "eligibility", "zones"),
                        f"unknown zone {name!r}; the villages have zones {_list(zones)}",
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


def _pops(scenario: Scenario, villages: Villages) -> tuple[IntArray, IntArray]:
    """The PoPs' village indices and the date ordinal each opens on (``OPEN_FROM_START`` for
    one open from the start). Peru's regional PoPs of a department whose network is null in
    ``geography.peru.regional_fibre`` are left out: that fibre is not within the model."""
    spec = scenario.geography.pops
    pops = _place(spec, villages, "geography.pops")
    opens = np.full(len(pops), OPEN_FROM_START, dtype=np.int64)
    if spec.capitals == "district":
        opens = peru_pop_openings(villages, pops, scenario.geography.peru.regional_fibre)
        keep = opens >= 0
        pops, opens = pops[keep], opens[keep]
    elif spec.open_dates:
        index = villages.index_of()
        for vid, day in spec.open_dates.items():
            opens[int(np.searchsorted(pops, index[vid]))] = day.toordinal()
    return pops, opens


def _terrain(scenario: Scenario) -> Terrain | None:
    spec = scenario.coverage.terrain
    if spec is None:
        return None
    return Terrain(spec.ruggedness_scale_m_per_km, spec.steepness)


def _coverage_rng(scenario: Scenario) -> np.random.Generator:
    """The world's generator for the terrain coverage draws: from the world seed, on a stream
    of its own (the synthetic villages use another)."""
    return np.random.default_rng(np.random.SeedSequence(_world_seed(scenario), spawn_key=(0xC0E,)))


def build_world(scenario: Scenario) -> World:
    """Build (and check) the world of *scenario*. O(n log n) in the number of villages."""
    villages = _load_villages(scenario)
    check_scenario_against_villages(scenario, villages)
    pops, pop_open = _pops(scenario, villages)
    depots = _place(scenario.geography.depots, villages, "geography.depots")
    radius = _per_village(scenario.coverage.radius_km, villages)
    hop = _per_village(scenario.backhaul.microwave.hop_range_km, villages)
    terrain = _terrain(scenario)
    rugged = villages.ruggedness_m_per_km
    fitted = scenario.geography.dataset == "peru" and scenario.geography.peru.fitted_start
    start_radius = radius
    if fitted and scenario.coverage.start_radius_km is not None:
        start_radius = _per_village(scenario.coverage.start_radius_km, villages)
    query_km = coverage_query_km(np.maximum(radius, start_radius), rugged, terrain)
    if too_many_pairs(villages.xy, query_km, MAX_COVERAGE_PAIRS):
        # Each bound is sane alone; a large radius over a dense world is not (the index holds
        # every village pair within the radius): refuse it here rather than run out of memory.
        widest = villages.zone_names[int(villages.zone[int(np.argmax(radius))])]
        reach = (
            f"radius up to {float(radius.max()):g} km in {widest}"
            if terrain is None
            else f"coverage.terrain draws pairs up to {query_km:.3g} km apart"
        )
        _refuse(
            scenario,
            ("coverage", "radius_km"),
            f"sites would reach more than {MAX_COVERAGE_PAIRS:,} village pairs ("
            f"{len(villages):,} villages, {reach}); expected at most that many: use smaller "
            "radii"
            + ("" if terrain is None else " or a larger coverage.terrain.steepness")
            + ", or fewer villages over a larger region",
            mentions=widest,
        )

    def index(reach: FloatArray) -> CoverageIndex:
        return build_coverage_index(
            villages.xy,
            reach,
            terrain=terrain,
            ruggedness_m_per_km=rugged,
            rng=None if terrain is None else _coverage_rng(scenario),
            query_km=query_km,
        )

    coverage = index(start_radius)
    if fitted:
        # The fitted starting network places sites by what they cover: it needs the index,
        # at the starting network's own reach.
        fitted_start(villages, coverage, scenario.geography.peru)
        if start_radius is not radius:
            # Its 4G sites keep that reach; every other site (new, or a pre-4G site upgraded
            # by an operator) covers at radius_km. The same draws: line of sight is the same.
            existing = villages.service == SERVICE_CODES.index("4g")
            radius = np.where(existing, start_radius, radius)
            coverage = index(radius)
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
    return World(
        villages, pops, depots, radius, hop, coverage, edges, world_key(scenario), pop_open
    )
