"""NodeResourcesBalancedAllocation: models
pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go (Kubernetes 1.36.5).

Favours nodes whose cpu and memory fractions (actual requests, not the non-zero defaults)
stay close. A node's balance is (1 - std of its fractions) * 100; since 1.36 the score is
the change the pod makes to it, 50 + (50 + balance with the pod - balance without) // 2,
so a pod that evens a node out scores toward 100 and one that skews it toward 50.
Worked example (ours): an empty 4-cpu / 10000-memory node and a pod of 3 cpu / 5000:
fractions 0.75 and 0.5, std 0.125, balance 87 with the pod and 100 without, score
50 + (50 + 87 - 100) // 2 = 68. Best-effort pods (no cpu or memory request) are skipped at
PreScore; an extended resource the pod does not request is left out
(calculateResourceAllocatableRequest returns 0, 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.scheduler.framework import MAX_NODE_SCORE, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.args import NodeResourcesBalancedAllocationArgs
from sim.scheduler.plugins.helpers import is_scalar_resource
from sim.scheduler.plugins.names import NODE_RESOURCES_BALANCED_ALLOCATION

__all__ = ["BalancedAllocation", "balanced_score"]


def balanced_score(fractions: np.ndarray) -> np.ndarray:
    """Rows of per-resource fractions (already capped at 1) -> integer scores."""
    k = fractions.shape[1]
    if k < 2:
        std = np.zeros(fractions.shape[0])
    elif k == 2:
        std = np.abs(fractions[:, 0] - fractions[:, 1]) / 2
    else:
        std = fractions.std(axis=1)
    return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)


@dataclass
class BalancedAllocation:
    """Score plugin over cpu and memory (configurable)."""

    resources: tuple[str, ...] = field(default=("cpu", "memory"))
    name: str = NODE_RESOURCES_BALANCED_ALLOCATION
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    # per request shape (pods of a template share one): the columns scored and the row-values key
    _plans: dict[bytes, tuple[Any, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_args(cls, args: NodeResourcesBalancedAllocationArgs) -> BalancedAllocation:
        """Build from validated args (resources; weights do not matter to a standard deviation)."""
        return cls(tuple(r.name for r in args.resources))

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        hook = self.row_local_score(state, pod, table)
        if hook is None:
            return np.zeros(len(rows), dtype=np.int64)  # PreScore: Skip for best-effort pods
        return table.row_values(*hook)[rows]

    def skip_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreScore's Skip: a best-effort pod (it requests none of the resources)."""
        return self.row_local_score(state, pod, table) is None

    def row_local_score(self, state: CycleState, pod: PodInfo,
                        table: NodeTable) -> tuple[Any, Callable[[np.ndarray], np.ndarray]] | None:
        """A node's score depends on its own row and the pod's requests in the scored columns
        alone; None for a best-effort pod."""
        kept = state.get(self.name)
        if kept is not None and kept[0] is pod:  # PreScore's answer, kept in the cycle state
            return kept[1]
        hook = self._hook(pod, table)
        state[self.name] = (pod, hook)
        return hook

    def _hook(self, pod: PodInfo, table: NodeTable) -> tuple[Any, Callable[[np.ndarray], np.ndarray]] | None:
        shape = pod.request.tobytes()
        plan = self._plans.get(shape)
        if plan is None or plan[0] is not table:
            if len(self._plans) > 256:
                self._plans.clear()
            plan = self._plans[shape] = (table, *self._plan(pod, table))
        _, cols, key = plan
        if cols is None:
            return None
        return key, lambda some: _score_rows(pod, table, some, cols)

    def _plan(self, pod: PodInfo, table: NodeTable) -> tuple[list[int] | None, Any]:
        """The columns scored for a pod of this request shape, and its per-row values' key."""
        cols = [table.column[r] for r in self.resources if r in table.column]
        if not any(pod.request[c] > 0 for c in cols):
            return None, None
        # an extended resource the pod does not request is left out, as a node without it is
        cols = [c for c in cols if pod.request[c] > 0 or not is_scalar_resource(table.resources[c])]
        return cols, (self.name, tuple(cols), pod.request[cols].tobytes())


def _score_rows(pod: PodInfo, table: NodeTable, rows: np.ndarray, cols: list[int]) -> np.ndarray:
    """The change in balance the pod brings to each of ``rows``."""
    alloc = table.allocatable[rows][:, cols]
    before = table.requested[rows][:, cols]
    after = before + pod.request[cols]
    with_pod = _balance(after, alloc)
    without_pod = _balance(before, alloc)
    # Kubernetes 1.36 scores the change in balance the pod brings, kept in [50, 100]:
    # 50 + (50 + with - without) // 2 (both scores lie in [50, 100]).
    half = MAX_NODE_SCORE // 2
    return half + (half + with_pod - without_pod) // 2


def _balance(requested: np.ndarray, allocatable: np.ndarray) -> np.ndarray:
    """(1 - std of the fractions) * 100 per row, over the resources the node has."""
    frac = np.minimum(requested / np.where(allocatable == 0, 1, allocatable), 1.0)
    stacked = np.where(allocatable == 0, np.nan, frac)
    if not np.isnan(stacked).any():
        return balanced_score(stacked)
    return np.array([balanced_score(row[~np.isnan(row)][None, :])[0] for row in stacked], dtype=np.int64)
