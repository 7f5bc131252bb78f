"""Read villages from CSV or GeoJSON point files, with one clear error line per problem.

CSV columns: ``id, name, lat, lon, population`` (required) and ``zone, region, service,
ruggedness_m_per_km`` (optional; service ``3g`` is read as the pre-4G code ``2g``, ruggedness
defaults to 0 = flat). GeoJSON: a FeatureCollection of Point features whose properties carry
the same names (``lat``/``lon`` come from the geometry, in RFC 7946 lon/lat order).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fileio import decode_text, read_user_file
from ..scenario.types import MAX_VILLAGES
from .villages import SERVICE_CODES, Villages

__all__ = [
    "MAX_VILLAGE_FILE_BYTES",
    "MAX_ZONES",
    "REQUIRED_COLUMNS",
    "read_village_bytes",
    "read_villages",
]

REQUIRED_COLUMNS = ("id", "name", "lat", "lon", "population")
OPTIONAL_COLUMNS = ("zone", "region", "service")
#: Optional too, for terrain-aware coverage (m of climb per km; 0 = flat when absent).
RUGGEDNESS_COLUMN = "ruggedness_m_per_km"
#: Service words a file may use for the pre-4G code: 3G sites, like 2G ones, are upgraded to 4G
#: (the model has no separate 3G layer).
_SERVICE_ALIASES = {"3g": "2g"}
#: Steepest ruggedness a file may give, m of climb per km (10 km up per km across: beyond any
#: terrain; the value only divides a site's reach).
MAX_RUGGEDNESS_M_PER_KM = 10_000.0
#: Largest village file read (bytes). Peru's 94,922 places are about 8 MB of CSV; a million
#: villages (the most a world may have) as GeoJSON is about 200 MB.
MAX_VILLAGE_FILE_BYTES = 200_000_000
#: Most distinct zones in a village file (each needs a value in every per-zone table).
MAX_ZONES = 1000


def read_village_bytes(path: str | Path) -> bytes:
    """The bytes of a village file: a regular file of at most ``MAX_VILLAGE_FILE_BYTES``, or
    one error line (see :func:`rollout_sim.fileio.read_user_file`)."""
    return read_user_file(
        path,
        what="village file",
        expected="a regular village file (CSV or GeoJSON)",
        max_bytes=MAX_VILLAGE_FILE_BYTES,
        size_note="(about a million villages)",
    )


def read_villages(path: str | Path, *, default_zone: str, default_region: str) -> Villages:
    """Read a village file (format by extension: .csv, .geojson/.json)."""
    p = Path(path)
    source = str(p)
    raw = read_village_bytes(p)
    text = decode_text(raw, source=source, encoding="utf-8-sig")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text, source)
    elif suffix in (".geojson", ".json"):
        rows = _geojson_rows(text, source)
    else:
        raise InputError(
            "unknown village file type; expected .csv, .geojson or .json", source=source
        )
    return _build(rows, source, default_zone, default_region)


#: Header names people use for the required columns (case is ignored).
HEADER_ALIASES = {
    "latitude": "lat",
    "longitude": "lon",
    "lng": "lon",
    "long": "lon",
    "pop": "population",
}
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")
_KNOWN = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, RUGGEDNESS_COLUMN}
#: Numeric columns whose decimal comma is read when the file uses another delimiter.
_NUMERIC = ("lat", "lon", "population", "ruggedness_m_per_km")


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV file: the one of ``,`` ``;`` tab ``|`` that splits its first
    line into the most known column names (a spreadsheet in a Spanish locale writes ``;``)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    known = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, RUGGEDNESS_COLUMN, *HEADER_ALIASES}

    def score(d: str) -> int:
        return sum(c.strip().strip('"').lower() in known for c in first.split(d))

    return max((",", ";", "\t", "|"), key=score)


def _canonical(name: str) -> str:
    """A header name as the model knows it: aliases (latitude → lat) and case ignored."""
    low = name.lower()
    return HEADER_ALIASES.get(low, low if low in _KNOWN else name)


def _decimal(value: Any) -> Any:
    """A number written with a decimal comma (``-12,5``, ``1.234,5``) in the usual form."""
    if not isinstance(value, str) or "," not in value:
        return value
    return value.replace(".", "").replace(",", ".") if "." in value else value.replace(",", ".")


def _csv_rows(text: str, source: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    # newline="": the csv module splits lines itself (\r, \r\n, newlines inside quotes)
    delimiter = sniff_delimiter(text)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = _csv_dict_rows(reader, text, source)
        if delimiter == ",":
            yield from rows
            return
        # With ';' (or tab, '|') the comma is free to be the decimal mark, as Excel writes it
        # in Spanish and many other locales.
        for where, row in rows:
            out = {k: (_decimal(v) if k in _NUMERIC else v) for k, v in row.items()}
            pop = out.get("population")
            if isinstance(pop, str) and _THOUSANDS.fullmatch(pop.strip()):
                out["population"] = pop.replace(".", "")  # 1.234 people: a thousands point
            yield where, out
    except csv.Error as exc:
        line = reader.reader.line_num  # DictReader's own count lags behind on errors
        raise InputError(
            f"not a readable CSV file ({exc})", source=source, where=f"line {line}"
        ) from None


def _csv_dict_rows(
    reader: csv.DictReader[str], text: str, source: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    header = [_canonical(h.strip()) for h in (reader.fieldnames or [])]
    if not header:
        if text.strip():
            raise InputError(
                "the first line is empty; expected a CSV header", source=source, where="line 1"
            )
        raise InputError("the file is empty; expected a CSV header", source=source)
    reader.fieldnames = header
    repeated = sorted(
        {
            c
            for c in header
            if c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, RUGGEDNESS_COLUMN)
            and header.count(c) > 1
        }
    )
    if repeated:
        raise InputError(
            f"column{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} given more than "
            "once; expected each column once",
            source=source,
            where="line 1",
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"expected columns {', '.join(REQUIRED_COLUMNS)} (+ optional "
            f"{', '.join(OPTIONAL_COLUMNS)})",
            source=source,
        )
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        # DictReader puts extra fields under the key None and fills missing ones with None
        fields = len(header) + len(row.get(None) or ()) - sum(v is None for v in row.values())
        if fields != len(header):
            spans = (
                f" (a quoted field opened on line {start} runs to line {end}: is its closing "
                'quote (") missing?)'
                if end > start
                else ""
            )
            raise InputError(
                f"has {fields} fields, header has {len(header)}{spans}",
                source=source,
                where=f"line {start}",
            )
        yield f"line {end}", row


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long for ``int`` (Python refuses over 4,300 digits) as the
    float it is (inf), for the checks of its column to refuse with their own line."""
    return int(text) if len(text) <= (sys.get_int_max_str_digits() or 4300) else float(text)


def _geojson_rows(text: str, source: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        doc = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}", source=f"{source}:{exc.lineno}:{exc.colno}"
        ) from None
    except RecursionError:
        raise InputError(
            "invalid GeoJSON: nested too deeply; expected a FeatureCollection of points",
            source=source,
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("expected a GeoJSON FeatureCollection", source=source)
    features = doc.get("features")
    if not isinstance(features, list):
        raise InputError("expected a list", source=source, where="features")
    for i, feat in enumerate(features):
        where = f"features[{i}]"
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise InputError("expected a Feature with Point geometry", source=source, where=where)
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise InputError(
                "expected [lon, lat] coordinates", source=source, where=f"{where}.geometry"
            )
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise InputError("expected an object", source=source, where=f"{where}.properties")
        row = dict(props)
        row["lon"], row["lat"] = coords[0], coords[1]
        if "id" not in row and "id" in feat:
            row["id"] = feat["id"]
        for col in ("id", "name", "population"):
            if col not in row:
                raise InputError(
                    f"missing property {col!r}", source=source, where=f"{where}.properties"
                )
        yield where, row


def _bad_cell(message: str, source: str, where: str, column: str, value: Any) -> InputError:
    """An error in *column* of the row at *where*, naming the value found there."""
    return InputError(message, source=source, where=f"{where}, column {column}", value=value)


def _number(value: Any, source: str, where: str, col: str) -> float:
    try:
        if isinstance(value, bool):  # JSON true/false would otherwise pass as 1/0
            raise TypeError
        x = float(value)
    except OverflowError:  # a JSON integer beyond the float range
        x = math.inf
    except (TypeError, ValueError):
        raise _bad_cell("expected a number", source, where, col, value) from None
    if not math.isfinite(x):
        raise _bad_cell("expected a finite number", source, where, col, value)
    return x


def _build(
    rows: Iterator[tuple[str, Mapping[str, Any]]],
    source: str,
    default_zone: str,
    default_region: str,
) -> Villages:
    ids: list[str] = []
    names: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    pop: list[int] = []
    zones: list[str] = []
    regions: list[str] = []
    service: list[int] = []
    rugged: list[float] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if len(ids) >= MAX_VILLAGES:
            raise InputError(
                f"more than {MAX_VILLAGES:,} villages; expected at most that many",
                source=source,
                where=where,
            )
        vid = str(row.get("id") if row.get("id") is not None else "").strip()
        if not vid:
            raise InputError("empty village id", source=source, where=f"{where}, column id")
        if vid in seen:
            raise _bad_cell(
                f"duplicate village id (first at {seen[vid]})", source, where, "id", vid
            )
        seen[vid] = where
        la = _number(row.get("lat"), source, where, "lat")
        lo = _number(row.get("lon"), source, where, "lon")
        for column, value, limit, name in (
            ("lat", la, 90, "latitude"),
            ("lon", lo, 180, "longitude"),
        ):
            if not -limit <= value <= limit:
                raise _bad_cell(
                    f"{name} must be within -{limit}..{limit}",
                    source,
                    where,
                    column,
                    row.get(column),
                )
        p = _number(row.get("population"), source, where, "population")
        if p < 0 or p != int(p) or p > 1e9:
            raise _bad_cell(
                "population must be a whole number from 0 to 1e9",
                source,
                where,
                "population",
                row.get("population"),
            )
        svc = str(row.get("service") or "none").strip().lower()
        svc = _SERVICE_ALIASES.get(svc, svc)
        if svc not in SERVICE_CODES:
            raise _bad_cell(
                f"service must be one of {', '.join(SERVICE_CODES)}",
                source,
                where,
                "service",
                row.get("service"),
            )
        ids.append(vid)
        names.append(str(row.get("name") or vid))
        lat.append(la)
        lon.append(lo)
        pop.append(int(p))
        zones.append(str(row.get("zone") or "").strip() or default_zone)
        regions.append(str(row.get("region") or "").strip() or default_region)
        service.append(SERVICE_CODES.index(svc))
        raw_rugged = row.get(RUGGEDNESS_COLUMN)
        r = 0.0
        if raw_rugged is not None and str(raw_rugged).strip() != "":
            r = _number(raw_rugged, source, where, "ruggedness_m_per_km")
            if not 0 <= r <= MAX_RUGGEDNESS_M_PER_KM:
                raise _bad_cell(
                    f"ruggedness must be from 0 to {MAX_RUGGEDNESS_M_PER_KM:,.0f} m per km",
                    source,
                    where,
                    "ruggedness_m_per_km",
                    raw_rugged,
                )
        rugged.append(r)
    if not ids:
        raise InputError("no villages in the file; expected at least one row", source=source)
    zone_names = tuple(sorted(set(zones)))
    if len(zone_names) > MAX_ZONES:
        raise InputError(
            f"{len(zone_names):,} different zones; expected at most {MAX_ZONES:,} (each needs "
            "a value in every per-zone table of the scenario)",
            source=source,
        )
    region_names = tuple(sorted(set(regions)))
    zone_code = {z: i for i, z in enumerate(zone_names)}
    region_code = {r: i for i, r in enumerate(region_names)}
    return Villages(
        ids=np.array(ids),
        names=np.array(names),
        lat=np.array(lat, dtype=np.float64),
        lon=np.array(lon, dtype=np.float64),
        population=np.array(pop, dtype=np.int64),
        zone=np.array([zone_code[z] for z in zones], dtype=np.int16),
        zone_names=zone_names,
        region=np.array([region_code[r] for r in regions], dtype=np.int32),
        region_names=region_names,
        service=np.array(service, dtype=np.int8),
        ruggedness_m_per_km=np.array(rugged, dtype=np.float64),
    )
