"""Peru's places as villages, and where its fibre and existing sites are (assumptions).

The data are INEI's 94,922 populated places (see :mod:`.peru_data` and docs/peru_data.md).
What the data do not say is where the fibre and the existing sites are; the rules here are
documented assumptions (docs/peru_model.md), chosen to match the published counts:

* the national backbone (RDNFO) reaches 180 of the 196 provincial capitals (FACTS §3): we take
  all provincial capitals but the 16 deepest in the Amazon — the jungle-zone capitals farthest
  from any coast or highlands provincial capital, where the backbone did not go;
* the regional fibre projects reach about 1,516 district capitals (FACTS §3): we take the 1,516
  other district capitals nearest to the backbone;
* urban places are already served (4G by default) in mid-2019;
* rural 2G sites that can be upgraded sit at the largest rural places, spread apart.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..errors import ScenarioError
from ..scenario.schema import PeruOptions
from .peru_data import load_peru_places
from .villages import SERVICE_CODES, Villages

__all__ = [
    "BACKBONE_CAPITALS",
    "REGIONAL_CAPITALS",
    "capital_kind",
    "peru_capitals",
    "peru_villages",
]

#: Provincial capitals on the national backbone (FACTS §3: 180 of 196).
BACKBONE_CAPITALS = 180
#: District capitals of the regional fibre projects (FACTS §3: about 1,516).
REGIONAL_CAPITALS = 1516


def capital_kind(codes: NDArray[np.str_]) -> NDArray[np.int8]:
    """0 = not a capital, 1 = district capital, 2 = provincial capital (from INEI codes).

    A district's capital is its place ``…0001``; a province's capital is the capital of its
    first district (district code ``PPQQ01``).
    """
    district = np.char.endswith(codes, "0001")
    provincial = district & (np.char.str_len(codes) == 10)
    provincial &= np.array([c[4:6] == "01" for c in codes.tolist()], dtype=bool)
    return np.where(provincial, 2, np.where(district, 1, 0)).astype(np.int8)


def peru_villages(options: PeruOptions, departments: list[str] | None) -> Villages:
    """The Peru places (optionally some departments) as villages with a starting network."""
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
    )
    if options.existing_2g_sites:
        picks = _spread_largest(
            villages, villages.rural, options.existing_2g_sites, options.existing_2g_spacing_km
        )
        villages.service[picks] = SERVICE_CODES.index("2g")
    return villages


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
