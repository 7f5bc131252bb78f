"""The optional compiled parts and the switch that turns them off.

Two small C extensions speed up what a national run does tens of thousands of times:
``rollout_sim._netcore`` (a site and its backhaul subtree going off air and back, the
maintenance crews' cycle of failures and repairs, the siting queue's heap:
:mod:`rollout_sim.model.netcore`) and ``rollout_sim._reach`` (the villages a new relay gives a
shorter hop: :class:`rollout_sim.world.reach.HopReach`). ``setup.py`` builds them where a C
compiler is present; without one the install goes on and the Python code they mirror runs,
with the same results to the bit. Setting ``ROLLOUT_SIM_PURE_PYTHON`` (any non-empty value)
runs the Python code even where they are built, e.g. to check that the two agree.
"""

from __future__ import annotations

import os

__all__ = ["PURE_PYTHON_ENV", "pure_python"]

#: Set (non-empty) to run the Python path even where the compiled parts are built.
PURE_PYTHON_ENV = "ROLLOUT_SIM_PURE_PYTHON"


def pure_python() -> bool:
    """Whether the environment asks for the Python path."""
    return bool(os.environ.get(PURE_PYTHON_ENV))
