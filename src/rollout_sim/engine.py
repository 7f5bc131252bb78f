"""``simulate(scenario, seed) -> Results``: one replication, no file IO, no plotting."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from .model.finance import Ledger
from .model.funding import FundingDesk
from .model.invariants import check_network
from .model.maintenance import VillageDraws
from .model.network import Network
from .model.operator import OperatorAgent
from .model.streams import Streams
from .results import Results
from .scenario.schema import Scenario
from .world.build import World, build_world

__all__ = ["CountingEnvironment", "simulate"]


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that says how many events it has scheduled, as SimPy numbers them
    (those still pending when the run stops count too): a run's size, ``results.extra["events"]``.

    Read from SimPy's own numbering (the ``itertools.count`` that orders events of one instant)
    rather than counted by overriding ``schedule``: that was a Python call more per event,
    ~170,000 in a national run."""

    @property
    def scheduled(self) -> int:
        # A count shows the next number it will give in its repr, "count(N)": N events so far.
        shown = repr(self._eid)
        match = re.fullmatch(r"count\((\d+)\)", shown)
        if match is None:  # pragma: no cover - a SimPy that numbers events differently
            raise RuntimeError(f"SimPy's event numbering is not a count: {shown}")
        return int(match.group(1))


def _depots(world: World, ids: list[str] | None) -> np.ndarray:
    if ids is None:
        return world.depots
    index = world.villages.index_of()
    return np.array(sorted({index[i] for i in ids}), dtype=np.int64)


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    world: World | None = None,
    policy: str | None = None,
    check: bool = False,
) -> Results:
    """Run one replication of *scenario* under one funding *policy*.

    *seed* defaults to the scenario seed (replication 0 of it); pass a ``SeedSequence`` from
    :func:`rollout_sim.model.streams.replication_seeds` for replication *k*. Pass a prebuilt
    *world* to reuse it across replications and policies (it must come from this scenario's
    geography). *policy* names one of the scenario's policies (default: its baseline; with no
    policies, none). Raises ``KeyError`` for an unknown policy name. Invariants are checked
    at the end of the run, and with *check* every 30 simulated days too (slower).
    """
    wall = time.perf_counter()
    if world is None:
        world = build_world(scenario)
    streams = Streams(scenario.seed if seed is None else seed)
    n = len(world)
    horizon = scenario.horizon_days
    # Draws are indexed by village, not by the order of events, so a site sees the same build
    # time, failure times and repair times under every policy (common random numbers).
    u_build = streams["build_times"].random(n)
    u_permit = streams["permit_times"].random(n)
    tiebreak = streams["siting"].random(n)
    mtbf_min = min(scenario.maintenance.failures.mtbf_days.values())
    block = min(32, max(4, math.ceil(2 * horizon / mtbf_min) + 4))
    failure_draws = VillageDraws(streams.seed_for("failures"), n, block)
    repair_draws = VillageDraws(streams.seed_for("repairs"), n, block)

    env = CountingEnvironment()
    ledger = Ledger(tuple(op.name for op in scenario.operators))
    network = Network(env, world, ledger)
    chosen = scenario.policy(policy)
    funding = FundingDesk(
        env, chosen, scenario.operators, scenario.start_date, horizon, world.villages.zone_names
    )
    agents = [
        OperatorAgent(
            i,
            op,
            network,
            backhaul_spec=scenario.backhaul,
            maintenance_spec=scenario.maintenance,
            start_date=scenario.start_date,
            horizon_days=horizon,
            depots=_depots(world, op.depots),
            u_build=u_build,
            u_permit=u_permit,
            tiebreak=tiebreak,
            failure_draws=failure_draws,
            repair_draws=repair_draws,
            funding=funding.port(i),
        )
        for i, op in enumerate(scenario.operators)
    ]
    network.mark_start()  # after the operators' initial sites: they are the start's
    seed_label = scenario.seed if seed is None else getattr(seed, "spawn_key", seed)
    if check:

        def watch() -> Generator[simpy.Event, Any, None]:
            while True:
                yield env.timeout(30.0)
                check_network(network, seed_label)

        env.process(watch())
    env.run(until=float(horizon))
    check_network(network, seed_label, float(horizon))
    for agent in agents:
        agent.close_books(float(horizon))
    events = env.scheduled
    results = Results.from_run(
        scenario=scenario,
        network=network,
        agents=agents,
        funding=funding,
        seed_sequence=streams.seed_sequence,
        wall_seconds=time.perf_counter() - wall,
    )
    results.extra["events"] = events
    return results
