"""Queueing formulas (sim/workloads/queueing.py) against textbook values and each other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.workloads.queueing import (
    allen_cunneen,
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    mmck,
    queued_wait_cdf,
    queued_wait_mean,
)


@pytest.mark.parametrize(("c", "a", "b", "cw"), [
    (1, 0.5, 1 / 3, 0.5),
    (2, 1.0, 0.2, 1 / 3),
    (4, 3.0, 0.2061, 0.5094),
    (10, 8.0, 0.1217, 0.4092),
], ids=["single-server", "two-servers", "four-servers", "ten-servers"])
def test_erlang_b_and_c(c: int, a: float, b: float, cw: float) -> None:
    """Erlang B and C match tabulated values (for one server, C = ρ)."""
    assert math.isclose(erlang_b(c, a), b, abs_tol=1e-4)
    assert math.isclose(erlang_c(c, a), cw, abs_tol=1e-4)


def test_saturated_mmc_always_waits_forever() -> None:
    """At or above capacity every arrival waits and the mean wait is unbounded."""
    assert erlang_c(4, 4.0) == 1.0
    assert mmc_mean_wait(40, 10, 4) == math.inf


def test_worked_example_of_the_module_docstring() -> None:
    """λ = 30/s, μ = 10/s, c = 4: P(wait) 0.509, mean wait 51 ms."""
    assert math.isclose(mmc_mean_wait(30, 10, 4), 0.0509, abs_tol=1e-4)


def test_mmck_with_room_to_spare_is_mmc() -> None:
    """With a long queue M/M/c/K has no blocking, Erlang C waiting, and L = λW + a."""
    q = mmck(30, 10, 4, 2000)
    assert q.blocking < 1e-12
    assert math.isclose(q.waiting, erlang_c(4, 3.0), rel_tol=1e-9)
    assert math.isclose(q.in_system, 30 * mmc_mean_wait(30, 10, 4) + 3.0, rel_tol=1e-9)
    assert math.isclose(q.busy, 3.0, rel_tol=1e-9)


def test_mmck_without_a_queue_is_erlang_b() -> None:
    """With no waiting room, blocking is Erlang B and nobody waits."""
    q = mmck(30, 10, 4, 0)
    assert math.isclose(q.blocking, erlang_b(4, 3.0), rel_tol=1e-9)
    assert q.waiting == 0.0


@pytest.mark.parametrize(("lam", "room"), [(20, 3), (30, 8), (80, 20)], ids=["light", "moderate", "overloaded"])
def test_mmck_probabilities_are_consistent(lam: float, room: int) -> None:
    """Throughput equals served work: λ(1 − blocking) = μ × busy servers."""
    q = mmck(lam, 10, 4, room)
    assert math.isclose(lam * (1 - q.blocking), 10 * q.busy, rel_tol=1e-9)


def test_queued_wait_is_exponential_without_a_limit() -> None:
    """In M/M/c a waiting request waits Exp(cμ − λ)."""
    q = mmck(30, 10, 4, 4000)
    x = np.array([0.01, 0.05, 0.1, 0.3])
    assert np.allclose(queued_wait_cdf(q, 40.0, x), 1 - np.exp(-10 * x), atol=2e-4)
    assert math.isclose(queued_wait_mean(q, 40.0), 0.1, rel_tol=1e-4)


def test_queued_wait_is_bounded_by_the_queue_limit() -> None:
    """Overloaded with room for 20, a waiting request waits about 20 departures of rate cμ."""
    q = mmck(80, 10, 4, 20)
    assert 0.40 < queued_wait_mean(q, 40.0) < 0.53
    assert queued_wait_cdf(q, 40.0, np.array([2.0]))[0] > 0.999


def test_allen_cunneen_factor() -> None:
    """Poisson arrivals and exponential service keep the M/M/c wait; constant service halves it."""
    assert allen_cunneen(1.0, 1.0) == 1.0
    assert allen_cunneen(1.0, 0.0) == 0.5
