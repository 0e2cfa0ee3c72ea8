"""Seeded random streams, one per component, derived from the scenario seed.

Models Mesa's ``seed=`` contract with numpy's ``SeedSequence``: each named component gets
its own child stream, so adding draws in one component never shifts another's.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """Factory of independent, named ``numpy.random.Generator`` streams."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._made: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (the same object on every call)."""
        gen = self._made.get(name)
        if gen is None:
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(zlib.crc32(name.encode()),))
            gen = self._made[name] = np.random.default_rng(seq)
        return gen
