"""Experiments: replications, policy comparisons (and, later, sweeps and calibration)."""

from .compare import Comparison, compare_policies
from .replications import ReplicationSet, run_replications

__all__ = ["Comparison", "ReplicationSet", "compare_policies", "run_replications"]
