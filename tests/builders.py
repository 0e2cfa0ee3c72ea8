"""Fluent builders for scheduler tests, after upstream's pkg/scheduler/testing/wrappers.go.

    pod = make_pod("p").req(cpu="500m", memory="1Gi").toleration("gpu", operator="Exists").obj()
    node = make_node("n1").capacity(cpu="4", memory="8Gi", pods=110).label("zone", "a").obj()
    table = make_table([node], assigned=[(other_pod, "n1")])
    info = pod_info(table, pod)

Quantities are written as Kubernetes writes them ("500m", "1Gi", 4) and converted with the
simulator's own ``resource_value`` (millicores for cpu, units otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from sim.api.objects import (
    Container,
    HostPort,
    Node,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodSpec,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)
from sim.api.quantity import resource_value
from sim.api.selectors import Requirement, Selector
from sim.scheduler.framework import CycleState, PodInfo
from sim.scheduler.nodetable import HOSTNAME, NodeTable

__all__ = ["NodeWrapper", "PodWrapper", "filter_reasons", "make_node", "make_pod", "make_table", "pod_info",
           "scores"]

Quantity = str | int | float


def _amounts(mapping: Mapping[str, Quantity] | None, kw: Mapping[str, Quantity]) -> dict[str, int]:
    merged = {**(mapping or {}), **kw}
    return {name: resource_value(name, qty) for name, qty in merged.items()}


class PodWrapper:
    """Builds a ``Pod``; each ``req``/``container`` call adds one container."""

    def __init__(self, name: str, namespace: str = "default") -> None:
        self._meta = ObjectMeta(name=name, namespace=namespace)
        self._containers: list[Container] = []
        self._inits: list[Container] = []
        self._spec: dict[str, Any] = {}
        self._tolerations: list[Toleration] = []
        self._selector: dict[str, str] = {}
        self._required: list[Selector] = []
        self._preferred: list[tuple[int, Selector]] = []

    def container(self, image: str = "registry.k8s.io/pause:3.10") -> PodWrapper:
        """A container with no requests at all (best-effort)."""
        self._containers.append(Container(f"c{len(self._containers)}", image))
        return self

    def req(self, mapping: Mapping[str, Quantity] | None = None, **kw: Quantity) -> PodWrapper:
        """A container requesting these resources (``req({"nvidia.com/gpu": 1}, cpu="1")``)."""
        requests = tuple(sorted(_amounts(mapping, kw).items()))
        self._containers.append(Container(f"c{len(self._containers)}", "registry.k8s.io/pause:3.10", requests))
        return self

    def init_req(self, mapping: Mapping[str, Quantity] | None = None, **kw: Quantity) -> PodWrapper:
        """An init container requesting these resources."""
        requests = tuple(sorted(_amounts(mapping, kw).items()))
        self._inits.append(Container(f"i{len(self._inits)}", "registry.k8s.io/pause:3.10", requests))
        return self

    def toleration(self, key: str = "", operator: str = "Equal", value: str = "",
                   effect: str = "") -> PodWrapper:
        """Append a toleration."""
        self._tolerations.append(Toleration(key, operator, value, effect))
        return self

    def node_selector(self, labels: Mapping[str, str]) -> PodWrapper:
        """Merge ``spec.nodeSelector`` pairs."""
        self._selector.update(labels)
        return self

    def required_term(self, *requirements: tuple[str, str, Iterable[str]]) -> PodWrapper:
        """Append one required nodeSelectorTerm: (key, operator, values) ANDed; terms are ORed."""
        self._required.append(Selector(tuple(Requirement(k, op, tuple(v)) for k, op, v in requirements)))
        return self

    def preferred_term(self, weight: int, *requirements: tuple[str, str, Iterable[str]]) -> PodWrapper:
        """Append one preferred scheduling term with its weight."""
        self._preferred.append((weight, Selector(tuple(Requirement(k, op, tuple(v))
                                                       for k, op, v in requirements))))
        return self

    def node_name(self, name: str) -> PodWrapper:
        """Set ``spec.nodeName``."""
        self._spec["node_name"] = name
        return self

    def priority(self, value: int) -> PodWrapper:
        """Set ``spec.priority``."""
        self._spec["priority"] = value
        return self

    def ports(self, *ports: HostPort | int, image: str = "registry.k8s.io/pause:3.10") -> PodWrapper:
        """A container publishing these host ports (an int is a TCP port on every address)."""
        host_ports = tuple(p if isinstance(p, HostPort) else HostPort(p) for p in ports)
        self._containers.append(Container(f"c{len(self._containers)}", image, host_ports=host_ports))
        return self

    def init_container(self, image: str = "registry.k8s.io/pause:3.10", *ports: HostPort | int,
                       restart_policy: str = "") -> PodWrapper:
        """An init container (a sidecar with ``restart_policy="Always"``), optionally with host ports."""
        host_ports = tuple(p if isinstance(p, HostPort) else HostPort(p) for p in ports)
        self._inits.append(Container(f"i{len(self._inits)}", image, host_ports=host_ports,
                                     restart_policy=restart_policy))
        return self

    def claims(self, *names: str) -> PodWrapper:
        """Mount these PersistentVolumeClaims (spec.volumes[].persistentVolumeClaim.claimName)."""
        self._spec["persistent_volume_claims"] = (*self._spec.get("persistent_volume_claims", ()), *names)
        return self

    def label(self, key: str, value: str) -> PodWrapper:
        """Add a pod label."""
        self._meta.labels[key] = value
        return self

    def owner(self, kind: str, name: str, uid: int) -> PodWrapper:
        """Set the controller ownerReference."""
        self._meta.owner = OwnerReference(kind, name, uid)
        return self

    def terminating(self, at: float = 0.0) -> PodWrapper:
        """Set ``metadata.deletionTimestamp``."""
        self._meta.deletion_time = at
        return self

    def spread(self, max_skew: int, key: str, when: str = "DoNotSchedule",
               selector: Mapping[str, str] | Selector | None = None, **kw: Any) -> PodWrapper:
        """Append a topologySpreadConstraint (``kw``: min_domains, node_affinity_policy,
        node_taints_policy, match_label_keys); a mapping selector becomes matchLabels."""
        constraint = TopologySpreadConstraint(max_skew, key, when, _selector(selector), **kw)
        self._spec["topology_spread_constraints"] = (*self._spec.get("topology_spread_constraints", ()),
                                                     constraint)
        return self

    def affinity(self, key: str, selector: Mapping[str, str] | Selector | None, weight: int | None = None,
                 **kw: Any) -> PodWrapper:
        """Append a podAffinity term, required unless ``weight`` is given (``kw``: namespaces,
        namespace_selector, match_label_keys, mismatch_label_keys)."""
        return self._pod_affinity("pod_affinity", key, selector, weight, kw)

    def anti_affinity(self, key: str, selector: Mapping[str, str] | Selector | None, weight: int | None = None,
                      **kw: Any) -> PodWrapper:
        """Append a podAntiAffinity term, required unless ``weight`` is given."""
        return self._pod_affinity("pod_anti_affinity", key, selector, weight, kw)

    def _pod_affinity(self, field: str, key: str, selector: Mapping[str, str] | Selector | None,
                      weight: int | None, kw: dict[str, Any]) -> PodWrapper:
        if isinstance(kw.get("namespace_selector"), Mapping):
            kw["namespace_selector"] = _selector(kw["namespace_selector"])
        kw["namespaces"] = tuple(kw.get("namespaces", ()))
        term = PodAffinityTerm(key, _selector(selector), **kw)
        old = self._spec.get(field, PodAffinity())
        if weight is None:
            self._spec[field] = PodAffinity((*old.required, term), old.preferred)
        else:
            self._spec[field] = PodAffinity(old.required, (*old.preferred, (weight, term)))
        return self

    def obj(self) -> Pod:
        """The Pod; pod-level requests are max(sum of containers, each init container)."""
        containers = tuple(self._containers) or (Container("c0", "registry.k8s.io/pause:3.10"),)
        total: dict[str, int] = {}
        for c in containers:
            for name, amount in c.requests:
                total[name] = total.get(name, 0) + amount
        for c in self._inits:
            for name, amount in c.requests:
                total[name] = max(total.get(name, 0), amount)
        spec = PodSpec(containers=containers, init_containers=tuple(self._inits),
                       requests=tuple(sorted(total.items())),
                       node_selector=tuple(sorted(self._selector.items())),
                       required_node_affinity=tuple(self._required),
                       preferred_node_affinity=tuple(self._preferred),
                       tolerations=tuple(self._tolerations), **self._spec)
        return Pod(meta=replace(self._meta, labels=dict(self._meta.labels)), spec=spec)


def _selector(value: Mapping[str, str] | Selector | None) -> Selector | None:
    return Selector.from_labels(value) if isinstance(value, Mapping) else value


class NodeWrapper:
    """Builds a ``Node`` (allocatable = capacity unless set separately)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._capacity: dict[str, int] = {}
        self._allocatable: dict[str, int] | None = None
        self._labels: dict[str, str] = {HOSTNAME: name}
        self._taints: list[Taint] = []
        self._unschedulable = False
        self._images: dict[str, int] = {}

    def capacity(self, mapping: Mapping[str, Quantity] | None = None, **kw: Quantity) -> NodeWrapper:
        """Set capacity (``pods`` defaults to 110 as the kubelet's maxPods)."""
        self._capacity.update(_amounts(mapping, kw))
        self._capacity.setdefault("pods", 110)
        return self

    def allocatable(self, mapping: Mapping[str, Quantity] | None = None, **kw: Quantity) -> NodeWrapper:
        """Set allocatable explicitly (defaults to capacity)."""
        self._allocatable = {**self._capacity, **_amounts(mapping, kw)}
        return self

    def label(self, key: str, value: str) -> NodeWrapper:
        """Add a label."""
        self._labels[key] = value
        return self

    def taint(self, key: str, value: str = "", effect: str = "NoSchedule") -> NodeWrapper:
        """Append a taint."""
        self._taints.append(Taint(key, value, effect))
        return self

    def images(self, sizes: Mapping[str, int]) -> NodeWrapper:
        """Set status.images (runtime image name -> size in bytes)."""
        self._images = dict(sizes)
        return self

    def unschedulable(self, value: bool = True) -> NodeWrapper:
        """Cordon the node (``spec.unschedulable``)."""
        self._unschedulable = value
        return self

    def obj(self) -> Node:
        """The Node."""
        capacity = dict(self._capacity or {"cpu": 0, "memory": 0, "pods": 110})
        return Node(meta=ObjectMeta(name=self._name, namespace="", labels=dict(self._labels)),
                    allocatable=dict(self._allocatable or capacity), capacity=capacity,
                    taints=tuple(self._taints), unschedulable=self._unschedulable, images=self._images)


def make_pod(name: str = "p", namespace: str = "default") -> PodWrapper:
    """Start building a pod."""
    return PodWrapper(name, namespace)


def make_node(name: str) -> NodeWrapper:
    """Start building a node."""
    return NodeWrapper(name)


def make_table(nodes: Iterable[Node], assigned: Iterable[tuple[Pod, str]] = (),
               resources: Iterable[str] = ()) -> NodeTable:
    """A NodeTable holding ``nodes`` with each (pod, node name) in ``assigned`` assumed on it."""
    nodes = list(nodes)
    assigned = list(assigned)
    names = {r for n in nodes for r in n.allocatable} | set(resources)
    names |= {r for pod, _ in assigned for r, _ in pod.spec.requests}
    table = NodeTable(sorted(names))
    for node in nodes:
        table.add_node(node)
    for uid, (pod, node_name) in enumerate(assigned, start=1000):
        pod.meta.uid = pod.meta.uid or uid
        vec, nonzero, _ = table.request_vector(pod)
        table.assume(table.index[node_name], pod, vec, nonzero)
    return table


def pod_info(table: NodeTable, pod: Pod) -> PodInfo:
    """The PodInfo the scheduler would compute for ``pod`` against ``table``."""
    vec, nonzero, unknown = table.request_vector(pod)
    return PodInfo(pod, vec, nonzero, unknown)


def _rows(table: NodeTable) -> np.ndarray:
    return np.flatnonzero(table.present[: table.n])


def filter_reasons(plugin: Any, table: NodeTable, pod: Pod) -> dict[str, list[str]]:
    """Run one Filter plugin over every node: node name -> reasons ([] when the node passes)."""
    info, rows = pod_info(table, pod), _rows(table)
    passed = plugin.filter(CycleState(), info, table, rows)
    out: dict[str, list[str]] = {table.names[r]: [] for r in rows}
    for text, mask, _code in plugin.reasons(CycleState(), info, table, rows):
        for i in np.flatnonzero(mask & ~passed):
            out[table.names[rows[i]]].append(text)
    for i in np.flatnonzero(~passed):
        assert out[table.names[rows[i]]], f"{table.names[rows[i]]} failed without a reason"
    return out


def scores(plugin: Any, table: NodeTable, pod: Pod) -> dict[str, int]:
    """Run one Score plugin (NormalizeScore included) over every node: node name -> score."""
    info, rows = pod_info(table, pod), _rows(table)
    return {table.names[r]: int(s) for r, s in zip(rows, plugin.score(CycleState(), info, table, rows),
                                                   strict=True)}
