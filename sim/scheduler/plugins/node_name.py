"""NodeName: models pkg/scheduler/framework/plugins/nodename (spec.nodeName must match)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.names import NODE_NAME

__all__ = ["NodeName"]


@dataclass
class NodeName:
    """Filter plugin."""

    name: str = NODE_NAME
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """Nothing to check for a pod without spec.nodeName."""
        return not pod.pod.spec.node_name

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        wanted = pod.pod.spec.node_name
        if not wanted:
            return np.ones(len(rows), dtype=bool)
        row = table.index.get(wanted, -1)
        return rows == row

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        return [("node(s) didn't match the requested node name", ~self.filter(state, pod, table, rows),
                 Code.UNSCHEDULABLE_AND_UNRESOLVABLE)]
