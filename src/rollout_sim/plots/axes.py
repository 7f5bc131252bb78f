"""What every chart shares: numbers on axes, date axes, headroom above the data, labels at the
ends of lines, the scenario's published figures as points, and saving a figure."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy
from numpy.typing import NDArray
from PIL import Image

__all__ = [
    "ConciseDateFormatter",
    "DateLocator",
    "RefPoint",
    "axis_top",
    "count_label",
    "date_axis",
    "date_number",
    "day_dates",
    "draw_references",
    "end_labels",
    "end_value",
    "figure_of",
    "fix_layout",
    "people_tick",
    "reference_points",
    "save_figure",
    "short_number",
    "spread_apart",
    "usd_tick",
    "write_png",
]


def short_number(x: float, prefix: str = "") -> str:
    """An axis number in millions or thousands: 1.5 M, 250 k, 40."""
    if abs(x) >= 1e6:
        return f"{prefix}{x / 1e6:,.1f} M"
    if abs(x) >= 1e3:  # 12.5 k and 1.5 k, not a second "12 k" or "2 k" on the same axis
        return f"{prefix}{x / 1e3:,.1f} k".replace(".0 k", " k")
    return f"{prefix}{x:,.0f}"


def people_tick(x: float, _pos: object = None) -> str:
    """A tick of an axis of people or places (for ``FuncFormatter``)."""
    return short_number(x)


def usd_tick(x: float, _pos: object = None) -> str:
    """A tick of an axis of US$ (for ``FuncFormatter``)."""
    return short_number(x, "$")


def count_label(x: float) -> str:
    """A count as a reader quotes it, in a title or beside a line: 2.61 M, 24,814."""
    return f"{x / 1e6:,.2f} M" if abs(x) >= 1e6 else f"{x:,.0f}"


#: Headroom above the highest thing drawn, so a line or a labelled point never touches the top.
_HEADROOM = 1.08


def axis_top(*values: float) -> float:
    """The upper y limit for values that start at 0: the largest one plus headroom (never 0)."""
    finite = [float(v) for v in values if np.isfinite(v)]
    top = max(finite, default=0.0)
    return top * _HEADROOM if top > 0 else 1.0


class DateLocator(mdates.AutoDateLocator):
    """matplotlib's ``AutoDateLocator``, computing the ticks of a view interval once.

    A figure's draw asks for an axis's ticks a score of times (the layout measures them, each
    format draws them, every axis sharing x asks again), and each answer runs ``dateutil``'s
    rrule: remembering the answer per interval gives the same ticks for a tenth of the time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._memo: dict[tuple[float, float], NDArray[np.float64]] = {}

    def __call__(self) -> NDArray[np.float64]:  # type: ignore[override]
        assert self.axis is not None
        lo, hi = self.axis.get_view_interval()
        key = (float(lo), float(hi))
        ticks = self._memo.get(key)
        if ticks is None:
            ticks = self._memo[key] = np.asarray(super().__call__())  # type: ignore[no-untyped-call]
        return ticks.copy()


class ConciseDateFormatter(mdates.ConciseDateFormatter):
    """matplotlib's ``ConciseDateFormatter``, formatting the same ticks once (see
    :class:`DateLocator`), offset text included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._memo: dict[tuple[float, ...], tuple[list[str], str]] = {}

    def format_ticks(self, values: Any) -> list[str]:
        key = tuple(float(v) for v in values)
        hit = self._memo.get(key)
        if hit is None:
            labels = list(super().format_ticks(values))  # type: ignore[no-untyped-call]
            hit = self._memo[key] = (labels, self.get_offset())  # type: ignore[no-untyped-call]
        labels, self._offset_string = hit
        return list(labels)


def date_axis(ax: Axes) -> None:
    """Concise date ticks on the x axis."""
    locator = DateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel("date")


def day_dates(start: date, n: int) -> NDArray[np.datetime64]:
    """The *n* days from *start*, as the x values of a daily series."""
    return np.datetime64(start, "D") + np.arange(n)


def date_number(day: date) -> float:
    """A date as matplotlib's date number (days since its epoch)."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def figure_of(ax: Axes) -> Figure:
    """The top-level figure of *ax* (offsets in points need its dpi)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig


def spread_apart(ys: list[float], gap: float, top: float | None = None) -> list[float]:
    """*ys* moved apart (keeping their order) so that neighbours are at least *gap* apart:
    labels at the ends of close lines stay readable. Pushed up first; if that lifts the highest
    above *top*, the stack is pushed back down from there. O(n log n), n = a few lines."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for a, b in pairwise(order):
        out[b] = max(out[b], out[a] + gap)
    if top is not None and order and out[order[-1]] > top:
        out[order[-1]] = top
        for a, b in pairwise(reversed(order)):
            out[b] = min(out[b], out[a] - gap)
    return out


def end_value(ax: Axes, day: date, value: float, colour: str) -> None:
    """The last value of a line, written just right of its end."""
    end_labels(ax, day, [(count_label(value), value, colour)])


def end_labels(ax: Axes, day: date, labels: Sequence[tuple[str, float, str]]) -> None:
    """(text, value, colour) written right of the lines' ends at *day*, spread apart so that
    close lines keep legible labels (call after the y limits are set)."""
    low, high = ax.get_ylim()
    ys = spread_apart(
        [v for _, v, _ in labels], 0.055 * (high - low), top=high - 0.02 * (high - low)
    )
    right = offset_copy(ax.transData, fig=figure_of(ax), x=5, units="points")
    for (text, value, colour), y in zip(labels, ys, strict=True):
        ax.annotate(
            text, (day, value), xytext=(date_number(day), y), textcoords=right,
            va="center", fontsize=8, color=colour, fontweight="bold", annotation_clip=False,
        )  # fmt: skip


@dataclass(frozen=True)
class RefPoint:
    """A published or planned figure, as a point on a chart's axes (its label beside it)."""

    day: date
    value: float
    label: str


def reference_points(
    references: Sequence[Any], start: date, days: int, offsets: Mapping[str, float]
) -> list[RefPoint]:
    """The scenario's ``references`` that a chart can draw, on that chart's scale.

    *offsets* maps each metric the chart shows to what is subtracted from a reference of that
    metric to put it on the chart's axis (the start's coverage turns ``people_covered`` into
    people reached; 0 keeps ``people_reached`` as it is), as :func:`rollout_sim.metrics.references`
    compares them. References of other metrics, or dated outside the horizon, are left out.
    """
    out = []
    for ref in references:
        if ref.metric not in offsets or not 0 <= (ref.date - start).days < days:
            continue
        out.append(RefPoint(ref.date, float(ref.value) - offsets[ref.metric], str(ref.label)))
    return out


def draw_references(ax: Axes, points: Sequence[RefPoint], end: date) -> None:
    """Each reference as a black point with its label beside it: to the right, or to the left
    when the point sits in the right part of the chart (a target at the horizon). Labels of
    points close in value are spread apart so that they do not overlap."""
    if not points:
        return
    start = min(p.day for p in points)
    first = mdates.num2date(ax.get_xlim()[0]).date()  # type: ignore[no-untyped-call]
    start = min(start, first)
    span = max((end - start).days, 1)
    low, high = ax.get_ylim()
    ys = spread_apart([p.value for p in points], 0.09 * (high - low))
    for p, y in zip(points, ys, strict=True):
        ax.plot(
            [date_number(p.day)], [p.value], "o", color="black", mec="white", mew=0.8, ms=7,
            zorder=6,
        )  # fmt: skip
        left = (p.day - start).days > 0.7 * span  # room for the label on the right?
        # The label's position: the point's date (shifted 8 pt sideways) at the spread height.
        beside = offset_copy(ax.transData, fig=figure_of(ax), x=-8 if left else 8, units="points")
        ax.annotate(
            "\n".join(textwrap.wrap(p.label, 44)),
            (p.day, p.value),
            xytext=(date_number(p.day), y),
            textcoords=beside,
            ha="right" if left else "left",
            va="center",
            fontsize=8,
            color="0.2",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.75", "lw": 0.5},
            annotation_clip=False,
        )


def save_figure(fig: Figure, path: Path, svg: bool = True) -> None:
    """Save as PNG and (for print and slides) SVG beside it, with fixed metadata, and close.

    The SVG's ids are seeded and its date left out so that the same figure gives the same
    bytes; dense layers (the map's villages) are rasterised inside it to keep it small.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fix_layout(fig, _DPI)
    write_png(fig, path, _DPI)
    if svg:
        with matplotlib.rc_context({"svg.hashsalt": "rollout-sim"}):
            fig.savefig(path.with_suffix(".svg"), dpi=_DPI, metadata={"Date": None})
    plt.close(fig)


#: Pixels per inch of the saved PNGs (and of the images rasterised inside the SVGs).
_DPI = 120
#: zlib level of the saved PNGs: level 3 of RGB pixels gives smaller files than matplotlib's
#: level 6 of RGBA, in about half the time (the national map: 417 kB in 44 ms against
#: 446 kB in 116 ms).
_PNG_LEVEL = 3


def write_png(fig: Figure, path: Path, dpi: float) -> None:
    """Save *fig* as a PNG at *dpi*: the pixels ``savefig`` draws, without their alpha channel
    when every pixel is opaque (a figure on its white background always is), no text chunks.

    ``savefig`` writes RGBA at zlib's default level whatever the pixels: a quarter of the bytes
    it compresses are a constant 255. Dropping them loses nothing (the decoded colours are
    the same) and, with a lower level, halves the encoding (a fifth of a national run's
    drawing time before).
    """
    # Drawn on an Agg canvas (pyplot's, or one made for it), whose renderer then tells the
    # size it drew at: matplotlib truncates the figure's size in pixels, except within 1e-8
    # of a whole pixel, where it rounds up (3.3 × 3 + 0.5 in at 120 dpi is 1,248 pixels).
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)
    size = (int(canvas.renderer.width), int(canvas.renderer.height))
    pixels = raw.getvalue()
    if len(pixels) != 4 * size[0] * size[1]:
        raise RuntimeError(f"bug: {len(pixels)} bytes of RGBA for a figure of {size} pixels")
    image = Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1)
    alpha = image.getchannel("A").getextrema()
    if alpha == (255, 255):  # every pixel opaque
        image = image.convert("RGB")
    image.save(path, format="png", compress_level=_PNG_LEVEL, dpi=(dpi, dpi))


def fix_layout(fig: Figure, dpi: float) -> None:
    """Solve *fig*'s layout (constrained or tight) once, as saving at *dpi* would, and keep
    it: the figure is left without a layout engine, so that each save draws it once.

    ``savefig`` with a layout engine (even the placeholder ``"none"``) draws the whole figure
    twice, once without rendering to place things and once for real: here the layout is
    solved directly, at the saving dpi, and the PNG and the SVG each draw once. The files are
    the same bytes as before; the drawing time ~15 % less for a PNG and ~30 % for an SVG.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        saved = fig.dpi
        fig.dpi = dpi  # text extents in pixels at the saving dpi, as savefig measures them
        try:
            engine.execute(fig)
        finally:
            fig.dpi = saved
    # None means "no engine" only while these rcParams are off (else it picks one again).
    with matplotlib.rc_context(
        {"figure.autolayout": False, "figure.constrained_layout.use": False}
    ):
        fig.set_layout_engine(None)
