"""The scheduler cache's node state as a struct of numpy arrays.

Models ``pkg/scheduler/backend/cache`` (NodeInfo: allocatable, requested, non-zero
requested, pod count) so that every Filter and Score runs over all nodes at once. Nodes
sharing labels (apart from their hostname) and taints share a *signature*, so selector and
toleration checks run once per signature, not once per node.

Scores that depend on one node's row alone (resource fit, balance) are kept per pod shape in
``row_values`` and recomputed only for the rows that changed since (a log of touched rows),
so a cycle of a pod like the last one costs a gather rather than a pass over every node.
Likewise every change of a node's non-terminating pods is logged per label signature
(``sig_logs``), so the inter-pod plugins keep per-selector counts current from the changes of
the signatures they select instead of recounting every cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sim.api.objects import Node, Pod, Taint
from sim.api.selectors import NODE_NAME_FIELD

__all__ = ["DEFAULT_MEMORY_REQUEST", "DEFAULT_MILLI_CPU_REQUEST", "HOSTNAME", "NodeTable", "PodEntry"]

DEFAULT_MILLI_CPU_REQUEST = 100  # pkg/scheduler/util/pod_resources.go
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
HOSTNAME = "kubernetes.io/hostname"
# A signature's pod log is dropped past this many changes per node (and at least these rows)
SIG_LOG_FACTOR, SIG_LOG_ROWS = 8, 1024


class PodEntry:
    """A pod counted on a node (NodeInfo.Pods): its requests and its label signature."""

    __slots__ = ("nonzero", "pod", "request", "row", "sig")

    def __init__(self, pod: Pod, row: int, request: np.ndarray, nonzero: np.ndarray, sig: int) -> None:
        self.pod = pod
        self.row = row
        self.request = request
        self.nonzero = nonzero
        self.sig = sig


class NodeTable:
    """Allocatable and requested resources of every node, one row per node.

    Besides resources it keeps what the inter-pod plugins need: the pods on each node,
    and per pod label signature (namespace + labels) how many such pods each node has.
    """

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
        self._row_views()
        self.unschedulable = np.zeros(capacity, dtype=bool)
        self.present = np.zeros(capacity, dtype=bool)
        self.label_sig = np.zeros(capacity, dtype=np.int32)
        self.taint_sig = np.zeros(capacity, dtype=np.int32)
        self.sig_labels: list[dict[str, str]] = []
        self.sig_taints: list[tuple[Taint, ...]] = []
        self._label_sig_ids: dict[tuple[tuple[str, str], ...], int] = {}
        self._taint_sig_ids: dict[tuple[Taint, ...], int] = {}
        self.version = 0
        self.pods_on: list[dict[int, PodEntry]] = []
        self.pod_sig_labels: list[tuple[str, dict[str, str]]] = []
        self.pod_sig_counts: list[np.ndarray] = []
        self._pod_sig_ids: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self._last_sig: tuple[str | None, dict[str, str] | None, int] = (None, None, -1)  # (namespace, labels, sig)
        # Pods with pod (anti-)affinity (NodeInfo.PodsWithAffinity), grouped by (label signature,
        # podAffinity, podAntiAffinity): the inter-pod plugins read existing pods' terms per group.
        self.affinity_groups: list[tuple[int, Any, Any]] = []
        self.affinity_group_counts: list[np.ndarray] = []
        self._affinity_group_ids: dict[tuple[int, Any, Any], int] = {}
        # Terminating pods per label signature: PodTopologySpread does not count them.
        self.terminating_sig_counts: dict[int, np.ndarray] = {}
        self._terminating: set[int] = set()
        self.pods_version = 0  # bumped on every assume, forget and terminating mark (each pod-log change)
        # Per label signature, the changes of its non-terminating pod count, (row, +1/-1), in
        # order; ``sig_log_bases[sig]`` is the absolute position of ``sig_logs[sig][0]`` (a log
        # is dropped when it grows long). Plugins that keep per-selector counts catch up from
        # the logs of the signatures they select (not every pod's) instead of recounting.
        self.sig_logs: list[list[tuple[int, int]]] = []
        self.sig_log_bases: list[int] = []
        self.pod_caches: dict[Any, Any] = {}  # per-selector state of the inter-pod plugins
        self.host_ports: dict[int, dict[tuple[str, str, int], int]] = {}  # row -> (ip, protocol, port) -> pods
        # The cache's image states (ImageStateSummary): per image name its size (as first
        # reported) and the rows whose node status lists it; per row its status.images.
        self.image_sizes: dict[str, int] = {}
        self.image_rows: dict[str, set[int]] = {}
        self.node_images: list[Mapping[str, int]] = []
        self._domains: dict[str, tuple[int, np.ndarray, list[str]]] = {}
        # Rows whose resources, labels, taints or presence changed, in order; ``_log_base`` is the
        # absolute position of ``_row_log[0]`` (the log is dropped when it grows long).
        self._row_log: list[int] = []
        self._log_base = 0
        self._row_values: dict[Any, list[Any]] = {}  # key -> [log position, values per row, memo]
        self._present_rows: tuple[int, int, np.ndarray] | None = None
        self._row_states: tuple[int, dict[int, bytes]] = (-1, {})
        self._requests_by_spec: dict[int, tuple[Any, tuple[np.ndarray, np.ndarray, list[str]]]] = {}

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
            self.pods_on.append({})
            self.node_images.append({})
            self.index[node.meta.name] = row
        self.nodes[row] = node
        self.update_node(node)
        self.present[row] = True
        return row

    def update_node(self, node: Node) -> bool:
        """Refresh a node's allocatable, labels, taints, schedulability and images; True if any
        but the images changed (upstream's nodeSchedulingPropertiesChange: an update that only
        lists new images is no cluster event for the scheduling queue)."""
        row = self.index[node.meta.name]
        before = (self.allocatable[row].tobytes(), int(self.label_sig[row]), int(self.taint_sig[row]),
                  bool(self.unschedulable[row]))
        for name, amount in node.allocatable.items():
            col = self.column.get(name)
            if col is not None:
                self.allocatable[row, col] = amount
        labels = tuple(sorted((k, v) for k, v in node.meta.labels.items() if k != HOSTNAME))
        self.label_sig[row] = self._sig(self._label_sig_ids, self.sig_labels, labels, dict(labels))
        self.taint_sig[row] = self._sig(self._taint_sig_ids, self.sig_taints, node.taints, node.taints)
        self.unschedulable[row] = node.unschedulable
        self._set_images(row, node.images)
        self.version += 1
        self._touch(row)
        return before != (self.allocatable[row].tobytes(), int(self.label_sig[row]), int(self.taint_sig[row]),
                          bool(self.unschedulable[row]))

    def remove_node(self, name: str) -> None:
        """Mark a node gone; its row stays so indexes remain stable."""
        row = self.index.get(name)
        if row is not None:
            self.present[row] = False
            self._set_images(row, {})
            self.version += 1
            self._touch(row)

    def set_present(self, row: int, present: bool) -> None:
        """Take a node out of (or back into) the scheduler's view without forgetting it, as the
        cluster autoscaler's scale-down simulation does; caches keyed on ``version`` see it."""
        self.present[row] = present
        self.version += 1
        self._touch(row)

    def present_rows(self) -> np.ndarray:
        """The rows of present nodes, in order (kept until the node set changes)."""
        cached = self._present_rows
        if cached is None or cached[0] != self.version or cached[1] != self.n:
            rows = np.flatnonzero(self.present[: self.n])
            rows.flags.writeable = False  # shared by every cycle until the node set changes
            cached = self._present_rows = (self.version, self.n, rows)
        return cached[2]

    def take(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``values[rows]`` as a new array; a plain copy when ``rows`` are the present rows and
        every node is present (a cycle over all nodes gathers nothing)."""
        cached = self._present_rows
        if cached is not None and rows is cached[2] and len(rows) == self.n:
            return values[: self.n].copy()
        return values[rows]

    def _set_images(self, row: int, images: Mapping[str, int]) -> None:
        """Replace a node's reported images, keeping the per-image node sets current."""
        old = self.node_images[row]
        if old is images:
            return
        for name in old.keys() - images.keys():
            rows = self.image_rows[name]
            rows.discard(row)
            if not rows:
                del self.image_rows[name], self.image_sizes[name]
        for name in images.keys() - old.keys():
            self.image_rows.setdefault(name, set()).add(row)
            self.image_sizes.setdefault(name, images[name])
        self.node_images[row] = images

    def _sig(self, ids: dict[Any, int], values: list[Any], key: Any, value: Any) -> int:
        sig = ids.get(key)
        if sig is None:
            sig = ids[key] = len(values)
            values.append(value)
        return sig

    def _row_views(self) -> None:
        # each row of the amounts as a view made once: a pod's assume adds to its node's row in
        # place without indexing the matrix (a new view, then a write-back) every time
        self._allocatable_rows = list(self.allocatable)
        self._requested_rows = list(self.requested)
        self._nonzero_rows = list(self.nonzero_requested)

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
        self._row_views()
        for name in ("unschedulable", "present", "label_sig", "taint_sig"):
            old = getattr(self, name)
            grown = np.zeros(new, dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)
        for arrays in (self.pod_sig_counts, self.affinity_group_counts):
            for i, counts in enumerate(arrays):
                grown = np.zeros(new, dtype=counts.dtype)
                grown[:cap] = counts
                arrays[i] = grown
        for sig, counts in self.terminating_sig_counts.items():
            grown = np.zeros(new, dtype=counts.dtype)
            grown[:cap] = counts
            self.terminating_sig_counts[sig] = grown

    # ------------------------------------------------------------------ per-row values
    def _touch(self, row: int) -> None:
        """Note that a row changed: per-row values computed before are stale for it."""
        log = self._row_log
        log.append(row)
        if len(log) > 8 * max(self.n, 64):  # caches this far behind recompute every row anyway
            self._log_base += len(log)
            log.clear()

    def row_values(self, key: Any, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``compute(rows)`` for every row, where ``compute`` is row-wise and reads nothing of a
        row but its allocatable, requested and non-zero requested amounts (``key`` names it with
        everything else it depends on, such as the pod's requests). Rows unchanged since the last
        call with ``key`` keep their values; a changed row in a state seen before (same amounts)
        takes the value computed then."""
        end = self._log_base + len(self._row_log)
        entry = self._row_values.get(key)
        if entry is None or entry[0] < self._log_base or len(entry[1]) != self.n:
            if len(self._row_values) >= 256:  # many pod shapes: start over rather than grow
                self._row_values.clear()
            memo = {} if entry is None else entry[2]
            entry = self._row_values[key] = [end, compute(np.arange(self.n)), memo]
        elif entry[0] < end:
            values, memo = entry[1], entry[2]
            missing: list[tuple[int, bytes]] = []
            if self._row_states[0] != end:  # the row states read at this log position, shared by every key
                self._row_states = (end, {})
            states = self._row_states[1]
            changed = self._row_log[entry[0] - self._log_base:]
            for row in changed if len(changed) == 1 else sorted(set(changed)):
                state = states.get(row)
                if state is None:
                    state = states[row] = self._row_state(row)
                value = memo.get(state)
                if value is None:
                    missing.append((row, state))
                else:
                    values[row] = value
            if missing:
                rows = np.array([row for row, _ in missing], dtype=np.int64)
                computed = compute(rows)
                values[rows] = computed
                if len(memo) > 65536:
                    memo.clear()
                for (_, state), value in zip(missing, computed.tolist(), strict=True):
                    memo[state] = value
            entry[0] = end
        return entry[1]

    def _row_state(self, row: int) -> bytes:
        """A row's amounts as one key: what a row-wise value may depend on."""
        return self._allocatable_rows[row].tobytes() + self._requested_rows[row].tobytes() + \
            self._nonzero_rows[row].tobytes()

    # ------------------------------------------------------------------ pods
    def request_vector(self, pod: Pod) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(requests per column incl. 1 pod, non-zero cpu/memory, resources no node offers),
        shared (read-only) by the pods of one spec: pods of a template compute it once."""
        spec = pod.spec
        cached = self._requests_by_spec.get(id(spec))
        if cached is not None and cached[0] is spec:
            return cached[1]
        if len(self._requests_by_spec) > 4096:
            self._requests_by_spec.clear()
        vectors = self._request_vector(pod)
        for array in vectors[:2]:
            array.flags.writeable = False
        self._requests_by_spec[id(spec)] = (spec, vectors)
        return vectors

    def _request_vector(self, pod: Pod) -> tuple[np.ndarray, np.ndarray, list[str]]:
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

    def pod_sig(self, pod: Pod) -> int:
        """The label signature of a pod (pods of one template share one)."""
        meta = pod.meta
        last = self._last_sig
        if last[0] == meta.namespace and last[1] == meta.labels:  # consecutive pods of one template
            return last[2]
        key = (meta.namespace, tuple(sorted(meta.labels.items())))
        sig = self._pod_sig_ids.get(key)
        if sig is None:
            sig = self._pod_sig_ids[key] = len(self.pod_sig_labels)
            self.pod_sig_labels.append((meta.namespace, dict(meta.labels)))
            self.pod_sig_counts.append(np.zeros(self.allocatable.shape[0], dtype=np.int32))
            self.sig_logs.append([])
            self.sig_log_bases.append(0)
        self._last_sig = (meta.namespace, self.pod_sig_labels[sig][1], sig)
        return sig

    def assume(self, row: int, pod: Pod, request: np.ndarray, nonzero: np.ndarray) -> PodEntry:
        """Account a pod on a node (the scheduler's assume, or a bound pod seen by watch)."""
        entry = PodEntry(pod, row, request, nonzero, self.pod_sig(pod))
        requested, nonzero_requested = self._requested_rows[row], self._nonzero_rows[row]
        requested += request
        nonzero_requested += nonzero
        self._touch(row)
        self.pods_on[row][pod.meta.uid] = entry
        self.pod_sig_counts[entry.sig][row] += 1
        self._log_pod(entry.sig, row, 1)
        if pod.spec.has_pod_affinity:
            self.affinity_group_counts[self._affinity_group(entry.sig, pod)][row] += 1
        if pod.terminating:
            self.mark_terminating(entry)
        self.pods_version += 1
        for host_port in pod.spec.host_ports:
            ports = self.host_ports.setdefault(row, {})
            ports[host_port.key] = ports.get(host_port.key, 0) + 1
        return entry

    def forget(self, entry: PodEntry) -> None:
        """Release a pod from its node."""
        row = entry.row
        requested, nonzero_requested = self._requested_rows[row], self._nonzero_rows[row]
        requested -= entry.request
        nonzero_requested -= entry.nonzero
        self._touch(row)
        self.pods_on[row].pop(entry.pod.meta.uid, None)
        self.pod_sig_counts[entry.sig][row] -= 1
        if entry.pod.spec.has_pod_affinity:
            self.affinity_group_counts[self._affinity_group(entry.sig, entry.pod)][row] -= 1
        if entry.pod.meta.uid in self._terminating:
            self._terminating.discard(entry.pod.meta.uid)
            self.terminating_sig_counts[entry.sig][row] -= 1
        else:
            self._log_pod(entry.sig, row, -1)
        self.pods_version += 1
        for host_port in entry.pod.spec.host_ports:
            ports = self.host_ports[row]
            ports[host_port.key] -= 1
            if not ports[host_port.key]:
                del ports[host_port.key]

    def mark_terminating(self, entry: PodEntry) -> None:
        """Note that an accounted pod got a deletionTimestamp (once per pod)."""
        uid = entry.pod.meta.uid
        if uid in self._terminating:
            return
        self._terminating.add(uid)
        counts = self.terminating_sig_counts.get(entry.sig)
        if counts is None:
            counts = self.terminating_sig_counts[entry.sig] = np.zeros(self.allocatable.shape[0], dtype=np.int32)
        counts[entry.row] += 1
        self._log_pod(entry.sig, entry.row, -1)
        self.pods_version += 1

    def _log_pod(self, sig: int, row: int, delta: int) -> None:
        log = self.sig_logs[sig]
        log.append((row, delta))
        if len(log) > SIG_LOG_FACTOR * max(self.n, SIG_LOG_ROWS):  # readers this far behind recount anyway
            self.sig_log_bases[sig] += len(log)
            log.clear()

    def _affinity_group(self, sig: int, pod: Pod) -> int:
        key = (sig, pod.spec.pod_affinity, pod.spec.pod_anti_affinity)
        group = self._affinity_group_ids.get(key)
        if group is None:
            group = self._affinity_group_ids[key] = len(self.affinity_groups)
            self.affinity_groups.append(key)
            self.affinity_group_counts.append(np.zeros(self.allocatable.shape[0], dtype=np.int32))
        return group

    # ------------------------------------------------------------------ topology
    def matching_pods_per_node(self, namespaces: frozenset[str] | None, selector: Any) -> np.ndarray:
        """Per row: how many pods match ``selector`` (in ``namespaces``; None = any)."""
        total = np.zeros(self.n, dtype=np.int64)
        for sig, (namespace, labels) in enumerate(self.pod_sig_labels):
            if (namespaces is None or namespace in namespaces) and selector.matches(labels):
                total += self.pod_sig_counts[sig][: self.n]
        return total

    def domains(self, key: str) -> tuple[np.ndarray, list[str]]:
        """(domain id per row, -1 where the node lacks the label; the domain values)."""
        cached = self._domains.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1], cached[2]
        if key == HOSTNAME:
            ids = np.arange(self.n, dtype=np.int64)
            values = list(self.names)
        else:
            values = []
            index: dict[str, int] = {}
            per_sig = []
            for labels in self.sig_labels:
                value = labels.get(key)
                if value is None:
                    per_sig.append(-1)
                else:
                    if value not in index:
                        index[value] = len(values)
                        values.append(value)
                    per_sig.append(index[value])
            ids = np.array(per_sig, dtype=np.int64)[self.label_sig[: self.n]] if per_sig else \
                np.full(self.n, -1, dtype=np.int64)
        self._domains[key] = (self.version, ids, values)
        return ids, values

    def labels_of(self, row: int) -> dict[str, str]:
        """The full label set of a node (signature labels plus its hostname), with its name
        under ``NODE_NAME_FIELD`` for node selector terms' matchFields."""
        name = self.names[row]
        return {**self.sig_labels[self.label_sig[row]], HOSTNAME: name, NODE_NAME_FIELD: name}


def _nonzero_total(pod: Pod, resource: str, default: int) -> int:
    """Pod request for scoring: an unset container request counts as the default, an explicit 0 as 0."""
    total = 0
    for c in pod.spec.containers:
        total += dict(c.requests).get(resource, default)
    for c in pod.spec.init_containers:
        total = max(total, dict(c.requests).get(resource, default))
    return total
