"""A rate-limited work queue and the controller worker loop.

Models client-go's ``util/workqueue`` (a key is queued at most once, and never handed to
two workers at the same time) and the ``processNextWorkItem`` loop every upstream
controller runs ``--concurrent-*-syncs`` times, plus ``ControllerExpectations`` from
``pkg/controller/controller_utils.go``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.api.client import Client
from sim.apiserver import ApiServer
from sim.clock import call_later
from sim.distributions import Sampler

__all__ = ["BUCKET_BURST", "BUCKET_QPS", "EXPECTATIONS_TIMEOUT", "BucketRateLimiter", "Controller", "Expectations",
           "WorkQueue"]

Key = tuple[str, str]
EXPECTATIONS_TIMEOUT = 300.0  # ExpectationsTimeout, 5 minutes
BUCKET_QPS, BUCKET_BURST = 10.0, 100  # DefaultControllerRateLimiter's overall bucket: rate.NewLimiter(10, 100)


class BucketRateLimiter:
    """client-go's ``BucketRateLimiter``: ``when`` reserves a token of a shared bucket (golang.org/x/time/rate
    ``Reserve``) and returns how long to wait for it. Shared by all keys of a queue, it caps a
    controller's rate-limited requeues at ``qps`` after a burst of ``burst``, whatever the per-item delay."""

    __slots__ = ("burst", "last", "qps", "tokens")

    def __init__(self, qps: float = BUCKET_QPS, burst: int = BUCKET_BURST) -> None:
        self.qps, self.burst = qps, burst
        self.tokens, self.last = float(burst), 0.0

    def when(self, now: float) -> float:
        """Seconds until the reserved token is there (0 while the burst lasts)."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.qps)
        self.last = now
        self.tokens -= 1.0
        return max(0.0, -self.tokens / self.qps)


class WorkQueue:
    """Deduplicating FIFO of keys with ``get``/``done`` semantics."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._queue: deque[Key] = deque()
        self._dirty: set[Key] = set()
        self._processing: set[Key] = set()
        self._waiters: deque[simpy.Event] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: Key) -> None:
        """Queue ``key`` unless it is already waiting."""
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        if self._waiters:
            self._waiters.popleft().succeed(self._pop())

    def add_after(self, key: Key, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds."""
        call_later(self.env, delay, self.add, key)

    def get(self) -> simpy.Event:
        """An event yielding the next key; the caller must call ``done`` with it."""
        event = self.env.event()
        if self._queue:
            event.succeed(self._pop())
        else:
            self._waiters.append(event)
        return event

    def _pop(self) -> Key:
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: Key) -> None:
        """Finish ``key``; if it was re-added meanwhile, queue it again."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            if self._waiters:
                self._waiters.popleft().succeed(self._pop())


@dataclass(slots=True)
class _Expectation:
    add: int
    delete: int
    timestamp: float


class Expectations:
    """How many creations/deletions a controller still waits to observe, per key."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._by_key: dict[Key, _Expectation] = {}

    def satisfied(self, key: Key) -> bool:
        """No outstanding expectation, or it has expired (5 minutes)."""
        exp = self._by_key.get(key)
        if exp is None:
            return True
        return (exp.add <= 0 and exp.delete <= 0) or self.env.now - exp.timestamp > EXPECTATIONS_TIMEOUT

    def expect(self, key: Key, add: int = 0, delete: int = 0) -> None:
        """Record creations/deletions about to be issued."""
        self._by_key[key] = _Expectation(add, delete, self.env.now)

    def observed(self, key: Key, add: int = 0, delete: int = 0) -> None:
        """Lower the expectation on an observed (or failed) creation or deletion."""
        exp = self._by_key.get(key)
        if exp is not None:
            exp.add -= add
            exp.delete -= delete

    def forget(self, key: Key) -> None:
        """Drop expectations of a deleted owner."""
        self._by_key.pop(key, None)


class Controller:
    """Base: a work queue, ``workers`` worker processes and API helpers returning events."""

    name = "controller"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        self.env = env
        self.api = api
        self.client = client
        self.queue = WorkQueue(env)
        self.syncs = 0
        self._sync_latency = sync_latency
        for _ in range(workers):
            env.process(self._worker())

    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        """Reconcile one object; may yield on API calls."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _worker(self) -> Generator[simpy.Event, Any, None]:
        while True:
            key = yield self.queue.get()
            yield self.env.timeout(self._sync_latency())
            self.syncs += 1
            yield from self.sync(key)
            self.queue.done(key)

    def call(self, verb: Callable[..., None], *args: Any, **kwargs: Any) -> simpy.Event:
        """Issue an API call; the returned event succeeds with True/False when it completes."""
        event = self.env.event()
        verb(self.client, *args, on_done=event.succeed, **kwargs)
        return event
