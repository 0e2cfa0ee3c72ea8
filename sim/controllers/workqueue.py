"""A rate-limited work queue and the controller worker loop.

Models client-go's ``util/workqueue`` (a key is queued at most once, and never handed to
two workers at the same time) and the ``processNextWorkItem`` loop every upstream
controller runs ``--concurrent-*-syncs`` times, plus ``ControllerExpectations`` from
``pkg/controller/controller_utils.go``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import simpy

from sim.api.client import Client
from sim.apiserver import CONTROLLER_MANAGER, ApiServer
from sim.clock import call_later
from sim.distributions import Sampler

__all__ = ["EXPECTATIONS_TIMEOUT", "Controller", "ControllerRateLimiter", "Expectations", "WorkQueue"]

Key = tuple[str, str]
EXPECTATIONS_TIMEOUT = 300.0  # ExpectationsTimeout, 5 minutes


class ControllerRateLimiter:
    """client-go's ``DefaultTypedControllerRateLimiter``: the larger of a per-key exponential
    back-off (5 ms doubling to 1000 s, reset by ``forget``) and one token bucket shared by all
    keys (10 per second, burst 100), as ``rate.Limiter.Reserve`` hands out delays."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0, qps: float = 10.0, burst: int = 100) -> None:
        self.base, self.cap, self.qps, self.burst = base, cap, qps, burst
        self._failures: dict[Key, int] = {}
        self._tokens = float(burst)
        self._last = 0.0

    def when(self, key: Key, now: float) -> float:
        """The delay before ``key`` is queued again; counts one more requeue of it."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        backoff = min(self.base * 2.0**failures, self.cap)
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        bucket = -self._tokens / self.qps if self._tokens < 0 else 0.0
        return max(backoff, bucket)

    def num_requeues(self, key: Key) -> int:
        """How often ``key`` was requeued since it was last forgotten."""
        return self._failures.get(key, 0)

    def forget(self, key: Key) -> None:
        """Reset ``key``'s back-off (a sync succeeded)."""
        self._failures.pop(key, None)


class WorkQueue:
    """Deduplicating FIFO of keys with ``get``/``done`` semantics, and a rate-limited ``add``."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.rate_limiter = ControllerRateLimiter()
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

    def add_rate_limited(self, key: Key) -> None:
        """Queue ``key`` after the rate limiter's delay (``AddRateLimited``)."""
        self.add_after(key, self.rate_limiter.when(key, self.env.now))

    def forget(self, key: Key) -> None:
        """Reset ``key``'s back-off (``Forget``)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: Key) -> int:
        """``NumRequeues``: rate-limited adds of ``key`` since it was last forgotten."""
        return self.rate_limiter.num_requeues(key)

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


class _Gather:
    """The results of a batch of calls, and the event that succeeds with them once all are in.

    It succeeds where ``AllOf`` over an event per call would have: the last call's event is
    processed a step after that call completes, and the condition's own event a step after
    that, so the waiting process resumes behind whatever else is due at that instant."""

    __slots__ = ("env", "event", "left", "results")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.event = env.event()
        self.results: list[bool] = []
        self.left = 0  # calls issued and not completed; negative while the batch is being issued

    def done(self, index: int, ok: bool) -> None:
        self.results[index] = ok
        self.left -= 1
        if self.left == 0:
            call_later(self.env, 0.0, self.event.succeed, self.results)

    def issued(self) -> None:
        self.left += len(self.results)
        if not self.results:  # nothing to wait for: AllOf of no events succeeds at once
            self.event.succeed(self.results)
        elif self.left == 0:  # every call completed while the batch was issued
            call_later(self.env, 0.0, self.event.succeed, self.results)


class Controller:
    """Base: a work queue, ``workers`` worker processes, API helpers returning events, and
    kube-controller-manager's shared informers (``informers.watch``) to hear of changes."""

    name = "controller"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        self.env = env
        self.api = api
        self.informers = api.informers(CONTROLLER_MANAGER)  # the factory every controller shares
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

    def call_all(self, verb: Callable[..., None], objects: Iterable[Any]) -> simpy.Event:
        """Issue ``verb`` for each object at once (a slow-start batch); the returned event
        succeeds with their results in order (True/False each) when the last completes: what
        SimPy's ``AllOf`` over one ``call`` each gives, without an event per call."""
        gather = _Gather(self.env)
        for index, obj in enumerate(objects):
            gather.results.append(False)
            verb(self.client, obj, on_done=partial(gather.done, index))
        gather.issued()
        return gather.event
