"""Random streams: BoundedDraws yields exactly what numpy's ``Generator.integers(n)`` would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rng import BoundedDraws, Streams

# ranges of every kind: one (no draw), small, just above and below powers of two, and near
# 2**32, where Lemire's method rejects outputs often
bounds = st.one_of(st.integers(1, 64), st.integers(1, 2**32),
                   st.sampled_from([1, 2, 3, 2**16 + 1, 2**31 - 1, 2**31 + 1, 3 * 2**30, 2**32 - 1, 2**32]))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(bounds, min_size=1, max_size=300), st.integers(1, 9))
def test_bounded_draws_are_numpys_integers(seed: int, ns: list[int], block: int) -> None:
    """The same numbers, in the same order, as calling ``integers(n)`` on the generator each
    time, whatever the block size (odd ones split a 64-bit output across blocks)."""
    numpy_side = np.random.default_rng(seed)
    ours = BoundedDraws(np.random.default_rng(seed), block=block)
    assert [ours.integers(n) for n in ns] == [int(numpy_side.integers(n)) for n in ns]


def test_bounded_draws_refuse_an_empty_or_too_large_range() -> None:
    draws = BoundedDraws(Streams(1).get("x"))
    for n in (0, -3, 2**32 + 1):
        with pytest.raises(ValueError, match="must be in"):
            draws.integers(n)


class _Outputs:
    """A stand-in generator whose 32-bit outputs are chosen (to reach Lemire's rare rejections)."""

    def __init__(self, outputs: list[int]) -> None:
        self.outputs = outputs

    def integers(self, low: int, high: int, size: int, dtype: object, endpoint: bool) -> np.ndarray:
        assert (low, high, dtype, endpoint) == (0, 2**32 - 1, np.uint32, True)
        taken, self.outputs = self.outputs[:size], self.outputs[size:]
        return np.array(taken, dtype=np.uint32)


def test_bounded_draws_reject_exactly_below_the_threshold() -> None:
    """Lemire's method rejects an output whose product's low 32 bits fall below 2**32 mod n,
    and keeps one right at it (the boundary numpy draws alike, but a seed reaches it once in
    billions of draws)."""
    n = 2**31 + 1  # odd, so every low part is reachable; 2**32 mod n = 2**31 - 1
    threshold = 2**32 % n
    inverse = pow(n, -1, 2**32)
    below, at = (threshold - 1) * inverse % 2**32, threshold * inverse % 2**32
    draws = BoundedDraws(_Outputs([below, at, 5]), block=3)  # type: ignore[arg-type]
    assert draws.integers(n) == at * n >> 32  # the first output is rejected
    assert draws.integers(n) == 5 * n >> 32
