"""cluster-autoscaler: models kubernetes/autoscaler cluster-autoscaler (1.36) core/static_autoscaler.go's RunOnce.

Every ``--scan-interval`` it takes a snapshot of nodes and pods (from its informers), drops
pending pods that would fit on existing or upcoming nodes (filter_out_schedulable), and
for the rest asks each node group how many template nodes it would take to fit them
(core/scaleup/orchestrator, estimator/binpacking_estimator.go), choosing one group with
the expander (expander/waste least-waste, falling back to expander/random on ties).
New nodes appear after a cloud provisioning delay and register through their kubelet.
Scale-down (core/scaledown/planner, unneeded, actuation) removes a node of an autoscaled
group once its requested/allocatable utilisation has stayed under the threshold for
``--scale-down-unneeded-time`` and its pods can move elsewhere without breaking a
PodDisruptionBudget: the node is tainted ToBeDeletedByClusterAutoscaler, drained by
evictions, then deleted. DaemonSet pods count in a node's utilisation but are not moved
(they go with the node), and a template node starts with the DaemonSet pods that would run
on it, as upstream's template NodeInfo does. Decision logic is in pure functions; the class
is the thin loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.objects import (
    FAILED,
    SUCCEEDED,
    DaemonSet,
    Node,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodDisruptionBudget,
    Taint,
)
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.config import ClusterAutoscalerConfig
from sim.controllers.daemonset import daemon_pod_spec, should_run
from sim.controllers.disruption import scaled_value
from sim.distributions import Sampler
from sim.scheduler.framework import PodInfo, Profile, schedule_pod
from sim.scheduler.nodetable import HOSTNAME, NodeTable
from sim.scheduler.plugins import names
from sim.scheduler.plugins.registry import default_profile
from sim.trace import Trace

__all__ = [
    "TO_BE_DELETED_TAINT",
    "ClusterAutoscaler",
    "NodeGroup",
    "ScaleUpOption",
    "disruptions_allowed",
    "estimate_nodes",
    "least_waste",
    "node_utilization",
    "simulation_profile",
    "waste_score",
]

TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"
STATUS = ("ConfigMap", "kube-system", "cluster-autoscaler-status")  # where CA records group events
GPU = "nvidia.com/gpu"
DRAIN_POLL_S = 1.0
# Filters that run on a bare snapshot; those needing the scheduler's informers are left out.
_SIMULATED_FILTERS = (names.NODE_UNSCHEDULABLE, names.NODE_NAME, names.TAINT_TOLERATION, names.NODE_AFFINITY,
                      names.NODE_PORTS, names.NODE_RESOURCES_FIT, names.POD_TOPOLOGY_SPREAD)


@dataclass(frozen=True, slots=True)
class NodeGroup:
    """A node pool the autoscaler may resize, with the node it would add (its template)."""

    name: str
    min_size: int
    max_size: int
    template: Node


@dataclass(frozen=True, slots=True)
class ScaleUpOption:
    """Growing ``group`` by ``node_count`` nodes would schedule ``pods`` (expander.Option)."""

    group: str
    node_count: int
    pods: tuple[Pod, ...]


class CloudProvider(Protocol):
    """What the autoscaler asks of the cloud: order a VM of a group (billed from then), start it
    once provisioned, delete one."""

    def order_node(self, group: str, index: int) -> None: ...

    def create_node(self, group: str, index: int) -> None: ...

    def delete_node(self, name: str) -> None: ...


# ---------------------------------------------------------------------------- pure decisions

def simulation_profile() -> Profile:
    """The default profile's filters the autoscaler's scheduling simulation runs (no scores)."""
    profile = default_profile()
    filters = [p for p in profile.filters if p.name in _SIMULATED_FILTERS]
    return Profile("cluster-autoscaler", filters, [], pre_filters=[p for p in profile.pre_filters if p in filters])


def snapshot(resources: Sequence[str], nodes: Iterable[Node], pods: Iterable[Pod]) -> NodeTable:
    """A NodeTable of ``nodes`` with the given pods accounted on them (ClusterSnapshot)."""
    table = NodeTable(list(resources))
    for node in nodes:
        table.add_node(node)
    for pod in pods:
        row = table.index.get(pod.node_name)
        if row is not None:
            request, nonzero, _ = table.request_vector(pod)
            table.assume(row, pod, request, nonzero)
    return table


def place(profile: Profile, table: NodeTable, pod: Pod, rows: np.ndarray | None = None) -> int:
    """Schedule ``pod`` in the snapshot (first feasible row) and account it there; -1 if none."""
    request, nonzero, unknown = table.request_vector(pod)
    result = schedule_pod(profile, PodInfo(pod, request, nonzero, unknown), table, 0,
                          np.random.default_rng(0), only_rows=rows)
    if result.node_row >= 0:
        table.assume(result.node_row, pod, request, nonzero)
    return result.node_row


def filter_out_schedulable(profile: Profile, table: NodeTable, pods: Sequence[Pod]) -> list[Pod]:
    """Pending pods that fit nowhere in the snapshot (others are assumed where they fit)."""
    return [pod for pod in pods if place(profile, table, pod) < 0]


def _template_copy(template: Node, index: int) -> Node:
    name = f"template-node-for-{template.pool}-{index}"
    meta = ObjectMeta(name=name, namespace="", labels={**template.meta.labels, HOSTNAME: name})
    return replace(template, meta=meta)


def add_template_node(table: NodeTable, template: Node, daemon_sets: Sequence[DaemonSet] = ()) -> int:
    """A new node of ``template`` in ``table``, with the pods the DaemonSets would run on it
    already there (the template NodeInfo upstream builds includes them)."""
    node = _template_copy(template, table.n)
    row = table.add_node(node)
    for ds in daemon_sets:
        if should_run(ds, node)[0]:
            pod = Pod(meta=ObjectMeta(name=f"{ds.meta.name}-{node.meta.name}", namespace=ds.meta.namespace,
                                      owner=OwnerReference("DaemonSet", ds.meta.name, ds.meta.uid)),
                      spec=daemon_pod_spec(ds.template.spec, node.meta.name), node_name=node.meta.name)
            request, nonzero, _ = table.request_vector(pod)
            table.assume(row, pod, request, nonzero)
    return row


def _daemon_pod(pod: Pod) -> bool:
    return pod.meta.owner is not None and pod.meta.owner.kind == "DaemonSet"


def estimate_nodes(profile: Profile, resources: Sequence[str], template: Node, pods: Sequence[Pod],
                   max_nodes: int, daemon_sets: Sequence[DaemonSet] = ()) -> ScaleUpOption:
    """Bin-pack ``pods`` onto at most ``max_nodes`` copies of ``template`` (BinpackingNodeEstimator):
    a pod goes to the first new node it fits, else opens a new one; pods that fit no empty
    template node (empty but for its DaemonSet pods), or that need a node beyond the limit,
    are not helped."""
    table = NodeTable(list(resources))
    helped: list[Pod] = []
    for pod in pods:
        if table.n and place(profile, table, pod) >= 0:
            helped.append(pod)
            continue
        if table.n >= max_nodes:
            continue
        row = add_template_node(table, template, daemon_sets)
        if place(profile, table, pod, np.array([row])) >= 0:
            helped.append(pod)
        else:
            table.remove_node(table.names[row])  # this group cannot run the pod at all
    used = sum(1 for row in range(table.n) if table.present[row])
    return ScaleUpOption(template.pool, used, tuple(helped))


def waste_score(option: ScaleUpOption, template: Node) -> float:
    """Unrequested fraction of the new nodes' cpu plus that of their memory (expander/waste)."""
    cpu = template.capacity.get("cpu", 0) * option.node_count
    memory = template.capacity.get("memory", 0) * option.node_count
    want_cpu = sum(dict(p.spec.requests).get("cpu", 0) for p in option.pods)
    want_memory = sum(dict(p.spec.requests).get("memory", 0) for p in option.pods)
    wasted_cpu = (cpu - want_cpu) / cpu if cpu else 0.0
    wasted_memory = (memory - want_memory) / memory if memory else 0.0
    return wasted_cpu + wasted_memory


def least_waste(options: Sequence[ScaleUpOption], templates: dict[str, Node]) -> list[ScaleUpOption]:
    """The options that waste least (ties all returned, for the random fallback)."""
    scored = [(waste_score(o, templates[o.group]), o) for o in options]
    if not scored:
        return []
    best = min(score for score, _ in scored)
    return [o for score, o in scored if math.isclose(score, best, rel_tol=0, abs_tol=1e-12)]


def node_utilization(allocatable: dict[str, int], requested: dict[str, int]) -> tuple[float, str]:
    """(utilisation, resource): requested/allocatable of the GPUs on a GPU node, else the max
    of cpu and memory (simulator/utilization)."""
    def ratio(name: str) -> float:
        total = allocatable.get(name, 0)
        return requested.get(name, 0) / total if total > 0 else 0.0

    if allocatable.get(GPU, 0) > 0:
        return ratio(GPU), GPU
    cpu, memory = ratio("cpu"), ratio("memory")
    return (cpu, "cpu") if cpu >= memory else (memory, "memory")


def disruptions_allowed(pdb: PodDisruptionBudget, pods: Iterable[Pod]) -> int:
    """status.disruptionsAllowed of a PDB: healthy selected pods minus the desired healthy
    count (minAvailable, or expected - maxUnavailable; percentages round up)."""
    selected = [p for p in pods if p.meta.namespace == pdb.meta.namespace and p.active
                and pdb.selector.matches(p.meta.labels)]
    healthy = sum(1 for p in selected if p.ready)
    if pdb.min_available is not None:
        desired = scaled_value(pdb.min_available, len(selected))
    else:
        desired = len(selected) - scaled_value(pdb.max_unavailable or 0, len(selected))
    return max(0, healthy - desired)


def _pdb_blocks(pods: Sequence[Pod], pdbs: Sequence[PodDisruptionBudget], budgets: list[int]) -> str:
    """Take the pods' evictions from the budgets; the blocking PDB's name if one runs out."""
    want = [0] * len(pdbs)
    for pod in pods:
        for i, pdb in enumerate(pdbs):
            if pdb.meta.namespace == pod.meta.namespace and pdb.selector.matches(pod.meta.labels):
                want[i] += 1
    for i, pdb in enumerate(pdbs):
        if want[i] > budgets[i]:
            return pdb.meta.name
    for i in range(len(pdbs)):
        budgets[i] -= want[i]
    return ""


# ---------------------------------------------------------------------------- the loop

class ClusterAutoscaler:
    """One cluster-autoscaler: informers on Nodes, Pods and PDBs; RunOnce every scan interval."""

    def __init__(self, env: simpy.Environment, api: ApiServer, config: ClusterAutoscalerConfig,
                 groups: list[NodeGroup], sizes: dict[str, int], resources: Sequence[str],
                 cloud: CloudProvider, rng: np.random.Generator, trace: Trace) -> None:
        self.env, self.api, self.config, self.trace, self.cloud, self.rng = env, api, config, trace, cloud, rng
        self.groups = {g.name: g for g in sorted(groups, key=lambda g: g.name)}
        self.resources = list(resources)
        self.client = Client("cluster-autoscaler", config.qps, config.burst)
        self.profile = simulation_profile()
        self.provisioning = Sampler(config.provisioning, rng)
        self.next_index = dict(sizes)  # node names are never reused
        self.upcoming: dict[str, str] = {}  # node name -> group, VM being created
        self.nodes: dict[str, Node] = {}
        self.pods: dict[int, Pod] = {}
        self.pdbs: dict[tuple[str, str], PodDisruptionBudget] = {}
        self.unneeded_since: dict[str, float] = {}
        self.deleting: set[str] = set()
        self.last_scale_up = -math.inf
        self.last_scale_down = -math.inf
        self._not_triggered: set[int] = set()
        self.scale_ups = 0
        self.scale_downs = 0
        api.watch("Node", self._on_nodes)
        api.watch("Pod", self._on_pods)
        api.watch("PodDisruptionBudget", self._on_pdbs)
        env.process(self._run())

    # ------------------------------------------------------------------ informers
    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        for etype, node in events:
            if etype == DELETED:
                self.nodes.pop(node.meta.name, None)
                self.deleting.discard(node.meta.name)
            else:
                self.nodes[node.meta.name] = node
                self.upcoming.pop(node.meta.name, None)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            if etype == DELETED or pod.phase in (SUCCEEDED, FAILED):
                self.pods.pop(pod.meta.uid, None)
            else:
                self.pods[pod.meta.uid] = pod

    def _on_pdbs(self, events: list[tuple[str, Any]]) -> None:
        for etype, pdb in events:
            key = (pdb.meta.namespace, pdb.meta.name)
            if etype == DELETED:
                self.pdbs.pop(key, None)
            else:
                self.pdbs[key] = pdb

    def _run(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(self.config.scan_interval)
            self.run_once()

    # ------------------------------------------------------------------ RunOnce
    def group_size(self, group: str) -> int:
        """Target size: registered nodes (not being deleted) plus upcoming ones."""
        live = sum(1 for n in self.nodes.values() if n.pool == group and n.meta.name not in self.deleting)
        return live + sum(1 for g in self.upcoming.values() if g == group)

    def _pods_sorted(self) -> list[Pod]:
        return sorted(self.pods.values(), key=lambda p: (p.meta.creation_time or 0.0, p.meta.namespace, p.meta.name))

    def run_once(self) -> None:
        """One scan: scale up for pods nothing can run, else look for nodes to remove."""
        nodes = [self.nodes[n] for n in sorted(self.nodes) if n not in self.deleting]
        pods = self._pods_sorted()
        table = snapshot(self.resources, nodes, [p for p in pods if p.node_name])
        daemon_sets = self.api.store.list("DaemonSet")
        for name in sorted(self.upcoming):  # upcoming nodes count as capacity already
            add_template_node(table, self.groups[self.upcoming[name]].template, daemon_sets)
        pending = [p for p in pods if not p.node_name and not p.terminating and p.reason == "Unschedulable"]
        stuck = filter_out_schedulable(self.profile, table, pending)
        if stuck and self._scale_up(stuck, daemon_sets):
            return
        if self.config.scale_down_enabled:
            self._scale_down(nodes, pods)

    def _scale_up(self, pods: list[Pod], daemon_sets: Sequence[DaemonSet]) -> bool:
        options = []
        for group in self.groups.values():
            room = min(group.max_size - self.group_size(group.name), self.config.max_nodes_per_scaleup)
            if room <= 0:
                continue
            option = estimate_nodes(self.profile, self.resources, group.template, pods, room, daemon_sets)
            if option.node_count > 0:
                options.append(option)
        if not options:
            self._not_triggered_events(pods, "pod didn't trigger scale-up: no node group can fit it "
                                              "within its max size")
            return False
        if self.config.expander == "least-waste":
            options = least_waste(options, {g: self.groups[g].template for g in self.groups})
        chosen = options[int(self.rng.integers(len(options)))] if len(options) > 1 else options[0]
        self._execute_scale_up(chosen)
        helped = {p.meta.uid for p in chosen.pods}
        self._not_triggered_events([p for p in pods if p.meta.uid not in helped],
                                   f"pod didn't trigger scale-up: {chosen.group} chosen for other pods")
        return True

    def _execute_scale_up(self, option: ScaleUpOption) -> None:
        group = self.groups[option.group]
        now, current = self.env.now, self.group_size(group.name)
        new_size = current + option.node_count
        self.trace.record(now, *STATUS, "scaledUpGroup", "", "ScaledUpGroup",
                          f"Scale-up: setting group {group.name} size to {new_size} instead of {current} "
                          f"(max: {group.max_size})")
        info = f"pod triggered scale-up: [{{{group.name} {current}->{new_size} (max: {group.max_size})}}]"
        for pod in option.pods:
            self.trace.record(now, "Pod", pod.meta.namespace, pod.meta.name, "triggeredScaleUp", "",
                              "TriggeredScaleUp", info)
            self._not_triggered.discard(pod.meta.uid)
        for _ in range(option.node_count):
            index = self.next_index[group.name]
            self.next_index[group.name] = index + 1
            self.upcoming[f"{group.name}-{index}"] = group.name
            self.cloud.order_node(group.name, index)
            call_later(self.env, self.provisioning(), self.cloud.create_node, group.name, index)
        self.last_scale_up = now
        self.scale_ups += 1
        self.unneeded_since.clear()  # upstream resets unneeded tracking while in cooldown

    def _not_triggered_events(self, pods: list[Pod], message: str) -> None:
        for pod in pods:
            if pod.meta.uid not in self._not_triggered:
                self._not_triggered.add(pod.meta.uid)
                self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "notTriggerScaleUp",
                                  "", "NotTriggerScaleUp", message)

    # ------------------------------------------------------------------ scale-down
    def _scale_down(self, nodes: list[Node], pods: list[Pod]) -> None:
        now, cfg = self.env.now, self.config
        table = snapshot(self.resources, nodes, [p for p in pods if p.node_name])
        pdbs = [self.pdbs[k] for k in sorted(self.pdbs)]
        budgets = [disruptions_allowed(pdb, pods) for pdb in pdbs]
        removable = {g: self.group_size(g) - self.groups[g].min_size for g in self.groups}
        unneeded: list[tuple[str, list[Pod], float, str]] = []
        for node in nodes:
            name = node.meta.name
            reason = self._unneeded_reason(node, table, pdbs, budgets, removable)
            if isinstance(reason, str):
                self.unneeded_since.pop(name, None)
                continue
            self.unneeded_since.setdefault(name, now)
            unneeded.append((name, *reason))
        if now - self.last_scale_up < cfg.scale_down_delay_after_add or \
                now - self.last_scale_down < cfg.scale_down_delay_after_delete:
            return
        empty = drain = 0
        for name, moving, util, resource in unneeded:
            if now - self.unneeded_since[name] < cfg.scale_down_unneeded_time:
                continue
            if not moving and empty < cfg.max_empty_bulk_delete:
                empty += 1
            elif moving and drain < cfg.max_drain_parallelism and not self._draining():
                drain += 1
            else:
                continue
            self._start_removal(name, moving, util, resource)

    def _draining(self) -> bool:
        return any(p.node_name in self.deleting and not _daemon_pod(p) for p in self.pods.values())

    def _unneeded_reason(self, node: Node, table: NodeTable, pdbs: list[PodDisruptionBudget], budgets: list[int],
                         removable: dict[str, int]) -> str | tuple[list[Pod], float, str]:
        """Why ``node`` must stay (a string), or the pods to move and its utilisation.

        A removable node's pods are assumed onto their new nodes in ``table``, so later
        candidates of the same pass see them there."""
        group = self.groups.get(node.pool)
        if group is None:
            return "NotAutoscaled"
        if removable[group.name] <= 0:
            return "NodeGroupMinSizeReached"
        if not node.ready:
            return "NotReady"
        row = table.index[node.meta.name]
        requested = {name: int(table.requested[row, col]) for name, col in table.column.items()}
        util, resource = node_utilization(node.allocatable, requested)
        threshold = self.config.scale_down_gpu_utilization_threshold if resource == GPU \
            else self.config.scale_down_utilization_threshold
        if util >= threshold:
            return "NotUnderutilized"
        moving = [e.pod for e in sorted(table.pods_on[row].values(), key=lambda e: e.pod.meta.name)
                  if not e.pod.terminating and not _daemon_pod(e.pod)]  # DaemonSet pods stay, and go with the node
        if any(p.meta.owner is None for p in moving):
            return "NotReplicated"
        trial = list(budgets)
        if _pdb_blocks(moving, pdbs, trial):
            return "NotEnoughPdb"
        table.set_present(row, False)  # simulate the node gone: its pods must fit elsewhere
        entries = list(table.pods_on[row].values())
        placed = []
        for pod in moving:
            dest = place(self.profile, table, pod)
            if dest < 0:
                for entry in placed:
                    table.forget(entry)
                table.set_present(row, True)
                return "NoPlaceToMovePods"
            placed.append(table.pods_on[dest][pod.meta.uid])
        for entry in entries:
            table.forget(entry)
        budgets[:] = trial
        removable[group.name] -= 1
        return moving, util, resource

    def _start_removal(self, name: str, pods: list[Pod], util: float, resource: str) -> None:
        node = self.nodes[name]
        now = self.env.now
        self.deleting.add(name)
        self.unneeded_since.pop(name, None)
        self.last_scale_down = now
        self.scale_downs += 1
        moved = ",".join(f"{p.meta.namespace}/{p.meta.name}" for p in pods)
        message = (f"Scale-down: removing node {name}, utilization: {{{resource}: {util:.3f}}}, "
                   f"pods to reschedule: {moved}") if pods else f"Scale-down: removing empty node {name}"
        self.trace.record(now, *STATUS, "scaleDown", name, "ScaleDown", message)
        self.trace.record(now, "Node", "", name, "scaleDown", name, "ScaleDown",
                          "marked the node as toBeDeleted/unschedulable")

        def taint(n: Node) -> None:
            n.taints = (*n.taints, Taint(TO_BE_DELETED_TAINT, str(int(now)), "NoSchedule"))
        self.api.update(self.client, node, taint)
        for pod in pods:
            self.trace.record(now, "Pod", pod.meta.namespace, pod.meta.name, "scaleDown", name, "ScaleDown",
                              "deleting pod for node scale down")
            grace = min(pod.spec.termination_grace_period_seconds, self.config.max_graceful_termination_sec)
            self.api.delete(self.client, pod, grace=grace)
        self.env.process(self._finish_removal(name, now + self.config.max_graceful_termination_sec + 60.0))

    def _finish_removal(self, name: str, deadline: float):  # type: ignore[no-untyped-def]
        """Wait for the drained pods to go (or the deadline), then delete the VM and the Node."""
        while self.env.now < deadline and any(p.node_name == name and p.phase not in (SUCCEEDED, FAILED)
                                              and not _daemon_pod(p) for p in self.pods.values()):
            yield self.env.timeout(DRAIN_POLL_S)
        node = self.nodes.get(name)
        self.cloud.delete_node(name)
        self.trace.record(self.env.now, "Node", "", name, "scaleDown", name, "ScaleDown",
                          "node removed by cluster autoscaler")
        if node is not None:
            self.api.delete(self.client, node)
        else:
            self.deleting.discard(name)
