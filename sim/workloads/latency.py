"""Latency histograms: the fluid mode's way of carrying a distribution instead of requests.

One fixed set of bins serves every histogram: bin 0 is [0, 100 µs), then bins grow by a
constant ratio of about 2% up to 10,000 s, so a percentile read from a histogram is within
about 1% of the true value. A request's latency is its wait plus its service time; in a FCFS
queue the two are independent (the wait depends only on earlier requests), so the latency
histogram is the wait histogram convolved with the service-time distribution.

Both are carried as weighted quantile points (``Points``): 96 of equal mass up to the 96th
percentile, then 64 ever thinner slices of the tail down to the last millionth, so the p99
of a sum is as sharp as its median; the convolution is the outer sum of two point sets.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BINS", "CENTERS", "EDGES", "LEVELS", "Points", "add", "convolve", "fraction_below", "histogram",
           "points_of", "quantile", "stratified"]

_LOW, _HIGH, _LOG_BINS = 1e-4, 1e4, 931
EDGES = np.concatenate([[0.0], np.geomspace(_LOW, _HIGH, _LOG_BINS + 1)])
"""Bin edges in seconds: [0, 1e-4) then log-spaced bins of ratio ~1.02 up to 1e4 s."""
_LOG_RATIO = np.log(_HIGH / _LOW) / _LOG_BINS
LEVELS = np.concatenate([np.linspace(0.0, 0.96, 97)[:-1], 1.0 - np.geomspace(0.04, 1e-6, 64), [1.0]])
"""Cumulative-probability edges of the quantile slices a distribution is carried as."""
Points = tuple[np.ndarray, np.ndarray]
"""(values, weights): a distribution as weighted points; weights sum to 1."""
CENTERS = np.concatenate([[5e-5], np.sqrt(EDGES[1:-1] * EDGES[2:])])
"""A representative latency per bin (geometric midpoint)."""
BINS = len(EDGES) - 1


def quantile(hist: np.ndarray, q: float) -> float | None:
    """The ``q``-quantile (0..1) of a histogram over ``EDGES``, interpolated within its bin."""
    total = float(hist.sum())
    if total <= 0:
        return None
    cum = np.cumsum(hist) / total
    k = int(np.searchsorted(cum, q, side="left"))
    k = min(k, BINS - 1)
    below = cum[k - 1] if k > 0 else 0.0
    share = (q - below) / max(cum[k] - below, 1e-300)
    return float(EDGES[k] + min(max(share, 0.0), 1.0) * (EDGES[k + 1] - EDGES[k]))


def fraction_below(hist: np.ndarray, x: float) -> float:
    """Share of a histogram's mass below ``x`` (interpolated within the bin holding x)."""
    total = float(hist.sum())
    if total <= 0:
        return 0.0
    k = int(np.searchsorted(EDGES, x, side="right")) - 1
    if k >= BINS:
        return 1.0
    part = (x - EDGES[k]) / (EDGES[k + 1] - EDGES[k])
    return float((hist[:k].sum() + part * hist[k]) / total)


def _slices(inverse_cdf: object) -> Points:
    mids = (LEVELS[:-1] + LEVELS[1:]) / 2
    return np.asarray(inverse_cdf(mids), dtype=float), np.diff(LEVELS)  # type: ignore[operator]


def stratified(samples: np.ndarray) -> Points:
    """Weighted quantile points of ``samples`` (at the middle of each slice of ``LEVELS``)."""
    ordered = np.sort(np.asarray(samples, dtype=float))
    return _slices(lambda q: np.quantile(ordered, q))


def add(a: Points, b: Points) -> Points:
    """The distribution of the sum of two independent variables, re-sliced into ``LEVELS``."""
    values = (a[0][:, None] + b[0][None, :]).ravel()
    weights = (a[1][:, None] * b[1][None, :]).ravel()
    order = np.argsort(values, kind="stable")
    values, cum = values[order], np.cumsum(weights[order])
    return _slices(lambda q: values[np.minimum(np.searchsorted(cum, q * cum[-1]), len(values) - 1)])


def histogram(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or summed weights) of ``values`` in the shared bins; beyond the last edge counts in the last bin."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore"):
        index = 1 + np.floor(np.log(np.maximum(values, 1e-300) / _LOW) / _LOG_RATIO)
    index = np.clip(np.where(values < _LOW, 0, index), 0, BINS - 1).astype(np.int64)
    return np.bincount(index, weights=weights, minlength=BINS).astype(float)


def points_of(hist: np.ndarray) -> Points:
    """Weighted quantile points of a histogram (interpolated within bins)."""
    cum = np.concatenate([[0.0], np.cumsum(hist)])
    return _slices(lambda q: np.interp(q * cum[-1], cum, EDGES))


def convolve(zero_mass: float, wait_hist: np.ndarray, service: Points) -> np.ndarray:
    """Histogram of wait + service: ``zero_mass`` requests that did not wait and ``wait_hist``
    that did, each taking a service time distributed as ``service``."""
    values, weights = service
    out = histogram(values, weights * zero_mass) if zero_mass > 0 else np.zeros(BINS)
    waiting = float(wait_hist.sum())
    if waiting > 0:
        wait_values, wait_weights = points_of(wait_hist)
        sums = (wait_values[:, None] + values[None, :]).ravel()
        out += histogram(sums, (wait_weights[:, None] * weights[None, :]).ravel() * waiting)
    return out
