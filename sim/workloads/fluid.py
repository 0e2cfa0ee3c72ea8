"""The fluid mode: one tick of a model-server replica from queueing formulas, no requests.

Given the tick's arrival rate per replica λ, a replica with c slots and room for L waiting
requests is an M/M/c/(c+L) queue (``queueing.mmck``) for blocking and for the shape of the
waiting time; the waiting time is then scaled by the Allen–Cunneen factor (ca² + cs²) / 2
for the real service-time variability cs² and the arrival variability ca² the balancing
gives each replica (1 for kube-proxy's random choice, which splits a Poisson stream into
Poisson streams; 1/n for round-robin over n replicas, which makes every n-th arrival). A
request waiting longer than the queue timeout gives up.

Dynamic batching is approximated: the batch size b is the smallest that keeps the instances
under 80% busy, λ · T(b) / (c · b) ≤ 0.8 (else ``maxBatchSize``), where T(b) =
latencyFactor(b) × E[longest of b service times]; the replica then serves like c · b slots
each holding a request for T(b), and a request also waits about (b − 1) c / (2λ), at most
``maxQueueDelay``, for its batch to fill. The stationary answer is used for each tick: the
mode does not carry a backlog from one tick to the next, so it fits loads that change slowly
compared with how fast a replica drains its queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.workloads.latency import CENTERS, EDGES, LEVELS, Points, histogram, stratified
from sim.workloads.queueing import allen_cunneen, mmck, queued_wait_cdf, queued_wait_mean
from sim.workloads.serving import batch_factor
from sim.workloads.spec import ServingBehavior

__all__ = ["FluidTick", "ServiceStats", "fluid_tick"]

BATCH_UTILIZATION = 0.8  # batches grow until the instances are at most this busy


@dataclass(frozen=True, slots=True)
class ServiceStats:
    """A service-time distribution as the fluid mode uses it: mean, cs², quantile points, draws."""

    mean: float
    cs2: float
    points: Points
    samples: np.ndarray  # sorted draws, for the longest of b

    @classmethod
    def of(cls, samples: np.ndarray) -> ServiceStats:
        """From many draws."""
        ordered = np.sort(np.asarray(samples, dtype=float))
        mean = float(ordered.mean())
        cs2 = float(ordered.var() / mean**2) if mean > 0 else 0.0
        return cls(mean, cs2, stratified(ordered), ordered)

    @classmethod
    def mixture(cls, parts: list[ServiceStats], weights: list[float]) -> ServiceStats:
        """The service time of a request drawn from ``parts`` with probabilities ∝ ``weights``."""
        w = np.asarray(weights, dtype=float) / sum(weights)
        mean = float(sum(wi * p.mean for wi, p in zip(w, parts, strict=True)))
        second = float(sum(wi * (p.cs2 + 1) * p.mean**2 for wi, p in zip(w, parts, strict=True)))
        values = np.concatenate([p.points[0] for p in parts])
        mass = np.concatenate([wi * p.points[1] for wi, p in zip(w, parts, strict=True)])
        samples = np.sort(np.concatenate([p.samples for p in parts]))
        return cls(mean, second / mean**2 - 1 if mean > 0 else 0.0, (values, mass), samples)

    def longest_of(self, b: int) -> Points:
        """Quantile points of the longest of ``b`` independent service times (F⁻¹(p^(1/b)))."""
        if b <= 1:
            return self.points
        mids = (LEVELS[:-1] + LEVELS[1:]) / 2
        return np.quantile(self.samples, mids ** (1.0 / b)), np.diff(LEVELS)


@dataclass(frozen=True, slots=True)
class FluidTick:
    """One replica over one tick: fractions of its arrivals by fate, and its waits."""

    blocked: float  # turned away: queue full
    timed_out: float  # gave up waiting
    zero_wait: float  # of the served: started at once
    wait_hist: np.ndarray  # of the served: waiting time (incl. batch fill) over latency.EDGES; sums to 1 − zero_wait
    batch_size: int  # mean batch size (1 without batching)
    in_flight: float  # mean requests present
    busy: float  # mean slots (instances) serving


def _idle() -> FluidTick:
    return FluidTick(0.0, 0.0, 1.0, np.zeros(len(EDGES) - 1), 1, 0.0, 0.0)


def _batch_time(stats: ServiceStats, behavior: ServingBehavior, b: int) -> Points:
    """Quantile points of one batch of ``b``: latencyFactor(b) × the longest member's time."""
    assert behavior.batching is not None
    values, weights = stats.longest_of(b)
    return batch_factor(behavior.batching, b) * values, weights


def _batch_size(lam: float, stats: ServiceStats, behavior: ServingBehavior) -> int:
    """The smallest batch that keeps the instances under ``BATCH_UTILIZATION`` (else the largest)."""
    assert behavior.batching is not None
    for b in range(1, behavior.batching.max_batch_size + 1):
        values, weights = _batch_time(stats, behavior, b)
        if lam * float((values * weights).sum()) / (behavior.concurrency * b) <= BATCH_UTILIZATION:
            return b
    return behavior.batching.max_batch_size


def fluid_tick(lam: float, stats: ServiceStats, behavior: ServingBehavior, ca2: float) -> FluidTick:
    """A replica receiving ``lam`` requests/s (variability ``ca2``) in steady state."""
    if lam <= 0:
        return _idle()
    c, timeout = behavior.concurrency, behavior.queue.timeout
    b, fill, seats = 1, 0.0, c
    mean_service, cs2 = stats.mean, stats.cs2
    if behavior.batching is not None:
        b = _batch_size(lam, stats, behavior)
        values, weights = _batch_time(stats, behavior, b)
        mean_service = float((values * weights).sum())
        cs2 = float((values**2 * weights).sum() / mean_service**2 - 1) if mean_service > 0 else 0.0
        fill = min(behavior.batching.max_queue_delay, (b - 1) * c / (2 * lam))
        seats = c * b
    q = mmck(lam, 1.0 / max(mean_service, 1e-12), seats, behavior.queue.limit)
    factor = allen_cunneen(ca2, cs2)
    rate = seats / max(mean_service, 1e-12) / max(factor, 1e-9)  # cμ, slowed by the G/G/c factor
    edges = np.minimum(EDGES, timeout)
    cdf = queued_wait_cdf(q, rate, edges)
    gave_up = q.waiting * (1.0 - float(queued_wait_cdf(q, rate, np.array([timeout]))[0]))
    served = max(1.0 - gave_up, 1e-12)
    wait_hist = q.waiting * np.diff(cdf) / served
    zero_wait = (1.0 - q.waiting) / served
    if fill > 0:  # every request also waits for its batch to fill: shift the waits by `fill`
        wait_hist = histogram(np.append(CENTERS, 0.0) + fill, np.append(wait_hist, zero_wait))
        zero_wait = 0.0
    admitted = lam * (1.0 - q.blocking)
    mean_wait = q.waiting * queued_wait_mean(q, rate)
    return FluidTick(
        blocked=q.blocking,
        timed_out=(1.0 - q.blocking) * gave_up,
        zero_wait=zero_wait,
        wait_hist=wait_hist,
        batch_size=b,
        in_flight=admitted * (min(mean_wait, timeout) + fill + mean_service * (1.0 - gave_up)),
        busy=min(float(c), admitted * (1.0 - gave_up) * mean_service / b),
    )
