"""GeoJSON (RFC 7946) views of a run: sites, villages and backhaul links, for web maps and GIS.

Every function returns a plain ``dict`` FeatureCollection that :func:`json.dumps` accepts as is:
coordinates are ``[lon, lat]`` in WGS 84 (the only CRS RFC 7946 allows, hence no ``crs``
member) rounded to 6 decimals (~0.1 m, finer than any village position we hold), dates are ISO
strings computed exactly as ``sites.csv`` does (``start_date + int(day)``), and a missing value is
``null``. Property dicts are built from whole-column ``.tolist()`` conversions and list
comprehensions, never by indexing numpy arrays element by element, so ~95,000 villages take a
fraction of a second.

Feature order is the order of the underlying tables (site rows, village indices), so the same
results always give the same document and :func:`write_geojson` the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from json.encoder import encode_basestring
from pathlib import Path
from typing import Final, Literal, TypedDict, cast

import numpy as np

from ..arrays import FloatArray
from ..fileio import atomic_write
from ..model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_NAMES
from ..results import Results
from ..world.villages import SERVICE_CODES

__all__ = [
    "COORD_DECIMALS",
    "Feature",
    "FeatureCollection",
    "Layer",
    "backhaul_geojson",
    "backhaul_layer",
    "sites_geojson",
    "sites_layer",
    "villages_geojson",
    "villages_layer",
    "write_geojson",
    "write_layer",
]

#: Decimals kept in coordinates: 1e-6 degree is about 0.11 m.
COORD_DECIMALS: Final = 6


#: A property's value: what a column holds (None: missing, written as null).
Property = str | int | float | bool | None


class Point(TypedDict):
    type: Literal["Point"]
    coordinates: list[float]


class LineString(TypedDict):
    type: Literal["LineString"]
    coordinates: list[list[float]]


class Feature(TypedDict):
    type: Literal["Feature"]
    geometry: Point | LineString
    properties: dict[str, Property]


class FeatureCollection(TypedDict):
    type: Literal["FeatureCollection"]
    features: list[Feature]


def _iso_dates(start: date, days: FloatArray, last: int) -> list[str | None]:
    """ISO date of ``start + int(day)`` for each day, ``None`` where the day is not finite;
    the horizon's end instant is its *last* day, never the day after (as in ``sites.csv``).

    Vectorised through ``datetime64`` (O(n), no Python ``timedelta`` per element). ``int()``
    truncates toward zero, as ``np.trunc`` does, so this matches ``sites.csv`` exactly, also
    for any negative day.
    """
    finite = np.isfinite(days)
    whole = np.minimum(np.trunc(np.where(finite, days, 0.0)).astype(np.int64), last)
    text = (np.datetime64(start.isoformat(), "D") + whole.astype("timedelta64[D]")).astype(str)
    return [t if ok else None for t, ok in zip(text.tolist(), finite.tolist(), strict=True)]


def _lonlat(results: Results) -> tuple[list[float], list[float]]:
    """Rounded longitude and latitude of every village, as Python floats."""
    v = results.world.villages
    lon: list[float] = np.round(v.lon, COORD_DECIMALS).tolist()
    lat: list[float] = np.round(v.lat, COORD_DECIMALS).tolist()
    return lon, lat


def _collection(features: list[Feature]) -> FeatureCollection:
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class Layer:
    """A FeatureCollection by columns: each feature's coordinates (a Point's ``[lon, lat]`` or a
    LineString's two positions, already rounded) and each property's values, in feature order.

    :meth:`collection` makes the document (a ``dict``); :func:`write_layer` writes the same
    bytes as :func:`write_geojson` of that document without building it (a national world's
    95,000 villages in a fraction of the time).
    """

    geometry: Literal["Point", "LineString"]
    coordinates: list[list[float]] | list[list[list[float]]]
    properties: dict[str, list[Property]]

    def collection(self) -> FeatureCollection:
        names = list(self.properties)
        rows = zip(self.coordinates, *self.properties.values(), strict=True)
        features: list[Feature] = [
            {
                "type": "Feature",
                "geometry": cast(
                    Point | LineString, {"type": self.geometry, "coordinates": coords}
                ),
                "properties": dict(zip(names, values, strict=True)),
            }
            for coords, *values in rows
        ]
        return _collection(features)

    def text(self) -> str:
        """The collection as :func:`json.dumps` writes it with ``separators=(",", ":")``,
        ``ensure_ascii=False`` and ``allow_nan=False``, byte for byte: every value is turned
        into its JSON text once per column (:func:`_json_tokens`) and each feature is one
        ``%`` of a template."""
        keys = ",".join(f"{encode_basestring(name)}:%s" for name in self.properties)
        template = (
            '{"type":"Feature","geometry":{"type":"' + self.geometry + '","coordinates":%s},'
            '"properties":{' + keys + "}}"
        )
        columns = [_json_tokens(values) for values in self.properties.values()]
        coords = _json_tokens(self.coordinates)
        features = ",".join([template % row for row in zip(coords, *columns, strict=True)])
        return '{"type":"FeatureCollection","features":[' + features + "]}"


def _json_token(value: object) -> str:
    """One value as ``json.dumps`` writes it (see :meth:`Layer.text`)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(encode_basestring(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, list):
        return "[" + ",".join(_json_token(v) for v in value) + "]"
    raise TypeError(f"not a GeoJSON value: {value!r}")


def _json_tokens(values: Sequence[object]) -> list[str]:
    """Each value as ``json.dumps`` writes it; a column of one type in one C-level pass."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(map(encode_basestring, values))  # type: ignore[arg-type]
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds == {float} and all(map(math.isfinite, values)):  # type: ignore[arg-type]
        return list(map(float.__repr__, values))
    if kinds == {list} and all(type(v) is list and len(v) == 2 for v in values):
        first = [v[0] for v in values]  # type: ignore[index]
        second = [v[1] for v in values]  # type: ignore[index]
        return [
            f"[{a},{b}]" for a, b in zip(_json_tokens(first), _json_tokens(second), strict=True)
        ]
    return [_json_token(v) for v in values]


def parent_labels(results: Results) -> list[str]:
    """``backhaul_parent`` of each site row (``sites.csv``, ``sites.geojson``): a microwave
    site's parent (village id, or ``pop:k``), a fibre site's PoP (``pop:k``), else ""."""
    s = results.sites
    ids: list[str] = results.world.villages.ids.tolist()

    def label(kind: int, p: int) -> str:
        if kind == BH_MICROWAVE:
            return f"pop:{-1 - p}" if p < 0 else ids[p]
        if kind == BH_FIBRE and p < 0:
            return f"pop:{-1 - p}"
        return ""

    return [label(k, p) for k, p in zip(s.backhaul.tolist(), s.parent.tolist(), strict=True)]


def _finite_or_none(values: FloatArray, decimals: int) -> list[float | None]:
    rounded: list[float] = np.round(values, decimals).tolist()
    return [x if math.isfinite(x) else None for x in rounded]


def sites_geojson(results: Results) -> FeatureCollection:
    """One Point per row of ``results.sites``, at its village, with the ``sites.csv`` facts.

    Properties: village_id, village_name, operator, kind (greenfield/upgrade), zone, backhaul,
    backhaul_parent (village id, ``pop:k`` or ""), claim_date, build_start_date, on_air_date
    (ISO or null), people_newly_covered, villages_newly_covered, capex_usd and downtime_days
    (cumulative at the horizon). O(sites).
    """
    return sites_layer(results).collection()


def sites_layer(results: Results) -> Layer:
    """:func:`sites_geojson` by columns."""
    s = results.sites
    v = results.world.villages
    start = results.scenario.start_date
    last = results.horizon_days - 1
    lon, lat = _lonlat(results)
    ids: list[str] = v.ids.tolist()
    names: list[str] = v.names.tolist()
    zones: list[int] = v.zone.tolist()
    downtime = results.site_downtime_days
    if len(downtime) != len(s):  # a Results built by hand may leave it empty
        downtime = np.full(len(s), np.nan)
    at: list[int] = s.village.tolist()
    operators = results.operators
    zone_names = v.zone_names
    properties: dict[str, list[Property]] = {
        "village_id": [ids[vi] for vi in at],
        "village_name": [names[vi] for vi in at],
        "operator": [operators[op] for op in s.operator.tolist()],
        "kind": ["upgrade" if up else "greenfield" for up in s.upgrade.tolist()],
        "zone": [zone_names[zones[vi]] for vi in at],
        "backhaul": [BH_NAMES[bh] for bh in s.backhaul.tolist()],
        "backhaul_parent": list(parent_labels(results)),
        "claim_date": list(_iso_dates(start, s.claim_day, last)),
        "build_start_date": list(_iso_dates(start, s.build_start_day, last)),
        "on_air_date": list(_iso_dates(start, s.on_air_day, last)),
        "people_newly_covered": s.people_new.tolist(),
        "villages_newly_covered": s.villages_new.tolist(),
        "capex_usd": list(_finite_or_none(s.capex_usd, 2)),
        "downtime_days": list(_finite_or_none(downtime, 4)),
    }
    for values in properties.values():
        if len(values) != len(at):
            raise ValueError("sites columns of unequal length")
    return Layer("Point", [[lon[vi], lat[vi]] for vi in at], properties)


def villages_geojson(results: Results, which: str = "all") -> FeatureCollection:
    """One Point per village, with its coverage outcome.

    *which*: ``all`` villages, or only those the ``reached`` rollout changed (covered first by
    a modelled operator's site, or hosting one of its sites) — a national world's full file is
    tens of MB, almost all of it places nothing happened to.

    Properties: id, name, population, zone, region, initial_service (``none``/``2g``/``4g`` at
    day 0), first_covered_date (ISO date of the first day an on-air 4G site covered it, day 0
    for existing 4G; null if never), covered (ever covered by the horizon: coverage *built*, not
    net of outages) and has_site (an operator claimed a site there, i.e. it has a row in
    ``results.sites``; existing 4G sites show as initial_service ``4g``). O(villages), all
    through list comprehensions over ``.tolist()`` columns.
    """
    return villages_layer(results, which).collection()


def villages_layer(results: Results, which: str = "all") -> Layer:
    """:func:`villages_geojson` by columns."""
    v = results.world.villages
    lon, lat = _lonlat(results)
    first = results.first_covered_day
    first_dates = _iso_dates(results.scenario.start_date, first, results.horizon_days - 1)
    has_site = np.zeros(len(v), dtype=bool)
    has_site[results.sites.village] = True
    keep = np.ones(len(v), dtype=bool)
    if which == "reached":
        keep = has_site | (results.first_op >= 0) if len(results.first_op) else has_site
    idx = np.flatnonzero(keep)
    lon = [lon[i] for i in idx.tolist()] if which != "all" else lon
    lat = [lat[i] for i in idx.tolist()] if which != "all" else lat
    first_dates = [first_dates[i] for i in idx.tolist()] if which != "all" else first_dates
    zone_names = v.zone_names
    region_names = v.region_names
    properties: dict[str, list[Property]] = {
        "id": v.ids[idx].tolist(),
        "name": v.names[idx].tolist(),
        "population": v.population[idx].tolist(),
        "zone": [zone_names[z] for z in v.zone[idx].tolist()],
        "region": [region_names[r] for r in v.region[idx].tolist()],
        "initial_service": [SERVICE_CODES[svc] for svc in v.service[idx].tolist()],
        "first_covered_date": list(first_dates),
        "covered": [fc is not None for fc in first_dates],
        "has_site": has_site[idx].tolist(),
    }
    for values in properties.values():
        if len(values) != len(lon):
            raise ValueError("village columns of unequal length")
    return Layer("Point", [[x, y] for x, y in zip(lon, lat, strict=True)], properties)


def backhaul_geojson(results: Results) -> FeatureCollection:
    """LineStrings of the backhaul: microwave hops and fibre spurs, one per such site row.

    A microwave site's line runs from its parent (PoP *k*'s village ``world.pops[k]``, or the
    parent site's village) to the site; a fibre site's line from the village of the PoP its
    spur was priced to (recorded as its parent ``-1 - k``: the nearest PoP open when it was
    claimed). Satellite sites have no
    line, nor does a site at its PoP's own village (the line would have zero length).
    Properties: village_id (the site), parent (village id or ``pop:k``), kind
    (``microwave``/``fibre``), operator, on_air_date (ISO or null) and length_km, the straight
    distance between the endpoints in the world's projected km (the distance the model used).
    Lines follow site-row order. O(sites).
    """
    return backhaul_layer(results).collection()


def backhaul_layer(results: Results) -> Layer:
    """:func:`backhaul_geojson` by columns."""
    s = results.sites
    w = results.world
    v = w.villages
    lon, lat = _lonlat(results)
    ids: list[str] = v.ids.tolist()
    pops: list[int] = w.pops.tolist()
    on_air = _iso_dates(results.scenario.start_date, s.on_air_day, results.horizon_days - 1)
    sites: list[int] = []
    sources: list[int] = []
    lines: list[tuple[int, str, int, str | None]] = []  # operator, parent, kind, on-air date
    rows = zip(
        s.village.tolist(),
        s.operator.tolist(),
        s.backhaul.tolist(),
        s.parent.tolist(),
        on_air,
        strict=True,
    )
    for site, op, bh, p, air in rows:
        if bh == BH_MICROWAVE:
            src = pops[-1 - p] if p < 0 else p
            parent = f"pop:{-1 - p}" if p < 0 else ids[p]
        elif bh == BH_FIBRE and p < 0:
            src = pops[-1 - p]
            parent = f"pop:{-1 - p}"
        else:
            continue
        if src == site:
            # A site at its PoP's own village has no spur; a zero-length LineString is
            # degenerate (GIS validity checks reject it), so none is written.
            continue
        sites.append(site)
        sources.append(src)
        lines.append((op, parent, bh, air))
    # The straight distance, element by element as np.hypot of two scalars gives it, and
    # rounded by Python's round (correctly rounded decimals; json needs no numpy types).
    at = np.asarray(sites, dtype=np.int64)
    src_at = np.asarray(sources, dtype=np.int64)
    km: list[float] = np.hypot(v.x_km[at] - v.x_km[src_at], v.y_km[at] - v.y_km[src_at]).tolist()
    properties: dict[str, list[Property]] = {
        "village_id": [ids[i] for i in sites],
        "parent": [parent for _op, parent, _bh, _air in lines],
        "kind": [BH_NAMES[bh] for _op, _parent, bh, _air in lines],
        "operator": [results.operators[op] for op, _parent, _bh, _air in lines],
        "on_air_date": [air for _op, _parent, _bh, air in lines],
        "length_km": [round(x, 3) for x in km],
    }
    coordinates = [
        [[lon[a], lat[a]], [lon[b], lat[b]]] for a, b in zip(sources, sites, strict=True)
    ]
    return Layer("LineString", coordinates, properties)


def write_geojson(obj: FeatureCollection, path: str | Path) -> None:
    """Write *obj* as compact UTF-8 JSON to *path*, atomically.

    Compact separators and insertion-ordered keys make the bytes a function of the document
    alone (same input, identical file). ``allow_nan=False`` refuses NaN/Infinity, which are not
    JSON. The text goes to a temporary file in the same folder first and replaces *path* in one
    ``os.replace``, so a reader never sees half a file. O(size of the document).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    atomic_write(target, text + "\n")


def write_layer(layer: Layer, path: str | Path) -> None:
    """Write *layer* as :func:`write_geojson` writes ``layer.collection()``: the same bytes,
    without building the document (:meth:`Layer.text`)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, layer.text() + "\n")
