"""Writing results folders, reports and GIS exports."""

from .writer import write_run

__all__ = ["write_run"]
