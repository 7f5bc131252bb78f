"""Peru's places as villages: their terrain, the starting network and the fibre (assumptions).

The data are INEI's 94,922 populated places (see :mod:`.peru_data` and docs/peru_data.md).
What the data do not say is how rugged each place is, where the fibre and the existing sites
are and when the fibre opened; the rules here are documented assumptions (docs/peru_model.md,
docs/peru_model.md), chosen to match the published counts:

* ruggedness: a district's median slope to its 6 nearest other district capitals (|Δaltitude|
  / distance, m per km), from the one altitude per district the data give;
* the national backbone (RDNFO) reaches 180 of the 196 provincial capitals: we take all
  provincial capitals but the 16 deepest in the Amazon — the jungle-zone capitals farthest
  from any coast or highlands provincial capital, where the backbone did not go; they are open
  from the start (built 2014–2016);
* the regional fibre projects reach about 1,516 district capitals: we take the 1,516 other
  district capitals nearest to the backbone; each opens when its department's regional network
  did (``geography.peru.regional_fibre``), or never;
* the starting network, either by assumption (urban places served, rural 2G sites at the
  largest rural places) or fitted to OSIPTEL's Sep 2018 counts: a 4G layer placed greedily
  until each zone's share of people covered is reached, then a pre-4G (2G/3G) layer placed
  greedily until the count of places with any signal is reached (:func:`fitted_start`).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from datetime import date

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..errors import ScenarioError
from ..scenario.schema import PeruOptions
from .coverage import CoverageIndex
from .peru_data import load_peru_places
from .villages import SERVICE_CODES, Villages, project

__all__ = [
    "BACKBONE_CAPITALS",
    "OPEN_FROM_START",
    "REGIONAL_CAPITALS",
    "RUGGEDNESS_NEIGHBOURS",
    "capital_kind",
    "district_ruggedness",
    "fitted_start",
    "greedy_4g_sites",
    "greedy_signal_sites",
    "peru_capitals",
    "peru_pop_openings",
    "peru_villages",
]

#: Provincial capitals on the national backbone (sources §3: 180 of 196).
BACKBONE_CAPITALS = 180
#: District capitals of the regional fibre projects (sources §3: about 1,516).
REGIONAL_CAPITALS = 1516
#: Opening ordinal of a PoP open from the start (before any date a scenario can start on).
OPEN_FROM_START = 0
#: Other district capitals a district's ruggedness is measured against: enough for a stable
#: median, few enough to stay local (the 6th nearest is a median 20 km away).
RUGGEDNESS_NEIGHBOURS = 6
#: Shortest distance between two capitals used as a slope's run, km: two capitals at one point
#: would otherwise make an infinite slope (none are closer than 0.45 km in the data).
_MIN_RUN_KM = 0.1


def capital_kind(codes: NDArray[np.str_]) -> NDArray[np.int8]:
    """0 = not a capital, 1 = district capital, 2 = provincial capital (from INEI codes).

    A district's capital is its place ``…0001``; a province's capital is the capital of its
    first district (district code ``PPQQ01``).
    """
    district = np.char.endswith(codes, "0001")
    provincial = district & (np.char.str_len(codes) == 10)
    provincial &= np.array([c[4:6] == "01" for c in codes.tolist()], dtype=bool)
    return np.where(provincial, 2, np.where(district, 1, 0)).astype(np.int8)


@functools.lru_cache(maxsize=1)
def district_ruggedness() -> tuple[NDArray[np.str_], NDArray[np.float64]]:
    """(district codes, sorted; ruggedness of each, m per km) over all of Peru.

    A district's ruggedness is the median over its :data:`RUGGEDNESS_NEIGHBOURS` nearest other
    district capitals of |Δaltitude| / distance: the data give one altitude per district (its
    capital's), so the slope between neighbouring capitals is the finest terrain measure there
    is. Always over the whole country, so a department alone has the same values as in the
    national world (its border districts' neighbours lie across the border). Measured: district
    quantiles 5/25/50/75/95% ≈ 0.6 / 5 / 15 / 30 / 64 m per km.
    """
    p = load_peru_places()
    caps = np.flatnonzero(capital_kind(p.code) >= 1)
    x, y = project(p.lat[caps], p.lon[caps], float(p.lat.mean()), float(p.lon.mean()))
    xy = np.column_stack([x, y])
    alt = p.altitude_m[caps].astype(np.float64)
    k = min(RUGGEDNESS_NEIGHBOURS, len(caps) - 1)
    if k < 1:
        return p.district_code[caps], np.zeros(len(caps))
    d, nb = cKDTree(xy).query(xy, k=k + 1)
    # Column 0 is the capital itself (distance 0): the neighbours are the other columns. With
    # several capitals at one point "itself" may come second; the floor on the run keeps such
    # a pair's slope finite either way.
    d, nb = d[:, 1:], nb[:, 1:]
    slope = np.abs(alt[nb] - alt[:, None]) / np.maximum(d, _MIN_RUN_KM)
    codes = p.district_code[caps]
    order = np.argsort(codes, kind="stable")
    return codes[order], np.median(slope, axis=1)[order]


def _place_ruggedness(district_code: NDArray[np.str_]) -> NDArray[np.float64]:
    """Each place's district ruggedness (a district without a capital in the data: 0)."""
    codes, values = district_ruggedness()
    at = np.minimum(np.searchsorted(codes, district_code), len(codes) - 1)
    found = codes[at] == district_code
    return np.where(found, values[at], 0.0).astype(np.float64)


def peru_villages(options: PeruOptions, departments: list[str] | None) -> Villages:
    """The Peru places (optionally some departments) as villages with their ruggedness and,
    with the old options, the starting network (the fitted one needs the coverage index:
    :func:`fitted_start`, once it is built)."""
    try:
        p = load_peru_places(departments)
    except ValueError as exc:
        raise ScenarioError(str(exc), where="geography.departments") from None
    n = len(p)
    zone_names = ("coast", "highlands", "jungle")
    zone = np.array([zone_names.index(z) for z in p.zone.tolist()], dtype=np.int16)
    region_names = tuple(sorted(set(p.department.tolist())))
    region = np.searchsorted(np.array(region_names), p.department).astype(np.int32)
    service = np.zeros(n, dtype=np.int8)
    if options.urban_service is not None:
        service[p.urban] = SERVICE_CODES.index(options.urban_service)
    villages = Villages(
        ids=p.code,
        names=p.name,
        lat=p.lat,
        lon=p.lon,
        population=p.population,
        zone=zone,
        zone_names=zone_names,
        region=region,
        region_names=region_names,
        service=service,
        urban=p.urban.copy(),
        poverty=np.clip(p.poverty_pct / 100.0, 0.0, 1.0),
        extreme_poverty=np.clip(p.extreme_poverty_pct / 100.0, 0.0, 1.0),
        ruggedness_m_per_km=_place_ruggedness(p.district_code),
    )
    if options.existing_2g_sites:
        assert options.existing_2g_spacing_km is not None
        picks = _spread_largest(
            villages, villages.rural, options.existing_2g_sites, options.existing_2g_spacing_km
        )
        villages.service[picks] = SERVICE_CODES.index("2g")
    return villages


def fitted_start(villages: Villages, coverage: CoverageIndex, options: PeruOptions) -> None:
    """The starting network fitted to OSIPTEL's Sep 2018 counts, written into
    ``villages.service``: the 4G layer (:func:`greedy_4g_sites`), then the pre-4G layer
    (:func:`greedy_signal_sites`). Sites are at the villages; both layers use *coverage*, the
    world's coverage index (so the terrain model when it is on)."""
    service = villages.service
    service[:] = SERVICE_CODES.index("none")
    covered = np.zeros(len(villages), dtype=bool)
    if options.start_4g_people_share:
        sites = greedy_4g_sites(villages, coverage, options.start_4g_people_share, covered)
        service[sites] = SERVICE_CODES.index("4g")
    if options.start_signal_places is not None:
        sites = greedy_signal_sites(
            villages, coverage, options.start_signal_places, covered, service != 2
        )
        service[sites] = SERVICE_CODES.index("2g")


def greedy_4g_sites(
    villages: Villages,
    coverage: CoverageIndex,
    people_share: dict[str, float],
    covered: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Existing 4G sites, in the order placed: zone by zone (in the villages' zone order), each
    at the village of the zone whose site newly covers the most of the zone's people (ties: the
    first village), until the zone's covered people reach its share. *covered* (in/out) marks
    the villages covered so far; a site covers villages of other zones too, and they count for
    theirs.

    Lazy greedy (as in CELF): a site's gain only falls as others are placed, so the heap's top
    is re-scored when popped and put back if it fell. O(sites · log n + covered pairs).
    """
    pop = villages.population
    indptr, indices = coverage.indptr, coverage.indices
    picks: list[int] = []
    for z, name in enumerate(villages.zone_names):
        share = people_share.get(name)
        if share is None:
            continue
        in_zone = villages.zone == z
        target = share * float(pop[in_zone].sum())
        weight = np.where(in_zone, pop, 0)
        reached = float(weight[covered].sum())
        if reached >= target:
            continue
        gain = np.add.reduceat(np.where(covered, 0, weight)[indices], indptr[:-1])
        cands = np.flatnonzero(in_zone & (gain > 0))
        heap: list[tuple[int, ...]] = list(
            zip((-gain[cands]).tolist(), cands.tolist(), strict=True)
        )
        people = functools.partial(_weight_of, weight)
        picks += _lazy_greedy(heap, coverage, covered, people, reached, target)
    return np.array(picks, dtype=np.int64)


def greedy_signal_sites(
    villages: Villages,
    coverage: CoverageIndex,
    places: int,
    signal: NDArray[np.bool_],
    eligible: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Pre-4G sites, in the order placed, each at the eligible village whose site newly covers
    the most places with no signal (ties: the most people, then the first village), until
    *places* villages have a signal. *signal* (in/out) marks the villages with one so far.
    Lazy greedy as :func:`greedy_4g_sites` (the key — places, then people — only falls)."""
    pop = villages.population
    indptr, indices = coverage.indptr, coverage.indices
    have = int(signal.sum())
    if have >= places:
        return np.zeros(0, dtype=np.int64)
    dark = ~signal
    n_gain = np.add.reduceat(dark[indices].astype(np.int64), indptr[:-1])
    p_gain = np.add.reduceat(np.where(dark, pop, 0)[indices], indptr[:-1])
    cands = np.flatnonzero(eligible & (n_gain > 0))
    heap: list[tuple[int, ...]] = list(
        zip((-n_gain[cands]).tolist(), (-p_gain[cands]).tolist(), cands.tolist(), strict=True)
    )

    def places_then_people(new: NDArray[np.int32]) -> tuple[int, int]:
        return len(new), int(pop[new].sum())

    picks = _lazy_greedy(heap, coverage, signal, places_then_people, have, places)
    return np.array(picks, dtype=np.int64)


def _weight_of(weight: NDArray[np.int64], new: NDArray[np.int32]) -> tuple[int]:
    """The key of a 4G site: the zone's people it newly covers."""
    return (int(weight[new].sum()),)


def _lazy_greedy(
    heap: list[tuple[int, ...]],
    coverage: CoverageIndex,
    covered: NDArray[np.bool_],
    score: Callable[[NDArray[np.int32]], tuple[int, ...]],
    reached: float,
    target: float,
) -> list[int]:
    """Sites picked from *heap* until *reached* gets to *target*, in the order picked: lazy
    greedy (as in CELF) for both starting layers.

    *heap* holds ``(*−key, village)`` for every candidate; ``score(new)`` is the key of a site
    that would newly cover villages *new* (compared as a tuple; its first part is what it adds
    to *reached*, and a site whose first part is 0 is dropped). A key only falls as sites are
    placed, so the top is re-scored when popped and put back if it fell; ties go to the
    smaller village. *covered* (in/out) marks the villages covered so far.
    """
    indptr, indices = coverage.indptr, coverage.indices
    heapq.heapify(heap)
    picks: list[int] = []
    while heap and reached < target:
        *stale, v = heap[0]
        cover = indices[indptr[v] : indptr[v + 1]]
        new = cover[~covered[cover]]
        key = score(new)
        if key != tuple(-k for k in stale):
            if key[0] > 0:
                heapq.heapreplace(heap, (*(-k for k in key), v))
            else:
                heapq.heappop(heap)
            continue
        heapq.heappop(heap)
        picks.append(v)
        covered[new] = True
        reached += key[0]
    return picks


def _spread_largest(
    villages: Villages, eligible: NDArray[np.bool_], count: int, spacing_km: float
) -> NDArray[np.int64]:
    """Up to *count* eligible villages, largest first, none within *spacing_km* of another pick
    or of an urban place. O(n log n)."""
    xy = villages.xy
    blocked = np.zeros(len(villages), dtype=bool)
    assert villages.urban is not None
    tree = cKDTree(xy)
    if villages.urban.any():
        near_urban = tree.query_ball_point(xy[villages.urban], spacing_km)
        for lst in near_urban:
            blocked[lst] = True
    order = np.lexsort((np.arange(len(villages)), -villages.population))
    picks: list[int] = []
    for i in order.tolist():
        if len(picks) >= count:
            break
        if not eligible[i] or blocked[i]:
            continue
        picks.append(i)
        blocked[tree.query_ball_point(xy[i], spacing_km)] = True
    return np.array(sorted(picks), dtype=np.int64)


def peru_capitals(villages: Villages, kind: str) -> NDArray[np.int64]:
    """Village indices of the fibre PoPs: 'provincial' or 'district' (see the module doc)."""
    caps = capital_kind(villages.ids)
    xy = villages.xy
    prov = np.flatnonzero(caps == 2)
    jungle = villages.zone_names.index("jungle") if "jungle" in villages.zone_names else -1
    deep = prov[villages.zone[prov] == jungle]
    andes = prov[villages.zone[prov] != jungle]
    drop = len(prov) - BACKBONE_CAPITALS
    if drop > 0 and len(deep) and len(andes):
        # Depth into the Amazon = distance to the nearest coast or highlands provincial capital.
        d, _ = cKDTree(xy[andes]).query(xy[deep])
        gone = deep[np.argsort(-d, kind="stable")[:drop]]
        prov = np.setdiff1d(prov, gone)
    if kind == "provincial":
        return prov.astype(np.int64)
    dist = np.flatnonzero(caps == 1)
    if len(prov) and len(dist) > REGIONAL_CAPITALS:
        d, _ = cKDTree(xy[prov]).query(xy[dist])
        dist = np.sort(dist[np.argsort(d, kind="stable")[:REGIONAL_CAPITALS]])
    return np.sort(np.concatenate([prov, dist])).astype(np.int64)


def peru_pop_openings(
    villages: Villages, pops: NDArray[np.int64], regional_fibre: dict[str, date | None]
) -> NDArray[np.int64]:
    """The date ordinal each PoP of :func:`peru_capitals` opens on: :data:`OPEN_FROM_START`
    for the backbone's provincial capitals; for a regional district capital, its department's
    date in *regional_fibre*, or -1 where that is null (no such PoP within the model)."""
    kinds = capital_kind(villages.ids[pops])
    dept = np.array(villages.region_names, dtype=np.str_)[villages.region[pops]]
    opens = np.full(len(pops), OPEN_FROM_START, dtype=np.int64)
    for name in np.unique(dept[kinds == 1]).tolist():
        day = regional_fibre.get(name)
        opens[(kinds == 1) & (dept == name)] = -1 if day is None else day.toordinal()
    return opens
