"""GeoJSON exports and maps of a small synthetic run.

The GeoJSON checks tie every export back to the results it came from: RFC 7946 structure,
[lon, lat] order (the synthetic world sits near 12° S, 75° W, so a swap cannot pass), the
``sites.csv`` rows, the daily coverage series and the projected lengths the model used. The map
checks render to PNG and inspect the figure objects (aspect, panels, titles), never timing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rollout_sim import Results, load_scenario, simulate
from rollout_sim.maps import map_figure, snapshot_days, snapshots_figure
from rollout_sim.model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_SATELLITE
from rollout_sim.plots import save_figure
from rollout_sim.report.geojson import (
    backhaul_geojson,
    sites_geojson,
    villages_geojson,
    write_geojson,
)
from rollout_sim.report.writer import SITES_COLUMNS, sites_rows

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = date(2020, 1, 1)


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(
        load_scenario(
            {
                "name": "geo",
                "seed": 3,
                "start_date": "2020-01-01",
                "horizon_years": 3,
                "geography": {"synthetic": {"villages": 400}},
                "operators": [{"name": "op", "cash_usd": 5e6, "build_crews": 6}],
            }
        )
    )


def _iso(day: float) -> str | None:
    return None if not np.isfinite(day) else (START + timedelta(days=int(day))).isoformat()


def _lonlat(results: Results, village: int) -> list[float]:
    v = results.world.villages
    return [round(float(v.lon[village]), 6), round(float(v.lat[village]), 6)]


def _index(results: Results) -> dict[str, int]:
    return results.world.villages.index_of()


# --- structure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "geometry"),
    [(sites_geojson, "Point"), (villages_geojson, "Point"), (backhaul_geojson, "LineString")],
)
def test_rfc7946_structure(
    results: Results, make: Callable[[Results], dict[str, Any]], geometry: str
) -> None:
    doc = make(results)
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc  # RFC 7946 §4: WGS 84 only, no crs member
    assert doc["features"], "the run should give features of every kind"
    json.dumps(doc, allow_nan=False)  # plain JSON: no numpy types, no NaN
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert set(f) == {"type", "geometry", "properties"}
        geom = f["geometry"]
        assert geom["type"] == geometry
        positions = [geom["coordinates"]] if geometry == "Point" else geom["coordinates"]
        if geometry == "LineString":
            assert len(positions) == 2
            assert positions[0] != positions[1]  # no degenerate lines
        for pos in positions:
            assert len(pos) == 2
            lon, lat = pos
            assert isinstance(lon, float)
            assert isinstance(lat, float)
            assert -180.0 <= lon <= 180.0
            assert -90.0 <= lat <= 90.0
            assert round(lon, 6) == lon
            assert round(lat, 6) == lat


def test_world_is_where_a_swap_would_show(results: Results) -> None:
    # The checks below rely on lon and lat being far apart; pin that premise.
    v = results.world.villages
    assert float(v.lon.max()) < -70.0
    assert float(v.lat.min()) > -20.0


def test_points_are_lon_lat_of_their_village(results: Results) -> None:
    index = _index(results)
    villages = villages_geojson(results)["features"]
    for i in (0, 1, 57, 399):
        assert villages[i]["geometry"]["coordinates"] == _lonlat(results, i)
        assert villages[i]["properties"]["id"] == str(results.world.villages.ids[i])
    sites = sites_geojson(results)["features"]
    for row in (0, 5, len(sites) - 1):
        vi = int(results.sites.village[row])
        assert sites[row]["geometry"]["coordinates"] == _lonlat(results, vi)
        assert index[sites[row]["properties"]["village_id"]] == vi
    for f in backhaul_geojson(results)["features"][:10]:
        site = index[f["properties"]["village_id"]]
        assert f["geometry"]["coordinates"][1] == _lonlat(results, site)


# --- sites -------------------------------------------------------------------------------


def test_sites_match_sites_csv(results: Results) -> None:
    s = results.sites
    features = sites_geojson(results)["features"]
    assert len(features) == len(s) > 20  # checked against the results, not a pinned count
    props = [f["properties"] for f in features]
    assert [p["on_air_date"] for p in props] == [_iso(d) for d in s.on_air_day]
    assert [p["claim_date"] for p in props] == [_iso(d) for d in s.claim_day]
    assert sum(p["on_air_date"] is None for p in props) == int((~np.isfinite(s.on_air_day)).sum())
    # Every column the two outputs share says the same thing ("" in the CSV is null here).
    col = {name: i for i, name in enumerate(SITES_COLUMNS)}
    shared = [
        "village_id",
        "village_name",
        "operator",
        "kind",
        "zone",
        "backhaul",
        "backhaul_parent",
        "build_start_date",
        "on_air_date",
        "people_newly_covered",
        "villages_newly_covered",
    ]
    for p, row in zip(props, sites_rows(results), strict=True):
        for name in shared:
            value = row[col[name]]
            assert (p[name] if p[name] is not None else "") == value, name
        assert p["capex_usd"] == pytest.approx(float(row[col["capex_usd"]]), abs=0.005)
    assert [p["downtime_days"] for p in props] == pytest.approx(
        results.site_downtime_days.tolist(), abs=1e-4
    )
    kinds = [p["backhaul"] for p in props]
    from rollout_sim.model.backhaul import BH_NAMES

    expected = [BH_NAMES[int(k)] for k in results.sites.backhaul]
    assert kinds == expected and len(set(kinds)) == 3  # fibre, microwave and satellite all occur
    parents = [p["backhaul_parent"] for p in props if p["backhaul"] == "microwave"]
    assert all(p.startswith("pop:") or p in _index(results) for p in parents)
    assert all(p["backhaul_parent"] == "" for p in props if p["backhaul"] != "microwave")


# --- villages ----------------------------------------------------------------------------


def test_villages_round_trip_the_daily_series(results: Results) -> None:
    features = villages_geojson(results)["features"]
    assert len(features) == len(results.world) == 400
    first = [f["properties"]["first_covered_date"] for f in features]
    covered = np.isfinite(results.first_covered_day)
    assert [d is not None for d in first] == covered.tolist()
    assert [f["properties"]["covered"] for f in features] == covered.tolist()
    daily = results.daily["villages_covered"]
    for d in (0, 29, 100, 365, 700, results.horizon_days - 1):
        on = (START + timedelta(days=d)).isoformat()
        # ISO dates compare correctly as strings.
        count = sum(1 for x in first if x is not None and x <= on)
        assert count == int(daily[d]), on
    assert sum(1 for x in first if x is not None) == int(daily[-1]) > 50


def test_village_properties(results: Results) -> None:
    v = results.world.villages
    features = villages_geojson(results)["features"]
    p = features[0]["properties"]
    assert list(p) == [
        "id",
        "name",
        "population",
        "zone",
        "region",
        "initial_service",
        "first_covered_date",
        "covered",
        "has_site",
    ]
    assert [f["properties"]["population"] for f in features] == v.population.tolist()
    assert sum(f["properties"]["population"] for f in features) == results.total_population
    services = [f["properties"]["initial_service"] for f in features]
    assert (services.count("none"), services.count("2g"), services.count("4g")) == (380, 20, 0)
    with_site = {i for i, f in enumerate(features) if f["properties"]["has_site"]}
    assert with_site == set(results.sites.village.tolist())
    zones = [f["properties"]["zone"] for f in features]
    assert zones == [v.zone_names[z] for z in v.zone.tolist()]


# --- backhaul ----------------------------------------------------------------------------


def test_backhaul_lines(results: Results) -> None:
    s = results.sites
    w = results.world
    v = w.villages
    index = _index(results)
    features = backhaul_geojson(results)["features"]
    by_kind: dict[str, list[dict[str, Any]]] = {"microwave": [], "fibre": []}
    for f in features:
        by_kind[f["properties"]["kind"]].append(f)

    # Microwave: one line per microwave site (parents are always known), parent → site.
    mw_rows = np.flatnonzero(s.backhaul == BH_MICROWAVE)
    parent_village = [int(w.pops[-1 - p]) if p < 0 else int(p) for p in s.parent[mw_rows]]
    assert len(by_kind["microwave"]) == len(mw_rows) > 5
    for f, row, src in zip(by_kind["microwave"], mw_rows, parent_village, strict=True):
        site = int(s.village[row])
        assert f["properties"]["village_id"] == str(v.ids[site])
        assert f["geometry"]["coordinates"] == [_lonlat(results, src), _lonlat(results, site)]
        p = int(s.parent[row])
        assert f["properties"]["parent"] == (f"pop:{-1 - p}" if p < 0 else str(v.ids[p]))
        assert f["properties"]["on_air_date"] == _iso(s.on_air_day[row])

    # Fibre: from the nearest PoP's village; a site at the PoP's own village has no line.
    fibre_rows = np.flatnonzero(s.backhaul == BH_FIBRE)
    spurs = [r for r in fibre_rows if int(w.pops[w.pop_nearest[s.village[r]]]) != s.village[r]]
    assert len(by_kind["fibre"]) == len(spurs) > 0
    for f, row in zip(by_kind["fibre"], spurs, strict=True):
        site = int(s.village[row])
        k = int(w.pop_nearest[site])
        assert f["properties"]["parent"] == f"pop:{k}"
        assert f["geometry"]["coordinates"][0] == _lonlat(results, int(w.pops[k]))

    # Lengths are the projected distances between the endpoints' villages.
    for f in features:
        site = index[f["properties"]["village_id"]]
        parent = f["properties"]["parent"]
        src = int(w.pops[int(parent[4:])]) if parent.startswith("pop:") else index[parent]
        expected = math.hypot(v.x_km[site] - v.x_km[src], v.y_km[site] - v.y_km[src])
        assert f["properties"]["length_km"] == pytest.approx(expected, abs=5e-4)
        assert f["properties"]["length_km"] > 0.0

    satellite = {str(v.ids[i]) for i in s.village[s.backhaul == BH_SATELLITE]}
    assert satellite
    assert not satellite & {f["properties"]["village_id"] for f in features}


# --- writing -----------------------------------------------------------------------------


def test_write_geojson_round_trips_and_is_deterministic(results: Results, tmp_path: Path) -> None:
    for make in (sites_geojson, villages_geojson, backhaul_geojson):
        doc = make(results)
        path = tmp_path / "out" / f"{make.__name__}.geojson"
        write_geojson(doc, path)
        first = path.read_bytes()
        with open(path, encoding="utf-8") as fh:
            assert json.load(fh) == doc
        write_geojson(make(results), path)
        assert path.read_bytes() == first
    # Only the finished files are left: no temporary files beside them.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "backhaul_geojson.geojson",
        "sites_geojson.geojson",
        "villages_geojson.geojson",
    ]


# --- maps --------------------------------------------------------------------------------


def _expected_aspect(results: Results) -> float:
    return 1.0 / math.cos(math.radians(float(np.mean(results.world.villages.lat))))


def _check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3
    assert float(pixels.std()) > 0.0  # not a blank image


def test_map_figure(results: Results, tmp_path: Path) -> None:
    fig = map_figure(results)
    ax = fig.axes[0]
    aspect = ax.get_aspect()
    assert isinstance(aspect, float)
    assert aspect == pytest.approx(_expected_aspect(results))
    assert aspect == pytest.approx(1.0 / math.cos(math.radians(-12.0)), rel=0.01)
    assert fig.get_suptitle() == "geo: where and when coverage arrived (seed 3)"
    assert ax.get_xlabel() == "longitude (°)"
    # No village has 4G at the start, so the colour bar has one class per calendar year.
    cbar_ax = fig.axes[1]
    assert [t.get_text() for t in cbar_ax.get_yticklabels()] == ["2020", "2021", "2022"]
    assert len(fig.legends) == 1
    # The village layers hold every village once: never covered, then covered.
    offsets = [np.asarray(c.get_offsets()).shape[0] for c in ax.collections[:2]]
    covered = int(np.isfinite(results.first_covered_day).sum())
    assert offsets == [400 - covered, covered]
    path = tmp_path / "map.png"
    save_figure(fig, path)
    _check_png(path)


def test_map_colour_classes_with_existing_4g(results: Results) -> None:
    # Villages first covered on day 0 (existing 4G) get their own class before the years.
    first = results.first_covered_day.copy()
    first[:3] = 0.0
    fig = map_figure(dataclasses.replace(results, first_covered_day=first))
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == ["at start", "2020", "2021", "2022"]
    plt.close(fig)


def test_snapshot_days(results: Results) -> None:
    # 2020 is a leap year: 31 Dec 2020 is day 365, 2021's is day 730, the horizon day 1095.
    assert results.horizon_days == 1096
    assert snapshot_days(results) == [365, 730, 1095]
    assert snapshot_days(results, [2021]) == [730, 1095]
    assert snapshot_days(results, [2022, 2030]) == [1095]
    with pytest.raises(ValueError, match="2019"):
        snapshot_days(results, [2019])


def test_snapshots_figure(results: Results, tmp_path: Path) -> None:
    fig = snapshots_figure(results)
    panels = [ax for ax in fig.axes if ax.collections]
    assert len(panels) == len(fig.axes) == 3
    share = results.daily["coverage_share"]
    assert [ax.get_title() for ax in panels] == [
        f"2020-12-31\n{share[365]:.1%} of people",
        f"2021-12-31\n{share[730]:.1%} of people",
        f"2022-12-31\n{share[1095]:.1%} of people",
    ]
    for ax in panels:
        assert ax.get_aspect() == pytest.approx(_expected_aspect(results))
    # The covered layer of each panel holds exactly the villages covered by that day's end.
    daily = results.daily["villages_covered"]
    assert [np.asarray(ax.collections[1].get_offsets()).shape[0] for ax in panels] == [
        int(daily[365]),
        int(daily[730]),
        int(daily[1095]),
    ]
    path = tmp_path / "snapshots.png"
    save_figure(fig, path)
    _check_png(path)

    two = snapshots_figure(results, years=[2021])
    assert len([ax for ax in two.axes if ax.collections]) == 2
    save_figure(two, tmp_path / "two.png")
