"""ReplicaSet controller: models pkg/controller/replicaset/replica_set.go.

``manageReplicas`` compares active pods with ``spec.replicas``: it creates the missing
pods in slow-start batches (1, 2, 4, ...; at most ``burstReplicas`` per sync) and deletes
surplus pods in upstream's preference order (unscheduled before scheduled, pending before
running, not ready before ready, ...). Expectations hold the next sync until the
controller has observed its own creations and deletions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.names import NameSuffixes
from sim.api.objects import ObjectMeta, OwnerReference, Pod, ReplicaSet
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.controllers.workqueue import Controller, Expectations, Key
from sim.distributions import Sampler

__all__ = ["ReplicaSetController", "deletion_order", "slow_start_batches"]

SLOW_START_INITIAL_BATCH_SIZE = 1
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH_SIZE) -> list[int]:
    """Batch sizes for ``count`` creations: 1, 2, 4, ... with the remainder last."""
    sizes, batch = [], initial
    while count > 0:
        size = min(batch, count)
        sizes.append(size)
        count -= size
        batch *= 2
    return sizes


def deletion_order(pods: list[Pod], now: float) -> list[Pod]:
    """Pods sorted so the first are deleted first (controller.ActivePodsWithRanks)."""
    per_node = Counter(p.node_name for p in pods if p.node_name)

    def key(p: Pod) -> tuple[Any, ...]:
        cost = int(p.meta.annotations.get("controller.kubernetes.io/pod-deletion-cost", "0") or 0)
        ready_for = now - p.ready_time if p.ready and p.ready_time is not None else 0.0
        return (
            bool(p.node_name),  # unassigned first
            _PHASE_RANK.get(p.phase, 3),  # pending < unknown < running
            p.ready,  # not ready first
            cost,  # lower deletion cost first
            -per_node.get(p.node_name, 0),  # more co-located replicas first
            ready_for,  # ready for less time first
            -p.meta.creation_time,  # newer first
        )

    return sorted(pods, key=key)


class ReplicaSetController(Controller):
    """Keeps the number of active pods of each ReplicaSet at spec.replicas."""

    name = "replicaset"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler, burst_replicas: int, rng: np.random.Generator) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.burst_replicas = burst_replicas
        self.name_suffix = NameSuffixes(rng)  # generateName suffixes: the stream serves nothing else
        self.expectations = Expectations(env)
        self._seen_deleting: set[int] = set()
        # The pod informer's view, indexed by owner: active pods and the ready ones among them.
        self._active: dict[int, dict[int, Pod]] = defaultdict(dict)
        self._ready: dict[int, set[int]] = defaultdict(set)
        self.informers.watch("ReplicaSet", self._on_replicasets)
        self.informers.watch("Pod", self._on_pods)

    # ------------------------------------------------------------------ informers
    def _on_replicasets(self, events: list[tuple[str, Any]]) -> None:
        for etype, rs in events:
            key = (rs.meta.namespace, rs.meta.name)
            if etype == DELETED:
                self.expectations.forget(key)
            self.queue.add(key)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            owner = pod.meta.owner
            if owner is None or owner.kind != "ReplicaSet":
                continue
            key = (pod.meta.namespace, owner.name)
            self._index(etype, pod, owner.uid)
            if etype == ADDED:
                self.expectations.observed(key, add=1)
            elif (etype == DELETED or pod.terminating) and pod.meta.uid not in self._seen_deleting:
                # A graceful delete is observed when deletionTimestamp is set, not when the
                # kubelet finally removes the pod (upstream updatePod calls deletePod).
                self._seen_deleting.add(pod.meta.uid)
                self.expectations.observed(key, delete=1)
            if etype == DELETED:
                self._seen_deleting.discard(pod.meta.uid)
            self.queue.add(key)

    def _index(self, etype: str, pod: Pod, owner_uid: int) -> None:
        uid = pod.meta.uid
        if etype == DELETED or not pod.active:
            self._active[owner_uid].pop(uid, None)
            self._ready[owner_uid].discard(uid)
            return
        self._active[owner_uid][uid] = pod
        if pod.ready:
            self._ready[owner_uid].add(uid)
        else:
            self._ready[owner_uid].discard(uid)

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        rs: ReplicaSet | None = self.api.store.get("ReplicaSet", *key)
        if rs is None or rs.meta.deletion_time is not None:
            return
        if self.expectations.satisfied(key):
            yield from self._manage_replicas(rs, key, list(self._active[rs.meta.uid].values()))
        yield from self._update_status(rs)

    def _manage_replicas(self, rs: ReplicaSet, key: Key, pods: list[Pod]) -> Generator[simpy.Event, Any, None]:
        diff = len(pods) - rs.replicas
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            self.expectations.expect(key, add=count)
            issued = 0
            for size in slow_start_batches(count):
                results = yield self.call_all(self.api.create, (self._new_pod(rs) for _ in range(size)))
                issued += size
                failed = results.count(False)
                if failed:
                    self.expectations.observed(key, add=failed + (count - issued))
                    break
        elif diff > 0:
            victims = deletion_order(pods, self.env.now)[: min(diff, self.burst_replicas)]
            self.expectations.expect(key, delete=len(victims))
            results = yield self.call_all(self.api.delete, victims)
            failed = results.count(False)
            if failed:
                self.expectations.observed(key, delete=failed)

    def _new_pod(self, rs: ReplicaSet) -> Pod:
        suffix = self.name_suffix()
        template = rs.template
        pod = Pod(
            meta=ObjectMeta(
                name=f"{rs.meta.name}-{suffix}",
                namespace=rs.meta.namespace,
                labels=dict(template.labels),
                annotations=dict(template.annotations),
                owner=OwnerReference("ReplicaSet", rs.meta.name, rs.meta.uid),
            ),
            spec=template.spec,
            node_name=template.spec.node_name,
        )
        return pod

    def _update_status(self, rs: ReplicaSet) -> Generator[simpy.Event, Any, None]:
        now, uid = self.env.now, rs.meta.uid
        ready = self._ready[uid]
        if rs.min_ready_seconds > 0:
            pods = self._active[uid]
            available = sum(1 for u in ready if (t := pods[u].ready_time) is not None
                            and now - t >= rs.min_ready_seconds)
        else:
            available = len(ready)
        # observedGeneration: a spec change (a scale) is acknowledged by a status write even when
        # the counts have not moved yet, as upstream's updateReplicaSetStatus does.
        status = (len(self._active[uid]), len(ready), available, rs.meta.generation)
        if rs.min_ready_seconds > 0 and available < len(ready):
            self.queue.add_after((rs.meta.namespace, rs.meta.name), rs.min_ready_seconds)
        if status == (rs.status_replicas, rs.ready_replicas, rs.available_replicas, rs.observed_generation):
            return

        def set_status(obj: ReplicaSet) -> None:
            obj.status_replicas, obj.ready_replicas, obj.available_replicas, obj.observed_generation = status

        yield self.call(self.api.update, rs, set_status)
