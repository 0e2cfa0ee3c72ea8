"""generateName suffixes: models apimachinery's ``names.SimpleNameGenerator`` (five characters of
``util/rand.String``'s alphabet, the one ``rand.SafeEncodeString`` also uses: no vowels, no
characters that look alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["ALPHABET", "NameSuffixes"]

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5


class NameSuffixes:
    """Five random characters per call, as a ``generateName: <prefix>-`` object gets, drawn from a
    stream of its own.

    The characters are drawn ``batch`` names at a time: numpy's bounded integers take their bits
    one after another from the generator, so a batch yields the very characters that drawing five
    per name would, at a fraction of the calls. ``rng`` must serve nothing else."""

    __slots__ = ("_batch", "_next", "_rng", "_suffixes")

    def __init__(self, rng: np.random.Generator, batch: int = 256) -> None:
        self._rng = rng
        self._batch = batch
        self._suffixes: list[str] = []
        self._next = 0

    def __call__(self) -> str:
        if self._next == len(self._suffixes):
            letters = [ALPHABET[i] for i in self._rng.integers(0, len(ALPHABET), SUFFIX_LENGTH * self._batch).tolist()]
            self._suffixes = ["".join(letters[i:i + SUFFIX_LENGTH]) for i in range(0, len(letters), SUFFIX_LENGTH)]
            self._next = 0
        suffix = self._suffixes[self._next]
        self._next += 1
        return suffix
