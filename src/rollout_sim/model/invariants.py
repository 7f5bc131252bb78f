"""Invariants every run must keep; a violation is a bug, reported with the seed and state.

Checked at the end of every simulation, and every simulated month with ``check=True``
(``--check`` on the command line). Each check is O(sites + covered villages + ledger rows).
"""

from __future__ import annotations

import numpy as np

from ..errors import SimulationError
from .network import Network

__all__ = ["check_network"]


def check_network(network: Network, seed: object, horizon: float | None = None) -> None:
    """Raise :class:`SimulationError` naming the first broken invariant."""
    now = network.env.now if horizon is None else horizon

    def fail(what: str) -> None:
        raise SimulationError(
            f"invariant violated at day {now:.3f}: {what} (seed {seed}; please report this with "
            "the scenario file)"
        )

    lg = network.ledger
    ops = np.array(lg.operator, dtype=np.int64)
    amounts = np.array(lg.amount, dtype=np.float64)
    for op in sorted(set(lg.operator)):
        mine = amounts[ops == op]
        total = round(float(mine.sum()), 2)
        # Half a cent, plus what float64 rounding can add up to: the running cash rounds once
        # per row (and the sum here again), each by at most one ulp of the amounts involved.
        # Exact to the cent while sums stay below ~1e13 US$; relative beyond, where a cent is
        # smaller than an ulp and an absolute tolerance would report rounding as a bug.
        tol = 0.005 + 4 * np.finfo(np.float64).eps * (len(mine) + 1) * float(np.abs(mine).sum())
        if abs(total - lg.cash(op)) > tol:
            fail(f"operator {op}: cash {lg.cash(op):.2f} != ledger sum {total:.2f}")
        if lg.cash(op) < -tol:
            fail(f"operator {op}: negative cash {lg.cash(op):.2f}")
    cov = network.coverage
    pop = network.world.villages.total_population
    if not 0 <= cov.people_covered <= pop:
        fail(f"people covered {cov.people_covered} outside 0..{pop}")
    # Coverage counts must be exactly those of the sites in service.
    in_service = np.flatnonzero(network.in_service)
    counts = np.bincount(
        network.world.coverage.covers_all(in_service), minlength=len(network.world)
    ).astype(np.int64, copy=False)
    if not np.array_equal(counts, cov.on_air):
        bad = int(np.flatnonzero(counts != cov.on_air)[0])
        fail(
            f"village {network.world.villages.ids[bad]} has {int(cov.on_air[bad])} covering "
            f"sites on record but {int(counts[bad])} in service"
        )
    served = counts > 0
    if int(served.sum()) != cov.villages_covered:
        fail(f"villages covered {cov.villages_covered} != {int(served.sum())} served")
    if network.on_air_count > network.built_count + len(network.existing_4g):
        fail(f"sites on air {network.on_air_count} > built {network.built_count}")
    for name, trace in (("built", network.built_trace), ("on air", network.on_air_trace)):
        if len(trace.value) > 1 and np.any(np.diff(np.array(trace.value)) < 0):
            fail(f"cumulative sites {name} decreased")
    down = network.in_service == False  # noqa: E712 - numpy elementwise
    ever = np.isfinite(network.sites.on_air_day)
    if int((down & ever).sum()) != network.down_count:
        fail(f"sites down {network.down_count} != {int((down & ever).sum())} counted")
