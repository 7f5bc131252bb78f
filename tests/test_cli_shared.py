"""Helpers every command shares (cli/shared.py): the manifest's timing and whether to plot."""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace
from typing import Any

from rollout_sim.cli.shared import plots_wanted, timing_since


def test_timing_since_names_the_world_first_when_one_was_built() -> None:
    started = time.perf_counter() - 2.0
    timing = timing_since(started, 0.12345)
    assert list(timing) == ["world_build_seconds", "total_wall_seconds"]
    assert timing["world_build_seconds"] == 0.123
    assert timing["total_wall_seconds"] >= 2.0
    assert list(timing_since(started)) == ["total_wall_seconds"]


def test_plots_wanted_needs_the_scenario_and_no_no_plots() -> None:
    def scenario(plots: bool) -> Any:
        return SimpleNamespace(outputs=SimpleNamespace(plots=plots))

    assert plots_wanted(argparse.Namespace(no_plots=False), scenario(True))
    assert not plots_wanted(argparse.Namespace(no_plots=True), scenario(True))
    assert not plots_wanted(argparse.Namespace(no_plots=False), scenario(False))


def test_the_manifest_counts_the_command_up_to_its_writing(tmp_path: Any, monkeypatch: Any) -> None:
    """A batch command hands its timing to the writer before the tables and plots: the
    manifest's total is taken when it is written (it said 2.8 s for a 8.9 s compare)."""
    import json

    from rollout_sim import fileio

    now = iter([100.0, 107.5])
    monkeypatch.setattr(fileio.time, "perf_counter", lambda: next(now))
    timing = timing_since(90.0, 1.5)
    assert timing == {"world_build_seconds": 1.5, "total_wall_seconds": 10.0}
    fileio.write_manifest(tmp_path, {"timing": timing})
    written = json.loads((tmp_path / "manifest.json").read_text())["timing"]
    assert written == {"world_build_seconds": 1.5, "total_wall_seconds": 17.5}
