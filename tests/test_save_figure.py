"""Saving a figure (``plots.axes.save_figure``): its layout is solved once, as ``savefig``
would solve it; the SVG is the bytes a plain ``savefig`` writes, the PNG its pixels."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from rollout_sim.plots.axes import fix_layout, save_figure, write_png


def _figure(layout: str) -> Figure:
    """Two panels with what a layout must make room for: titles, labels, a legend, a
    colour bar, long tick labels; the figure's own dpi (100) differs from the saving one."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 4), layout=layout)
    x = np.linspace(0, 10, 400)
    a.plot(x, np.sin(x) * 1e6, label="a long label for the legend")
    a.set_ylabel("people (a long axis label)")
    a.legend(loc="upper right")
    image = b.imshow(np.arange(100.0).reshape(10, 10))
    fig.colorbar(image, ax=b, label="colour")
    b.set_title("a title that takes room")
    fig.suptitle("the figure's title")
    return fig


def _saved(fig: Figure, fmt: str) -> bytes:
    out = io.BytesIO()
    meta = {"Software": None} if fmt == "png" else {"Date": None}
    with matplotlib.rc_context({"svg.hashsalt": "t"}):
        fig.savefig(out, format=fmt, dpi=120, metadata=meta)
    return out.getvalue()


@pytest.mark.parametrize("layout", ["constrained", "tight"])
def test_a_layout_solved_once_gives_the_bytes_savefig_gives(layout: str) -> None:
    plain = _figure(layout)
    png, svg = _saved(plain, "png"), None
    plain.set_layout_engine("none")  # as saving both used to: the PNG's layout kept
    svg = _saved(plain, "svg")
    fixed = _figure(layout)
    fix_layout(fixed, 120)
    assert fixed.get_layout_engine() is None and fixed.dpi == 100
    assert _saved(fixed, "png") == png
    assert _saved(fixed, "svg") == svg
    plt.close("all")


def test_fix_layout_holds_under_rcparams_that_pick_an_engine() -> None:
    """``set_layout_engine(None)`` picks an engine again when these rcParams are on."""
    with matplotlib.rc_context({"figure.autolayout": True}):
        fig = _figure("constrained")
        fix_layout(fig, 120)
        assert fig.get_layout_engine() is None
    plt.close("all")


def test_save_figure_writes_png_and_svg_and_closes(tmp_path: Path) -> None:
    fig = _figure("constrained")
    reference = _figure("constrained")
    save_figure(fig, tmp_path / "f.png")
    assert not plt.fignum_exists(fig.number)
    # The pixels savefig draws, without the alpha channel (all opaque), at the same dpi.
    with (
        Image.open(tmp_path / "f.png") as png,
        Image.open(io.BytesIO(_saved(reference, "png"))) as ref,
    ):
        assert (png.mode, ref.mode) == ("RGB", "RGBA")
        assert np.array_equal(np.asarray(png), np.asarray(ref)[:, :, :3])
        assert np.asarray(ref)[:, :, 3].min() == 255
        assert png.info == {"dpi": pytest.approx((120, 120), abs=0.02)}  # no text chunks
    assert (tmp_path / "f.svg").read_bytes().startswith(b"<?xml")
    plt.close("all")


@pytest.mark.parametrize(
    "size",
    # The second: 1,247.9999999999998 pixels across, which matplotlib rounds up to 1,248.
    [(2.004, 1.337), (3.3 * 3 + 0.5, 4.21715), (7.77777, 5.55555), (9.0, 6.6 * 1.7 + 2.0)],
)
def test_png_pixels_are_savefigs_at_any_size(size: tuple[float, float], tmp_path: Path) -> None:
    """Sizes in pixels that are not whole (Agg truncates them) give savefig's pixels too."""
    fig, ax = plt.subplots(figsize=size)
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title")
    reference = np.asarray(Image.open(io.BytesIO(_saved(fig, "png"))))
    write_png(fig, tmp_path / "s.png", 120)
    with Image.open(tmp_path / "s.png") as png:
        assert png.size == (reference.shape[1], reference.shape[0])
        assert np.array_equal(np.asarray(png), reference[:, :, :3])
    plt.close("all")


def test_a_figure_on_another_canvas_is_drawn_on_an_agg_one(tmp_path: Path) -> None:
    """A figure whose canvas is not Agg's (made without pyplot) is saved just the same."""
    fig = Figure(figsize=(2.5, 1.5))
    fig.add_subplot().plot([0, 1], [1, 0])
    reference = np.asarray(Image.open(io.BytesIO(_saved(fig, "png"))))
    write_png(fig, tmp_path / "f.png", 120)
    with Image.open(tmp_path / "f.png") as png:
        assert np.array_equal(np.asarray(png), reference[:, :, :3])


def test_a_figure_with_transparent_pixels_keeps_its_alpha(tmp_path: Path) -> None:
    """Only an opaque figure loses its alpha channel: a transparent one is saved as drawn."""
    fig, ax = plt.subplots(figsize=(2, 1.5))
    fig.patch.set_alpha(0.0)
    ax.patch.set_alpha(0.5)
    ax.plot([0, 1], [0, 1])
    reference = np.asarray(Image.open(io.BytesIO(_saved(fig, "png"))))
    write_png(fig, tmp_path / "t.png", 120)
    with Image.open(tmp_path / "t.png") as png:
        assert png.mode == "RGBA"
        assert png.size == (240, 180)
        assert np.array_equal(np.asarray(png), reference)
    assert reference[:, :, 3].min() == 0
    plt.close("all")
