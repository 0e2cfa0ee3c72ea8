"""One fluid tick (sim/workloads/fluid.py): fates and waits of a replica from queueing formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.workloads.fluid import ServiceStats, fluid_tick
from sim.workloads.latency import CENTERS
from sim.workloads.queueing import mmc_mean_wait, mmck
from sim.workloads.spec import ServingBehavior

EXPONENTIAL = ServiceStats.of(np.random.default_rng(0).exponential(0.1, 1 << 17))
CONSTANT = ServiceStats.of(np.full(1000, 0.1))


def behavior(**fields: object) -> ServingBehavior:
    return ServingBehavior.model_validate({"concurrency": 4, "serviceTime": {"dist": "exponential", "mean": 0.1},
                                           **fields})


def mean_wait(tick: object) -> float:
    return float((tick.wait_hist * CENTERS).sum())  # type: ignore[attr-defined]


def test_no_arrivals_means_an_idle_replica() -> None:
    """Zero load: nothing blocked, nothing waiting, nothing in flight."""
    tick = fluid_tick(0.0, EXPONENTIAL, behavior(), 1.0)
    assert (tick.blocked, tick.timed_out, tick.zero_wait, tick.in_flight, tick.busy) == (0, 0, 1, 0, 0)


def test_moderate_load_matches_mmck() -> None:
    """30/s on 4 slots of 100 ms with room for 4: M/M/4/8 blocking, Erlang-like waits, Little's law."""
    tick = fluid_tick(30.0, EXPONENTIAL, behavior(queue={"limit": 4}), 1.0)
    q = mmck(30, 1 / EXPONENTIAL.mean, 4, 4)
    assert math.isclose(tick.blocked, q.blocking, rel_tol=1e-9)
    assert math.isclose(1 - tick.zero_wait, q.waiting, rel_tol=1e-6)
    assert math.isclose(tick.busy, 30 * (1 - q.blocking) * EXPONENTIAL.mean, rel_tol=1e-9)
    assert tick.timed_out == 0.0


def test_unlimited_queue_mean_wait_is_erlang_c() -> None:
    """With a long queue the histogram's mean wait is Erlang C's (to a bin width)."""
    tick = fluid_tick(30.0, EXPONENTIAL, behavior(queue={"limit": 4000}), 1.0)
    assert math.isclose(mean_wait(tick), mmc_mean_wait(30, 1 / EXPONENTIAL.mean, 4), rel_tol=0.02)


def test_constant_service_halves_the_wait() -> None:
    """Allen–Cunneen: deterministic service (cs² = 0) waits half as long as exponential."""
    exp = fluid_tick(30.0, EXPONENTIAL, behavior(queue={"limit": 4000}), 1.0)
    const = fluid_tick(30.0, CONSTANT, behavior(queue={"limit": 4000}), 1.0)
    assert math.isclose(mean_wait(const), mean_wait(exp) / 2, rel_tol=0.03)


@pytest.mark.parametrize(("timeout", "share"), [(0.05, 0.3), (0.2, 0.06)], ids=["short", "longer"])
def test_timeouts_are_the_waits_beyond_the_deadline(timeout: float, share: float) -> None:
    """Queued requests that would wait past the timeout give up: P(wait) × e^(−(cμ−λ)T)."""
    tick = fluid_tick(30.0, EXPONENTIAL, behavior(queue={"limit": 4000, "timeout": timeout}), 1.0)
    waiting = mmck(30, 1 / EXPONENTIAL.mean, 4, 4000).waiting
    rate = 4 / EXPONENTIAL.mean - 30
    assert math.isclose(tick.timed_out, waiting * math.exp(-rate * timeout), rel_tol=0.02)
    assert math.isclose(tick.timed_out, share, rel_tol=0.35)
    assert math.isclose(tick.zero_wait + tick.wait_hist.sum(), 1.0)


def test_batching_carries_more_load_than_one_request_at_a_time() -> None:
    """A replica swamped one request at a time (10/s) keeps up with 30/s when it batches 8 (40/s)."""
    plain = behavior(concurrency=1, queue={"limit": 64})
    batched = behavior(concurrency=1, queue={"limit": 64},
                       batching={"maxBatchSize": 8, "maxQueueDelay": 0.01, "latencyFactor": [[1, 1.0], [8, 2.0]]})
    overload = fluid_tick(30.0, CONSTANT, plain, 1.0)
    keeps_up = fluid_tick(30.0, CONSTANT, batched, 1.0)
    assert overload.blocked > 0.6
    assert keeps_up.blocked < 0.01
    assert keeps_up.batch_size > 1
