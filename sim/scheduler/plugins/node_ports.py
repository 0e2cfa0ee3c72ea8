"""NodePorts: models pkg/scheduler/framework/plugins/nodeports/node_ports.go and the
HostPortInfo conflict rule of pkg/scheduler/framework/types.go (Kubernetes 1.36).

PreFilter collects the pod's host ports (containers' and restartable init containers',
util.GetHostPorts) and skips pods without any. Filter rejects a node where one of them is
taken: the same protocol and port on the same address, where 0.0.0.0 (an unset hostIP)
overlaps every address. The reason is Unschedulable (preemption can free the port).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.names import NODE_PORTS

__all__ = ["ERR_REASON", "NodePorts", "conflicts"]

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
ALL_ADDRESSES = "0.0.0.0"
PortKey = tuple[str, str, int]  # (host IP, protocol, port), HostPort.key


def conflicts(wanted: PortKey, used: dict[PortKey, int]) -> bool:
    """Whether ``wanted`` collides with a port in use (HostPortInfo.CheckConflict).

    0.0.0.0:80/TCP collides with 80/TCP on any address; 10.0.0.1:80/TCP only with
    10.0.0.1:80/TCP and 0.0.0.0:80/TCP; 80/UDP never collides with 80/TCP.
    """
    ip, protocol, port = wanted
    if ip == ALL_ADDRESSES:
        return any(key[1] == protocol and key[2] == port for key in used)
    return (ALL_ADDRESSES, protocol, port) in used or wanted in used


def _wanted(state: CycleState, pod: PodInfo) -> tuple[PortKey, ...]:
    wanted = state.get(NODE_PORTS)
    if wanted is None:  # Filter without PreFilter (e.g. a preemption dry run on a fresh state)
        wanted = state[NODE_PORTS] = tuple(p.key for p in pod.pod.spec.host_ports)
    return wanted


@dataclass
class NodePorts:
    """PreFilter + Filter plugin (no score)."""

    name: str = NODE_PORTS
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    _last: tuple[Any, tuple[PortKey, ...]] | None = field(default=None, repr=False, compare=False)

    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> str | None:
        spec = pod.pod.spec
        last = self._last
        if last is None or last[0] is not spec:  # consecutive pods of a template share their spec
            last = self._last = (spec, tuple(p.key for p in spec.host_ports))
        state[NODE_PORTS] = last[1]
        return None

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreFilter's Skip: the pod asks for no host port."""
        return not _wanted(state, pod)

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        wanted = _wanted(state, pod)
        if not wanted:
            return np.ones(len(rows), dtype=bool)
        taken = [row for row, used in table.host_ports.items() if any(conflicts(key, used) for key in wanted)]
        return ~np.isin(rows, taken)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        return [(ERR_REASON, ~self.filter(state, pod, table, rows), Code.UNSCHEDULABLE)]
