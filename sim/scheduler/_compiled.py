"""The numba-compiled kernels of ``sim.scheduler.kernels`` (imported only when they are wanted).

Each is compiled at its first call for the argument types it gets and cached beside this file
(``__pycache__``), so later processes load it in a fraction of a second.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_feasible", "search_and_select", "select"]


@njit(cache=True, nogil=True)
def first_feasible(all_rows: np.ndarray, mask: np.ndarray, first: int, want: int) -> tuple[np.ndarray, int]:
    # ``mask``: per row, 0 where the node fails (the cycle passes its row-local score sum plus one)
    n = len(all_rows)
    out = np.empty(want, np.int64)
    found = 0
    evaluated = n
    for step in range(n):
        position = first + step
        if position >= n:
            position -= n
        row = all_rows[position]
        if mask[row]:
            out[found] = row
            found += 1
            if found == want:
                evaluated = step + 1
                break
    return out[:found], evaluated


@njit(cache=True, nogil=True)
def select(candidates: np.ndarray, other: np.ndarray, local: np.ndarray, local_weight: int, counts: np.ndarray,
           host_skew: float, ids: np.ndarray, sums: np.ndarray, logs: np.ndarray, skew: float,
           spread_weight: int) -> np.ndarray:
    m = len(candidates)
    total = np.zeros(m, np.int64)
    if len(other):
        for i in range(m):
            total[i] = other[i]
    if len(local):
        for i in range(m):
            total[i] += local[candidates[i]] * local_weight
    if spread_weight:
        # PodTopologySpread, per candidate: the hostname term, count * ln(candidates + 2) +
        # maxSkew - 1, plus its domain's term, count * ln(domains among the candidates + 2) +
        # maxSkew - 1; rounded half away from zero, then reversed and normalised
        terms = np.zeros(len(sums), np.float64)
        if len(sums):
            seen = np.zeros(len(sums), np.bool_)
            size = 0
            for i in range(m):
                domain = ids[candidates[i]]
                if not seen[domain]:
                    seen[domain] = True
                    size += 1
            weight = logs[size]
            for d in range(len(sums)):
                terms[d] = np.float64(sums[d]) * weight + skew
        host_weight = logs[m]
        rounded = np.empty(m, np.int64)
        top = 0
        low = 0
        for i in range(m):
            row = candidates[i]
            if len(counts) and len(sums):
                raw = (np.float64(counts[row]) * host_weight + host_skew) + terms[ids[row]]
            elif len(counts):
                raw = np.float64(counts[row]) * host_weight + host_skew
            else:
                raw = terms[ids[row]]
            whole = np.int64(raw)  # truncation: the raw scores are not negative
            if raw - np.float64(whole) >= 0.5:
                whole += 1
            rounded[i] = whole
            if i == 0 or whole > top:
                top = whole
            if i == 0 or whole < low:
                low = whole
        for i in range(m):
            score = 100 if top == 0 else (top + low - rounded[i]) * 100 // top
            total[i] += score * spread_weight
    best = total[0] if m else 0
    for i in range(1, m):
        if total[i] > best:
            best = total[i]
    ties = np.empty(m, np.int64)
    count = 0
    for i in range(m):
        if total[i] == best:
            ties[count] = i
            count += 1
    return ties[:count]


@njit(cache=True, nogil=True)
def search_and_select(all_rows: np.ndarray, mask: np.ndarray, first: int, want: int, local: np.ndarray,
                      local_weight: int, counts: np.ndarray, host_skew: float, ids: np.ndarray, sums: np.ndarray,
                      logs: np.ndarray, skew: float, spread_weight: int) -> tuple[np.ndarray, int, np.ndarray]:
    candidates, evaluated = first_feasible(all_rows, mask, first, want)
    if len(candidates) < 2:
        return candidates, evaluated, np.zeros(len(candidates), np.int64)
    ties = select(candidates, np.zeros(0, np.int64), local, local_weight, counts, host_skew, ids, sums, logs, skew,
                  spread_weight)
    return candidates, evaluated, ties
