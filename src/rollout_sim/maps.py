"""Maps of a run (matplotlib, Agg backend, figures only; never called by the engine).

:func:`map_figure` shows where and when coverage arrived, with the sites, their backhaul, PoPs
and depots; :func:`snapshots_figure` shows coverage at the end of each calendar year as small
multiples. Both draw every village layer as one ``scatter`` call (rasterized, no per-point
Python loop), so a country-sized world of ~95,000 villages takes a second or two.

Axes are plain longitude/latitude with the aspect set to 1/cos(mean latitude): a degree of
longitude is cos(latitude) times as long as a degree of latitude, so this keeps shapes and
distances true near the middle of the map without a projection library.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from .model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_SATELLITE
from .results import Results

__all__ = ["map_figure", "snapshot_days", "snapshots_figure"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Villages never covered: light, drawn first and smallest so coverage reads on top of them.
_NEVER = "#d4d4d4"
#: Marker per backhaul kind; the edge colour tells greenfield from upgrade.
_BH_MARKERS = (
    (BH_FIBRE, "fibre", "o"),
    (BH_MICROWAVE, "microwave", "^"),
    (BH_SATELLITE, "satellite", "D"),
)
_KIND_EDGES = (("greenfield", "black"), ("upgrade", "crimson"))


def _aspect(results: Results) -> float:
    """1/cos(mean latitude): the y/x display ratio that makes a km look the same both ways."""
    lat = results.world.villages.lat
    lat0 = float(np.mean(lat)) if len(lat) else 0.0
    return 1.0 / math.cos(math.radians(lat0))


def _shape(results: Results) -> float:
    """Height/width of the villages' bounding box as drawn (with the aspect), clipped.

    Used to size figures so that a wide region and a tall country both fill their panels
    instead of floating in white space. O(villages).
    """
    v = results.world.villages
    if len(v) < 2:
        return 1.0
    width = float(np.ptp(v.lon))
    height = float(np.ptp(v.lat)) * _aspect(results)
    if width <= 0.0 or height <= 0.0:
        return 1.0
    return float(np.clip(height / width, 0.4, 1.8))


def _village_sizes(n: int) -> tuple[float, float]:
    """Marker areas (pt²) of never-covered and covered villages among *n*.

    Shrinks with n so 400 villages are legible dots and 95,000 do not merge into a blot; the
    covered size has a higher floor so coverage stays visible over the grey at country scale.
    """
    scale = 3000.0 / max(n, 1)
    return float(np.clip(0.6 * scale, 0.25, 7.0)), float(np.clip(scale, 2.0, 12.0))


def _site_size(n_sites: int) -> float:
    """Marker area (pt²) of a site: big when there are a few dozen, small for thousands."""
    return float(np.clip(150.0 / math.sqrt(max(n_sites, 1)), 5.0, 24.0))


def _style_map(ax: Axes, results: Results) -> None:
    ax.set_aspect(_aspect(results))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.grid(alpha=0.25, lw=0.5)


def _year_codes(results: Results) -> tuple[IntArray, list[str]]:
    """Colour category of every covered village, and the category labels.

    Category 0 is "at start" (covered on day 0 by an existing 4G site) when any village was;
    the others are calendar years from the start year to the horizon's. Uncovered villages get
    -1. Vectorised through ``datetime64``: O(villages).
    """
    sc = results.scenario
    first = results.first_covered_day
    covered = np.isfinite(first)
    start = np.datetime64(sc.start_date.isoformat(), "D")
    day = np.trunc(np.where(covered, first, 0.0)).astype(np.int64)
    year = (start + day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) + 1970
    last = (sc.start_date + timedelta(days=max(results.horizon_days - 1, 0))).year
    # A village switched on exactly at the horizon can fall in the next year: clip it back.
    year = np.minimum(year, last)
    at_start = covered & (first == 0.0)
    labels: list[str] = []
    offset = 0
    if at_start.any():
        labels.append("at start")
        offset = 1
    labels += [str(y) for y in range(sc.start_date.year, last + 1)]
    codes = np.where(covered, year - sc.start_date.year + offset, -1)
    codes[at_start] = 0
    return codes.astype(np.int64), labels


def _microwave_segments(results: Results) -> FloatArray:
    """(k, 2, 2) lon/lat segments from each microwave site's parent (site or PoP) to the site."""
    s = results.sites
    v = results.world.villages
    pops = results.world.pops
    mw = s.backhaul == BH_MICROWAVE
    site = s.village[mw]
    parent = s.parent[mw]
    if len(pops):
        # Parent -1-k is PoP k, hosted at village pops[k]; clip keeps the unused branch in range.
        src = np.where(parent < 0, pops[np.clip(-1 - parent, 0, len(pops) - 1)], parent)
    else:
        src = parent
    keep = src >= 0
    site, src = site[keep], src[keep]
    start = np.column_stack([v.lon[src], v.lat[src]])
    end = np.column_stack([v.lon[site], v.lat[site]])
    return np.stack([start, end], axis=1)


def map_figure(results: Results) -> Figure:
    """Villages by the year they were first covered, with sites, backhaul, PoPs and depots.

    Never-covered villages are light grey (drawn first, smallest); covered ones take a discrete
    colour per year (existing 4G coverage as "at start"). Sites are hollow markers shaped by
    backhaul (fibre ●, microwave ▲, satellite ◆) with a black edge for greenfield and crimson
    for upgrades; sites claimed but not on air by the horizon are grey-filled. Microwave hops are
    thin lines, PoPs black stars, depots orange squares. O(villages + sites) work in a fixed
    number of ``scatter`` calls and one ``LineCollection``, whatever the size of the world.
    """
    sc = results.scenario
    v = results.world.villages
    n = len(v)
    # About 7 in of map across; the height follows the region's shape plus room for the
    # titles and the legend below.
    fig, ax = plt.subplots(figsize=(9, 7 * _shape(results) + 2.4), layout="constrained")
    size_never, size = _village_sizes(n)
    codes, labels = _year_codes(results)
    never = codes < 0
    ax.scatter(
        v.lon[never], v.lat[never], s=size_never, c=_NEVER, linewidths=0, rasterized=True, zorder=1
    )
    k = len(labels)
    cmap = ListedColormap(plt.get_cmap("viridis")(np.linspace(0.0, 0.95, k)))
    norm = BoundaryNorm(np.arange(k + 1) - 0.5, k)
    # Later years on top: the newest coverage is what a reader looks for at a frontier.
    order = np.flatnonzero(~never)
    order = order[np.argsort(codes[order], kind="stable")]
    ax.scatter(
        v.lon[order],
        v.lat[order],
        s=size,
        c=codes[order],
        cmap=cmap,
        norm=norm,
        linewidths=0,
        rasterized=True,
        zorder=2,
    )
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.02)
    cbar.set_ticks([float(i) for i in range(k)])
    cbar.set_ticklabels(labels)
    cbar.set_label("first covered")

    segments = _microwave_segments(results)
    if len(segments):
        ax.add_collection(LineCollection(list(segments), colors="0.3", linewidths=0.5, zorder=3))

    s = results.sites
    on_air = np.isfinite(s.on_air_day)
    site_size = _site_size(len(s))
    for bh, _name, marker in _BH_MARKERS:
        for upgrade, (_kind, edge) in enumerate(_KIND_EDGES):
            rows = (s.backhaul == bh) & (s.upgrade == bool(upgrade))
            if not rows.any():
                continue
            villages = s.village[rows]
            # Hollow when on air, so the coloured villages under a site stay visible; filled
            # grey while still waiting for its build or its backhaul parent.
            face = np.where(on_air[rows][:, None], (1.0, 1.0, 1.0, 0.0), (0.6, 0.6, 0.6, 1.0))
            ax.scatter(
                v.lon[villages],
                v.lat[villages],
                s=site_size,
                marker=marker,
                facecolors=face,
                edgecolors=edge,
                linewidths=0.7,
                zorder=4,
            )
    pops = results.world.pops
    depots = results.world.depots
    pop_size = float(np.clip(300.0 / math.sqrt(max(len(pops), 1)), 30.0, 110.0))
    ax.scatter(v.lon[pops], v.lat[pops], s=pop_size, marker="*", c="black", linewidths=0, zorder=5)
    ax.scatter(
        v.lon[depots],
        v.lat[depots],
        s=45,
        marker="s",
        c="tab:orange",
        edgecolors="black",
        linewidths=0.8,
        zorder=5,
    )
    _style_map(ax, results)

    handles = [
        Line2D([], [], ls="", marker="o", ms=4, mfc=_NEVER, mec="none", label="never covered"),
        *(
            Line2D([], [], ls="", marker=m, ms=6, mfc="none", mec="black", label=f"{name} site")
            for _bh, name, m in _BH_MARKERS
        ),
        *(
            Line2D([], [], ls="", marker="o", ms=6, mfc="none", mec=edge, mew=1.2, label=kind)
            for kind, edge in _KIND_EDGES
        ),
        Line2D([], [], ls="", marker="o", ms=6, mfc="0.6", mec="black", label="not on air yet"),
        Line2D([], [], color="0.3", lw=0.8, label="microwave hop"),
        Line2D([], [], ls="", marker="*", ms=10, mfc="black", mec="black", label="PoP"),
        Line2D([], [], ls="", marker="s", ms=6, mfc="tab:orange", mec="black", label="depot"),
    ]
    # Outside the axes: "best" would search 95,000 points, and inside it would hide villages.
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize="small")
    end = sc.start_date + timedelta(days=max(results.horizon_days - 1, 0))
    share = float(results.daily["coverage_share"][-1]) if results.horizon_days else 0.0
    ax.set_title(f"to {end.isoformat()}: {share:.1%} of people covered", fontsize="medium")
    fig.suptitle(f"{sc.name}: where and when coverage arrived (seed {sc.seed})")
    return fig


def snapshot_days(results: Results, years: list[int] | None = None) -> list[int]:
    """Day indices (state at the end of that day) of the yearly snapshots, ascending.

    The 31 December of each calendar year in *years* (default: every year whose end falls
    inside the horizon), plus the horizon's last day itself. A year ending on or after the last
    day is shown by the horizon panel; a year ending before the start is an error.
    """
    start = results.scenario.start_date
    last = results.horizon_days - 1
    if last < 0:
        return []
    chosen = years if years is not None else range(start.year, start.year + last // 365 + 2)
    days: set[int] = {last}
    for y in chosen:
        d = (date(y, 12, 31) - start).days
        if d < 0:
            raise ValueError(f"year {y} ends before the start date {start.isoformat()}")
        if d < last:
            days.add(d)
    return sorted(days)


def snapshots_figure(results: Results, years: list[int] | None = None) -> Figure:
    """Small multiples of coverage at year ends and at the horizon (see :func:`snapshot_days`).

    Each panel shows villages covered by the end of that day in colour and the rest in grey,
    with PoPs as black stars; panels share one extent and aspect, and each is titled with its
    date and the share of people covered then (the ``coverage_share`` series). O(panels ×
    villages) points drawn, two ``scatter`` calls per panel.
    """
    sc = results.scenario
    v = results.world.villages
    days = snapshot_days(results, years)
    panels = max(len(days), 1)
    ncols = min(panels, 4)
    nrows = math.ceil(panels / ncols)
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(3.3 * ncols + 0.5, (3.0 * _shape(results) + 0.7) * nrows + 0.8),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    axes = grid.ravel().tolist()
    for ax in axes[len(days) :]:
        fig.delaxes(ax)  # no empty panels: every remaining axes is one snapshot
    size_never, size = _village_sizes(len(v))
    first = results.first_covered_day
    share = results.daily["coverage_share"] if results.horizon_days else np.zeros(0)
    pops = results.world.pops
    pop_size = float(np.clip(120.0 / math.sqrt(max(len(pops), 1)), 8.0, 30.0))
    for ax, d in zip(axes, days, strict=False):
        # Covered by the end of day d: first covered before d + 1 (NaN compares false).
        covered = first < d + 1
        ax.scatter(
            v.lon[~covered], v.lat[~covered], s=size_never, c=_NEVER, linewidths=0, rasterized=True
        )
        ax.scatter(
            v.lon[covered], v.lat[covered], s=size, c="tab:blue", linewidths=0, rasterized=True
        )
        ax.scatter(v.lon[pops], v.lat[pops], s=pop_size, marker="*", c="black", linewidths=0)
        day = sc.start_date + timedelta(days=d)
        ax.set_title(f"{day.isoformat()}\n{float(share[d]):.1%} of people", fontsize="medium")
        ax.set_aspect(_aspect(results))
        ax.grid(alpha=0.25, lw=0.5)
        ax.tick_params(labelsize="small")
    fig.supxlabel("longitude (°)")
    fig.supylabel("latitude (°)")
    fig.suptitle(f"{sc.name}: coverage at each year end (seed {sc.seed})")
    return fig
