"""Named random streams: one independent generator per kind of random decision.

Each stream is derived from the replication's ``SeedSequence`` and a fixed stream number, so
adding a new kind of draw never shifts the draws of another, and policy A and policy B on the
same replication see identical build times, failures and ties (common random numbers).
"""

from __future__ import annotations

from typing import Final

import numpy as np

__all__ = ["STREAMS", "Streams", "replication_seeds"]

#: Stream names and their fixed numbers. Never renumber: it would change every result.
STREAMS: Final = {
    "build_times": 1,
    "siting": 2,
    "failures": 3,
    "repairs": 4,
    "adoption": 5,
    "permit_times": 6,
}


def replication_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Seeds of replications 0..n-1 of a scenario seed (replication 0 is a single run)."""
    return list(np.random.SeedSequence(seed).spawn(n))


class Streams:
    """Generators by name for one replication."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        if isinstance(seed, int):
            seed = replication_seeds(seed, 1)[0]
        self.seed_sequence = seed
        self._cache: dict[str, np.random.Generator] = {}

    def seed_for(self, name: str) -> np.random.SeedSequence:
        """The seed of stream *name* (for draws that need their own sub-streams)."""
        if name not in STREAMS:
            raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}")
        return np.random.SeedSequence(
            entropy=self.seed_sequence.entropy,
            spawn_key=(*self.seed_sequence.spawn_key, STREAMS[name]),
        )

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._cache:
            self._cache[name] = np.random.default_rng(self.seed_for(name))
        return self._cache[name]
