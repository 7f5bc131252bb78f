"""rollout-sim: discrete-event simulation of rural mobile-broadband rollout.

The public API is small: load a scenario, simulate it, look at the results.

>>> from rollout_sim import load_scenario, simulate
>>> results = simulate(load_scenario("scenarios/quickstart.yaml"))  # doctest: +SKIP
>>> results.daily["people_covered"][-1]  # doctest: +SKIP

The names below are imported on first use, not with the package: the command line starts
(and installs its signal handlers) before numpy, scipy and the model are loaded.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .engine import simulate
    from .errors import InputError, ScenarioError
    from .results import Results
    from .scenario.load import load_scenario
    from .world.build import World, build_world

#: Public name -> the module that defines it.
_LAZY = {
    "simulate": ".engine",
    "InputError": ".errors",
    "ScenarioError": ".errors",
    "Results": ".results",
    "load_scenario": ".scenario.load",
    "World": ".world.build",
    "build_world": ".world.build",
}

__all__ = [
    "InputError",
    "Results",
    "ScenarioError",
    "World",
    "__version__",
    "build_world",
    "load_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
