"""The rollout animated quarter by quarter: a GIF of the map, blitted frame by frame (see
:class:`RolloutAnimation`)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from PIL import Image

from ..results import Results
from .axes import ConciseDateFormatter, DateLocator, people_tick
from .maps import NEVER_COLOUR, STATE_COLOURS, STATE_LABELS, map_shape, style_map, village_sizes

__all__ = ["Frame", "RolloutAnimation", "rollout_days", "write_rollout_gif"]

# --- the animated rollout map ------------------------------------------------------------------


def rollout_days(results: Results) -> list[int]:
    """Day indices (state at the end of that day) of the animation's frames, ascending.

    Day 0, the last day of every calendar quarter strictly inside the horizon, and the last
    day: a 2½-year horizon from 1 July gives 11 frames.
    """
    start = results.scenario.start_date
    last = results.horizon_days - 1
    if last < 0:
        return []
    end = start + timedelta(days=last)
    days = {0, last}
    for year in range(start.year, end.year + 1):
        for month in (3, 6, 9, 12):
            d = (date(year, month, calendar.monthrange(year, month)[1]) - start).days
            if 0 < d < last:
                days.add(d)
    return sorted(days)


@dataclass(frozen=True)
class Frame:
    """What one frame of the animation shows: its day, date and people reached."""

    day: int
    date: date
    people_reached: int


class RolloutAnimation:
    """A map of the rollout that :meth:`show` redraws at any frame, reusing its artists.

    Everything that does not change is drawn once into a background (blitting): every village
    in its day-0 state (grey, or muted blue where covered at the start), the axes, the legend,
    the chart of people reached. A frame restores that background and draws only the
    animated artists: two one-colour ``scatter`` layers of the villages the rollout has
    reached by then (before the previous frame, and since: the villages are sorted once by the
    day they were first covered, so each layer is a slice of that order and only its offsets
    change), the date, the people-reached counter and the marker on the chart. O(villages
    reached) per frame, no new artists. The layout is fixed after the first draw, so nothing
    moves.
    """

    def __init__(self, results: Results, width_px: int = 800, dpi: int = 100) -> None:
        self.results = results
        sc = results.scenario
        v = results.world.villages
        self.days = rollout_days(results)
        d = results.daily
        self.reached = (d["people_covered"] - results.initial_people_covered).astype(np.int64)
        first = results.first_covered_day
        key = np.where(np.isfinite(first), first, np.inf)
        order = np.argsort(key, kind="stable")
        self._key = key[order]
        self._xy = np.column_stack([v.lon[order], v.lat[order]])
        #: Villages covered at the start come first in that order: the rollout's start here.
        self._first_new = int(np.searchsorted(self._key, 0.0, side="right"))
        size_never, size = village_sizes(len(v))

        width = width_px / dpi
        height = max(4.6, 4.7 * map_shape(results) + 0.8)
        self.fig = plt.figure(figsize=(width, height), dpi=dpi, layout="constrained")
        grid = self.fig.add_gridspec(3, 2, width_ratios=(3, 2), height_ratios=(1.2, 1.6, 1.0))
        self.ax = self.fig.add_subplot(grid[:, 0])
        info = self.fig.add_subplot(grid[0, 1])
        info.set_axis_off()
        legend_ax = self.fig.add_subplot(grid[1, 1])
        legend_ax.set_axis_off()
        spark = self.fig.add_subplot(grid[2, 1])

        # The background: every village as it was on day 0, the covered over the rest.
        at_start = self._key == 0.0
        uncovered = self._xy[~at_start]
        self.ax.scatter(
            uncovered[:, 0], uncovered[:, 1], s=size_never, c=NEVER_COLOUR, linewidths=0,
            rasterized=True,
        )  # fmt: skip
        self.ax.scatter(
            self._xy[at_start, 0], self._xy[at_start, 1], s=size, c=STATE_COLOURS[1],
            linewidths=0, rasterized=True,
        )  # fmt: skip
        # The villages reached by the frame's day, in two one-colour layers (reached before
        # the previous frame; since then, on top): the only layers that change. One colour
        # per layer keeps Agg on its fast path (see map_figure).
        self.earlier: PathCollection = self.ax.scatter(
            self._xy[:0, 0], self._xy[:0, 1], s=size, c=STATE_COLOURS[2], linewidths=0,
            rasterized=True, animated=True,
        )  # fmt: skip
        self.recent: PathCollection = self.ax.scatter(
            self._xy[:0, 0], self._xy[:0, 1], s=size, c=STATE_COLOURS[3], linewidths=0,
            rasterized=True, animated=True,
        )  # fmt: skip
        style_map(self.ax, results)
        self.ax.set_adjustable("datalim")
        self.ax.tick_params(labelsize="small")
        self.ax.xaxis.label.set_fontsize("small")
        self.ax.yaxis.label.set_fontsize("small")

        self.date_text: Text = info.text(
            0.0, 0.95, "", transform=info.transAxes, va="top", fontsize=17, fontweight="bold"
        )
        self.counter: Text = info.text(
            0.0, 0.55, "", transform=info.transAxes, va="top", fontsize=11, color=STATE_COLOURS[2]
        )
        self.detail: Text = info.text(
            0.0, 0.3, "", transform=info.transAxes, va="top", fontsize=9, color="0.3"
        )
        handles: list[Any] = [
            Line2D([], [], ls="", marker="o", ms=7, mfc=c, mec="none") for c in STATE_COLOURS
        ]
        names = [*STATE_LABELS[:3], "reached in the last quarter"]
        legend_ax.legend(handles, names, loc="center left", fontsize="small", frameon=False)

        self._dates = np.datetime64(sc.start_date, "D") + np.arange(len(self.reached))
        spark.plot(self._dates, self.reached, color=STATE_COLOURS[2], lw=1.5)
        (self.marker,) = spark.plot(
            self._dates[:1], [0.0], "o", color=STATE_COLOURS[3], ms=6, animated=True
        )
        spark.set_ylim(0, max(float(self.reached.max(initial=0)), 1.0) * 1.1)
        spark.set_title("people reached", fontsize="small", loc="left")
        spark.yaxis.set_major_formatter(FuncFormatter(people_tick))
        locator = DateLocator(minticks=2, maxticks=5)
        spark.xaxis.set_major_locator(locator)
        spark.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        spark.tick_params(labelsize="x-small")
        spark.grid(alpha=0.3)
        for side in ("top", "right"):
            spark.spines[side].set_visible(False)
        self.fig.suptitle(f"{sc.name}: the rollout, quarter by quarter (seed {sc.seed})")
        self._animated: list[Any] = [self.earlier, self.recent, self.date_text, self.counter]
        self._animated.append(self.detail)
        self._animated.append(self.marker)
        for artist in self._animated:
            artist.set_animated(True)
        # Lay out once with the last frame's (longest) texts, then freeze the layout and keep
        # the picture without the animated artists as every frame's background.
        if self.days:
            self.show(len(self.days) - 1)
        self.fig.canvas.draw()  # lays out, then draws everything but the animated artists
        self.fig.set_layout_engine(None)  # none at all: a placeholder would redraw per frame
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)  # type: ignore[attr-defined]

    def frame(self, i: int) -> Frame:
        day = self.days[i]
        when = self.results.scenario.start_date + timedelta(days=day)
        return Frame(day, when, int(self.reached[day]))

    def show(self, i: int) -> Frame:
        """Set the animated artists to frame *i*; return what the frame shows."""
        f = self.frame(i)
        previous = self.days[i - 1] if i else 0
        # Covered by the end of day d: first covered before d + 1, as the daily series count.
        # Villages are sorted by that day, so each layer is a slice of the order.
        k = int(np.searchsorted(self._key, f.day + 1, side="left"))
        split = max(int(np.searchsorted(self._key, previous + 1, side="left")), self._first_new)
        self.earlier.set_offsets(self._xy[self._first_new : split])
        self.recent.set_offsets(self._xy[split:k])
        d = self.results.daily
        places = int(d["villages_covered"][f.day]) - self.results.initial_villages_covered
        self.date_text.set_text(f.date.isoformat())
        self.counter.set_text(f"{f.people_reached:,} people reached")
        self.detail.set_text(
            f"{places:,} places reached\n"
            f"{float(d['people_covered_share'][f.day]):.1%} of all people covered"
        )
        self.marker.set_data([self._dates[f.day]], [float(f.people_reached)])
        return f

    def render(self) -> Image.Image:
        """The figure as it stands: the background with the animated artists drawn on it."""
        canvas = self.fig.canvas
        canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for artist in self._animated:
            self.fig.draw_artist(artist)
        width, height = canvas.get_width_height(physical=True)
        rgba = bytes(canvas.buffer_rgba())  # type: ignore[attr-defined]
        return Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).convert("RGB")


class _GifWriter(PillowWriter):
    """matplotlib's Pillow writer, fed blitted frames, with one palette for every frame and a
    duration per frame.

    One palette keeps colours from flickering between frames and lets unchanged pixels
    compress to almost nothing; it is computed from the first, middle and last frames, which
    between them hold every colour the map uses (median cut, no dithering: deterministic).
    The frames' dates and people reached go in the GIF's comment, for whoever reads the file.
    """

    _frames: list[Image.Image]

    def __init__(self, durations_ms: list[int], comment: str) -> None:
        super().__init__(fps=2)
        self._durations = durations_ms
        self._comment = comment

    def add(self, frame: Image.Image) -> None:
        """Add a frame already rendered (:meth:`RolloutAnimation.render`): ``grab_frame``
        would redraw the whole figure, 95,000 villages included, for every frame."""
        self._frames.append(frame)

    def finish(self) -> None:
        frames = self._frames
        w, h = frames[0].size
        picks = sorted({0, len(frames) // 2, len(frames) - 1})
        sample = Image.new("RGB", (w, h * len(picks)))
        for row, i in enumerate(picks):
            sample.paste(frames[i], (0, h * row))
        palette = sample.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        images = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
        images[0].save(
            self.outfile,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=self._durations if len(images) > 1 else self._durations[0],
            loop=0,
            comment=self._comment,
        )


def write_rollout_gif(results: Results, path: Path, width_px: int = 800) -> list[Frame]:
    """Write the animated rollout map as a GIF at *path*; return its frames.

    One frame per quarter (:func:`rollout_days`), the first held a little and the last
    longer, so a reader sees where it started and where it ended. The same results give the
    same bytes (Agg rendering, a fixed palette, no timestamps). Peru's 94,922 places at 800
    px: about 2 s and 0.2 MB.
    """
    anim = RolloutAnimation(results, width_px=width_px)
    frames = [anim.frame(i) for i in range(len(anim.days))]
    if not frames:
        plt.close(anim.fig)
        return []
    durations = [700] * len(frames)
    durations[0] = 1500
    durations[-1] = 3500
    comment = json.dumps(
        {
            "rollout-sim": "rollout map",
            "frames": [[f.date.isoformat(), f.people_reached] for f in frames],
        },
        separators=(",", ":"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _GifWriter(durations, comment)
    with writer.saving(anim.fig, path, dpi=anim.fig.dpi):
        for i in range(len(frames)):
            anim.show(i)
            writer.add(anim.render())
    plt.close(anim.fig)
    return frames
