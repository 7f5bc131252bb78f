"""``python -m rollout_sim``."""

from .cli import program

program()
