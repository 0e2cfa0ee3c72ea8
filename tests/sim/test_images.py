"""Image pull back-off (10 s doubling to 300 s) and the registry's outage windows."""

from __future__ import annotations

import pytest

from sim.images import ImageBackoff, ImageRegistry, next_backoff


@pytest.mark.parametrize(("previous", "idle", "expected"), [
    (None, 0.0, 10.0), (10.0, 12.0, 20.0), (160.0, 170.0, 300.0), (300.0, 310.0, 300.0), (300.0, 601.0, 10.0),
], ids=["first", "doubles", "capped", "stays-capped", "expired-restarts"])
def test_next_backoff(previous: float | None, idle: float, expected: float) -> None:
    """flowcontrol.Backoff.Next: 10 s, doubling, capped at 300 s; an entry idle > 600 s starts over."""
    assert next_backoff(previous, idle) == expected


def test_backoff_sequence_and_window() -> None:
    """Failures at 0, 10, 30 s give back-offs 10, 20, 40 s; a retry inside the window is refused."""
    backoff = ImageBackoff()
    key = (1, "img:1")
    assert [backoff.failed(key, t) for t in (0.0, 10.0, 30.0)] == [10.0, 20.0, 40.0]
    # worked example: last failure at 30 s with 40 s of back-off -> retries before 70 s back off
    assert backoff.in_backoff(key, 69.9)
    assert not backoff.in_backoff(key, 70.0)
    assert not backoff.in_backoff((2, "img:1"), 31.0)  # keyed by pod and image
    backoff.forget(1)
    assert not backoff.in_backoff(key, 31.0)


def test_registry_outage_windows() -> None:
    """A pull fails if any outage overlapped its transfer window."""
    registry = ImageRegistry()
    assert registry.up
    registry.go_down(100.0)
    assert not registry.up
    assert registry.down_during(50.0, 150.0)
    registry.come_back(200.0)
    assert registry.up
    assert registry.down_during(150.0, 160.0)
    assert registry.down_during(190.0, 250.0)
    assert not registry.down_during(10.0, 90.0)
    assert not registry.down_during(200.0, 260.0)
