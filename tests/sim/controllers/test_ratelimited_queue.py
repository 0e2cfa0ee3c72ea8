"""Rate-limited tainting queue: token bucket with burst 1, unique names, limiter swaps."""

from __future__ import annotations

import pytest

from sim.controllers.ratelimited_queue import RateLimitedTimedQueue, TimedValue, TokenBucket


@pytest.mark.parametrize(("qps", "times", "accepted"), [
    (0.1, [0.0, 0.1, 9.9, 10.0, 10.1, 20.0], [True, False, False, True, False, True]),
    (1.0, [0.0, 0.5, 1.0, 1.5, 2.0], [True, False, True, False, True]),
    (0.0, [0.0, 100.0], [False, False]),
], ids=["0.1-per-s", "1-per-s", "never"])
def test_token_bucket_starts_full_and_refills_at_qps(qps: float, times: list[float], accepted: list[bool]) -> None:
    """Burst 1: the first try passes, the next one only 1/qps seconds later; qps 0 never passes."""
    bucket = TokenBucket(qps)
    assert [bucket.try_accept(t) for t in times] == accepted


def _taint_all(queue: RateLimitedTimedQueue, now: float) -> list[str]:
    done: list[str] = []

    def fn(item: TimedValue) -> tuple[bool, float]:
        done.append(item.value)
        return True, 0.0

    queue.try_process(now, fn)
    return done


def test_queue_hands_out_one_node_per_token_in_arrival_order() -> None:
    """Three nodes queued at 0.1 nodes/s are processed at 0 s, 10 s and 20 s, oldest first."""
    queue = RateLimitedTimedQueue(0.1)
    for name in ("c", "a", "b"):
        assert queue.add(name, 0.0)
    # worked example: one token at t=0, the next at t=10 (a try at t=5 spends nothing: no token)
    assert _taint_all(queue, 0.0) == ["c"]
    assert _taint_all(queue, 5.0) == []
    assert _taint_all(queue, 10.0) == ["a"]
    assert _taint_all(queue, 20.0) == ["b"]
    assert len(queue) == 0


def test_processed_name_cannot_be_added_again_until_removed() -> None:
    """A tainted node stays known (not re-queued) until it is removed (node healthy again)."""
    queue = RateLimitedTimedQueue(1.0)
    queue.add("n", 0.0)
    _taint_all(queue, 0.0)
    assert "n" in queue
    assert not queue.add("n", 1.0)
    assert queue.remove("n")
    assert queue.add("n", 2.0)


def test_failed_item_is_retried_after_its_wait() -> None:
    """fn returning (False, wait) puts the item back with process_at = now + wait."""
    queue = RateLimitedTimedQueue(100.0)
    queue.add("n", 0.0)
    queue.try_process(0.0, lambda item: (False, 0.05))
    assert _taint_all(queue, 0.01) == []
    assert _taint_all(queue, 0.06) == ["n"]


@pytest.mark.parametrize(("spent", "expected_first_try"), [(True, False), (False, True)],
                         ids=["drained-limiter-drains-new", "full-limiter-gives-full-new"])
def test_swap_limiter_carries_an_empty_bucket_over(spent: bool, expected_first_try: bool) -> None:
    """SwapLimiter: if the old bucket had no token, the new one starts drained too."""
    queue = RateLimitedTimedQueue(0.1)
    if spent:
        queue.limiter.try_accept(0.0)
    queue.swap_limiter(0.01, 1.0)
    assert queue.limiter.qps == 0.01
    assert queue.limiter.try_accept(1.0) is expected_first_try


def test_swap_to_zero_stops_everything() -> None:
    """Rate 0 (master disruption mode, or a small unhealthy zone): nothing is processed."""
    queue = RateLimitedTimedQueue(0.1)
    queue.add("n", 0.0)
    queue.swap_limiter(0.0, 0.0)
    assert _taint_all(queue, 1000.0) == []
