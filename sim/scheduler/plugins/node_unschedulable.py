"""NodeUnschedulable: models pkg/scheduler/framework/plugins/nodeunschedulable.

A cordoned node (``spec.unschedulable``) only takes pods that tolerate the
``node.kubernetes.io/unschedulable:NoSchedule`` taint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.api.objects import Taint
from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.names import NODE_UNSCHEDULABLE

__all__ = ["NodeUnschedulable"]

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


@dataclass
class NodeUnschedulable:
    """Filter plugin."""

    name: str = NODE_UNSCHEDULABLE
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    _cordoned: tuple[Any, int, int, bool] | None = field(default=None, repr=False, compare=False)

    def all_pass(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """No node is cordoned (kept until the node table changes), or the pod tolerates it."""
        last = self._cordoned
        if last is None or last[0] is not table or last[1] != table.version or last[2] != table.n:
            last = self._cordoned = (table, table.version, table.n, bool(table.unschedulable[: table.n].any()))
        return not last[3] or any(t.tolerates(UNSCHEDULABLE_TAINT) for t in pod.pod.spec.tolerations)

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        if any(t.tolerates(UNSCHEDULABLE_TAINT) for t in pod.pod.spec.tolerations):
            return np.ones(len(rows), dtype=bool)
        return ~table.take(table.unschedulable, rows)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        return [("node(s) were unschedulable", ~self.filter(state, pod, table, rows),
                 Code.UNSCHEDULABLE_AND_UNRESOLVABLE)]
