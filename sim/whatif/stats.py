"""Replications -> mean, standard deviation and Student-t confidence intervals.

N replications of a configuration give N independent draws of each metric. Their mean is
uncertain by about ``s / sqrt(N)`` (the standard error); the two-sided interval
``mean ± t(1 - α/2, N - 1) · s / sqrt(N)`` holds the true mean with probability 1 - α when the
metric is roughly normal across seeds. Quadrupling N halves the interval's width.

The t quantile is computed here rather than taken from scipy: for integer degrees of freedom
Student's CDF has a closed form (Abramowitz & Stegun 26.7.3-4), which we invert by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["STATS", "aggregate", "bound", "t_cdf", "t_quantile"]

STATS = ("mean", "std", "ci_lo", "ci_hi")
"""Columns per metric in an aggregated frame: ``<metric>_mean``, ``<metric>_std``, ..."""


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` (a positive integer) degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2, sin = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:  # odd: A = (2/π)(θ + sinθ·cosθ·(1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + ...))
        term, total = math.cos(theta), 0.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= cos2 * (2 * k) / (2 * k + 1)
        inside = (2 / math.pi) * (theta + sin * total)
    else:  # even: A = sinθ·(1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + ...)
        term, total = 1.0, 0.0
        for k in range(1, df // 2 + 1):
            total += term
            term *= cos2 * (2 * k - 1) / (2 * k)
        inside = sin * total
    return 0.5 + math.copysign(inside, t) / 2


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: int) -> float:
    """The t with ``t_cdf(t, df) == p`` (e.g. ``t_quantile(0.975, 4)`` ≈ 2.776)."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def bound(mean: float, std: float, n: int, confidence: float, upper: bool) -> float:
    """The one-sided ``confidence`` bound on the true mean: ``mean ± t(c, n-1)·s/√n``.

    With every replication equal (``std == 0``) the bound is the mean itself; with one
    replication there is no bound (NaN)."""
    if n < 2 or math.isnan(std):
        return math.nan
    half = t_quantile(confidence, n - 1) * std / math.sqrt(n) if std > 0 else 0.0
    return mean + half if upper else mean - half


def aggregate(runs: pd.DataFrame, params: Sequence[str], metrics: Sequence[str],
              confidence: float = 0.95) -> pd.DataFrame:
    """One row per configuration: ``replications`` and mean/std/ci_lo/ci_hi of each metric.

    ``runs`` has one row per run with a ``point`` column numbering configurations. A metric
    that is undefined (NaN) in any replication is NaN for the configuration: a p99 that
    some runs could not measure is not averaged over the runs that could."""
    rows = []
    for point, group in runs.groupby("point", sort=True):
        n = len(group)
        row: dict[str, object] = {"point": point, **{p: group[p].iloc[0] for p in params}, "replications": n}
        t = t_quantile(0.5 + confidence / 2, n - 1) if n > 1 else math.nan
        for metric in metrics:
            values = group[metric].to_numpy(dtype=float) if metric in group else np.full(n, np.nan)
            mean = float(values.mean())
            std = float(values.std(ddof=1)) if n > 1 else math.nan
            half = t * std / math.sqrt(n) if std > 0 else (0.0 if std == 0 else math.nan)
            row.update({f"{metric}_mean": mean, f"{metric}_std": std,
                        f"{metric}_ci_lo": mean - half, f"{metric}_ci_hi": mean + half})
        rows.append(row)
    return pd.DataFrame(rows)
