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
from datetime import date
from pathlib import Path
from typing import Final, Literal, TypedDict

import numpy as np
from numpy.typing import NDArray

from ..fileio import atomic_write
from ..model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_NAMES
from ..results import Results
from ..world.villages import SERVICE_CODES

__all__ = [
    "COORD_DECIMALS",
    "Feature",
    "FeatureCollection",
    "backhaul_geojson",
    "sites_geojson",
    "villages_geojson",
    "write_geojson",
]

#: Decimals kept in coordinates: 1e-6 degree is about 0.11 m.
COORD_DECIMALS: Final = 6

FloatArray = NDArray[np.float64]

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


def _iso_dates(start: date, days: FloatArray) -> list[str | None]:
    """ISO date of ``start + int(day)`` for each day, ``None`` where the day is not finite.

    Vectorised through ``datetime64`` (O(n), no Python ``timedelta`` per element). ``int()``
    truncates toward zero, as ``np.trunc`` does, so this matches ``sites.csv`` exactly, also
    for any negative day.
    """
    finite = np.isfinite(days)
    whole = np.trunc(np.where(finite, days, 0.0)).astype(np.int64)
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
    s = results.sites
    v = results.world.villages
    start = results.scenario.start_date
    lon, lat = _lonlat(results)
    ids: list[str] = v.ids.tolist()
    names: list[str] = v.names.tolist()
    zones: list[int] = v.zone.tolist()
    downtime = results.site_downtime_days
    if len(downtime) != len(s):  # a Results built by hand may leave it empty
        downtime = np.full(len(s), np.nan)
    columns = zip(
        s.village.tolist(),
        s.operator.tolist(),
        s.upgrade.tolist(),
        s.backhaul.tolist(),
        parent_labels(results),
        _iso_dates(start, s.claim_day),
        _iso_dates(start, s.build_start_day),
        _iso_dates(start, s.on_air_day),
        s.people_new.tolist(),
        s.villages_new.tolist(),
        _finite_or_none(s.capex_usd, 2),
        _finite_or_none(downtime, 4),
        strict=True,
    )
    features: list[Feature] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon[vi], lat[vi]]},
            "properties": {
                "village_id": ids[vi],
                "village_name": names[vi],
                "operator": results.operators[op],
                "kind": "upgrade" if up else "greenfield",
                "zone": v.zone_names[zones[vi]],
                "backhaul": BH_NAMES[bh],
                "backhaul_parent": parent,
                "claim_date": claim,
                "build_start_date": build,
                "on_air_date": on_air,
                "people_newly_covered": people,
                "villages_newly_covered": villages,
                "capex_usd": capex,
                "downtime_days": down,
            },
        }
        for (
            vi,
            op,
            up,
            bh,
            parent,
            claim,
            build,
            on_air,
            people,
            villages,
            capex,
            down,
        ) in columns
    ]
    return _collection(features)


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
    v = results.world.villages
    lon, lat = _lonlat(results)
    first = results.first_covered_day
    first_dates = _iso_dates(results.scenario.start_date, first)
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
    columns = zip(
        lon,
        lat,
        v.ids[idx].tolist(),
        v.names[idx].tolist(),
        v.population[idx].tolist(),
        v.zone[idx].tolist(),
        v.region[idx].tolist(),
        v.service[idx].tolist(),
        first_dates,
        has_site[idx].tolist(),
        strict=True,
    )
    features: list[Feature] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {
                "id": vid,
                "name": name,
                "population": pop,
                "zone": zone_names[z],
                "region": region_names[r],
                "initial_service": SERVICE_CODES[svc],
                "first_covered_date": fc,
                "covered": fc is not None,
                "has_site": site,
            },
        }
        for x, y, vid, name, pop, z, r, svc, fc, site in columns
    ]
    return _collection(features)


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
    s = results.sites
    w = results.world
    v = w.villages
    lon, lat = _lonlat(results)
    ids: list[str] = v.ids.tolist()
    x_km, y_km = v.x_km, v.y_km
    pops: list[int] = w.pops.tolist()
    on_air = _iso_dates(results.scenario.start_date, s.on_air_day)
    features: list[Feature] = []
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
        # Python floats: the same rounding on every platform, and json needs no numpy types.
        length = round(float(np.hypot(x_km[site] - x_km[src], y_km[site] - y_km[src])), 3)
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[lon[src], lat[src]], [lon[site], lat[site]]],
                },
                "properties": {
                    "village_id": ids[site],
                    "parent": parent,
                    "kind": BH_NAMES[bh],
                    "operator": results.operators[op],
                    "on_air_date": air,
                    "length_km": length,
                },
            }
        )
    return _collection(features)


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
