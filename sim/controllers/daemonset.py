"""DaemonSet controller: models pkg/controller/daemon (daemon_controller.go, update.go,
util/daemonset_util.go), kube-controller-manager 1.36.

A sync (``syncDaemonSet``) walks every node:

* ``should run`` - the template's nodeName (if any), nodeSelector and required node affinity
  match the node, and the pod, with the tolerations every daemon pod gets (not-ready and
  unreachable NoExecute; disk-, memory-, pid-pressure and unschedulable NoSchedule;
  network-unavailable with hostNetwork), tolerates its NoSchedule and NoExecute taints;
  ``should continue running`` - it tolerates the NoExecute ones (a NoSchedule taint added
  later does not evict a running daemon pod);
* a node that should run a pod and has none gets one: created in slow-start batches (at
  most ``burstReplicas`` 250 per sync), with its required node affinity replaced by
  ``matchFields metadata.name In [node]`` - the default scheduler binds it, as it does any pod;
* failed pods are deleted (with a per-node back-off of 1 s doubling to 15 min), succeeded
  ones too, extra pods beyond one per node (the oldest stays), and the pods of nodes that
  should no longer run one;
* then, once its own creations and deletions are observed, the rolling update: with
  maxSurge 0, old pods are deleted while at most ``maxUnavailable`` nodes lack an available
  pod (the new one is created by the next sync's walk); with ``maxSurge``, a new pod is
  created beside the old one on at most ``maxSurge`` nodes and the old one deleted once the
  new one is available;
* the status (desired, current, ready, updated, available, misscheduled) is written.

Pods are named ``<daemonset>-<5 random characters>`` and labelled with
``controller-revision-hash`` (here the template's hash) and ``pod-template-generation``.
Upstream walks the nodes of a rolling update in Go's map order (random); here in the
order the nodes were created. A node removed from the cluster leaves its daemon pods
behind; as PodGC's orphan collection does, they are deleted 40 s later (other pods were
drained before the cluster autoscaler removed the node).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.names import NameSuffixes
from sim.api.objects import (
    FAILED,
    SUCCEEDED,
    DaemonSet,
    Node,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodSpec,
    Taint,
    Toleration,
)
from sim.api.selectors import NODE_NAME_FIELD, Requirement, Selector
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.clock import call_later
from sim.controllers.disruption import scaled_value
from sim.controllers.replicaset import slow_start_batches
from sim.controllers.workqueue import Controller, Expectations, Key
from sim.distributions import Sampler
from sim.scheduler.plugins.node_affinity import required_match
from sim.trace import Trace

__all__ = ["BURST_REPLICAS", "DAEMON_TOLERATIONS", "DaemonSetController", "daemon_pod_spec", "should_run"]

KIND = "DaemonSet"
BURST_REPLICAS = 250
REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION = "pod-template-generation"
FAILED_BACKOFF = (1.0, 900.0)  # failedPodsBackoff: flowcontrol.NewBackOff(1 s, 15 min)
POD_GC_QUARANTINE = 40.0  # PodGC: an orphaned pod is deleted this long after its node went
DAEMON_TOLERATIONS = (  # AddOrUpdateDaemonPodTolerations
    Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/disk-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/memory-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/pid-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"),
)
HOST_NETWORK_TOLERATION = Toleration("node.kubernetes.io/network-unavailable", "Exists", "", "NoSchedule")


_TOLERATIONS: dict[int, tuple[PodSpec, tuple[Toleration, ...]]] = {}  # id(spec) -> (spec, answer)


def _with_daemon_tolerations(spec: PodSpec) -> tuple[Toleration, ...]:
    """AddOrUpdateTolerationInPodSpec for each daemon toleration: one the pod has already (same
    key, operator, value and effect) is replaced, say with another tolerationSeconds, else added.
    Kept per spec (the spec with it, so its id stays its own)."""
    kept = _TOLERATIONS.get(id(spec))
    if kept is not None and kept[0] is spec:
        return kept[1]
    if len(_TOLERATIONS) > 256:
        _TOLERATIONS.clear()
    answer = _tolerations_for(spec)
    _TOLERATIONS[id(spec)] = (spec, answer)
    return answer


def _tolerations_for(spec: PodSpec) -> tuple[Toleration, ...]:
    wanted = DAEMON_TOLERATIONS + ((HOST_NETWORK_TOLERATION,) if spec.host_network else ())
    out = list(spec.tolerations)
    for tol in wanted:
        same = [i for i, t in enumerate(out) if (t.key, t.operator, t.value, t.effect) ==
                (tol.key, tol.operator, tol.value, tol.effect)]
        if same:
            out[same[0]] = tol
        else:
            out.append(tol)
    return tuple(out)


def daemon_pod_spec(spec: PodSpec, node_name: str | None) -> PodSpec:
    """The spec of a daemon pod: the daemon tolerations added and, for a node, the required node
    affinity replaced by that node's name (ReplaceDaemonSetPodNodeNameNodeAffinity)."""
    tolerations = _with_daemon_tolerations(spec)
    if node_name is None:
        return dataclasses.replace(spec, tolerations=tolerations)
    term = Selector((Requirement(NODE_NAME_FIELD, "In", (node_name,)),))
    return dataclasses.replace(spec, tolerations=tolerations, required_node_affinity=(term,))


def _untolerated(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...], effects: tuple[str, ...]) -> bool:
    return any(t.effect in effects and not any(tol.tolerates(t) for tol in tolerations) for t in taints)


def should_run(ds: DaemonSet, node: Node) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run a daemon pod, should keep a running one)."""
    spec = ds.template.spec
    if spec.node_name and spec.node_name != node.meta.name:
        return False, False
    labels = {**node.meta.labels, NODE_NAME_FIELD: node.meta.name}
    if not required_match(spec, labels):
        return False, False
    tolerations = _with_daemon_tolerations(spec)
    if _untolerated(node.taints, tolerations, ("NoSchedule", "NoExecute")):
        return False, not _untolerated(node.taints, tolerations, ("NoExecute",))
    return True, True


def _available(pod: Pod, min_ready: float, now: float) -> bool:
    """IsPodAvailable: Ready for at least ``minReadySeconds``."""
    return pod.ready and (min_ready <= 0 or (pod.ready_time is not None and pod.ready_time + min_ready <= now))


def _oldest_first(pods: list[Pod]) -> list[Pod]:
    """podByCreationTimestampAndPhase: scheduled first, then by creation time and name."""
    return sorted(pods, key=lambda p: (not p.node_name, p.meta.creation_time, p.meta.name))


def _target_node(pod: Pod) -> str:
    """GetTargetNodeName: the pod's node, or the one its node affinity names."""
    if pod.node_name:
        return pod.node_name
    for term in pod.spec.required_node_affinity:
        for req in term.requirements:
            if req.key == NODE_NAME_FIELD and req.operator == "In" and req.values:
                return req.values[0]
    return ""


class DaemonSetController(Controller):
    """Runs one pod of each DaemonSet on every node that should run it."""

    name = "daemonset"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler, rng: np.random.Generator, trace: Trace,
                 burst_replicas: int = BURST_REPLICAS) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.name_suffix = NameSuffixes(rng)  # generateName suffixes: the stream serves nothing else
        self.trace = trace
        self.burst_replicas = burst_replicas
        self.expectations = Expectations(env)
        self._pods: dict[int, dict[int, Pod]] = defaultdict(dict)  # daemon set uid -> its pods (not deleted)
        self._seen_deleting: set[int] = set()
        self._ready: set[int] = set()  # pods last seen Ready
        self._node_shape: dict[str, tuple[Any, ...]] = {}  # labels and taints last seen per node
        self._backoff: dict[tuple[int, int, str], tuple[float, float]] = {}  # -> (delay, last update)
        self._watching = False
        # (id(template spec), node name) -> (spec, node resourceVersion, answer)
        self._runs: dict[tuple[int, str], tuple[PodSpec, int, tuple[bool, bool]]] = {}
        self.informers.watch(KIND, self._on_daemon_sets)

    def should_run(self, ds: DaemonSet, node: Node) -> tuple[bool, bool]:
        """``should_run``, kept per template and node until the node changes."""
        spec, version = ds.template.spec, node.meta.resource_version
        key = (id(spec), node.meta.name)
        kept = self._runs.get(key)
        if kept is not None and kept[0] is spec and kept[1] == version:
            return kept[2]
        if len(self._runs) > 100_000:
            self._runs.clear()
        answer = should_run(ds, node)
        self._runs[key] = (spec, version, answer)
        return answer

    # ------------------------------------------------------------------ informers
    def _on_daemon_sets(self, events: list[tuple[str, Any]]) -> None:
        if not self._watching:
            # Pod and node handlers join the shared informers with the first DaemonSet: a
            # scenario without one keeps them off every pod and node delivery.
            self._watching = True
            self.informers.watch("Pod", self._on_pods)
            self.informers.watch("Node", self._on_nodes)
            for node in self.api.store.list("Node"):
                self._node_shape[node.meta.name] = (tuple(sorted(node.meta.labels.items())), node.taints)
        for etype, ds in events:
            key = (ds.meta.namespace, ds.meta.name)
            if etype == DELETED:
                self.expectations.forget(key)
                self._pods.pop(ds.meta.uid, None)
            self.queue.add(key)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            owner = pod.meta.owner
            if owner is None or owner.kind != KIND:
                continue
            key, uid = (pod.meta.namespace, owner.name), pod.meta.uid
            index = self._pods[owner.uid]
            if etype == ADDED and pod.meta.deletion_time is None:
                self.expectations.observed(key, add=1)
            if (etype == DELETED or pod.terminating) and uid not in self._seen_deleting:
                self._seen_deleting.add(uid)
                self.expectations.observed(key, delete=1)
            if etype == DELETED:
                index.pop(uid, None)
                self._seen_deleting.discard(uid)
                self._ready.discard(uid)
            else:
                index[uid] = pod
            self.queue.add(key)
            became_ready = etype != DELETED and pod.ready and uid not in self._ready
            if pod.ready and etype != DELETED:
                self._ready.add(uid)
            else:
                self._ready.discard(uid)
            ds = self.api.store.by_uid(owner.uid)
            if ds is not None and ds.min_ready_seconds > 0 and became_ready:
                self.queue.add_after(key, ds.min_ready_seconds + 1.0)

    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        changed = False
        for etype, node in events:
            name = node.meta.name
            if etype == DELETED:
                self._node_shape.pop(name, None)
                call_later(self.env, POD_GC_QUARANTINE, self._collect_orphans, name)
                changed = True
                continue
            shape = (tuple(sorted(node.meta.labels.items())), node.taints)
            if self._node_shape.get(name) != shape:  # shouldIgnoreNodeUpdate: labels and taints
                self._node_shape[name] = shape
                changed = True
        if changed:
            for ds in self.api.store.list(KIND):
                self.queue.add((ds.meta.namespace, ds.meta.name))

    def _collect_orphans(self, node_name: str) -> None:
        if self.api.store.get("Node", "", node_name) is not None:
            return  # the node came back
        for pods in self._pods.values():
            for pod in list(pods.values()):
                if pod.node_name == node_name and pod.meta.deletion_time is None:
                    self.api.delete(self.client, pod, grace=0.0)

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        ds: DaemonSet | None = self.api.store.get(KIND, *key)
        if ds is None or ds.meta.deletion_time is not None:
            return
        nodes: list[Node] = self.api.store.list("Node")
        if not self.expectations.satisfied(key):
            yield from self._update_status(ds, nodes, observed=False)
            return
        yield from self._manage(ds, key, nodes)
        if self.expectations.satisfied(key) and ds.update_strategy == "RollingUpdate":
            yield from self._rolling_update(ds, key, nodes)
        yield from self._update_status(ds, nodes, observed=True)

    def _by_node(self, ds: DaemonSet) -> dict[str, list[Pod]]:
        """getNodesToDaemonPods: the set's pods by target node (deleted finished ones left out)."""
        out: dict[str, list[Pod]] = defaultdict(list)
        for pod in self._pods[ds.meta.uid].values():
            if pod.meta.deletion_time is not None and pod.phase in (SUCCEEDED, FAILED):
                continue
            out[_target_node(pod)].append(pod)
        return out

    def _updated(self, ds: DaemonSet, pod: Pod) -> bool:
        """IsPodUpdated: the pod carries the current template's hash or generation."""
        labels = pod.meta.labels
        return labels.get(REVISION_HASH) == ds.template.hash or \
            labels.get(TEMPLATE_GENERATION) == str(ds.meta.generation)

    def _manage(self, ds: DaemonSet, key: Key, nodes: list[Node]) -> Generator[simpy.Event, Any, None]:
        by_node = self._by_node(ds)
        needing: list[str] = []
        deleting: list[Pod] = []
        surge = ds.update_strategy == "RollingUpdate" and scaled_value(ds.max_surge, 1) > 0
        for node in nodes:
            need, delete = self._pods_should_be_on_node(ds, node, by_node.get(node.meta.name, []), surge)
            needing += need
            deleting += delete
        present = {n.meta.name for n in nodes}
        deleting += [p for name, pods in by_node.items() if name not in present for p in pods if not p.node_name]
        yield from self._sync_nodes(ds, key, deleting, needing)

    def _pods_should_be_on_node(self, ds: DaemonSet, node: Node, pods: list[Pod],
                                surge: bool) -> tuple[list[str], list[Pod]]:
        run, keep = self.should_run(ds, node)
        name = node.meta.name
        if run and not pods:
            return [name], []
        if not keep:
            return [], [p for p in pods if p.meta.deletion_time is None]
        running: list[Pod] = []
        deleting: list[Pod] = []
        now = self.env.now
        for pod in pods:
            if pod.meta.deletion_time is not None:
                continue
            if pod.phase == FAILED:
                backoff = (ds.meta.uid, ds.observed_generation, name)
                delay, last = self._backoff.get(backoff, (0.0, -1e18))
                if now - last < delay:  # IsInBackOffSinceUpdate
                    self.queue.add_after((ds.meta.namespace, ds.meta.name), delay - (now - last))
                    continue
                low, high = FAILED_BACKOFF
                delay = low if now - last > 2 * high or delay == 0 else min(delay * 2, high)
                self._backoff[backoff] = (delay, now)
                self._event(ds, "warning", "FailedDaemonPod",
                            f"Found failed daemon pod {pod.meta.namespace}/{pod.meta.name} on node {name}, "
                            "will try to kill it")
                deleting.append(pod)
            elif pod.phase == SUCCEEDED:
                deleting.append(pod)
            else:
                running.append(pod)
        if not surge:
            if len(running) > 1:
                deleting += _oldest_first(running)[1:]
            return [], deleting
        if len(running) <= 1:
            return ([name] if not running and run else []), deleting
        oldest_new = oldest_old = None
        for pod in _oldest_first(running):
            if self._updated(ds, pod):
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            deleting.append(pod)
        if oldest_new is not None and oldest_old is not None and (
                not oldest_old.ready or _available(oldest_new, ds.min_ready_seconds, now)):
            deleting.append(oldest_old)
        return [], deleting

    def _sync_nodes(self, ds: DaemonSet, key: Key, deleting: list[Pod],
                    needing: list[str]) -> Generator[simpy.Event, Any, None]:
        creates, deletes = needing[: self.burst_replicas], deleting[: self.burst_replicas]
        self.expectations.expect(key, add=len(creates), delete=len(deletes))
        issued = 0
        for size in slow_start_batches(len(creates)):
            batch = creates[issued: issued + size]
            results = yield self.call_all(self.api.create, (self._new_pod(ds, node) for node in batch))
            issued += size
            failed = results.count(False)
            if failed:
                self.expectations.observed(key, add=failed + len(creates) - issued)
                break
        if deletes:
            results = yield self.call_all(self.api.delete, deletes)
            failed = results.count(False)
            if failed:
                self.expectations.observed(key, delete=failed)

    def _new_pod(self, ds: DaemonSet, node: str) -> Pod:
        suffix = self.name_suffix()
        template = ds.template
        labels = {**dict(template.labels), REVISION_HASH: template.hash, TEMPLATE_GENERATION: str(ds.meta.generation)}
        pod = Pod(meta=ObjectMeta(name=f"{ds.meta.name}-{suffix}", namespace=ds.meta.namespace, labels=labels,
                                  annotations=dict(template.annotations),
                                  owner=OwnerReference(KIND, ds.meta.name, ds.meta.uid)),
                  spec=daemon_pod_spec(template.spec, node), node_name=template.spec.node_name)
        return pod

    def _rolling_update(self, ds: DaemonSet, key: Key, nodes: list[Node]) -> Generator[simpy.Event, Any, None]:
        """rollingUpdate (update.go): replace old pods within maxUnavailable, or surge."""
        by_node = self._by_node(ds)
        desired = 0
        wanted: list[str] = []
        for node in nodes:
            if self.should_run(ds, node)[0]:
                desired += 1
                wanted.append(node.meta.name)
        max_surge = scaled_value(ds.max_surge, desired)
        max_unavailable = scaled_value(ds.max_unavailable, desired)
        if desired > 0 and max_surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        names = list(dict.fromkeys([n.meta.name for n in nodes if n.meta.name in by_node] + wanted))
        listed = set(names)
        names += [n for n in by_node if n not in listed]
        now = self.env.now
        if max_surge == 0:
            unavailable = 0
            allowed: list[Pod] = []
            candidates: list[Pod] = []
            for name in names:
                new, old, ok = self._updated_pods_on_node(ds, by_node.get(name, []))
                if not ok:
                    unavailable += 1
                    continue
                if (old is None and new is None) or (old is not None and new is not None):
                    unavailable += 1
                elif new is not None:
                    if not _available(new, ds.min_ready_seconds, now):
                        unavailable += 1
                elif old is not None and not _available(old, ds.min_ready_seconds, now):
                    allowed.append(old)
                    unavailable += 1
                elif unavailable < max_unavailable and old is not None:
                    candidates.append(old)
            remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
            yield from self._sync_nodes(ds, key, allowed + candidates[:remaining], [])
            return
        surged = available = 0
        delete_old: list[Pod] = []
        not_run_delete: list[Pod] = []
        candidate_nodes: list[str] = []
        allowed_nodes: list[str] = []
        node_of = {n.meta.name: n for n in nodes}
        for name in names:
            new, old, ok = self._updated_pods_on_node(ds, by_node.get(name, []))
            if not ok:
                surged += 1
                continue
            if (old is not None and _available(old, ds.min_ready_seconds, now)) or (
                    old is None and new is not None and _available(new, ds.min_ready_seconds, now)):
                available += 1
            if old is None:
                continue
            runs = name in node_of and self.should_run(ds, node_of[name])[0]
            if new is None:
                if not _available(old, ds.min_ready_seconds, now):
                    if not runs:
                        delete_old.append(old)
                        continue
                    allowed_nodes.append(name)
                else:
                    if not runs:
                        not_run_delete.append(old)
                        continue
                    if surged >= max_surge:
                        continue
                    candidate_nodes.append(name)
            elif not _available(new, ds.min_ready_seconds, now):
                surged += 1
            else:
                delete_old.append(old)
        deletable = available - desired
        if deletable > 0:
            delete_old += not_run_delete[:deletable]
        remaining = min(max(max_surge - surged, 0), len(candidate_nodes))
        yield from self._sync_nodes(ds, key, delete_old, allowed_nodes + candidate_nodes[:remaining])

    def _updated_pods_on_node(self, ds: DaemonSet, pods: list[Pod]) -> tuple[Pod | None, Pod | None, bool]:
        """findUpdatedPodsOnNode: the node's new and old pod; not ok with two of either."""
        new = old = None
        for pod in pods:
            if pod.meta.deletion_time is not None:
                continue
            if self._updated(ds, pod):
                if new is not None:
                    return None, None, False
                new = pod
            else:
                if old is not None:
                    return None, None, False
                old = pod
        return new, old, True

    def _update_status(self, ds: DaemonSet, nodes: list[Node], observed: bool) -> Generator[simpy.Event, Any, None]:
        by_node = self._by_node(ds)
        now = self.env.now
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            run, _ = self.should_run(ds, node)
            pods = by_node.get(node.meta.name, [])
            if run:
                desired += 1
                if not pods:
                    continue
                current += 1
                pod = _oldest_first(pods)[0]
                if pod.ready:
                    ready += 1
                    if _available(pod, ds.min_ready_seconds, now):
                        available += 1
                if self._updated(ds, pod):
                    updated += 1
            elif pods:
                misscheduled += 1
        status = (desired, current, misscheduled, ready, updated, available, desired - available)
        generation = ds.meta.generation if observed else ds.observed_generation
        if ds.min_ready_seconds > 0 and ready != available:
            self.queue.add_after((ds.meta.namespace, ds.meta.name), ds.min_ready_seconds)
        if status == _status(ds) and ds.observed_generation >= generation:
            return

        def write(obj: DaemonSet) -> None:
            (obj.desired_number_scheduled, obj.current_number_scheduled, obj.number_misscheduled, obj.number_ready,
             obj.updated_number_scheduled, obj.number_available, obj.number_unavailable) = status
            obj.observed_generation = max(obj.observed_generation, generation)

        yield self.call(self.api.update, ds, write)

    def _event(self, ds: DaemonSet, event: str, reason: str, message: str) -> None:
        self.trace.record(self.env.now, KIND, ds.meta.namespace, ds.meta.name, event, "", reason, message)


def _status(ds: DaemonSet) -> tuple[int, ...]:
    return (ds.desired_number_scheduled, ds.current_number_scheduled, ds.number_misscheduled, ds.number_ready,
            ds.updated_number_scheduled, ds.number_available, ds.number_unavailable)
