"""Samplers: block draws from a component's stream, in the order numpy gives them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.distributions import Dist, Sampler

DISTS = {
    "lognormal": Dist.model_validate({"dist": "lognormal", "median": "2ms", "p99": "10ms"}),
    "uniform": Dist.model_validate({"dist": "uniform", "low": "1ms", "high": "3ms"}),
    "exponential": Dist.model_validate({"dist": "exponential", "mean": "5ms"}),
}


def _block(dist: Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """What one block is: the numpy call for the distribution, ``n`` values at once."""
    if dist.dist == "uniform":
        return rng.uniform(dist.low, dist.high, n)
    if dist.dist == "exponential":
        return rng.exponential(dist.mean, n)
    return np.exp(rng.normal(np.log(dist.median), dist.log_sigma, n))


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(DISTS)), block=st.integers(1, 9), seed=st.integers(0, 2**32 - 1),
       ops=st.lists(st.sampled_from(["call", "draw", "other", "many"]), max_size=60))
def test_draws_are_the_streams_blocks_in_order(name: str, block: int, seed: int, ops: list[str]) -> None:
    """``sampler()`` and ``sampler.draw()`` take turns on one buffer; the next block is drawn
    from the generator only at the draw that needs it, so another user of the same generator
    (a second sampler, as etcd's fsync and RTT share one, or ``many``) between draws moves the
    stream exactly as it did with a draw per call."""
    dist = DISTS[name]
    sampler, other = Sampler(dist, np.random.default_rng(seed), block), None
    other = Sampler(dist, sampler._rng, 3)
    rng = np.random.default_rng(seed)  # the reference: a list refilled when empty, on the same calls
    buffer: list[float] = []
    other_buffer: list[float] = []
    for op in ops:
        if op in ("call", "draw"):
            if not buffer:
                buffer = _block(dist, rng, block).tolist()
            got = sampler() if op == "call" else sampler.draw()
            assert got == buffer.pop(0)
        elif op == "other":
            if not other_buffer:
                other_buffer = _block(dist, rng, 3).tolist()
            assert other.draw() == other_buffer.pop(0)
        else:
            assert np.array_equal(sampler.many(4), _block(dist, rng, 4))


def test_constant_draws_without_a_generator() -> None:
    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    sampler = Sampler(Dist.model_validate("250ms"), rng)
    assert [sampler(), sampler.draw(), sampler()] == [0.25, 0.25, 0.25]
    assert sampler.many(3).tolist() == [0.25] * 3
    assert rng.bit_generator.state == state


def test_zero_median_lognormal_draws_zero() -> None:
    sampler = Sampler(Dist.model_validate({"dist": "lognormal", "median": 0, "p99": 0}), np.random.default_rng(1))
    assert [sampler.draw() for _ in range(3)] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", sorted(DISTS))
def test_default_block_matches_one_numpy_call(name: str) -> None:
    """With the default block of 1,024, the first 1,500 draws are two numpy calls' values."""
    dist = DISTS[name]
    sampler = Sampler(dist, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    expected = np.concatenate([_block(dist, rng, 1024), _block(dist, rng, 1024)])[:1500]
    assert [sampler.draw() for _ in range(1500)] == expected.tolist()
