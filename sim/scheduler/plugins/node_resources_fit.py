"""NodeResourcesFit: models pkg/scheduler/framework/plugins/noderesources/fit.go and the
scoring strategies least_allocated.go, most_allocated.go and requested_to_capacity_ratio.go.

Filter: every resource the pod requests must fit in allocatable minus requested, and the
node must have room for one more pod. Score (default LeastAllocated over cpu and memory,
weight 1 each) uses requests with the scheduler's non-zero defaults (100m, 200Mi).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.scheduler.framework import MAX_NODE_SCORE, Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.args import NodeResourcesFitArgs
from sim.scheduler.plugins.helpers import is_scalar_resource
from sim.scheduler.plugins.names import NODE_RESOURCES_FIT

__all__ = ["NodeResourcesFit", "broken_linear", "least_allocated", "most_allocated",
           "requested_to_capacity_ratio"]


def least_allocated(requested: np.ndarray, allocatable: np.ndarray) -> np.ndarray:
    """Per resource: (allocatable - requested) * 100 // allocatable, 0 when over capacity."""
    safe = np.where(allocatable == 0, 1, allocatable)
    score = (allocatable - requested) * MAX_NODE_SCORE // safe
    return np.where((allocatable == 0) | (requested > allocatable), 0, score)


def most_allocated(requested: np.ndarray, allocatable: np.ndarray) -> np.ndarray:
    """Per resource: min(requested, allocatable) * 100 // allocatable."""
    safe = np.where(allocatable == 0, 1, allocatable)
    return np.where(allocatable == 0, 0, np.minimum(requested, allocatable) * MAX_NODE_SCORE // safe)


def broken_linear(utilization: np.ndarray, shape: list[tuple[int, int]]) -> np.ndarray:
    """Piecewise-linear score of utilization through (utilization, score 0..100) points,
    flat before the first and after the last point (integer arithmetic, as upstream)."""
    out = np.full(utilization.shape, shape[-1][1], dtype=np.int64)
    for i in range(len(shape) - 1, -1, -1):
        u_i, s_i = shape[i]
        if i == 0:
            out = np.where(utilization <= u_i, s_i, out)
            continue
        u_prev, s_prev = shape[i - 1]
        inside = utilization <= u_i
        line = s_prev + (s_i - s_prev) * (utilization - u_prev) // (u_i - u_prev)
        out = np.where(inside, line, out)
    return out


def requested_to_capacity_ratio(requested: np.ndarray, allocatable: np.ndarray,
                                shape: list[tuple[int, int]]) -> np.ndarray:
    """Per resource: the shape function of requested*100/allocatable (100 when over or no capacity)."""
    safe = np.where(allocatable == 0, 1, allocatable)
    utilization = np.where((allocatable == 0) | (requested > allocatable), 100, requested * 100 // safe)
    return broken_linear(utilization, shape)


def _fits(pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
    """Per row: every resource the pod requests fits in allocatable minus requested."""
    ok = np.ones(len(rows), dtype=bool)
    for col in np.flatnonzero(pod.request > 0).tolist():
        free = table.allocatable[rows, col] - table.requested[rows, col]
        ok &= free >= pod.request[col]
    return ok


@dataclass
class NodeResourcesFit:
    """Filter + Score plugin for cpu, memory, pods and extended resources."""

    strategy: str = "LeastAllocated"
    resources: dict[str, int] = field(default_factory=lambda: {"cpu": 1, "memory": 1})
    shape: list[tuple[int, int]] = field(default_factory=list)  # RequestedToCapacityRatio, score 0..100
    name: str = NODE_RESOURCES_FIT
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    _keys: dict[bytes, tuple[Any, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_args(cls, args: NodeResourcesFitArgs) -> NodeResourcesFit:
        """Build from validated args (scoringStrategy)."""
        strategy = args.scoring_strategy
        ratio = strategy.requested_to_capacity_ratio
        shape = [(p.utilization, p.score * 10) for p in ratio.shape] if ratio else []
        return cls(strategy.type, {r.name: r.weight for r in strategy.resources}, shape)

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        hook = self.row_local_filter(state, pod, table)
        if hook is None:
            return np.zeros(len(rows), dtype=bool)
        return table.row_values(*hook)[rows]

    def row_local_filter(self, state: CycleState, pod: PodInfo,
                         table: NodeTable) -> tuple[Any, Callable[[np.ndarray], np.ndarray]] | None:
        """Whether a node fits depends on its own row and the pod's requests alone: the key and
        the row-wise verdict for ``NodeTable.row_values``. None for a pod that requests a
        resource no node has (``filter`` fails every node)."""
        if pod.unknown_resources:
            return None
        return (self.name, "fits", pod.request.tobytes()), lambda some: _fits(pod, table, some)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        out = [(f"Insufficient {name}", np.ones(len(rows), dtype=bool), Code.UNSCHEDULABLE)
               for name in pod.unknown_resources]
        free = table.allocatable[rows] - table.requested[rows]
        for col, name in enumerate(table.resources):
            if pod.request[col] > 0:
                short = free[:, col] < pod.request[col]
                text = "Too many pods" if name == "pods" else f"Insufficient {name}"
                out.append((text, short, Code.UNSCHEDULABLE))
        return out

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        key, compute = self.row_local_score(state, pod, table)
        return table.row_values(key, compute)[rows]

    def row_local_score(self, state: CycleState, pod: PodInfo,
                        table: NodeTable) -> tuple[Any, Callable[[np.ndarray], np.ndarray]]:
        """A node's score depends on its own row, the pod's requests and the strategy alone."""
        shape = pod.request.tobytes() + pod.nonzero.tobytes()
        key = self._keys.get(shape)
        if key is None:  # pods of one request shape share the key (the settings are fixed once scoring)
            if len(self._keys) > 256:
                self._keys.clear()
            key = self._keys[shape] = (self.name, self.strategy, tuple(self.resources.items()), tuple(self.shape),
                                       pod.request.tobytes(), pod.nonzero.tobytes())
        return key, lambda some: self._score_rows(pod, table, some)

    def _score_rows(self, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        total = np.zeros(len(rows), dtype=np.int64)
        weight_sum = np.zeros(len(rows), dtype=np.int64)
        ratio = self.strategy == "RequestedToCapacityRatio"
        for name, weight in self.resources.items():
            col = table.column.get(name)
            if col is None:
                continue
            alloc = table.allocatable[rows, col]
            if name in ("cpu", "memory"):
                which = 0 if name == "cpu" else 1
                requested = table.nonzero_requested[rows, which] + pod.nonzero[which]
            else:
                if pod.request[col] == 0 and is_scalar_resource(name):
                    continue  # an extended resource the pod does not request is not scored
                requested = table.requested[rows, col] + pod.request[col]
            if ratio:
                per = requested_to_capacity_ratio(requested, alloc, self.shape)
                counted = (alloc > 0) & (per > 0)  # only positive resource scores enter the mean
            else:
                per = (least_allocated if self.strategy == "LeastAllocated" else most_allocated)(requested, alloc)
                counted = alloc > 0
            total += np.where(counted, per * weight, 0)
            weight_sum += np.where(counted, weight, 0)
        safe = np.where(weight_sum == 0, 1, weight_sum)
        if ratio:  # math.Round of the weighted mean
            mean = np.floor(total / safe + 0.5).astype(np.int64)
        else:
            mean = total // safe
        return np.where(weight_sum == 0, 0, mean)
