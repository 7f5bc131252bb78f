"""GeoJSON exports and maps of a small synthetic run.

The GeoJSON checks tie every export back to the results it came from: RFC 7946 structure,
[lon, lat] order (the synthetic world sits near 12° S, 75° W, so a swap cannot pass), the
``sites.csv`` rows, the daily coverage series and the projected lengths the model used. The map
checks render to PNG and inspect the figure objects (aspect, panels, titles), never timing.
"""

from __future__ import annotations

import dataclasses
import io
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
from rollout_sim.model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_SATELLITE
from rollout_sim.plots import (
    RolloutAnimation,
    map_figure,
    maps,
    rollout_days,
    save_figure,
    snapshot_days,
    snapshots_figure,
    write_rollout_gif,
)
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
    # A fibre site names the PoP its spur runs to; a satellite site has no parent.
    assert all(p["backhaul_parent"].startswith("pop:") for p in props if p["backhaul"] == "fibre")
    assert all(p["backhaul_parent"] == "" for p in props if p["backhaul"] == "satellite")


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
    reached = int(results.daily["people_covered"][-1]) - results.initial_people_covered
    share = float(results.daily["people_covered_share"][-1])
    assert fig.get_suptitle() == (
        "geo: where and when coverage arrived (seed 3)\n"
        f"to 2022-12-31: {reached:,} people reached; {share:.1%} of all people covered"
    )
    assert ax.get_xlabel() == "longitude (°)"
    # No village has 4G at the start, so the colour bar has one class per calendar year.
    cbar_ax = fig.axes[1]
    assert [t.get_text() for t in cbar_ax.get_yticklabels()] == ["2020", "2021", "2022"]
    assert len(fig.legends) == 1
    # The village layers hold every village once: never covered, then one layer per year
    # (one colour each), later years drawn on top.
    offsets = [np.asarray(c.get_offsets()).shape[0] for c in ax.collections[:4]]
    first = results.first_covered_day
    year = np.full(400, -1)
    for k, y in enumerate((2020, 2021, 2022)):
        days = (date(y, 1, 1) - START).days, (date(y + 1, 1, 1) - START).days
        year[(first >= days[0]) & (first < days[1])] = k
    year[(first >= 1096) & np.isfinite(first)] = 2  # switched on at the horizon: the last year
    assert offsets == [int((year < 0).sum()), *(int((year == k).sum()) for k in range(3))]
    assert sum(offsets[1:]) == int(np.isfinite(first).sum())
    assert [len(np.unique(c.get_facecolors(), axis=0)) for c in ax.collections[1:4]] == [1, 1, 1]
    path = tmp_path / "map.png"
    save_figure(fig, path)
    _check_png(path)


def test_map_legend_gives_every_kind_its_own_marker(results: Results) -> None:
    fig = map_figure(results)
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [
        "never covered",
        "fibre site",
        "microwave site",
        "satellite site",
        "dot: upgraded 2G site (none: new)",
        "not on air yet",
        "microwave hop",
        "fibre PoP",
        "depot",
    ]

    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import DrawingArea

    # What each entry draws (the upgrade's entry: a circle with a dot inside it).
    styles = [
        tuple(
            sorted(
                (str(a.get_marker()), str(a.get_markerfacecolor()), str(a.get_markeredgecolor()),
                 str(a.get_linestyle()), a.get_markersize())
                for a in box.get_children()
                if isinstance(a, Line2D)
            )
        )
        for box in legend.findobj(DrawingArea)
    ]  # fmt: skip
    assert len(styles) == len(labels)
    assert len(set(styles)) == len(styles)  # no two entries look alike
    assert sum(len(s) == 2 for s in styles) == 1  # one composite glyph: the upgrade
    # The plot uses those markers: a dot layer holds exactly the upgrades, fibre sites are
    # circles, PoPs hollow stars under the sites.
    ax = fig.axes[0]
    s = results.sites
    layers = {
        (c.get_paths()[0].vertices.shape[0], len(c.get_offsets()), c.get_zorder())
        for c in ax.collections
        if hasattr(c, "get_offsets")
    }
    assert any(n == int(s.upgrade.sum()) and z == maps._Z_SITES for _, n, z in layers)
    pops = [c for c in ax.collections if len(c.get_offsets()) == len(results.world.pops)]
    assert pops and pops[0].get_zorder() < maps._Z_SITES
    assert float(np.asarray(pops[0].get_linewidths()).max()) <= 0.6
    plt.close(fig)


def test_map_layers_are_one_image_in_the_svg(results: Results) -> None:
    """The rasterised layers are drawn one after another (the grid under them, the spines and
    titles over them), so an SVG holds one image of them all: drawn between the grid and the
    spines they made one image each run, two here and four on a national map."""
    fig = map_figure(results)
    ax = fig.axes[0]
    assert ax.get_axisbelow() is True
    for c in ax.collections:
        if c.get_zorder() < maps._Z_DEPOTS:
            c.set_rasterized(True)  # as on a national map (over 300 sites): hops and sites too
    assert sum(c.get_rasterized() for c in ax.collections) == len(ax.collections) - 1
    out = io.StringIO()
    fig.savefig(out, format="svg")
    assert out.getvalue().count("<image ") == 1
    plt.close(fig)


def test_map_has_no_empty_band_under_the_title(results: Results) -> None:
    fig = map_figure(results)
    fig.canvas.draw()
    ax = fig.axes[0]
    title = fig._suptitle  # type: ignore[attr-defined]
    assert title is not None
    gap = title.get_window_extent().y0 - ax.get_window_extent().y1
    assert 0 <= gap < 0.25 * fig.dpi  # less than a quarter inch between title and map
    assert ax.get_adjustable() == "datalim"
    plt.close(fig)


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
    assert snapshot_days(results) == [0, 365, 730, 1095]
    assert snapshot_days(results, [2021]) == [0, 730, 1095]
    assert snapshot_days(results, [2022, 2030]) == [0, 1095]
    with pytest.raises(ValueError, match="2019"):
        snapshot_days(results, [2019])


def test_snapshots_figure(results: Results, tmp_path: Path) -> None:
    # Three villages covered on day 0, as an existing network would be.
    first = results.first_covered_day.copy()
    never = np.flatnonzero(~np.isfinite(first))[:3]
    first[never] = 0.0
    pop = results.world.villages.population
    r = dataclasses.replace(
        results,
        first_covered_day=first,
        initial_people_covered=results.initial_people_covered + int(pop[never].sum()),
        initial_villages_covered=results.initial_villages_covered + 3,
    )
    fig = snapshots_figure(r)
    panels = [ax for ax in fig.axes if ax.collections]
    assert len(panels) == len(fig.axes) == 4
    share = r.daily["people_covered_share"]
    reached = r.daily["people_covered"] - r.initial_people_covered
    assert [ax.get_title() for ax in panels] == [
        f"2020-01-01 (start)\n{share[0]:.1%} of all people covered",
        f"2020-12-31\n{reached[365]:,.0f} reached; {share[365]:.1%} covered",
        f"2021-12-31\n{reached[730]:,.0f} reached; {share[730]:.1%} covered",
        f"2022-12-31\n{reached[1095]:,.0f} reached; {share[1095]:.1%} covered",
    ]
    for ax in panels:
        assert ax.get_aspect() == pytest.approx(_expected_aspect(results))
    # Each panel: not covered, covered at the start, reached before the previous panel,
    # reached since it, then the PoPs; exactly the villages in each state at that day's end.
    days = [0, 365, 730, 1095]
    for ax, day, previous in zip(panels, days, [0, *days[:-1]], strict=True):
        counts = [len(c.get_offsets()) for c in ax.collections]
        covered = first < day + 1
        assert counts == [
            int((~covered).sum()),
            3,
            int(((first > 0) & (first < previous + 1)).sum()),
            int(((first >= previous + 1) & covered & (first > 0)).sum()),
            len(results.world.pops),
        ]
        assert sum(counts[1:4]) == int(r.daily["villages_covered"][day])
    assert [len(c.get_offsets()) for c in panels[0].collections][2:4] == [0, 0]
    # One legend, below the panels, naming the four states and the PoPs.
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "not covered",
        "covered at the start",
        "reached by the rollout",
        "reached since the previous panel",
        "fibre PoP",
    ]
    path = tmp_path / "snapshots.png"
    save_figure(fig, path)
    _check_png(path)

    two = snapshots_figure(results, years=[2021])
    assert len([ax for ax in two.axes if ax.collections]) == 3
    save_figure(two, tmp_path / "two.png")


# --- the animated rollout map --------------------------------------------------------------


def test_rollout_days_are_quarter_ends(results: Results) -> None:
    quarter_ends = [
        date(y, m, d) for y in (2020, 2021, 2022) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))
    ]
    expected = sorted(
        {0, 1095, *((q - START).days for q in quarter_ends if q < date(2022, 12, 31))}
    )
    assert rollout_days(results) == expected
    assert expected[:3] == [0, 90, 181] and len(expected) == 13


def test_rollout_gif(results: Results, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "plots" / "rollout.gif"
    frames = write_rollout_gif(results, path)
    days = rollout_days(results)
    reached = results.daily["people_covered"] - results.initial_people_covered
    assert [f.day for f in frames] == days
    assert [f.people_reached for f in frames] == [int(reached[d]) for d in days]
    assert frames[0].people_reached == 0 and frames[-1].people_reached == int(reached[-1]) > 0
    with Image.open(path) as gif:
        assert gif.n_frames == len(days) == 13
        assert gif.size[0] == 800
        comment = json.loads(gif.info["comment"])
        assert comment["frames"][0] == ["2020-01-01", 0]
        assert comment["frames"][-1] == ["2022-12-31", int(reached[1095])]
        # The map's pixels (the same layout as the animation the GIF was made from).
        anim = RolloutAnimation(results)
        box = anim.ax.get_window_extent()
        height = gif.size[1]
        rows = slice(int(height - box.y1) + 2, int(height - box.y0) - 2)
        cols = slice(int(box.x0) + 2, int(box.x1) - 2)
        plt.close(anim.fig)
        durations = []
        reached_px = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            rgb = np.asarray(gif.convert("RGB"), dtype=np.int64)[rows, cols]
            # Pixels in the "reached" blue or the "reached in the last quarter" orange.
            near = [np.abs(rgb - c).sum(axis=2) < 60 for c in ((31, 95, 168), (242, 142, 43))]
            reached_px.append(int((near[0] | near[1]).sum()))
    assert durations[0] == 1500 and durations[-1] == 3500 and set(durations[1:-1]) == {700}
    assert reached_px[0] == 0 < reached_px[1]  # nothing reached on day 0, then the spread
    # The coloured area grows with the villages reached (about as many pixels each).
    assert reached_px == sorted(reached_px)
    first = results.first_covered_day
    villages = [int(((first > 0) & (first < d + 1)).sum()) for d in days]
    assert reached_px[-1] / reached_px[1] == pytest.approx(villages[-1] / villages[1], rel=0.25)
    # The same results give the same bytes.
    again = tmp_path / "again.gif"
    write_rollout_gif(results, again)
    assert again.read_bytes() == path.read_bytes()


def test_rollout_counter_matches_the_series(results: Results) -> None:
    anim = RolloutAnimation(results)
    reached = results.daily["people_covered"] - results.initial_people_covered
    first = results.first_covered_day
    for i in (0, 5, len(anim.days) - 1):
        frame = anim.show(i)
        day = anim.days[i]
        assert anim.date_text.get_text() == (START + timedelta(days=day)).isoformat()
        assert anim.counter.get_text() == f"{int(reached[day]):,} people reached"
        # The two animated layers hold exactly the villages reached by that day's end.
        shown = len(anim.earlier.get_offsets()) + len(anim.recent.get_offsets())
        assert shown == int(((first > 0) & (first < day + 1)).sum())
        assert frame.people_reached == int(reached[day])
    assert anim.counter.get_text() == f"{int(reached[-1]):,} people reached"
    # The artists are the same objects at every frame: only their data changes.
    before = list(anim.fig.findobj())
    anim.show(1)
    assert list(anim.fig.findobj()) == before
    plt.close(anim.fig)
