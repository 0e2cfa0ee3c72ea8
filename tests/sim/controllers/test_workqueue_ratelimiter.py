"""client-go's default controller rate limiter (sim/controllers/workqueue.py): per-key exponential
back-off under a shared token bucket."""

from __future__ import annotations

import pytest

from sim.controllers.workqueue import ControllerRateLimiter

KEY = ("default", "web")


def test_per_key_backoff_doubles_from_5ms_and_forget_resets_it() -> None:
    limiter = ControllerRateLimiter()
    assert [limiter.when(KEY, 0.0) for _ in range(4)] == pytest.approx([0.005, 0.01, 0.02, 0.04])
    assert limiter.num_requeues(KEY) == 4
    assert limiter.when(("default", "other"), 0.0) == pytest.approx(0.005)  # another key starts over
    limiter.forget(KEY)
    assert limiter.num_requeues(KEY) == 0
    assert limiter.when(KEY, 0.0) == pytest.approx(0.005)


def test_backoff_is_capped_at_1000s() -> None:
    limiter = ControllerRateLimiter()
    delays = [limiter.when(KEY, 1e6 * i) for i in range(30)]  # far apart: the bucket is always full
    assert delays[-1] == 1000.0
    assert max(delays) == 1000.0


def test_forgotten_requeues_run_at_the_bucket_rate_after_its_burst_of_100() -> None:
    """A key requeued 'now' and forgotten after each sync: 100 at 5 ms, then one per 100 ms (10 qps)."""
    limiter = ControllerRateLimiter()
    now, times = 0.0, []
    for _ in range(300):
        now += limiter.when(KEY, now)
        limiter.forget(KEY)
        times.append(now)
    assert times[99] == pytest.approx(0.5, abs=0.05)  # the burst: about 5 ms apart
    gaps = [b - a for a, b in zip(times[150:], times[151:], strict=False)]
    assert gaps == pytest.approx([0.1] * len(gaps), rel=1e-6)
