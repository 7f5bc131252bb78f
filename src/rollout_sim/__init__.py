"""rollout-sim: discrete-event simulation of rural mobile-broadband rollout.

The public API is small: load a scenario, simulate it, look at the results.

>>> from rollout_sim import load_scenario, simulate
>>> results = simulate(load_scenario("scenarios/quickstart.yaml"))  # doctest: +SKIP
>>> results.daily["people_covered"][-1]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .engine import simulate
from .errors import InputError, ScenarioError
from .results import Results
from .scenario.load import load_scenario
from .world.build import World, build_world

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
