"""Rate-limited node tainting queue: models pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go.

The node lifecycle controller does not taint every unhealthy node at once: each zone has a
queue of node names and a token bucket (client-go ``flowcontrol`` with burst 1), and a pass
every ``NodeEvictionPeriod`` (100 ms) takes the nodes it has tokens for. At the default
0.1 nodes/s a zone loses at most one node every ten seconds; a rate of 0 stops tainting.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["EVICTION_RATE_LIMITER_BURST", "NODE_EVICTION_PERIOD", "RateLimitedTimedQueue", "TokenBucket",
           "TimedValue"]

NODE_EVICTION_PERIOD = 0.1  # scheduler.NodeEvictionPeriod: how often the tainting pass runs
EVICTION_RATE_LIMITER_BURST = 1  # scheduler.EvictionRateLimiterBurst
_EPS = 1e-9  # token arithmetic on float clocks


class TokenBucket:
    """A token bucket that starts full; ``qps <= 0`` never accepts (flowcontrol's fake limiter)."""

    __slots__ = ("burst", "last", "qps", "tokens")

    def __init__(self, qps: float, burst: int = EVICTION_RATE_LIMITER_BURST, now: float = 0.0) -> None:
        self.qps = qps
        self.burst = burst
        self.tokens = float(burst)
        self.last = now

    def try_accept(self, now: float) -> bool:
        """Take a token if one is there (TryAccept); never waits."""
        if self.qps <= 0:
            return False
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.qps)
        self.last = now
        if self.tokens >= 1.0 - _EPS:
            self.tokens -= 1.0
            return True
        return False


@dataclass(slots=True)
class TimedValue:
    """A node name to process at ``process_at`` (the queue's order)."""

    value: str
    added_at: float
    process_at: float
    seq: int = field(default=0, compare=False)


class RateLimitedTimedQueue:
    """Unique node names ordered by ``process_at``, handed out under a token bucket.

    A processed name stays "known" until ``remove``: it cannot be added again, so a tainted
    node is not queued a second time while it stays unhealthy (upstream's UniqueQueue set).
    """

    def __init__(self, qps: float, now: float = 0.0) -> None:
        self.limiter = TokenBucket(qps, now=now)
        self._heap: list[tuple[float, int, TimedValue]] = []  # sorted list, lowest process_at first
        self._known: set[str] = set()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def __contains__(self, value: str) -> bool:
        return value in self._known

    def add(self, value: str, now: float) -> bool:
        """Queue ``value`` to be processed now, unless it is already known."""
        if value in self._known:
            return False
        self._seq += 1
        item = TimedValue(value, now, now, self._seq)
        bisect.insort(self._heap, (now, self._seq, item))
        self._known.add(value)
        return True

    def remove(self, value: str) -> bool:
        """Forget ``value`` so that it may be added again; True if it was known."""
        if value not in self._known:
            return False
        self._known.discard(value)
        self._drop(value)
        return True

    def _drop(self, value: str) -> None:
        for i, (_, _, item) in enumerate(self._heap):
            if item.value == value:
                del self._heap[i]
                return

    def try_process(self, now: float, fn: Callable[[TimedValue], tuple[bool, float]]) -> None:
        """Process due values while tokens last (Try): ``fn`` returns (done, retry-after)."""
        while self._heap:
            if not self.limiter.try_accept(now):  # a token is spent even if the head is not due
                return
            _, _, item = self._heap[0]
            if now < item.process_at:
                return
            done, wait = fn(item)
            del self._heap[0]
            if not done:
                item.process_at = now + wait + 1e-9
                bisect.insort(self._heap, (item.process_at, item.seq, item))

    def swap_limiter(self, qps: float, now: float) -> None:
        """Change the rate (SwapLimiter); a limiter with no token left drains the new one too."""
        if self.limiter.qps == qps:
            return
        new = TokenBucket(qps, now=now)
        if qps > 0 and not self.limiter.try_accept(now):
            new.try_accept(now)
        self.limiter = new
