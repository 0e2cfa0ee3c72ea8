"""NodeResourcesBalancedAllocation: models
pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go.

Favours nodes whose cpu and memory fractions (requests including this pod, actual
requests, not the non-zero defaults) stay close: score = (1 - std of the fractions) * 100.
Best-effort pods (no cpu or memory request) are skipped at PreScore; an extended resource
the pod does not request is left out (calculateResourceAllocatableRequest returns 0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scheduler.framework import MAX_NODE_SCORE, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.helpers import is_scalar_resource
from sim.scheduler.plugins.args import NodeResourcesBalancedAllocationArgs
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

    @classmethod
    def from_args(cls, args: NodeResourcesBalancedAllocationArgs) -> BalancedAllocation:
        """Build from validated args (resources; weights do not matter to a standard deviation)."""
        return cls(tuple(r.name for r in args.resources))

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        cols = [table.column[r] for r in self.resources if r in table.column]
        if not any(pod.request[c] > 0 for c in cols):
            return np.zeros(len(rows), dtype=np.int64)  # PreScore: Skip for best-effort pods
        # an extended resource the pod does not request is left out, as a node without it is
        cols = [c for c in cols if pod.request[c] > 0 or not is_scalar_resource(table.resources[c])]
        fractions = []
        for col in cols:
            alloc = table.allocatable[rows, col]
            requested = table.requested[rows, col] + pod.request[col]
            frac = np.minimum(requested / np.where(alloc == 0, 1, alloc), 1.0)
            fractions.append(np.where(alloc == 0, np.nan, frac))
        stacked = np.stack(fractions, axis=1)
        if not np.isnan(stacked).any():
            return balanced_score(stacked)
        return np.array([balanced_score(row[~np.isnan(row)][None, :])[0] for row in stacked], dtype=np.int64)
