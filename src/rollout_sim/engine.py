"""``simulate(scenario, seed) -> Results``: one replication, no file IO, no plotting."""

from __future__ import annotations

import time

import numpy as np
import simpy

from .model.finance import Ledger
from .model.operator import OperatorAgent, SharedState
from .model.streams import Streams
from .results import Results
from .scenario.schema import Scenario
from .world.build import World, build_world

__all__ = ["simulate"]


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    world: World | None = None,
) -> Results:
    """Run one replication of *scenario*.

    *seed* defaults to the scenario seed (replication 0 of it); pass a ``SeedSequence`` from
    :func:`rollout_sim.model.streams.replication_seeds` for replication *k*. Pass a prebuilt
    *world* to reuse it across replications and policies (it must come from this scenario's
    geography).
    """
    wall = time.perf_counter()
    if world is None:
        world = build_world(scenario)
    streams = Streams(scenario.seed if seed is None else seed)
    n = len(world)
    # One uniform per village and stream, drawn up front: a site's draws do not depend on the
    # order of events, so runs are paired across policies (common random numbers).
    u_build = streams["build_times"].random(n)
    tiebreak = streams["siting"].random(n)

    env = simpy.Environment()
    ledger = Ledger(tuple(op.name for op in scenario.operators))
    shared = SharedState(env, world, ledger)
    agents = [
        OperatorAgent(i, op, shared, scenario.backhaul, u_build, tiebreak)
        for i, op in enumerate(scenario.operators)
    ]
    env.run(until=float(scenario.horizon_days))
    return Results.from_run(
        scenario=scenario,
        world=world,
        shared=shared,
        agents=agents,
        seed_sequence=streams.seed_sequence,
        wall_seconds=time.perf_counter() - wall,
    )
