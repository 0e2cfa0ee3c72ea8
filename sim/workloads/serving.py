"""Model-server replicas: what a pod running a model server (vLLM, Triton, TorchServe) does
with the requests kube-proxy sends it, computed request by request (the exact mode).

A replica has ``concurrency`` slots and a FCFS queue of at most ``queue.limit`` requests; a
request that would wait longer than ``queue.timeout`` gives up. Because the queue is FCFS,
each request's fate is known the moment it arrives: it starts when the earliest slot frees
(a heap of slot free times), and one that gives up never takes a slot, so later requests
are unaffected by it. So the exact mode needs no SimPy event per request: a window of
arrivals is pushed through in a loop.

With dynamic batching (Triton's dynamic_batcher), a free instance takes up to
``maxBatchSize`` queued requests; if fewer are there it waits until ``maxQueueDelay`` after
the oldest arrived. A batch of b takes ``latencyFactor(b)`` times its longest member's
service time, and the batch's requests finish together.

Where a replica runs decides its speed: a pod requesting ``nvidia.com/gpu`` serves at the
workload's ``serviceTime``, one without a GPU at ``cpuServiceTime`` (if given).
"""

from __future__ import annotations

import heapq
from array import array
from collections import deque

import numpy as np

from sim.api.objects import Pod
from sim.workloads.spec import Batching, ServiceTime, ServingBehavior

__all__ = ["INGRESS_OVERLOAD", "NO_ENDPOINTS", "NO_ROUTE", "OUTCOMES", "QUEUE_FULL", "SERVED", "TIMED_OUT",
           "BatchingReplica", "Outcomes", "Replica", "ServiceTimeModel", "batch_factor", "runs_on_gpu",
           "service_time_for"]

SERVED, TIMED_OUT, QUEUE_FULL, NO_ENDPOINTS, INGRESS_OVERLOAD, NO_ROUTE = range(6)
OUTCOMES = ("served", "timedOut", "queueFull", "noEndpoints", "ingressOverload", "noRoute")
GPU = "nvidia.com/gpu"


def runs_on_gpu(pod: Pod) -> bool:
    """Whether the pod requests a GPU (so its model runs there)."""
    return dict(pod.spec.requests).get(GPU, 0) > 0


def service_time_for(behavior: ServingBehavior, pod: Pod) -> ServiceTime:
    """The service time of the model on the device the pod's requests give it."""
    if runs_on_gpu(pod) or behavior.cpu_service_time is None:
        return behavior.service_time
    return behavior.cpu_service_time


class ServiceTimeModel:
    """Service times of one model on one device, drawn for many requests at once.

    Draws are transforms of per-request standard variates (``z`` normal, ``e`` exponential,
    ``u`` uniform) shared by all models, so which model serves a request does not change how
    much of the random stream is used."""

    def __init__(self, spec: ServiceTime) -> None:
        self.spec = spec
        self._values = np.sort(np.array(spec.values)) if spec.values else None

    def draw(self, z: np.ndarray, e: np.ndarray, u: np.ndarray, context: np.ndarray,
             generated: np.ndarray) -> np.ndarray:
        """Service times for requests with these variates and token counts."""
        s = self.spec
        if s.dist == "constant":
            base = np.full(len(z), float(s.value))  # type: ignore[arg-type]
        elif s.dist == "exponential":
            base = e * float(s.mean)  # type: ignore[arg-type]
        elif s.dist == "lognormal":
            base = float(s.median) * np.exp(s.log_sigma * z)  # type: ignore[arg-type]
        else:
            assert self._values is not None
            base = self._values[np.minimum((u * len(self._values)).astype(np.int64), len(self._values) - 1)]
        return base + s.per_context_token * context + s.per_generated_token * generated

    def sample(self, rng: np.random.Generator, context: np.ndarray, generated: np.ndarray) -> np.ndarray:
        """Service times for these token counts, from ``rng`` (the fluid mode's sample set)."""
        n = len(context)
        return self.draw(rng.standard_normal(n), rng.standard_exponential(n), rng.random(n), context, generated)


def batch_factor(batching: Batching, size: int) -> float:
    """``latencyFactor`` at a batch size, interpolated linearly (flat beyond the last point)."""
    sizes, factors = zip(*batching.latency_factor, strict=True)
    return float(np.interp(size, sizes, factors))


class Outcomes:
    """What happened to each request: arrival time, latency (s) and outcome code."""

    def __init__(self) -> None:
        self.arrival = array("d")
        self.latency = array("d")
        self.outcome = array("b")

    def add(self, arrival: float, latency: float, outcome: int) -> None:
        """Record one request."""
        self.arrival.append(arrival)
        self.latency.append(latency)
        self.outcome.append(outcome)

    def __len__(self) -> int:
        return len(self.arrival)


class Replica:
    """One pod's slots and FCFS queue (exact mode)."""

    __slots__ = ("arrived", "concurrency", "free", "leaves", "limit", "name", "timeout", "uid")

    def __init__(self, uid: int, name: str, behavior: ServingBehavior, now: float) -> None:
        self.uid = uid
        self.name = name
        self.concurrency = behavior.concurrency
        self.limit = behavior.queue.limit
        self.timeout = behavior.queue.timeout
        self.free = [now] * behavior.concurrency  # heap: when each slot is next free
        self.leaves: list[float] = []  # heap: when each request present leaves (done or gave up)
        self.arrived = 0

    def offer(self, at: float, service: float, extra: float, log: Outcomes) -> None:
        """A request arrives at ``at`` needing ``service`` s; ``extra`` is latency added before it."""
        leaves = self.leaves
        while leaves and leaves[0] <= at:
            heapq.heappop(leaves)
        self.arrived += 1
        if len(leaves) >= self.concurrency + self.limit:
            log.add(at, 0.0, QUEUE_FULL)
            return
        start = self.free[0]
        if start < at:
            start = at
        if start - at > self.timeout:
            heapq.heappush(leaves, at + self.timeout)
            log.add(at, self.timeout + extra, TIMED_OUT)
            return
        done = start + service
        heapq.heapreplace(self.free, done)
        heapq.heappush(leaves, done)
        log.add(at, done - at + extra, SERVED)

    def flush(self, log: Outcomes) -> None:
        """Decide any request still undecided (nothing to do without batching)."""

    def in_flight(self, now: float) -> int:
        """Requests present at ``now``: queued or in service."""
        leaves = self.leaves
        while leaves and leaves[0] <= now:
            heapq.heappop(leaves)
        return len(leaves)

    def busy(self, now: float) -> int:
        """Slots serving a request at ``now``."""
        return min(self.concurrency, self.in_flight(now))


class BatchingReplica(Replica):
    """One pod with dynamic batching (exact mode): instances take batches, not requests."""

    __slots__ = ("batching", "first", "members", "waiting")

    def __init__(self, uid: int, name: str, behavior: ServingBehavior, now: float) -> None:
        super().__init__(uid, name, behavior, now)
        assert behavior.batching is not None
        self.batching = behavior.batching
        self.members: list[tuple[float, float, float]] = []  # the forming batch: (arrival, service, extra)
        self.waiting: deque[float] = deque()  # dispatch times of members of batches not started yet

    def _deadline(self) -> float:
        return max(self.free[0], self.members[0][0] + self.batching.max_queue_delay)

    def offer(self, at: float, service: float, extra: float, log: Outcomes) -> None:
        """A request arrives: the forming batch is dispatched first if its deadline passed."""
        self.arrived += 1
        if self.members and at > self._deadline():
            self._dispatch(self._deadline(), log)
        waiting = self.waiting
        while waiting and waiting[0] <= at:
            waiting.popleft()
        if len(waiting) + len(self.members) >= self.limit:
            log.add(at, 0.0, QUEUE_FULL)
            return
        self.members.append((at, service, extra))
        if len(self.members) == self.batching.max_batch_size:
            self._dispatch(max(self.free[0], at), log)

    def _dispatch(self, start: float, log: Outcomes) -> None:
        members, self.members = self.members, []
        served = [m for m in members if start - m[0] <= self.timeout]
        for at, _, extra in members:
            if start - at > self.timeout:
                heapq.heappush(self.leaves, at + self.timeout)
                log.add(at, self.timeout + extra, TIMED_OUT)
        if not served:
            return
        done = start + batch_factor(self.batching, len(served)) * max(m[1] for m in served)
        heapq.heapreplace(self.free, done)
        for at, _, extra in served:
            heapq.heappush(self.leaves, done)
            self.waiting.append(start)
            log.add(at, done - at + extra, SERVED)

    def flush(self, log: Outcomes) -> None:
        """Dispatch the forming batch at its deadline (end of run)."""
        if self.members:
            self._dispatch(self._deadline(), log)

    def in_flight(self, now: float) -> int:
        """Requests present at ``now``, including those of the forming batch."""
        return super().in_flight(now) + len(self.members)

    def busy(self, now: float) -> int:
        """Instances running a batch at ``now``."""
        return sum(1 for free in self.free if free > now)
