"""The world: villages, fibre PoPs, depots, the transport graph and the coverage index."""

from .build import World, build_world, world_key
from .coverage import CoverageIndex, build_coverage_index
from .villages import Villages, synthetic_villages

__all__ = [
    "CoverageIndex",
    "Villages",
    "World",
    "build_coverage_index",
    "build_world",
    "synthetic_villages",
    "world_key",
]
