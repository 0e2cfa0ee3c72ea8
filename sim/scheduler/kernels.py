"""Compiled inner loops of a scheduling cycle on large clusters (numba), deciding as the numpy path does.

A cycle over a thousand nodes spends most of its time in the overhead of a few dozen small
numpy calls: slicing the round-robin window, gathering each score, PodTopologySpread's
rounding and normalisation, adding the scores up and finding the ties. Two loops, compiled
once and cached beside this file, do that work in one pass each:

- ``first_feasible``: findNodesThatPassFilters' round-robin search over a full-table verdict
  mask: the first ``want`` feasible nodes from ``first``, and how many nodes it looked at;
- ``select``: the weighted total of every candidate's score (scores already computed, a
  row-local score read per row, and PodTopologySpread's score computed in place) and the
  positions of the highest total (selectHost picks among them with the scheduler's random
  stream, outside the kernel, so the stream is drawn exactly as before).

They run the same integer and IEEE float operations, in the same order where order matters,
as the numpy code in ``framework.schedule_pod`` and ``PodTopologySpread.score``; tests hold
the two to the same decisions. numba is optional: without it, with ``KUBESIM_JIT=0``, or on a
cluster smaller than ``MIN_NODES``, and in a run too short for loading them to pay, the cycle
takes the numpy path.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

__all__ = ["MIN_NODES", "WORTH_CYCLES", "active", "load", "log_table", "reset", "worth_loading"]

MIN_NODES = 200  # below this, a cycle's numpy calls are few and short: not worth the compiled loops
# Loading numba and the cached kernels takes about half a second and saves some 30 us per cycle:
# worth it from about this many cycles on (a large run loads them as it is built, see ``worth_loading``;
# otherwise a process loads them once its cycles over MIN_NODES nodes or more reach this many, a sweep of
# mid-size runs included).
WORTH_CYCLES = 15_000
_state: dict[str, Any] = {}  # "kernels": the compiled functions, or None once loading failed or is disabled
_logs = np.zeros(0)


def worth_loading(nodes: int, pods: int) -> bool:
    """Whether a run on ``nodes`` nodes expecting about ``pods`` pods should load the kernels up front."""
    return nodes >= MIN_NODES and pods >= WORTH_CYCLES


def active(n: int) -> Any:
    """The compiled kernels for a cycle over ``n`` nodes, or None for the numpy path."""
    if n < MIN_NODES:
        return None
    kernels = _state.get("kernels", False)
    if kernels is not False:
        return kernels
    cycles = _state["cycles"] = _state.get("cycles", 0) + 1
    return load() if cycles >= WORTH_CYCLES else None


def load() -> Any:
    """Import numba and compile (or read from its cache) the kernels; None if that is not possible."""
    if "kernels" in _state:
        return _state["kernels"]
    _state["kernels"] = None
    if os.environ.get("KUBESIM_JIT", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        kernels = _compile()
        _warm(kernels)
    except Exception:  # numba missing, or unable to build for this platform: the numpy path decides alike
        return None
    _state["kernels"] = kernels
    return kernels


def reset() -> None:
    """Forget the loading decision (tests switch ``KUBESIM_JIT`` and load again)."""
    _state.clear()


def log_table(size: int) -> np.ndarray:
    """``math.log(k + 2)`` for k in 0..size (PodTopologySpread's topology-size weight), computed
    by Python's math.log so both paths weigh with the same floats."""
    global _logs
    if len(_logs) <= size:
        _logs = np.array([math.log(k + 2) for k in range(max(size + 1, 2 * len(_logs), 128))])
    return _logs


def _compile() -> Any:
    from sim.scheduler import _compiled  # imports numba: only when the kernels are wanted

    return _compiled


def _warm(kernels: Any) -> None:
    """Compile (or load from the cache) each kernel for the argument types a cycle passes."""
    rows = np.arange(4, dtype=np.int64)
    rows.flags.writeable = False  # as the table's present rows are
    scored, ints, logs = np.ones(4, dtype=np.int64), np.zeros(4, dtype=np.int64), log_table(4)
    candidates, _ = kernels.first_feasible(rows, scored, 1, 2)
    kernels.select(candidates, ints, ints, 1, ints, 0.0, ints, ints, logs, 0.0, 2)
    kernels.search_and_select(rows, scored, 1, 2, scored, 1, ints, 0.0, ints, ints, logs, 0.0, 2)
