"""generateName suffixes: five characters of the no-vowel alphabet, drawn in batches without
changing which characters a stream gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api.names import ALPHABET, NameSuffixes


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 40), count=st.integers(1, 200))
def test_batches_give_the_suffixes_of_one_draw_per_name(seed, batch, count) -> None:
    """Whatever the batch size, the n-th suffix is the five characters a draw per name would give."""
    names = NameSuffixes(np.random.default_rng(seed), batch=batch)
    one_by_one = np.random.default_rng(seed)
    expected = ["".join(ALPHABET[i] for i in one_by_one.integers(0, len(ALPHABET), 5).tolist())
                for _ in range(count)]
    assert [names() for _ in range(count)] == expected


def test_suffixes_use_the_alphabet() -> None:
    """Five characters, no vowels and none of the look-alikes (0, 1, 3, a, e, i, o, u, y)."""
    names = NameSuffixes(np.random.default_rng(7))
    drawn = [names() for _ in range(600)]
    assert all(len(s) == 5 for s in drawn)
    assert set("".join(drawn)) == set(ALPHABET)
