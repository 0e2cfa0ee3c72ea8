"""Queueing formulas for the fluid mode, and the references the exact mode is tested against.

Pure functions, no simulation: Erlang B and C (the M/M/c queue), the stationary distribution
of M/M/c/K (c servers, room for K requests in all, so K − c may wait), the waiting-time
distribution of admitted requests, and the Allen–Cunneen correction that carries M/M/c
waiting times over to general arrivals and services (G/G/c).

Worked example (M/M/c): λ = 30 req/s, mean service 100 ms (μ = 10/s), c = 4 slots. The
offered load is a = λ/μ = 3 Erlangs, ρ = a/c = 0.75; Erlang C gives P(wait) = 0.509, and the
mean wait is P(wait) / (cμ − λ) = 0.509 / 10 = 51 ms.

Waiting times in M/M/c/K: an arrival that finds j requests already queued (all c slots busy)
waits for j + 1 departures, each after an exponential time of rate cμ, so it waits an
Erlang(j + 1, cμ) time. Queue lengths seen by arrivals are geometric in ρ, truncated at
K − c, so the waiting time in units of 1/(cμ) depends only on ρ and K − c: it is computed
once per (ρ rounded to 1e-3, K − c) and cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["MMcK", "allen_cunneen", "erlang_b", "erlang_c", "mmc_mean_wait", "mmck", "queued_wait_cdf",
           "queued_wait_mean"]

MAX_QUEUE_TERMS = 4096  # queue lengths beyond this many are folded into the last term
_Y_POINTS = 256  # points of the cached normalised wait CDF


def erlang_b(c: int, a: float) -> float:
    """Erlang B: probability that all ``c`` servers are busy in M/M/c/c at offered load ``a``."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability an arrival waits in M/M/c at offered load ``a`` (1 if a >= c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue of M/M/c: ``ErlangC / (cμ − λ)`` (inf when saturated)."""
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def allen_cunneen(ca2: float, cs2: float) -> float:
    """Factor turning an M/M/c waiting time into a G/G/c estimate: (ca² + cs²) / 2."""
    return (ca2 + cs2) / 2


@dataclass(frozen=True, slots=True)
class MMcK:
    """Stationary figures of one M/M/c/K queue."""

    blocking: float  # arrivals turned away (queue full)
    waiting: float  # admitted arrivals that find every server busy
    in_system: float  # mean requests present (queued + in service)
    busy: float  # mean servers busy
    rho: float  # λ / (cμ)
    queue_room: int  # K − c


def mmck(lam: float, mu: float, c: int, queue_room: int) -> MMcK:
    """M/M/c/K with K = c + ``queue_room``: blocking, waiting probability and means.

    Probabilities are computed in log space, so c in the hundreds and loads far above
    capacity are fine."""
    k_max = c + queue_room
    if lam <= 0:
        return MMcK(0.0, 0.0, 0.0, 0.0, 0.0, queue_room)
    a = lam / mu
    n = np.arange(k_max + 1)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, k_max + 1)))])
    logp = np.where(n <= c, n * math.log(a) - log_fact, 0.0)
    log_rho = math.log(a / c)
    logp[c + 1:] = logp[c] + (n[c + 1:] - c) * log_rho
    p = np.exp(logp - logp.max())
    p /= p.sum()
    blocking = float(p[-1])
    admitted = 1.0 - blocking
    waiting = float(p[c:k_max].sum() / admitted) if admitted > 0 else 1.0
    return MMcK(blocking, waiting, float((n * p).sum()), float((np.minimum(n, c) * p).sum()), a / c, queue_room)


@lru_cache(maxsize=4096)
def _normalised_wait(rho_milli: int, queue_room: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(y grid, P(Y <= y), E[Y]) of the queued wait Y in units of 1/(cμ), given that it waits."""
    rho = max(rho_milli, 1) / 1000
    terms = min(max(queue_room, 1), MAX_QUEUE_TERMS)
    j = np.arange(terms)
    logw = j * math.log(rho)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    keep = w > 1e-12
    j, w = j[keep], w[keep]
    mean = float((w * (j + 1)).sum())
    top = float(j.max() + 1)
    y = np.concatenate([[0.0], np.geomspace(1e-4 * min(mean, 1.0), top + 12 * math.sqrt(top) + 20, _Y_POINTS - 1)])
    # P(Erlang(j+1) <= y) = P(Poisson(y) >= j+1); build Poisson pmfs up to the largest j in log space
    i = np.arange(int(j.max()) + 1)
    log_i_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, len(i))))])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_y = np.log(y)
        logpmf = -y[None, :] + i[:, None] * log_y[None, :] - log_i_fact[:, None]
    logpmf[:, 0] = np.where(i == 0, 0.0, -np.inf)
    poisson_cdf = np.cumsum(np.exp(logpmf), axis=0)  # P(Poisson(y) <= i)
    cdf = 1.0 - (w[:, None] * poisson_cdf[j]).sum(axis=0)
    return y, np.clip(cdf, 0.0, 1.0), mean


def queued_wait_cdf(q: MMcK, rate: float, x: np.ndarray) -> np.ndarray:
    """P(W <= x | W > 0) for an admitted request of ``q`` that waits; ``rate`` = cμ (scaled
    by any G/G/c correction: pass cμ / factor)."""
    y, cdf, _ = _normalised_wait(int(round(q.rho * 1000)), q.queue_room)
    return np.interp(np.asarray(x) * rate, y, cdf, right=1.0)


def queued_wait_mean(q: MMcK, rate: float) -> float:
    """E[W | W > 0] of ``q``, in seconds, with ``rate`` as in ``queued_wait_cdf``."""
    return _normalised_wait(int(round(q.rho * 1000)), q.queue_room)[2] / rate
