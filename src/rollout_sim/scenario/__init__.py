"""Scenario schema and loading."""

from .load import apply_override, dump_scenario, load_scenario, parse_scenario, scenario_hash
from .schema import Operator, Scenario

__all__ = [
    "Operator",
    "Scenario",
    "apply_override",
    "dump_scenario",
    "load_scenario",
    "parse_scenario",
    "scenario_hash",
]
