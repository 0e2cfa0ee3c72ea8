"""The scheduler cache's node state as a struct of numpy arrays.

Models ``pkg/scheduler/backend/cache`` (NodeInfo: allocatable, requested, non-zero
requested, pod count) so that every Filter and Score runs over all nodes at once. Nodes
sharing labels (apart from their hostname) and taints share a *signature*, so selector and
toleration checks run once per signature, not once per node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.api.objects import Node, Pod, Taint

__all__ = ["DEFAULT_MEMORY_REQUEST", "DEFAULT_MILLI_CPU_REQUEST", "HOSTNAME", "NodeTable"]

DEFAULT_MILLI_CPU_REQUEST = 100  # pkg/scheduler/util/pod_resources.go
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
HOSTNAME = "kubernetes.io/hostname"


class NodeTable:
    """Allocatable and requested resources of every node, one row per node."""

    def __init__(self, resources: list[str], capacity: int = 64) -> None:
        base = ["cpu", "memory", "pods"]
        self.resources = base + sorted(set(resources) - set(base))
        self.column = {name: i for i, name in enumerate(self.resources)}
        r = len(self.resources)
        self.n = 0
        self.names: list[str] = []
        self.nodes: list[Node] = []
        self.index: dict[str, int] = {}
        self.allocatable = np.zeros((capacity, r), dtype=np.int64)
        self.requested = np.zeros((capacity, r), dtype=np.int64)
        self.nonzero_requested = np.zeros((capacity, 2), dtype=np.int64)
        self.unschedulable = np.zeros(capacity, dtype=bool)
        self.present = np.zeros(capacity, dtype=bool)
        self.label_sig = np.zeros(capacity, dtype=np.int32)
        self.taint_sig = np.zeros(capacity, dtype=np.int32)
        self.sig_labels: list[dict[str, str]] = []
        self.sig_taints: list[tuple[Taint, ...]] = []
        self._label_sig_ids: dict[tuple[tuple[str, str], ...], int] = {}
        self._taint_sig_ids: dict[tuple[Taint, ...], int] = {}
        self.version = 0

    # ------------------------------------------------------------------ nodes
    def add_node(self, node: Node) -> int:
        """Add (or re-add) a node; returns its row."""
        row = self.index.get(node.meta.name)
        if row is None:
            row = self.n
            self._grow(row + 1)
            self.n += 1
            self.names.append(node.meta.name)
            self.nodes.append(node)
            self.index[node.meta.name] = row
        self.nodes[row] = node
        self.update_node(node)
        self.present[row] = True
        return row

    def update_node(self, node: Node) -> None:
        """Refresh a node's allocatable, labels, taints and schedulability."""
        row = self.index[node.meta.name]
        for name, amount in node.allocatable.items():
            col = self.column.get(name)
            if col is not None:
                self.allocatable[row, col] = amount
        labels = tuple(sorted((k, v) for k, v in node.meta.labels.items() if k != HOSTNAME))
        self.label_sig[row] = self._sig(self._label_sig_ids, self.sig_labels, labels, dict(labels))
        self.taint_sig[row] = self._sig(self._taint_sig_ids, self.sig_taints, node.taints, node.taints)
        self.unschedulable[row] = node.unschedulable
        self.version += 1

    def remove_node(self, name: str) -> None:
        """Mark a node gone; its row stays so indexes remain stable."""
        row = self.index.get(name)
        if row is not None:
            self.present[row] = False
            self.version += 1

    def _sig(self, ids: dict[Any, int], values: list[Any], key: Any, value: Any) -> int:
        sig = ids.get(key)
        if sig is None:
            sig = ids[key] = len(values)
            values.append(value)
        return sig

    def _grow(self, need: int) -> None:
        cap = self.allocatable.shape[0]
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("allocatable", "requested", "nonzero_requested"):
            old = getattr(self, name)
            grown = np.zeros((new, old.shape[1]), dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)
        for name in ("unschedulable", "present", "label_sig", "taint_sig"):
            old = getattr(self, name)
            grown = np.zeros(new, dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)

    # ------------------------------------------------------------------ pods
    def request_vector(self, pod: Pod) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(requests per column incl. 1 pod, non-zero cpu/memory, resources no node offers)."""
        vec = np.zeros(len(self.resources), dtype=np.int64)
        unknown = []
        for name, amount in pod.spec.requests:
            col = self.column.get(name)
            if col is None:
                if amount > 0:
                    unknown.append(name)
            else:
                vec[col] = amount
        vec[self.column["pods"]] = 1
        nonzero = np.array([_nonzero_total(pod, "cpu", DEFAULT_MILLI_CPU_REQUEST),
                            _nonzero_total(pod, "memory", DEFAULT_MEMORY_REQUEST)], dtype=np.int64)
        return vec, nonzero, unknown

    def assume(self, row: int, vec: np.ndarray, nonzero: np.ndarray) -> None:
        """Account a pod on a node (the scheduler's assume, or a bound pod seen by watch)."""
        self.requested[row] += vec
        self.nonzero_requested[row] += nonzero

    def forget(self, row: int, vec: np.ndarray, nonzero: np.ndarray) -> None:
        """Release a pod's requests from a node."""
        self.requested[row] -= vec
        self.nonzero_requested[row] -= nonzero


def _nonzero_total(pod: Pod, resource: str, default: int) -> int:
    """Pod request for scoring: an unset container request counts as the default, an explicit 0 as 0."""
    total = 0
    for c in pod.spec.containers:
        requests = dict(c.requests)
        total += requests[resource] if resource in requests else default
    for c in pod.spec.init_containers:
        requests = dict(c.requests)
        total = max(total, requests[resource] if resource in requests else default)
    return total
