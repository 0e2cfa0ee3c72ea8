"""generateName suffixes: models apimachinery's ``names.SimpleNameGenerator`` (five characters of
``util/rand.String``'s alphabet, the one ``rand.SafeEncodeString`` also uses: no vowels, no
characters that look alike)."""

from __future__ import annotations

import numpy as np

__all__ = ["ALPHABET", "name_suffix"]

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5


def name_suffix(rng: np.random.Generator) -> str:
    """Five random characters, as a ``generateName: <prefix>-`` object gets."""
    return "".join([ALPHABET[i] for i in rng.integers(0, len(ALPHABET), SUFFIX_LENGTH).tolist()])
