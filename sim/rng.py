"""Seeded random streams, one per component, derived from the scenario seed.

Models Mesa's ``seed=`` contract with numpy's ``SeedSequence``: each named component gets
its own child stream, so adding draws in one component never shifts another's.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["BoundedDraws", "Streams"]


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


class BoundedDraws:
    """``Generator.integers(n)`` (one int in [0, n), n up to 2**32), as numpy draws it, a few
    hundred of the generator's 32-bit outputs fetched at a time.

    numpy bounds an int64 draw below 2**32 with Lemire's method on the generator's next 32-bit
    outputs (rejecting the few that would bias it), and a block of unbounded uint32 draws is
    those very outputs in order: so this yields the numbers that calling ``integers(n)`` each
    time would, without numpy's per-call overhead (about a microsecond). ``rng`` must serve
    nothing else (its outputs are taken ahead)."""

    __slots__ = ("_block", "_outputs", "_rng")

    def __init__(self, rng: np.random.Generator, block: int = 512) -> None:
        self._rng = rng
        self._block = block
        self._outputs: list[int] = []

    def _next(self) -> int:
        outputs = self._outputs
        if not outputs:
            outputs.extend(self._rng.integers(0, 0xFFFFFFFF, self._block, dtype=np.uint32, endpoint=True).tolist())
            outputs.reverse()
        return outputs.pop()

    def integers(self, n: int) -> int:
        """A uniform int in [0, n)."""
        if not 0 < n <= 0x100000000:
            raise ValueError(f"BoundedDraws.integers: n must be in [1, 2**32], not {n}")
        if n == 1:
            return 0  # numpy draws nothing for a range of one
        if n == 0x100000000:
            return self._next()
        product = self._next() * n
        low = product & 0xFFFFFFFF
        if low < n:
            threshold = (0x100000000 - n) % n  # (UINT32_MAX - (n - 1)) % n
            while low < threshold:
                product = self._next() * n
                low = product & 0xFFFFFFFF
        return product >> 32
