"""The transport graph over villages, PoPs and depots.

Edges come from a Delaunay triangulation of the village points: planar, connected, about 3n
edges, O(n log n) — a stand-in for the road/river network where none is supplied. Each edge has
``km`` (straight line × detour factor), ``kind`` (``road`` between coastal villages, ``river``
where the jungle is involved, else ``track``) and ``hours``. The arrays are the source of truth;
:func:`to_networkx` gives the public networkx view and :func:`travel_csr` the scipy view that
the heavy algorithms (shortest paths from depots) use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.spatial import Delaunay, QhullError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["EDGE_KINDS", "TransportEdges", "build_transport_edges", "to_networkx", "travel_csr"]

EDGE_KINDS = ("road", "track", "river")


@dataclass(frozen=True, eq=False)
class TransportEdges:
    """Undirected village-to-village links as parallel arrays."""

    u: NDArray[np.int32]
    v: NDArray[np.int32]
    km: NDArray[np.float64]
    kind: NDArray[np.int8]  # index into EDGE_KINDS
    hours: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.u)


def _delaunay_pairs(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    n = len(xy)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n == 2:
        return np.array([[0, 1]], dtype=np.int64)
    try:
        tri = Delaunay(xy)
    except QhullError:
        # Collinear or duplicate points: chain them in sorted order instead.
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return np.column_stack([order[:-1], order[1:]]).astype(np.int64)
    s = tri.simplices
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]).astype(np.int64)
    e.sort(axis=1)
    # Each edge once, in (low, high) order: as np.unique(e, axis=0), over one integer key per
    # edge sorted in place (np.unique hashes, and its tables outgrow the caches nationally).
    key = e[:, 0] * n + e[:, 1]
    key.sort()
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    pairs = np.column_stack([key // n, key % n])
    # Points Delaunay dropped as duplicates are joined to their nearest vertex, so none is
    # isolated (coplanar rows: point, facet, nearest vertex).
    if len(tri.coplanar):
        pairs = np.vstack([pairs, np.sort(tri.coplanar[:, [0, 2]], axis=1).astype(np.int64)])
    return pairs


def build_transport_edges(
    xy: NDArray[np.float64],
    zone_is_coast: NDArray[np.bool_],
    zone_is_jungle: NDArray[np.bool_],
    *,
    detour_factor: float,
    speed_kmh: Mapping[Any, float],
) -> TransportEdges:
    """Delaunay links between villages with length, kind and travel time. O(n log n)."""
    pairs = _delaunay_pairs(xy)
    u, v = pairs[:, 0], pairs[:, 1]
    km = np.hypot(*(xy[u] - xy[v]).T) * detour_factor
    kind = np.full(len(u), EDGE_KINDS.index("track"), dtype=np.int8)
    kind[zone_is_coast[u] & zone_is_coast[v]] = EDGE_KINDS.index("road")
    kind[zone_is_jungle[u] | zone_is_jungle[v]] = EDGE_KINDS.index("river")
    speeds = np.array([speed_kmh[k] for k in EDGE_KINDS], dtype=np.float64)
    hours = km / speeds[kind]
    return TransportEdges(u=u.astype(np.int32), v=v.astype(np.int32), km=km, kind=kind, hours=hours)


def travel_csr(edges: TransportEdges, n: int) -> csr_matrix:
    """Symmetric sparse matrix of travel hours (for scipy.sparse.csgraph)."""
    rows = np.concatenate([edges.u, edges.v])
    cols = np.concatenate([edges.v, edges.u])
    # Zero-length links would vanish from a sparse matrix; keep them as a tiny positive time.
    data = np.maximum(np.concatenate([edges.hours, edges.hours]), 1e-9)
    return csr_matrix((data, (rows, cols)), shape=(n, n))


def to_networkx(
    edges: TransportEdges,
    village_ids: Sequence[str],
    pops: Sequence[int],
    depots: Sequence[int],
    extra_node_attrs: Mapping[str, Sequence[Any]] | None = None,
) -> nx.Graph:
    """The public graph: village nodes (0..n-1), plus ``("pop", k)`` and ``("depot", k)`` nodes.

    PoP and depot nodes are joined to their host village by a 0 km ``local`` edge.
    """
    # Imported here: networkx is the public view only (0.15 s to import), and a run from a
    # cached world never builds it.
    import networkx as nx

    g = nx.Graph()
    attrs = extra_node_attrs or {}
    g.add_nodes_from(
        (i, {"kind": "village", "id": vid, **{k: vals[i] for k, vals in attrs.items()}})
        for i, vid in enumerate(village_ids)
    )
    kinds = [EDGE_KINDS[k] for k in edges.kind.tolist()]
    g.add_edges_from(
        (int(a), int(b), {"km": float(km), "kind": kind, "hours": float(h)})
        for a, b, km, kind, h in zip(
            edges.u.tolist(),
            edges.v.tolist(),
            edges.km.tolist(),
            kinds,
            edges.hours.tolist(),
            strict=True,
        )
    )
    for label, hosts in (("pop", pops), ("depot", depots)):
        for k, host in enumerate(hosts):
            node = (label, k)
            g.add_node(node, kind=label, village=int(host))
            g.add_edge(node, int(host), km=0.0, kind="local", hours=0.0)
    return g
