"""Node lifecycle controller: models pkg/controller/nodelifecycle/node_lifecycle_controller.go
(Kubernetes 1.36; --node-monitor-grace-period 50 s since 1.32).

Every ``--node-monitor-period`` (5 s) the controller checks each node's heartbeat, the
kubelet's Lease renew time. A node not heard from for ``--node-monitor-grace-period`` gets
Ready=Unknown and its pods are marked not ready. On the *next* pass (the informer now shows
the new condition) the node is queued for its NoExecute taint: ``unreachable`` for
Unknown, ``not-ready`` when the kubelet itself posted Ready=False. The queues are per zone
and rate limited (``--node-eviction-rate`` 0.1 nodes/s; a zone with >= 55 % of its nodes
(and at least 3) NotReady slows to ``--secondary-node-eviction-rate``, or stops if it has
<= 50 nodes; if every zone is fully disrupted, tainting stops and all NoExecute taints are
lifted, the "master disruption mode"). When the kubelet posts Ready=True again the taints
come off. On every node change the condition's NoSchedule taint (TaintNodesByCondition)
is kept in step, so the scheduler stops placing pods there as soon as the node is Unknown.

Worked timeline (defaults): a node's last heartbeat at t0 -> Unknown at the first pass after
t0 + 50 s -> taint at the pass after that (+5 s) -> pods evicted 300 s later by the taint
eviction controller (DefaultTolerationSeconds) -> replacements scheduled elsewhere.

Abstracted: heartbeats are read from the lease heartbeat array rather than Lease objects
(nodes without a lease slot are never marked Unknown); memory/disk/PID pressure conditions
and their taints; the 20 ms retries of failed status writes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from sim.admission import NOT_READY_TAINT, UNREACHABLE_TAINT
from sim.api.client import Client
from sim.api.objects import FAILED, SUCCEEDED, Node, Pod, Taint
from sim.apiserver import CONTROLLER_MANAGER, DELETED, ApiServer
from sim.config import ControllerManagerConfig
from sim.controllers.nodeindex import PodNodeIndex
from sim.controllers.ratelimited_queue import NODE_EVICTION_PERIOD, RateLimitedTimedQueue, TimedValue
from sim.kubelet import LeaseHeartbeats
from sim.trace import Trace

__all__ = [
    "FULL_DISRUPTION",
    "INITIAL",
    "NORMAL",
    "PARTIAL_DISRUPTION",
    "NodeLifecycleController",
    "compute_zone_state",
    "condition_taints",
    "swap_taints",
    "zone_eviction_qps",
    "zone_key",
]

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"
ZONE_LABEL, REGION_LABEL = "topology.kubernetes.io/zone", "topology.kubernetes.io/region"
INITIAL, NORMAL = "Initial", "Normal"
FULL_DISRUPTION, PARTIAL_DISRUPTION = "FullDisruption", "PartialDisruption"
UNREACHABLE_NO_EXECUTE = Taint(UNREACHABLE_TAINT, effect="NoExecute")
NOT_READY_NO_EXECUTE = Taint(NOT_READY_TAINT, effect="NoExecute")
_CONDITION_TAINT_KEYS = (NOT_READY_TAINT, UNREACHABLE_TAINT, UNSCHEDULABLE_TAINT)


# ---------------------------------------------------------------------------- decisions

def zone_key(labels: dict[str, str]) -> str:
    """The zone a node counts in (GetZoneKey): region and zone; "" for unlabelled nodes."""
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def compute_zone_state(ready: int, not_ready: int, unhealthy_threshold: float) -> str:
    """A zone's state from its Ready and NotReady node counts (ComputeZoneState): no Ready
    node is a full disruption; more than 2 NotReady nodes making up >= the threshold is a
    partial one."""
    if ready == 0 and not_ready > 0:
        return FULL_DISRUPTION
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_threshold:
        return PARTIAL_DISRUPTION
    return NORMAL


def zone_eviction_qps(state: str, zone_size: int, config: ControllerManagerConfig) -> float:
    """Tainting rate of a zone in ``state`` (setLimiterInZone): a partially disrupted zone
    slows to the secondary rate if large, else stops; a fully disrupted one keeps the normal
    rate (the all-zones case is handled apart)."""
    if state == PARTIAL_DISRUPTION:
        return config.secondary_node_eviction_rate if zone_size > config.large_cluster_size_threshold else 0.0
    return config.node_eviction_rate


def condition_taints(ready_status: str, unschedulable: bool) -> tuple[Taint, ...]:
    """The NoSchedule taints a node's Ready condition and spec.unschedulable call for."""
    taints = []
    if ready_status == "False":
        taints.append(Taint(NOT_READY_TAINT, effect="NoSchedule"))
    elif ready_status == "Unknown":
        taints.append(Taint(UNREACHABLE_TAINT, effect="NoSchedule"))
    if unschedulable:
        taints.append(Taint(UNSCHEDULABLE_TAINT, effect="NoSchedule"))
    return tuple(taints)


def _same(a: Taint, b: Taint) -> bool:
    return a.key == b.key and a.effect == b.effect  # MatchTaint


def swap_taints(taints: tuple[Taint, ...], add: Sequence[Taint], remove: Sequence[Taint]) -> tuple[Taint, ...]:
    """``taints`` without ``remove`` and with ``add`` (SwapNodeControllerTaint), order kept."""
    kept = [t for t in taints if not any(_same(t, r) for r in remove)]
    kept += [a for a in add if not any(_same(t, a) for t in kept)]
    return tuple(kept)


def _condition_taint_diff(node: Node) -> tuple[list[Taint], list[Taint]]:
    """NoSchedule condition taints to add and to remove (doNoScheduleTaintingPass)."""
    want = condition_taints(node.ready_status, node.unschedulable)
    have = [t for t in node.taints if t.effect == "NoSchedule" and t.key in _CONDITION_TAINT_KEYS]
    return ([t for t in want if not any(_same(t, h) for h in have)],
            [h for h in have if not any(_same(h, t) for t in want)])


def _has(node: Node, taint: Taint) -> bool:
    return any(_same(t, taint) for t in node.taints)


# ---------------------------------------------------------------------------- controller

class NodeLifecycleController:
    """Marks silent nodes Unknown, taints unhealthy nodes at a per-zone rate, untaints healthy ones.

    Heartbeat checks run vectorised over the lease array; only nodes that are silent,
    not Ready, tainted or queued are looked at one by one, so a healthy 5,000-node
    cluster costs a few numpy operations per pass.
    """

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client,
                 config: ControllerManagerConfig, leases: LeaseHeartbeats, trace: Trace) -> None:
        self.env = env
        self.api = api
        self.informers = api.informers(CONTROLLER_MANAGER)
        self.client = client
        self.config = config
        self.leases = leases
        self.trace = trace
        self.nodes: dict[str, Node] = {}  # the node informer's cache
        self.pods = PodNodeIndex()
        self.tainters: dict[str, RateLimitedTimedQueue] = {}
        self.zone_states: dict[str, str] = {}
        self._zone_of: dict[str, str] = {}
        self._zone_size: Counter[str] = Counter()
        self._attention: set[str] = set()  # nodes that are, or were lately, not healthy
        self._probe = np.zeros(0)  # per lease slot: probeTimestamp (NaN until first seen)
        self._renew_seen = np.zeros(0)  # per lease slot: the renew time we last saw
        self._wake: simpy.Event | None = None
        self.informers.watch("Node", self._on_nodes)
        self.informers.watch("Pod", self._on_pods)
        env.process(self._monitor())
        env.process(self._tainting())

    # ------------------------------------------------------------------ informers
    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        for etype, node in events:
            name = node.meta.name
            if etype == DELETED:
                if self.nodes.pop(name, None) is not None:
                    self._zone_size[self._zone_of.pop(name)] -= 1
                self._attention.discard(name)
                continue
            if name not in self.nodes:
                zone = self._zone_of[name] = zone_key(node.meta.labels)
                if EXCLUDE_DISRUPTION_LABEL not in node.meta.labels:
                    self._zone_size[zone] += 1
                if zone not in self.tainters:
                    self.tainters[zone] = RateLimitedTimedQueue(self.config.node_eviction_rate, self.env.now)
                    self.zone_states[zone] = INITIAL
            self.nodes[name] = node
            if not node.ready or any(t.effect == "NoExecute" and t.key in _CONDITION_TAINT_KEYS
                                     for t in node.taints):
                self._attention.add(name)
            add, remove = _condition_taint_diff(node)
            if add or remove:
                self._update_taints(node, add, remove, condition_pass=True)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            if self.pods.observe(etype, pod):  # newly bound to a node: processPod
                node = self.nodes.get(pod.node_name)
                if node is not None and not node.ready:
                    self._mark_not_ready([pod])

    # ------------------------------------------------------------------ monitorNodeHealth
    def _monitor(self) -> Generator[simpy.Event, Any, None]:
        while True:
            self.monitor_node_health()
            yield self.env.timeout(self.config.node_monitor_period)

    def monitor_node_health(self) -> None:
        """One pass: heartbeat check, Unknown writes, taint decisions, zone states."""
        now = self.env.now
        stale = self._silent_nodes(now)
        not_ready: Counter[str] = Counter()
        for name in sorted(self._attention | stale):
            node = self.nodes.get(name)
            if node is None:
                self._attention.discard(name)
                continue
            zone = self._zone_of[name]
            observed = current = node.ready_status
            if name in stale and observed != "Unknown":
                self._write_unknown(node)
                current = "Unknown"
            if current != "True" and EXCLUDE_DISRUPTION_LABEL not in node.meta.labels:
                not_ready[zone] += 1
            self._taint_based_eviction(node, observed, zone)
            if current != "True" and observed == "True":
                self.trace.record(now, "Node", "", name, "notReady", name, "NodeNotReady",
                                  f"Node {name} status is now: NodeNotReady")
                self._mark_not_ready(self.pods.pods_on(name))
            if current == "True" and name not in self.tainters[zone] and not any(
                    t.key in _CONDITION_TAINT_KEYS and t.effect == "NoExecute" for t in node.taints):
                self._attention.discard(name)
        self._handle_disruption(not_ready)

    def _silent_nodes(self, now: float) -> set[str]:
        """Nodes whose lease has not been renewed within their grace period (vectorised)."""
        renew = self.leases.renew_time
        n = len(renew)
        if len(self._probe) < n:
            grow = n - len(self._probe)
            self._probe = np.concatenate([self._probe, np.full(grow, np.nan)])
            self._renew_seen = np.concatenate([self._renew_seen, np.zeros(grow)])
        probe, seen = self._probe[:n], self._renew_seen[:n]
        probe[np.isnan(probe)] = now  # first seen: count from now
        renewed = renew > seen
        probe[renewed] = now
        seen[renewed] = renew[renewed]
        grace = np.where(seen > 0, self.config.node_monitor_grace_period, self.config.node_startup_grace_period)
        names = self.leases.names
        return {names[i] for i in np.flatnonzero(now > probe + grace).tolist() if names[i] in self.nodes}

    def _write_unknown(self, node: Node) -> None:
        """The controller posts Ready=Unknown for a silent kubelet."""
        def unknown(n: Node) -> None:
            n.ready_status = "Unknown"

        self.api.update(self.client, node, unknown,
                        record=("statusUnknown", "NodeStatusUnknown", "Kubelet stopped posting node status."))

    def _taint_based_eviction(self, node: Node, observed: str, zone: str) -> None:
        """processTaintBaseEviction on the condition seen at the start of the pass."""
        name = node.meta.name
        queue = self.tainters[zone]
        if observed in ("False", "Unknown"):
            mine, other = ((NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE) if observed == "False"
                           else (UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE))
            if _has(node, other):  # swap at once: the node is already being evicted
                self._update_taints(node, [mine], [other])
                return
            if not _has(node, mine):
                queue.remove(name)
            if queue.add(name, self.env.now):
                self._wake_tainting()
        else:
            self._mark_reachable(node, zone)

    def _mark_reachable(self, node: Node, zone: str) -> None:
        remove = [t for t in (UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE) if _has(node, t)]
        if remove:
            self._update_taints(node, [], remove)
        self.tainters[zone].remove(node.meta.name)

    def _mark_not_ready(self, pods: list[Pod]) -> None:
        """MarkPodsNotReady: the pods' Ready condition goes False."""
        def not_ready(p: Pod) -> None:
            p.ready = False

        for pod in pods:
            if pod.ready and pod.phase not in (SUCCEEDED, FAILED):
                self.api.update(self.client, pod, not_ready, record=("notReady", "NodeNotReady", "Node is not ready"))

    # ------------------------------------------------------------------ handleDisruption
    def _handle_disruption(self, not_ready: Counter[str]) -> None:
        sizes = {z: n for z, n in sorted(self._zone_size.items()) if n > 0}
        new_states = {z: compute_zone_state(n - not_ready[z], not_ready[z], self.config.unhealthy_zone_threshold)
                      for z, n in sizes.items()}
        for zone in [z for z in self.zone_states if z not in sizes]:
            del self.zone_states[zone]
        for zone in sizes:
            self.zone_states.setdefault(zone, INITIAL)
        all_now = all(s == FULL_DISRUPTION for s in new_states.values())
        all_before = all(s == FULL_DISRUPTION for s in self.zone_states.values())
        if all_now and all_before:
            return
        now = self.env.now
        if all_now:  # entering master disruption mode: stop all tainting, lift NoExecute taints
            for name in sorted(self.nodes):
                self._mark_reachable(self.nodes[name], self._zone_of[name])
            for zone in sorted(self.zone_states):
                self.tainters[zone].swap_limiter(0.0, now)
                self.zone_states[zone] = FULL_DISRUPTION
            return
        if all_before:  # leaving it: every node gets a fresh grace period
            self._probe[:] = now
        for zone in sorted(self.zone_states):
            state = new_states[zone]
            if all_before or state != self.zone_states[zone]:
                self.tainters[zone].swap_limiter(zone_eviction_qps(state, sizes[zone], self.config), now)
                self.zone_states[zone] = state

    # ------------------------------------------------------------------ doNoExecuteTaintingPass
    def _wake_tainting(self) -> None:
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def _tainting(self) -> Generator[simpy.Event, Any, None]:
        period = NODE_EVICTION_PERIOD
        while True:
            if not any(len(q) for q in self.tainters.values()):
                self._wake = self.env.event()
                yield self._wake
                self._wake = None
            tick = (math.floor(self.env.now / period + 1e-9) + 1) * period
            yield self.env.timeout(tick - self.env.now)
            for zone in sorted(self.tainters):
                self.tainters[zone].try_process(self.env.now, self._taint_one)

    def _taint_one(self, item: TimedValue) -> tuple[bool, float]:
        node = self.nodes.get(item.value)
        if node is None:
            return True, 0.0
        if node.ready_status == "False":
            self._update_taints(node, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE])
        elif node.ready_status == "Unknown":
            self._update_taints(node, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE])
        return True, 0.0

    # ------------------------------------------------------------------ writes
    def _update_taints(self, node: Node, add: list[Taint], remove: list[Taint],
                       condition_pass: bool = False) -> None:
        """Swap taints through the API; the NoSchedule pass re-derives its diff at commit."""
        def mutate(n: Node) -> None:
            if condition_pass:
                n.taints = swap_taints(n.taints, *_condition_taint_diff(n))
            else:
                n.taints = swap_taints(n.taints, add, remove)

        add = [t for t in add if not _has(node, t)]
        remove = [t for t in remove if _has(node, t)]
        if not add and not remove:
            return
        records = [("tainted", "", str(t)) for t in add] + [("untainted", "", str(t)) for t in remove]
        self.api.update(self.client, node, mutate, record=records)
