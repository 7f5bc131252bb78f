"""The one thing pyproject.toml cannot say without an experimental table: the optional C
accelerators of the outage path (``src/rollout_sim/_netcore.c``) and of a relay's reach
(``src/rollout_sim/_reach.c``); see ``rollout_sim.compiled`` and docs/architecture.md.

They are built where a C compiler is present; without one the install goes on (``optional``)
and the same model runs in Python, slower, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rollout_sim._netcore",
            sources=["src/rollout_sim/_netcore.c"],
            depends=["src/rollout_sim/_buffers.h"],
            optional=True,
        ),
        Extension(
            "rollout_sim._reach",
            sources=["src/rollout_sim/_reach.c"],
            depends=["src/rollout_sim/_buffers.h"],
            optional=True,
        ),
    ]
)
