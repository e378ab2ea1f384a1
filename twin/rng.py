"""Named random streams from one seed (DESIGN principle 5).

``Streams(seed, replication).get("demand", item, location)`` returns a generator whose sequence
depends only on the seed, the replication number and those names. Adding a machine or an item
does not shift any other stream, and two scenarios that share a seed see the same demand
(common random numbers). Nothing in the twin touches the global ``random`` or ``np.random`` state.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Streams", "name_key"]


def name_key(*names: str | int) -> tuple[int, ...]:
    """Stable 32-bit words for a stream name (Python's hash() is salted per process, so not that)."""
    text = "\x1f".join(str(n) for n in names).encode()
    digest = hashlib.blake2b(text, digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class Streams:
    """The random streams of one replication of one run."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        if seed < 0 or replication < 0:
            raise ValueError(f"seed and replication must be non-negative, got {seed}, {replication}")
        self.seed = seed
        self.replication = replication
        self._cache: dict[tuple[str | int, ...], np.random.Generator] = {}

    def get(self, *names: str | int) -> np.random.Generator:
        """The generator of the stream with these names (the same object on every call)."""
        gen = self._cache.get(names)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, *name_key(*names)))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._cache[names] = gen
        return gen
