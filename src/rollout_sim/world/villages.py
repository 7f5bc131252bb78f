"""Villages as a structure of arrays, the projection to km, and the synthetic generator.

A :class:`Villages` table holds one numpy array per attribute so that spatial joins and
coverage updates are vectorised; nothing in the model loops over villages in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..arrays import FloatArray, IntArray
from ..scenario.schema import SyntheticGeography
from ..scenario.types import MAX_POPULATION

__all__ = [
    "EARTH_RADIUS_KM",
    "SERVICE_CODES",
    "Villages",
    "project",
    "synthetic_villages",
    "unproject",
]

EARTH_RADIUS_KM: Final = 6371.0088
#: Initial mobile service of a village; "2g" villages host a site that can be upgraded.
SERVICE_CODES: Final = ("none", "2g", "4g")


def project(
    lat: FloatArray, lon: FloatArray, lat0: float, lon0: float
) -> tuple[FloatArray, FloatArray]:
    """Sinusoidal projection about (lat0, lon0) to km.

    Equal-area with true scale along every parallel and the central meridian, so distances up
    to a few tens of km (coverage radii, microwave hops) are within ~1% across a country the
    size of Peru; an equirectangular projection would be ~5% off at its edges.
    """
    phi = np.radians(lat)
    x = EARTH_RADIUS_KM * np.radians(lon - lon0) * np.cos(phi)
    y = EARTH_RADIUS_KM * (phi - np.radians(lat0))
    return x, y


def unproject(
    x: FloatArray, y: FloatArray, lat0: float, lon0: float
) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`project`."""
    phi = y / EARTH_RADIUS_KM + np.radians(lat0)
    lat = np.degrees(phi)
    lon = lon0 + np.degrees(x / (EARTH_RADIUS_KM * np.cos(phi)))
    return lat, lon


@dataclass(frozen=True, eq=False)
class Villages:
    """All villages of a world, one array per attribute (index = village number)."""

    ids: NDArray[np.str_]
    names: NDArray[np.str_]
    lat: FloatArray
    lon: FloatArray
    population: IntArray
    zone: NDArray[np.int16]
    zone_names: tuple[str, ...]
    region: NDArray[np.int32]
    region_names: tuple[str, ...]
    service: NDArray[np.int8]
    #: INEI's urban places (Peru data); none elsewhere. Coverage shares are of rural people.
    urban: NDArray[np.bool_] | None = None
    #: Share of people in monetary poverty and extreme poverty (0..1), where the data give it
    #: (Peru: the district's INEI rates); None elsewhere.
    poverty: FloatArray | None = None
    extreme_poverty: FloatArray | None = None
    #: How steep the terrain around the village is, m of climb per km (0 = flat, the default);
    #: shrinks a site's reach under ``coverage.terrain``.
    ruggedness_m_per_km: FloatArray | None = None
    x_km: FloatArray = field(init=False)
    y_km: FloatArray = field(init=False)
    #: (n, 2) projected coordinates, km (computed once: the engine reads it per relay).
    xy: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in ("names", "lat", "lon", "population", "zone", "region", "service"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"villages: column {name} has {len(getattr(self, name))} rows")
        if self.urban is None:
            object.__setattr__(self, "urban", np.zeros(n, dtype=bool))
        if self.ruggedness_m_per_km is None:
            object.__setattr__(self, "ruggedness_m_per_km", np.zeros(n, dtype=np.float64))
        elif len(self.ruggedness_m_per_km) != n:
            raise ValueError(
                f"villages: column ruggedness_m_per_km has {len(self.ruggedness_m_per_km)} rows"
            )
        lat0 = float(np.mean(self.lat)) if n else 0.0
        lon0 = float(np.mean(self.lon)) if n else 0.0
        x, y = project(self.lat, self.lon, lat0, lon0)
        object.__setattr__(self, "x_km", x)
        object.__setattr__(self, "y_km", y)
        object.__setattr__(self, "xy", np.column_stack([x, y]))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def total_population(self) -> int:
        return int(self.population.sum())

    @property
    def rural(self) -> NDArray[np.bool_]:
        """Villages that are not urban places."""
        assert self.urban is not None
        return ~self.urban

    @property
    def rural_population(self) -> int:
        return int(self.population[self.rural].sum())

    def index_of(self) -> dict[str, int]:
        """Village id → index."""
        return {str(v): i for i, v in enumerate(self.ids.tolist())}

    def subset(self, keep: NDArray[np.bool_]) -> Villages:
        """The villages where *keep* is true: every column cut to them (the names of zones
        and regions kept, and a column the villages do not have stays absent)."""
        cut: dict[str, Any] = {}
        for f in fields(self):
            if f.init:  # not the projected coordinates: they are computed again
                value = getattr(self, f.name)
                cut[f.name] = value[keep] if isinstance(value, np.ndarray) else value
        return Villages(**cut)


def synthetic_villages(spec: SyntheticGeography, seed: int) -> Villages:
    """Generate a clustered region of villages.

    Villages are drawn around cluster centres (a Thomas process: normal offsets of
    ``cluster_sd_km``) plus a uniform background; cluster sizes vary (gamma weights), the village
    nearest each centre is the cluster's town (about 20× the median size), and the others have
    log-normal populations. Zones are west-to-east bands; regions are Voronoi cells around random
    centres. O(n log n). The same spec and seed always give the same villages.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x3C01D,)))
    n = spec.villages
    w, h = spec.width_km, spec.height_km
    n_bg = round(n * spec.background_share)
    n_cl = n - n_bg
    k = min(spec.clusters, max(n_cl, 1))

    centres = rng.uniform((0.0, 0.0), (w, h), size=(k, 2))
    weights = rng.gamma(0.8, size=k) + 1e-9
    members = rng.choice(k, size=n_cl, p=weights / weights.sum())
    members[: min(k, n_cl)] = np.arange(min(k, n_cl))  # every cluster gets its town
    xy_cl = centres[members] + rng.normal(0.0, spec.cluster_sd_km, size=(n_cl, 2))
    xy_cl[: min(k, n_cl)] = centres[: min(k, n_cl)]
    xy_bg = rng.uniform((0.0, 0.0), (w, h), size=(n_bg, 2))
    xy = np.vstack([xy_cl, xy_bg])
    # Reflect points that fell outside the box back in (keeps density near edges honest).
    for axis, size in ((0, w), (1, h)):
        v = np.abs(xy[:, axis]) % (2 * size)
        xy[:, axis] = np.where(v > size, 2 * size - v, v)

    pop = rng.lognormal(np.log(spec.population_median), spec.population_sigma, size=n)
    towns = min(k, n_cl)
    pop[:towns] = rng.lognormal(np.log(spec.population_median * 20.0), 0.8, size=towns)
    # Clipped to the most a village file may hold: the tail of a wide log-normal around a large
    # median would otherwise reach sizes no place has (and beyond int64).
    population = np.clip(np.rint(pop), 1, MAX_POPULATION).astype(np.int64)

    zone_names = tuple(spec.zones)
    shares = np.array(list(spec.zones.values()), dtype=float)
    edges = np.cumsum(shares / shares.sum())[:-1] * w
    zone = np.searchsorted(edges, xy[:, 0], side="right").astype(np.int16)

    region_centres = rng.uniform((0.0, 0.0), (w, h), size=(spec.regions, 2))
    _, region = cKDTree(region_centres).query(xy)
    region_names = tuple(f"region-{i + 1}" for i in range(spec.regions))

    # Per zone, as the spec gives it; a zone it does not name is flat.
    rugged_by_zone = np.array([spec.ruggedness_m_per_km.get(z, 0.0) for z in zone_names])

    service = np.zeros(n, dtype=np.int8)
    n2g = round(n * spec.share_2g)
    if n2g:
        order = np.lexsort((np.arange(n), -population))
        service[order[:n2g]] = 1

    lat, lon = unproject(xy[:, 0] - w / 2, xy[:, 1] - h / 2, spec.origin_lat, spec.origin_lon)
    width = len(str(n))
    ids = np.array([f"v{i:0{width}d}" for i in range(n)])
    names = np.array([f"Village {i}" for i in range(n)])
    return Villages(
        ids=ids,
        names=names,
        lat=np.round(lat, 6),
        lon=np.round(lon, 6),
        population=population,
        zone=zone,
        zone_names=zone_names,
        region=np.asarray(region, dtype=np.int32),
        region_names=region_names,
        service=service,
        ruggedness_m_per_km=rugged_by_zone.astype(np.float64)[zone],
    )
