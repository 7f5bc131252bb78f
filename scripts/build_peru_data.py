#!/usr/bin/env python3
"""Build ``src/rollout_sim/data/peru_places.csv.gz`` from the raw INEI-derived tables.

What: one row per Peruvian populated place (centro poblado, 94,922 of them) with an imputed
population, a natural-region zone (coast / highlands / jungle), the district capital's altitude
and the district's monetary poverty rates.

Why: the raw tables (``data/raw/peru/``, from jmcastagnetto/ubigeo-peru-aumentado, INEI Census
2017) have no population per place and no natural region, and the simulator needs both. The
method is documented in ``docs/peru_data.md``; every tuning constant is defined and explained
below. The build is deterministic: one fixed seed, no other randomness, and a gzip header
without a timestamp, so rebuilding gives a byte-identical file.

Usage::

    python scripts/build_peru_data.py [--raw DIR] [--out FILE] [--quiet]

Only the standard library and numpy are used, so the script runs in the project's base
environment.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RAW = REPO_ROOT / "data" / "raw" / "peru"
DEFAULT_OUT = REPO_ROOT / "src" / "rollout_sim" / "data" / "peru_places.csv.gz"

# The one seed of the build (the census year). All random draws come from
# numpy.random.default_rng(SEED), drawn in place-code order.
SEED = 2017

# --- Census 2017 figures (docs/sources.md §3: INEI / gob.pe) ------------------------------
CENSUS_TOTAL = 29_381_884
CENSUS_URBAN = 23_311_893
CENSUS_RURAL = 6_069_991
N_PLACES = 94_922
N_URBAN_PLACES = 3_747
N_RURAL_PLACES = 91_175
# INEI 2017 population share by natural region (docs/sources.md §3), used only as a check.
INEI_ZONE_SHARE = {"coast": 58.0, "highlands": 28.1, "jungle": 13.9}

# --- Zone assignment (assumptions; see docs/peru_data.md) ---------------------------------
# A district whose capital lies at or above this altitude is "highlands" (an assumption).
HIGHLANDS_MIN_ALT_M = 2000.0
# Districts at or above this altitude trace the Andes' axis (same threshold: "high ground").
AXIS_HIGH_GROUND_M = 2000.0
# The axis is the median across-range position of the high ground in a window 150 km long
# (along the range) that slides in 10 km steps; windows with fewer than 5 high districts are
# skipped as too thin to locate the range. A sliding window, unlike fixed slices, does not
# depend on where slice edges happen to fall (fixed 100 km slices moved the Jaen/San Ignacio
# block, about 1% of the population, between coast and jungle depending on alignment).
AXIS_WINDOW_KM = 150.0
AXIS_STEP_KM = 10.0
AXIS_MIN_DISTRICTS = 5
# km per degree of latitude (mean value; precision is irrelevant at a 100 km slice).
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQUATOR = 111.32

# --- Rural place sizes (assumptions; see docs/peru_data.md) -------------------------------
# Heavy tail: each rural place gets a lognormal draw with this log-sd (median/mean = 0.49).
RURAL_SIGMA = 1.2
# A district's typical rural place grows with its people per place, to this power, ...
RURAL_SCALE_BETA = 0.7
# ... but only up to this many people per place: beyond it a district is urbanised and its
# extra people live in its towns, not in bigger hamlets.
RURAL_SCALE_CAP = 300.0
# No rural place above this size (INEI: rural = fewer than 100 contiguous dwellings).
RURAL_PLACE_MAX = 1000.0
# Rural places never hold more than this share of their district (its towns keep >= 10%);
# the approach to it is smooth (exponent 2), so districts don't pile up at the limit.
RURAL_MAX_SHARE = 0.9
RURAL_SATURATION_EXP = 2.0

# --- Urban split (assumptions) -------------------------------------------------------------
# The district capital has weight 1; each other urban place a lognormal weight with this
# median and log-sd, capped below 1 so the capital stays the district's biggest urban place.
URBAN_OTHER_MEDIAN = 0.25
URBAN_OTHER_SIGMA = 0.8
URBAN_OTHER_MAX = 0.9
# A non-capital urban place is urban because it has >= 100 contiguous dwellings (INEI); at about
# 3 people per dwelling that is >= 300 people. Rural places leave room for that in each district
# (the rural share limit shrinks accordingly, never below RURAL_MIN_MAX_SHARE).
URBAN_OTHER_MIN = 300
RURAL_MIN_MAX_SHARE = 0.5

# Quotas are rounded to this many decimals before integer apportionment, so that last-bit
# floating-point differences (e.g. SIMD vs scalar exp/log) cannot change the output.
QUOTA_DECIMALS = 6

ZONES = ("coast", "highlands", "jungle")
OUT_COLUMNS = (
    "code",
    "name",
    "district_code",
    "department",
    "province",
    "district",
    "lat",
    "lon",
    "urban",
    "zone",
    "population",
    "altitude_m",
    "poverty_pct",
    "extreme_poverty_pct",
)


class BuildError(RuntimeError):
    """Raised when the raw data break an assumption the build relies on."""


def _check(condition: bool, message: str) -> None:
    # Explicit checks rather than `assert`, so they also run under `python -O`.
    if not condition:
        raise BuildError(message)


def _float_or_nan(text: str) -> float:
    # The raw files write missing values as "NA" and a few unknown areas as "S.I.".
    try:
        return float(text)
    except ValueError:
        return math.nan


def _read_csv_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Places:
    """The raw places, sorted by code."""

    code: list[str]
    name: list[str]
    district_code: list[str]
    department: list[str]
    province: list[str]
    district: list[str]
    lat: FloatArray
    lon: FloatArray
    urban: BoolArray
    capital: BoolArray
    district_index: IntArray  # index into Districts arrays


@dataclass(frozen=True)
class Districts:
    """The districts that have at least one place, sorted by code."""

    code: list[str]
    area_km2: FloatArray
    density: FloatArray
    altitude_m: FloatArray
    lat: FloatArray
    lon: FloatArray
    poverty: FloatArray
    extreme_poverty: FloatArray
    n_places: IntArray
    n_urban: IntArray


def read_places(raw: Path) -> list[dict[str, str]]:
    """Read and validate ``ubigeo_ccpp.csv.gz``; return its rows sorted by place code."""
    rows = _read_csv_gz(raw / "ubigeo_ccpp.csv.gz")
    rows.sort(key=lambda r: r["inei_ccpp"])
    codes = [r["inei_ccpp"] for r in rows]
    _check(len(rows) == N_PLACES, f"expected {N_PLACES} places, got {len(rows)}")
    _check(len(set(codes)) == len(codes), "place codes are not unique")
    for r in rows:
        _check(len(r["inei_ccpp"]) == 10 and r["inei_ccpp"].isdigit(), f"bad code {r['inei_ccpp']}")
        _check(
            r["inei_ccpp"].startswith(r["inei_distrito"]),
            f"place {r['inei_ccpp']} is not in district {r['inei_distrito']}",
        )
        _check(r["tipo"] in ("Urban", "Rural"), f"unknown tipo {r['tipo']!r}")
    n_urban = sum(r["tipo"] == "Urban" for r in rows)
    _check(n_urban == N_URBAN_PLACES, f"expected {N_URBAN_PLACES} urban places, got {n_urban}")
    return rows


def _level_indicators(path: Path) -> dict[str, tuple[float, float]]:
    """Poverty and extreme poverty by INEI code for a province or department table."""
    out: dict[str, tuple[float, float]] = {}
    for r in _read_csv_gz(path):
        out[r["inei"]] = (
            _float_or_nan(r["pct_pobreza_total"]),
            _float_or_nan(r["pct_pobreza_extrema"]),
        )
    return out


def build_tables(raw: Path) -> tuple[Places, Districts, dict[str, int]]:
    """Join places to districts, fill the poverty gaps, and return both tables.

    The third value counts the fills, for the report.
    """
    rows = read_places(raw)
    district_rows = {r["inei"]: r for r in _read_csv_gz(raw / "ubigeo_distrito.csv.gz")}
    provinces = _level_indicators(raw / "ubigeo_provincia.csv.gz")
    departments = _level_indicators(raw / "ubigeo_departamento.csv.gz")

    dcodes = sorted({r["inei_distrito"] for r in rows})
    for dc in dcodes:
        _check(dc in district_rows, f"district {dc} missing from ubigeo_distrito")
    index = {dc: i for i, dc in enumerate(dcodes)}
    d_of_place = np.array([index[r["inei_distrito"]] for r in rows], dtype=np.int64)
    urban = np.array([r["tipo"] == "Urban" for r in rows], dtype=np.bool_)
    # INEI numbers each district's capital 0001 (checked below: it is urban in every district,
    # and it is the urban place nearest to the capital coordinates in ubigeo_distrito).
    capital = np.array([r["inei_ccpp"].endswith("0001") for r in rows], dtype=np.bool_)
    n_d = len(dcodes)
    _check(
        np.bincount(d_of_place[capital], minlength=n_d).tolist() == [1] * n_d,
        "every district needs exactly one place coded ...0001 (its capital)",
    )
    _check(bool(np.all(urban[capital])), "a district capital (...0001) is not urban")

    def dcol(name: str) -> FloatArray:
        return np.array([_float_or_nan(district_rows[dc][name]) for dc in dcodes])

    poverty = dcol("pct_pobreza_total")
    extreme = dcol("pct_pobreza_extrema")
    # Names are district attributes: each district takes the spelling most of its place rows
    # use. A handful of rows differ (typos such as "HUANCA SANTOS", a mis-encoded "FERREÑAFE").
    spellings: dict[str, Counter[tuple[str, str, str]]] = {}
    for r in rows:
        key = (r["departamento"], r["provincia"], r["distrito"])
        spellings.setdefault(r["inei_distrito"], Counter())[key] += 1
    names = {dc: c.most_common(1)[0][0] for dc, c in spellings.items()}
    renamed = sum(sum(c.values()) - c[names[dc]] for dc, c in spellings.items())
    fills = {"poverty_from_province": 0, "poverty_from_department": 0, "renamed_rows": renamed}
    # Fill missing district poverty with the province's value, else the department's.
    for i, dc in enumerate(dcodes):
        if math.isnan(poverty[i]) or math.isnan(extreme[i]):
            prov = provinces.get(dc[:4] + "00", (math.nan, math.nan))
            dept = departments.get(dc[:2] + "0000", (math.nan, math.nan))
            if not (math.isnan(prov[0]) or math.isnan(prov[1])):
                poverty[i], extreme[i] = prov
                fills["poverty_from_province"] += 1
            else:
                _check(not (math.isnan(dept[0]) or math.isnan(dept[1])), f"no poverty for {dc}")
                poverty[i], extreme[i] = dept
                fills["poverty_from_department"] += 1

    districts = Districts(
        code=dcodes,
        area_km2=dcol("superficie"),
        density=dcol("pob_densidad_2020"),
        altitude_m=dcol("altitude"),
        lat=dcol("latitude"),
        lon=dcol("longitude"),
        poverty=poverty,
        extreme_poverty=extreme,
        n_places=np.bincount(d_of_place, minlength=n_d).astype(np.int64),
        n_urban=np.bincount(d_of_place[urban], minlength=n_d).astype(np.int64),
    )
    for name in ("altitude_m", "lat", "lon"):
        _check(
            not bool(np.isnan(getattr(districts, name)).any()),
            f"a district with places lacks {name}",
        )
    places = Places(
        code=[r["inei_ccpp"] for r in rows],
        name=[r["ccpp"] for r in rows],
        district_code=[r["inei_distrito"] for r in rows],
        department=[names[r["inei_distrito"]][0] for r in rows],
        province=[names[r["inei_distrito"]][1] for r in rows],
        district=[names[r["inei_distrito"]][2] for r in rows],
        lat=np.array([float(r["latitude"]) for r in rows]),
        lon=np.array([float(r["longitude"]) for r in rows]),
        urban=urban,
        capital=capital,
        district_index=d_of_place,
    )
    return places, districts, fills


# --- Integer apportionment -----------------------------------------------------------------


def apportion(quotas: FloatArray, total: int, minimum: IntArray | int = 1) -> IntArray:
    """Round non-negative ``quotas`` to integers that sum to ``total`` exactly.

    Each element first gets its ``minimum``; the rest of ``total`` is split in proportion to
    what each quota asks beyond its minimum, by largest remainder (Hamilton's method). Ties go
    to the lower index, so the result is deterministic.
    """
    n = quotas.shape[0]
    mins = np.broadcast_to(np.asarray(minimum, dtype=np.int64), (n,))
    remaining = total - int(mins.sum())
    _check(remaining >= 0, f"cannot give {n} elements their minimum out of {total}")
    q = np.round(quotas, QUOTA_DECIMALS)
    extra = np.maximum(q - mins, 0.0)
    extra_sum = math.fsum(extra.tolist())
    if extra_sum <= 0.0:
        extra = np.ones(n)
        extra_sum = float(n)
    share = extra * (remaining / extra_sum)
    base = np.floor(share)
    left = remaining - int(base.sum())
    frac = np.round(share - base, 9)
    # Largest remainder first; np.lexsort sorts by the last key first, ties by index.
    order = np.lexsort((np.arange(n), -frac))
    result = base.astype(np.int64)
    result[order[:left]] += 1
    out: IntArray = mins + result
    _check(int(out.sum()) == total, "apportionment lost people")
    return out


# --- District totals -----------------------------------------------------------------------


def district_totals(districts: Districts) -> tuple[IntArray, list[str]]:
    """Census-2017 population per district: area x 2020 density, rescaled to the census total.

    Districts without area or density (new districts, "S.I." in the source) get the median
    people-per-place of the other districts of their province times their own number of
    places. Returns the integer totals and the codes of the filled districts.
    """
    raw_pop = districts.area_km2 * districts.density
    missing = np.isnan(raw_pop)
    filled: list[str] = []
    provinces = np.array([c[:4] for c in districts.code])
    for i in np.flatnonzero(missing):
        peers = (provinces == provinces[i]) & ~missing
        _check(bool(peers.any()), f"district {districts.code[i]} has no province peers")
        per_place = float(np.median(raw_pop[peers] / districts.n_places[peers]))
        raw_pop[i] = per_place * float(districts.n_places[i])
        filled.append(districts.code[i])
    # The 2020 densities sum to more than the 2017 census; a uniform rescale keeps each
    # district's relative size. Every district keeps at least one person per place.
    quotas = raw_pop * (CENSUS_TOTAL / math.fsum(raw_pop.tolist()))
    return apportion(quotas, CENSUS_TOTAL, districts.n_places), filled


# --- Zones ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AndesAxis:
    """The Andes' axis as a polyline of (lat, lon), latitude strictly increasing."""

    lat: FloatArray
    lon: FloatArray

    def lon_at(self, lat: FloatArray) -> FloatArray:
        """Longitude of the axis at each latitude.

        Beyond the axis' ends it continues due north/south: the data hold no high ground there
        to say which way the range turns, and a meridian is the neutral choice.
        """
        out: FloatArray = np.interp(lat, self.lat, self.lon)
        return out


def andes_axis(districts: Districts) -> AndesAxis:
    """Trace the Andes' axis from the district capitals at or above 2,000 m.

    The Andes run NW-SE through Peru and bend towards east-west in the south, so the high ground
    is scanned along the range (its principal direction), not by latitude: the axis is the
    median across-range position of the high districts in a 150 km window sliding along the
    range in 10 km steps.
    """
    high = districts.altitude_m >= AXIS_HIGH_GROUND_M
    lat0 = float(np.mean(districts.lat[high]))
    kx = KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    pts = np.column_stack((districts.lon[high] * kx, districts.lat[high] * KM_PER_DEG_LAT))
    centre = pts.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(np.cov((pts - centre).T))
    along = eigvec[:, int(np.argmax(eigval))]
    if along[1] > 0:  # orient the along-range direction southwards
        along = -along
    across = np.array([-along[1], along[0]])  # 90 degrees to the left: points east-northeast
    u = (pts - centre) @ along
    v = (pts - centre) @ across

    u_min, u_max = float(u.min()), float(u.max())
    n_steps = math.floor((u_max - u_min) / AXIS_STEP_KM) + 1
    centres: list[float] = []
    medians: list[float] = []
    for k in range(n_steps):
        c = u_min + k * AXIS_STEP_KM
        in_window = np.abs(u - c) <= AXIS_WINDOW_KM / 2
        if int(in_window.sum()) >= AXIS_MIN_DISTRICTS:
            centres.append(c)
            medians.append(float(np.median(v[in_window])))
    xy = centre + np.outer(np.array(centres), along) + np.outer(np.array(medians), across)
    lon = xy[:, 0] / kx
    lat = xy[:, 1] / KM_PER_DEG_LAT
    order = np.argsort(lat)
    lat, lon = lat[order], lon[order]
    _check(bool(np.all(np.diff(lat) > 0)), "the Andes axis is not monotonic in latitude")
    return AndesAxis(lat=lat, lon=lon)


def district_zones(districts: Districts, axis: AndesAxis) -> list[str]:
    """Natural region per district: >= 2,000 m highlands; lower and east of the axis jungle;
    else coast."""
    east = districts.lon > axis.lon_at(districts.lat)
    high = districts.altitude_m >= HIGHLANDS_MIN_ALT_M
    return [
        "highlands" if hi else ("jungle" if e else "coast")
        for hi, e in zip(high.tolist(), east.tolist(), strict=True)
    ]


# --- Place populations ---------------------------------------------------------------------


def _lognormal(rng: np.random.Generator, n: int, sigma: float) -> FloatArray:
    """n lognormal(0, sigma) draws from uniform doubles through the stdlib's inverse normal.

    Uniform doubles are the most stable part of numpy's Generator stream, and the inverse CDF
    is pure Python, so the draws don't depend on numpy's normal-sampling algorithm.
    """
    u = rng.random(n)
    inv = NormalDist().inv_cdf
    # random() lies in [0, 1); move an exact 0 (probability 2**-53) inside the open interval.
    z = np.array([inv(x) if x > 0.0 else inv(2.0**-54) for x in u.tolist()])
    out: FloatArray = np.exp(sigma * z)
    return out


def _saturate(r: FloatArray, limit: FloatArray) -> FloatArray:
    """Smooth cap on a district's rural share: ~r when r is small, -> ``limit`` when large."""
    k = RURAL_SATURATION_EXP
    out: FloatArray = r / (1.0 + (r / limit) ** k) ** (1.0 / k)
    return out


def impute_population(
    places: Places, districts: Districts, totals: IntArray, rng: np.random.Generator
) -> tuple[IntArray, dict[str, float]]:
    """Population per place; rural places sum to CENSUS_RURAL and districts to ``totals``.

    Rural: place i in district d asks for s * g_d * z_i people (z_i heavy-tailed, g_d the
    district's typical place size), at most RURAL_PLACE_MAX; if a district's rural places ask
    for a share r of its total, they get a smoothly capped share (see ``_saturate``) instead.
    The single scale s is found by bisection so the rural national total is exact.
    Urban: each district's remainder is split among its urban places, the capital first.
    """
    n = len(places.code)
    d = places.district_index
    n_d = len(districts.code)
    rural = ~places.urban
    total_f = totals.astype(np.float64)

    # Draws in place-code order: first one size draw per place (used by rural places), then
    # one weight draw per place (used by non-capital urban places). Drawing for every place
    # keeps each place's draw fixed however the others are classified.
    z = _lognormal(rng, n, RURAL_SIGMA)
    w_draw = URBAN_OTHER_MEDIAN * _lognormal(rng, n, URBAN_OTHER_SIGMA)

    # Largest rural share per district: RURAL_MAX_SHARE, less the room its non-capital urban
    # places need, but never below RURAL_MIN_MAX_SHARE.
    reserve = URBAN_OTHER_MIN * (districts.n_urban - 1).astype(np.float64)
    limit = np.clip(1.0 - reserve / total_f, RURAL_MIN_MAX_SHARE, RURAL_MAX_SHARE)

    per_place = total_f / districts.n_places
    g = np.minimum(per_place, RURAL_SCALE_CAP) ** RURAL_SCALE_BETA
    base = np.where(rural, g[d] * z, 0.0)

    def rural_alloc(scale: float) -> FloatArray:
        ask = np.minimum(scale * base, RURAL_PLACE_MAX)
        ask_d = np.bincount(d, weights=ask, minlength=n_d)
        give_d = total_f * _saturate(ask_d / total_f, limit)
        ratio = np.divide(give_d, ask_d, out=np.zeros(n_d), where=ask_d > 0)
        out: FloatArray = ask * ratio[d]
        return out

    def rural_sum(scale: float) -> float:
        return math.fsum(rural_alloc(scale).tolist())

    lo, hi = 0.0, 1.0
    while rural_sum(hi) < CENSUS_RURAL:
        lo, hi = hi, hi * 2.0
        _check(hi < 1e9, "cannot reach the census rural total")
    for _ in range(100):  # enough to converge to the last bit
        mid = 0.5 * (lo + hi)
        if rural_sum(mid) < CENSUS_RURAL:
            lo = mid
        else:
            hi = mid
    scale = 0.5 * (lo + hi)
    rural_quota = rural_alloc(scale)

    pop = np.zeros(n, dtype=np.int64)
    rural_idx = np.flatnonzero(rural)
    pop[rural_idx] = apportion(rural_quota[rural_idx], CENSUS_RURAL, 1)

    rural_d = np.bincount(d, weights=pop * rural, minlength=n_d).astype(np.int64)
    urban_d = totals - rural_d
    _check(bool(np.all(urban_d >= districts.n_urban)), "a district has too few urban people")

    weight = np.where(places.capital, 1.0, np.minimum(w_draw, URBAN_OTHER_MAX))
    urban_idx = np.flatnonzero(places.urban)
    # Urban places are contiguous in code order within a district only by accident, so group
    # them explicitly (the index order is stable: code order inside each district).
    by_district: dict[int, list[int]] = {}
    for i in urban_idx.tolist():
        by_district.setdefault(int(d[i]), []).append(i)
    for di, members in by_district.items():
        idx = np.array(members, dtype=np.int64)
        u_total = int(urban_d[di])
        quota = weight[idx] * (u_total / math.fsum(weight[idx].tolist()))
        # Non-capital urban places get URBAN_OTHER_MIN people where the district has them,
        # else an equal share of its urban people (so the capital, which gets what is left,
        # is never smaller than that floor).
        n_other = len(members) - 1
        other_min = min(URBAN_OTHER_MIN, u_total // (n_other + 1)) if n_other else 0
        mins = np.where(places.capital[idx], 1, max(other_min, 1)).astype(np.int64)
        pop[idx] = apportion(quota, u_total, mins)

    info = {
        "rural_scale": scale,
        "districts_limit_below_max": float(np.sum(limit < RURAL_MAX_SHARE)),
        "districts_limit_at_min": float(np.sum(limit <= RURAL_MIN_MAX_SHARE)),
        "rural_at_max": float(np.sum(rural_quota[rural_idx] >= RURAL_PLACE_MAX - 0.5)),
    }
    return pop, info


# --- Output --------------------------------------------------------------------------------


def render_csv(
    places: Places,
    districts: Districts,
    zones: Sequence[str],
    population: IntArray,
) -> bytes:
    """The output table as CSV bytes (UTF-8, ``\\n`` line ends, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(OUT_COLUMNS)
    d = places.district_index.tolist()
    alt = np.round(districts.altitude_m).astype(np.int64).tolist()
    pov = districts.poverty.tolist()
    ext = districts.extreme_poverty.tolist()
    lat = places.lat.tolist()
    lon = places.lon.tolist()
    urb = places.urban.tolist()
    pop = population.tolist()
    for i, di in enumerate(d):
        writer.writerow(
            (
                places.code[i],
                places.name[i],
                places.district_code[i],
                places.department[i],
                places.province[i],
                places.district[i],
                f"{lat[i]:.6f}",
                f"{lon[i]:.6f}",
                "1" if urb[i] else "0",
                zones[di],
                str(pop[i]),
                str(alt[di]),
                f"{pov[di]:.2f}",
                f"{ext[di]:.2f}",
            )
        )
    return buf.getvalue().encode("utf-8")


def write_gzip_atomic(data: bytes, out: Path) -> None:
    """Write ``data`` gzip-compressed to ``out`` via a temporary file and ``os.replace``.

    mtime=0 and an empty stored file name make the bytes depend on ``data`` only.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file as 0600; give the result the old file's mode, else rw-r--r--.
    mode = out.stat().st_mode & 0o777 if out.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as raw_file:
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw_file, compresslevel=9, mtime=0
            ) as gz:
                gz.write(data)
            raw_file.flush()
            os.fsync(raw_file.fileno())
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# --- Report --------------------------------------------------------------------------------


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%"


def report_lines(
    places: Places,
    districts: Districts,
    zones: Sequence[str],
    population: IntArray,
    totals: IntArray,
    density_filled: Iterable[str],
    fills: dict[str, int],
    info: dict[str, float],
) -> list[str]:
    """Markdown tables with the checks quoted in docs/peru_data.md."""
    pop = population
    rural = ~places.urban
    dept = np.array(places.department)
    zone_of_place = np.array([zones[i] for i in places.district_index.tolist()])
    lines = ["## Build checks", ""]
    lines += [
        f"- seed {SEED}; rural scale s = {info['rural_scale']:.4f}; rural places at the "
        f"{RURAL_PLACE_MAX:.0f}-person limit: {int(info['rural_at_max'])}; districts whose rural "
        f"share limit is lowered for their urban places: "
        f"{int(info['districts_limit_below_max'])} (at the {RURAL_MIN_MAX_SHARE:.0%} floor: "
        f"{int(info['districts_limit_at_min'])})",
        f"- districts with filled area x density: {', '.join(density_filled) or 'none'}",
        f"- place rows whose department/province/district spelling was replaced by their "
        f"district's majority spelling: {fills['renamed_rows']}",
        f"- poverty filled from province: {fills['poverty_from_province']} districts with "
        f"places; from department: {fills['poverty_from_department']}; districts whose "
        "published extreme poverty exceeds total poverty (kept as published): "
        f"{int(np.sum(districts.extreme_poverty > districts.poverty))}",
        f"- places {len(pop):,}; total {int(pop.sum()):,}; urban {int(pop[~rural].sum()):,}; "
        f"rural {int(pop[rural].sum()):,}; min place {int(pop.min())}",
        f"- rural places: median {float(np.median(pop[rural])):.0f}, mean "
        f"{float(pop[rural].mean()):.1f}, max {int(pop[rural].max())}; < 150 people "
        f"{_pct(float(np.sum(pop[rural] < 150)), float(rural.sum()))}",
        f"- all places < 150 people: {int(np.sum(pop < 150)):,} "
        f"({_pct(float(np.sum(pop < 150)), len(pop))}); < 50: {int(np.sum(pop < 50)):,} "
        f"({_pct(float(np.sum(pop < 50)), len(pop))})",
        f"- district capitals: 1st percentile {float(np.percentile(pop[places.capital], 1)):.0f},"
        f" median {float(np.median(pop[places.capital])):.0f}; non-capital urban places "
        f"< 300 people: {int(np.sum((pop < 300) & places.urban & ~places.capital))} of "
        f"{int(np.sum(places.urban & ~places.capital))}",
    ]
    cap_pop = np.zeros(len(districts.code), dtype=np.int64)
    cap_pop[places.district_index[places.capital]] = pop[places.capital]
    bigger = pop > cap_pop[places.district_index]
    lines.append(
        "- districts where a place outsizes the capital: "
        f"{len(set(places.district_index[bigger & places.urban].tolist()))} (by an urban place), "
        f"{len(set(places.district_index[bigger & rural].tolist()))} (by a rural place)"
    )
    share_rural_d = 1.0 - np.bincount(
        places.district_index, weights=pop * places.urban, minlength=len(districts.code)
    ) / totals.astype(np.float64)
    lines.append(
        "- rural share of district population, quartiles over districts: "
        + " / ".join(f"{q:.2f}" for q in np.percentile(share_rural_d, [25, 50, 75]).tolist())
    )
    lines += [
        "",
        "| zone | population | share | INEI 2017 | districts | places |",
        "|---|---|---|---|---|---|",
    ]
    for zone in ZONES:
        m = zone_of_place == zone
        lines.append(
            f"| {zone} | {int(pop[m].sum()):,} | {_pct(float(pop[m].sum()), float(pop.sum()))} "
            f"| {INEI_ZONE_SHARE[zone]:.1f}% | {sum(z == zone for z in zones)} | {int(m.sum()):,} |"
        )
    lines += [
        "",
        "| department | places | urban places | population | rural pop. | rural share "
        "| places < 150 | places < 50 | places >= 2,000 (their pop. share) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(set(places.department)):
        m = dept == name
        p = pop[m]
        big = p >= 2000
        lines.append(
            f"| {name} | {int(m.sum()):,} | {int(places.urban[m].sum()):,} | {int(p.sum()):,} "
            f"| {int(pop[m & rural].sum()):,} | {_pct(float(pop[m & rural].sum()), float(p.sum()))}"
            f" | {_pct(float(np.sum(p < 150)), len(p))} | {_pct(float(np.sum(p < 50)), len(p))}"
            f" | {int(big.sum())} ({_pct(float(p[big].sum()), float(p.sum()))}) |"
        )
    cusco = dept == "CUSCO"
    lines += [
        "",
        f"- CUSCO: non-capital places < 150 people: "
        f"{int(np.sum(cusco & ~places.capital & (pop < 150))):,} of {int(cusco.sum()):,} "
        "(INEI via rsdot: 8,105 of 8,968)",
    ]
    tacna = dept == "TACNA"
    tp = pop[tacna]
    lines.append(
        f"- TACNA: places < 50 people: {_pct(float(np.sum(tp < 50)), len(tp))} of {len(tp)}; "
        f"places >= 2,000: {int(np.sum(tp >= 2000))} holding "
        f"{_pct(float(tp[tp >= 2000].sum()), float(tp.sum()))} (INEI via rsdot: 84%; 8 places, "
        "88%)"
    )
    return lines


def build(raw: Path, out: Path, quiet: bool = False) -> list[str]:
    """Run the whole build; write ``out`` and return the report lines."""
    places, districts, fills = build_tables(raw)
    totals, density_filled = district_totals(districts)
    zones = district_zones(districts, andes_axis(districts))
    rng = np.random.default_rng(SEED)
    population, info = impute_population(places, districts, totals, rng)

    _check(int(population.sum()) == CENSUS_TOTAL, "total differs from the census")
    _check(int(population[~places.urban].sum()) == CENSUS_RURAL, "rural total differs")
    _check(int(population[places.urban].sum()) == CENSUS_URBAN, "urban total differs")
    _check(int(population.min()) >= 1, "a place has no people")

    write_gzip_atomic(render_csv(places, districts, zones, population), out)
    lines = report_lines(places, districts, zones, population, totals, density_filled, fills, info)
    if not quiet:
        print("\n".join(lines))
        print(f"\nwrote {out} ({out.stat().st_size:,} bytes)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="raw data directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .csv.gz file")
    parser.add_argument("--quiet", action="store_true", help="don't print the check report")
    args = parser.parse_args(argv)
    try:
        build(args.raw, args.out, quiet=args.quiet)
    except (BuildError, OSError) as exc:
        print(f"build_peru_data: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
