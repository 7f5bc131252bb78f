"""Experiments: replications, policy comparisons, sweeps and calibration, all run as tasks by
the one batch runner (:func:`~.runner.run_batch`)."""

from .compare import Comparison, compare_policies
from .replications import ReplicationSet, replicate, run_replications
from .runner import Batch, Interrupted, run_batch

__all__ = [
    "Batch",
    "Comparison",
    "Interrupted",
    "ReplicationSet",
    "compare_policies",
    "replicate",
    "run_batch",
    "run_replications",
]
