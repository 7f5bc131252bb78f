"""Writing results folders (and, later, reports)."""

from .writer import ResultsWriteError, atomic_results_dir, write_run

__all__ = ["ResultsWriteError", "atomic_results_dir", "write_run"]
