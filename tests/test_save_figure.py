"""Saving a figure (``plots.axes.save_figure``): its layout is solved once, as ``savefig``
would solve it, and the files are the bytes a plain ``savefig`` writes."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from rollout_sim.plots.axes import fix_layout, save_figure


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
    assert (tmp_path / "f.png").read_bytes() == _saved(reference, "png")
    assert (tmp_path / "f.svg").read_bytes().startswith(b"<?xml")
    plt.close("all")
