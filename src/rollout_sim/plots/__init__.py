"""Matplotlib figures of results (never called by the engine). Agg backend, no display.

:mod:`.series` draws one run's daily series, :mod:`.maps` and :mod:`.animation` its maps,
:mod:`.experiments` replications, comparisons and sweeps, :mod:`.calibration` a calibration's
fit; :mod:`.axes` is what they share. :mod:`.folders` says which plots each kind of results
folder holds, under which names (the report looks them up by those names).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is first imported, by any of the modules below

from .animation import Frame, RolloutAnimation, rollout_days, write_rollout_gif
from .axes import RefPoint, reference_points, save_figure
from .calibration import calibration_figure
from .experiments import (
    POLICY_COLOURS,
    FanData,
    difference_figure,
    fan_figure,
    interval_figure,
    policy_colour,
    sweep_figure,
)
from .folders import (
    comparison_plots,
    replication_plots,
    run_drawings,
    sweep_plots,
)
from .maps import map_figure, snapshot_days, snapshots_figure
from .series import (
    availability_figure,
    coverage_figure,
    finance_figure,
    footprint_figure,
    impact_figure,
)

__all__ = [
    "POLICY_COLOURS",
    "FanData",
    "Frame",
    "RefPoint",
    "RolloutAnimation",
    "availability_figure",
    "calibration_figure",
    "comparison_plots",
    "coverage_figure",
    "difference_figure",
    "fan_figure",
    "finance_figure",
    "footprint_figure",
    "impact_figure",
    "interval_figure",
    "map_figure",
    "policy_colour",
    "reference_points",
    "replication_plots",
    "rollout_days",
    "run_drawings",
    "save_figure",
    "snapshot_days",
    "snapshots_figure",
    "sweep_figure",
    "sweep_plots",
    "write_rollout_gif",
]
