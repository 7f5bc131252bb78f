"""Maps of a run (matplotlib, Agg backend, figures only; never called by the engine).

:func:`map_figure` shows where and when coverage arrived, with the sites, their backhaul, PoPs
and depots; :func:`snapshots_figure` shows coverage at the start and at the end of each
calendar year as small multiples; :func:`~rollout_sim.plots.animation.write_rollout_gif`
animates the spread quarter by quarter, in this module's colours and sizes. All draw every
village layer as one ``scatter`` call (rasterized, no per-point Python loop), so a
country-sized world of ~95,000 villages takes a second or two; the animation recolours one
scatter per frame instead of drawing a new one.

Axes are plain longitude/latitude with the aspect set to 1/cos(mean latitude): a degree of
longitude is cos(latitude) times as long as a degree of latitude, so this keeps shapes and
distances true near the middle of the map without a projection library.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from ..arrays import FloatArray, IntArray
from ..model.backhaul import BH_FIBRE, BH_MICROWAVE, BH_SATELLITE
from ..results import Results
from .axes import count_label

if TYPE_CHECKING:
    from ..world.villages import Villages

__all__ = [
    "NEVER_COLOUR",
    "STATE_COLOURS",
    "STATE_LABELS",
    "map_figure",
    "map_shape",
    "snapshot_days",
    "snapshots_figure",
    "style_map",
    "village_sizes",
]


#: Villages never covered: light, drawn first and smallest so coverage reads on top of them.
NEVER_COLOUR = "#d4d4d4"
#: Marker per backhaul kind (hollow, thin dark outline); an upgrade of a 2G site also has a
#: small dot at its centre, so every legend entry has a marker of its own.
_BH_MARKERS = (
    (BH_FIBRE, "fibre", "o"),
    (BH_MICROWAVE, "microwave", "^"),
    (BH_SATELLITE, "satellite", "D"),
)
_SITE_EDGE = "0.12"
#: Draw order (zorder) of the map's layers: villages never covered, covered, the network
#: (microwave hops, PoPs), the sites, the depots. Every layer that may be rasterised sits below
#: the axes' spines (2.5) and titles (3), the grid below them all (``style_map``), so that in
#: an SVG they are one image: drawn between the grid and the spines, the national map's
#: layers made four, each a figure-sized buffer drawn and PNG-encoded (~0.2 s more).
_Z_NEVER, _Z_COVERED, _Z_NETWORK, _Z_SITES, _Z_DEPOTS = 1.0, 1.1, 1.2, 1.3, 5.0
_UPGRADE_DOT = "#a23b48"
#: PoPs and microwave hops are context, not the story: thin and muted, under the sites.
_POP_EDGE = "0.3"
_HOP = "0.45"

#: Coverage states of the snapshots and the animation: not (yet) covered, covered at the start
#: (the existing network: muted), reached by the rollout, and reached since the previous
#: panel or frame (the frontier: the one warm colour, so the eye goes there).
STATE_COLOURS = ("#d4d4d4", "#a9c6de", "#1f5fa8", "#f28e2b")
STATE_LABELS = (
    "not covered",
    "covered at the start",
    "reached by the rollout",
    "reached since the previous panel",
)


def _aspect(results: Results) -> float:
    """1/cos(mean latitude): the y/x display ratio that makes a km look the same both ways."""
    lat = results.world.villages.lat
    lat0 = float(np.mean(lat)) if len(lat) else 0.0
    return 1.0 / math.cos(math.radians(lat0))


def map_shape(results: Results) -> float:
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


def village_sizes(n: int) -> tuple[float, float]:
    """Marker areas (pt²) of never-covered and covered villages among *n*.

    Shrinks with n so 400 villages are legible dots and 95,000 do not merge into a blot; the
    covered size has a higher floor so coverage stays visible over the grey at country scale.
    """
    scale = 3000.0 / max(n, 1)
    return float(np.clip(0.6 * scale, 0.25, 7.0)), float(np.clip(scale, 2.0, 12.0))


def _site_size(n_sites: int) -> float:
    """Marker area (pt²) of a site: big when there are a few dozen, small for thousands."""
    return float(np.clip(150.0 / math.sqrt(max(n_sites, 1)), 3.0, 24.0))


def _pop_size(n_pops: int) -> float:
    """Marker area (pt²) of a PoP star: a landmark among a few, a faint texture among 1,700."""
    return float(np.clip(200.0 / math.sqrt(max(n_pops, 1)), 6.0, 60.0))


def _points(ax: Axes, v: Villages, rows: NDArray[Any], **style: Any) -> None:
    """The villages *rows* (indices or a mask) as one layer of markers: one ``scatter`` call."""
    ax.scatter(v.lon[rows], v.lat[rows], **style)


def style_map(ax: Axes, results: Results) -> None:
    """Longitude and latitude axes at the aspect that keeps a km the same both ways."""
    ax.set_aspect(_aspect(results))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.grid(alpha=0.25, lw=0.5)
    ax.set_axisbelow(True)  # the grid under every layer (see _Z_NEVER)


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
    colour per year (existing 4G coverage as "at start"): that colouring is the story, so
    everything else is drawn thin and muted on top of it. Sites are small hollow markers shaped
    by backhaul (fibre ○, microwave △, satellite ◇) with a dark outline, an upgraded 2G site
    with a dot at its centre; sites claimed but not on air by the horizon are grey-filled.
    Microwave hops are thin grey lines, PoPs small hollow stars under the sites, depots orange
    squares. O(villages + sites) work in a fixed number of ``scatter`` calls and one
    ``LineCollection``, whatever the size of the world.
    """
    sc = results.scenario
    v = results.world.villages
    n = len(v)
    shape = map_shape(results)
    # About 6.6 in of map across; the height follows the region's shape plus room for the
    # two-line title and the legend below. The data limits (not the box) absorb what is left
    # over, so no empty band opens between the title and the map.
    fig, ax = plt.subplots(figsize=(9, 6.6 * shape + 2.0), layout="constrained")
    size_never, size = village_sizes(n)
    codes, labels = _year_codes(results)
    never = codes < 0
    _points(
        ax, v, never, s=size_never, c=NEVER_COLOUR, linewidths=0, rasterized=True, zorder=_Z_NEVER
    )
    k = len(labels)
    years = k - 1 if labels[0] == "at start" else k
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.95, years))
    if years < k:
        # The existing network in a muted light blue: what the rollout added is what stands out.
        colours = np.vstack([to_rgba_array(STATE_COLOURS[1]), colours])
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(k + 1) - 0.5, k)
    # One scatter per class, later years on top: the newest coverage is what a reader looks
    # for at a frontier. One colour per call also keeps Agg on its fast path (a per-point
    # colour array draws ~9x slower: 0.36 s instead of 0.04 s for 95,000 points).
    for code in range(k):
        rows = np.flatnonzero(codes == code)
        if len(rows):
            _points(
                ax, v, rows, s=size, color=cmap(code), linewidths=0, rasterized=True,
                zorder=_Z_COVERED,
            )  # fmt: skip
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.02)
    cbar.set_ticks([float(i) for i in range(k)])
    cbar.set_ticklabels(labels)
    cbar.set_label("first covered")

    segments = _microwave_segments(results)
    thin = len(results.sites) > 300  # at national scale every line and outline is hairline
    # Thousands of hairline hops and markers are texture, not shapes to zoom into: rasterised
    # too, they keep the national SVG small and quick to write (one image, not 15,000 paths).
    dense = thin
    if len(segments):
        ax.add_collection(
            LineCollection(
                list(segments),
                colors=_HOP,
                linewidths=0.3 if thin else 0.6,
                alpha=0.7,
                zorder=_Z_NETWORK,
                rasterized=dense,
            )
        )
    pops = results.world.pops
    _points(
        ax, v, pops, s=_pop_size(len(pops)), marker="*", facecolors="none", edgecolors=_POP_EDGE,
        linewidths=0.3 if thin else 0.6, zorder=_Z_NETWORK, rasterized=dense,
    )  # fmt: skip

    s = results.sites
    on_air = np.isfinite(s.on_air_day)
    site_size = _site_size(len(s))
    site_lw = 0.35 if thin else 0.7
    for bh, _name, marker in _BH_MARKERS:
        rows = s.backhaul == bh
        if not rows.any():
            continue
        # Hollow when on air, so the coloured villages under a site stay visible; filled
        # grey while still waiting for its build or its backhaul parent.
        face = np.where(on_air[rows][:, None], (1.0, 1.0, 1.0, 0.0), (0.6, 0.6, 0.6, 1.0))
        _points(
            ax, v, s.village[rows], s=site_size, marker=marker, facecolors=face,
            edgecolors=_SITE_EDGE, linewidths=site_lw, zorder=_Z_SITES, rasterized=dense,
        )  # fmt: skip
    _points(
        ax, v, s.village[s.upgrade], s=max(site_size * 0.08, 0.5), marker="o", c=_UPGRADE_DOT,
        linewidths=0, zorder=_Z_SITES, rasterized=dense,
    )  # fmt: skip
    _points(
        ax, v, results.world.depots, s=36, marker="s", c="tab:orange", edgecolors="black",
        linewidths=0.7, zorder=_Z_DEPOTS,
    )  # fmt: skip
    style_map(ax, results)
    # Fill the axes box: the map's extent grows to the box's proportions (the aspect stays).
    ax.set_adjustable("datalim")

    def site(marker: str) -> Line2D:
        return Line2D([], [], ls="", marker=marker, ms=6, mfc="none", mec=_SITE_EDGE, mew=0.8)

    dot = Line2D([], [], ls="", marker="o", ms=2.2, mfc=_UPGRADE_DOT, mec="none")
    handles: list[Any] = [
        Line2D([], [], ls="", marker="o", ms=4, mfc=NEVER_COLOUR, mec="none"),
        *(site(m) for _bh, _name, m in _BH_MARKERS),
        (site("o"), dot),
        Line2D([], [], ls="", marker="o", ms=6, mfc="0.6", mec=_SITE_EDGE),
        Line2D([], [], color=_HOP, lw=0.8),
        Line2D([], [], ls="", marker="*", ms=9, mfc="none", mec=_POP_EDGE, mew=0.7),
        Line2D([], [], ls="", marker="s", ms=6, mfc="tab:orange", mec="black"),
    ]
    names = [
        "never covered",
        *(f"{name} site" for _bh, name, _m in _BH_MARKERS),
        "dot: upgraded 2G site (none: new)",
        "not on air yet",
        "microwave hop",
        "fibre PoP",
        "depot",
    ]
    # Outside the axes: "best" would search 95,000 points, and inside it would hide villages.
    fig.legend(
        handles,
        names,
        handler_map={tuple: HandlerTuple(ndivide=1)},  # the dot drawn inside the circle
        loc="outside lower center",
        ncols=5,
        fontsize="small",
    )
    end = sc.start_date + timedelta(days=max(results.horizon_days - 1, 0))
    d = results.daily
    share = float(d["people_covered_share"][-1]) if results.horizon_days else 0.0
    reached = (
        float(d["people_covered"][-1]) - results.initial_people_covered
        if results.horizon_days
        else 0.0
    )
    fig.suptitle(
        f"{sc.name}: where and when coverage arrived (seed {sc.seed})\n"
        f"to {end.isoformat()}: {reached:,.0f} people reached; "
        f"{share:.1%} of all people covered",
        fontsize="medium",
    )
    return fig


def snapshot_days(results: Results, years: list[int] | None = None) -> list[int]:
    """Day indices (state at the end of that day) of the snapshots, ascending.

    Day 0 (the start: the existing network), the 31 December of each calendar year in *years*
    (default: every year whose end falls inside the horizon), and the horizon's last day
    itself. A year ending on or after the last day is shown by the horizon panel; a year
    ending before the start is an error.
    """
    start = results.scenario.start_date
    last = results.horizon_days - 1
    if last < 0:
        return []
    chosen = years if years is not None else range(start.year, start.year + last // 365 + 2)
    days: set[int] = {0, last}
    for y in chosen:
        d = (date(y, 12, 31) - start).days
        if d < 0:
            raise ValueError(f"year {y} ends before the start date {start.isoformat()}")
        if d < last:
            days.add(d)
    return sorted(days)


def _states(first: FloatArray, day: int, previous: int) -> IntArray:
    """Coverage state of every village at the end of *day* (index into ``STATE_COLOURS``).

    0: not covered yet (or never); 1: covered at the start (day 0 itself); 2: reached by the
    rollout by the end of *previous*; 3: reached after *previous*, by the end of *day*.
    Covered by the end of day d means first covered before d + 1, as the daily series count
    it (NaN compares false: never covered). O(villages), vectorised.
    """
    state = np.zeros(len(first), dtype=np.int64)
    state[first < day + 1] = 3
    state[first < previous + 1] = 2
    state[first == 0.0] = 1
    return state


def _state_legend(fig: Figure, recent: str, pops: bool) -> None:
    """The snapshots' and the animation's legend, below the panels."""
    handles: list[Any] = [
        Line2D([], [], ls="", marker="o", ms=6, mfc=c, mec="none") for c in STATE_COLOURS
    ]
    names = [*STATE_LABELS[:3], recent]
    if pops:
        handles.append(Line2D([], [], ls="", marker="*", ms=8, mfc="none", mec=_POP_EDGE))
        names.append("fibre PoP")
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize="small")


#: Above this many PoPs the snapshots leave them out (the map shows them all).
_MAX_SNAPSHOT_POPS = 200


def snapshots_figure(results: Results, years: list[int] | None = None) -> Figure:
    """Small multiples of coverage at the start, at year ends and at the horizon (see
    :func:`snapshot_days`).

    The first panel is day 0: the existing network, in a muted blue. Each later panel shows
    what the rollout had reached by the end of that day in a strong blue, what it reached
    since the previous panel in orange (the frontier), the rest in grey, with PoPs as small
    hollow stars (up to 200 of them); panels share one extent and aspect and one legend below
    them, and each is titled with its date, the people reached by then and the share of all
    people covered (the ``people_covered`` and ``people_covered_share`` series).
    O(panels × villages) points drawn, in five ``scatter`` calls per panel (the four states and
    the PoPs).
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
        figsize=(3.3 * ncols + 0.5, (3.0 * map_shape(results) + 0.7) * nrows + 1.1),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    axes = grid.ravel().tolist()
    for ax in axes[len(days) :]:
        fig.delaxes(ax)  # no empty panels: every remaining axes is one snapshot
    size_never, size = village_sizes(len(v))
    first = results.first_covered_day
    d = results.daily
    share = d["people_covered_share"] if results.horizon_days else np.zeros(0)
    reached = d["people_covered"] - results.initial_people_covered
    pops = results.world.pops
    # A few PoPs are landmarks; a national backbone's 1,700 would only grey the small panels.
    if len(pops) > _MAX_SNAPSHOT_POPS:
        pops = pops[:0]
    pop_size = float(np.clip(80.0 / math.sqrt(max(len(pops), 1)), 3.0, 24.0))
    previous = 0
    for ax, day in zip(axes, days, strict=False):
        state = _states(first, day, previous)
        # One scatter per state, in this order (the frontier on top), each in one colour:
        # Agg's fast path (see map_figure).
        for code, colour in enumerate(STATE_COLOURS):
            rows = state == code
            _points(
                ax, v, rows, s=size_never if code == 0 else size, c=colour, linewidths=0,
                rasterized=True,
            )  # fmt: skip
        _points(
            ax, v, pops, s=pop_size, marker="*", facecolors="none", edgecolors=_POP_EDGE,
            linewidths=0.3,
        )  # fmt: skip
        when = sc.start_date + timedelta(days=day)
        if day == 0:
            title = f"{when.isoformat()} (start)\n{float(share[day]):.1%} of all people covered"
        else:
            title = (
                f"{when.isoformat()}\n{count_label(float(reached[day]))} reached; "
                f"{float(share[day]):.1%} covered"
            )
        ax.set_title(title, fontsize="medium")
        ax.set_aspect(_aspect(results))
        ax.grid(alpha=0.25, lw=0.5)
        ax.tick_params(labelsize="small")
        previous = day
    for ax in axes[: len(days)]:
        # On the bottom panels, not as a figure label: that would sit on the legend.
        spec = ax.get_subplotspec()
        if spec is not None and spec.is_last_row():
            ax.set_xlabel("longitude (°)")
    _state_legend(fig, "reached since the previous panel", pops=len(pops) > 0)
    fig.supylabel("latitude (°)")
    fig.suptitle(f"{sc.name}: coverage at the start and at each year end (seed {sc.seed})")
    return fig
