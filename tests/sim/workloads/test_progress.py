"""Checkpointed training progress: finish time and work lost at a failure."""

from __future__ import annotations

import numpy as np
import pytest

from sim.workloads.progress import progress_at, time_to_finish


def test_worked_example() -> None:
    """Step 2 s, K=100, write 30 s: stopped at 500 s -> checkpoint 200, 20 steps lost."""
    p = progress_at(500.0, 0, 1000, 2.0, 100, 30.0)
    assert (p.steps_done, p.checkpoint, p.lost_steps) == (220, 200, 20)


def test_a_write_in_progress_does_not_count() -> None:
    """Stopped during the write after step 100: the checkpoint is still 0."""
    p = progress_at(210.0, 0, 1000, 2.0, 100, 30.0)
    assert (p.steps_done, p.checkpoint) == (100, 0)


@pytest.mark.parametrize(("start", "expected"), [(0, 1000 * 2 + 9 * 30), (900, 100 * 2), (1000, 0)],
                         ids=["from-zero", "last-interval", "done"])
def test_time_to_finish(start: int, expected: float) -> None:
    """Steps x step time plus a write after every K steps but the last."""
    assert time_to_finish(start, 1000, 2.0, 100, 30.0) == pytest.approx(expected)


@pytest.mark.parametrize("interval", [10, 50, 200], ids=["K10", "K50", "K200"])
def test_failures_at_random_times_lose_about_half_an_interval(interval: int) -> None:
    """Uniformly random failure times lose about K/2 steps each (no step runs during writes)."""
    rng = np.random.default_rng(7)
    step, write = 1.0, 0.0
    times = rng.uniform(0, 100 * interval * step, 20000)
    lost = [progress_at(t, 0, 10**9, step, interval, write).lost_steps for t in times]
    assert np.mean(lost) == pytest.approx((interval - 1) / 2, rel=0.05)
