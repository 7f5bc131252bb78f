"""Calibrate scenario parameters jointly to several targets (see ``docs/calibration.md``).

Each evaluation runs the same replications (same seeds: common random numbers), so the objective
is a deterministic function of the parameters and a bisection or simplex search behaves. The
parameters are searched scaled to [0, 1] within their bounds. The objective is

    Σ over targets and their points of  weight × (error / scale)²

where the error is simulated − target and the scale is the target's tolerance in the metric's
units (an absolute ``tolerance``, or ``rel_tolerance`` × |target|) or, for a target without one,
10% of |target|: every error is counted in tolerances, so targets of different units and sizes
add up fairly and a target at the edge of its tolerance contributes its weight. One parameter
against one window target uses bisection (the rate must move one way with the parameter);
anything else scipy's Nelder–Mead or Powell. After the fit, the scaled errors are differentiated
by each parameter (±5% of its range, the same replications) to find parameters the targets do
not pin down: ones that barely move them, or pairs that move them the same way.

Replications of one evaluation run through the common batch runner (a process pool, a Dask
cluster, a run store to resume from); each replication's values are combined in replication
order, so the results are identical whatever runs them.

Modules: :mod:`.observed` (observed series), :mod:`.metrics` (metric names), :mod:`.targets`
(targets and parameters resolved against the scenario), :mod:`.evaluate` (evaluations),
:mod:`.search` (the search), :mod:`.identify` (identification), :mod:`.result`.
"""

from .evaluate import Evaluation
from .identify import COLLINEAR_COS, IDENTIFICATION_STEP, INSENSITIVE, Identification
from .metrics import SMOOTH_DAYS, MetricRef, metric_names, resolve_metric
from .observed import read_observed
from .result import CalibrationResult
from .search import calibrate, evaluation_budget
from .targets import (
    DEFAULT_SCALE,
    TargetPlan,
    check_calibration,
    require_calibration,
    with_params,
)

__all__ = [
    "COLLINEAR_COS",
    "DEFAULT_SCALE",
    "IDENTIFICATION_STEP",
    "INSENSITIVE",
    "SMOOTH_DAYS",
    "CalibrationResult",
    "Evaluation",
    "Identification",
    "MetricRef",
    "TargetPlan",
    "calibrate",
    "check_calibration",
    "evaluation_budget",
    "metric_names",
    "read_observed",
    "require_calibration",
    "resolve_metric",
    "with_params",
]
