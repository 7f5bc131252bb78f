"""The one thing pyproject.toml cannot say without an experimental table: the optional C
accelerator of the outage path (``src/rollout_sim/_netcore.c``, docs/architecture.md).

It is built where a C compiler is present; without one the install goes on (``optional``) and
the same model runs in Python (``rollout_sim.model.netcore``), slower, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rollout_sim._netcore",
            sources=["src/rollout_sim/_netcore.c"],
            optional=True,
        )
    ]
)
