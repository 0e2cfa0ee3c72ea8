"""A component's API client: models client-go's token-bucket rate limiter (QPS / burst).

``flowcontrol.NewTokenBucketRateLimiter(qps, burst)``: the bucket holds at most ``burst``
tokens, refills at ``qps`` per second, and a request waits until a token is free. Here the
wait is computed, not polled, so a rate-limited request costs no simulation events.
"""

from __future__ import annotations

__all__ = ["Client"]


class Client:
    """Identity and rate limit of one API client (scheduler, controller-manager, a kubelet)."""

    __slots__ = ("_last", "_tokens", "burst", "name", "qps", "requests", "throttled_s")

    def __init__(self, name: str, qps: float, burst: int) -> None:
        self.name = name
        self.qps = qps
        self.burst = burst
        self._tokens = float(burst)
        self._last = 0.0
        self.requests = 0
        self.throttled_s = 0.0

    def reserve(self, now: float) -> float:
        """Take one token; return how long the caller must wait for it (0 if one was free)."""
        tokens = self._tokens + (now - self._last) * self.qps
        self._tokens = tokens if tokens < self.burst else self.burst  # min(burst, tokens), without the call
        self._last = now
        self._tokens -= 1.0
        self.requests += 1
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.qps
        self.throttled_s += wait
        return wait
