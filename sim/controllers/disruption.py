"""Disruption controller: models pkg/controller/disruption/disruption.go (Kubernetes 1.36).

For each PodDisruptionBudget it counts the selected pods and writes the status the Eviction
API (sim/eviction.py) and the scheduler's preemption read:

- ``expectedPods``: the selected pods for an integer ``minAvailable``; otherwise the summed
  scale (spec.replicas) of the pods' controllers (a Deployment for a Deployment's ReplicaSet);
- ``desiredHealthy``: ``minAvailable`` (a percentage of expectedPods, rounded up), or
  expectedPods minus ``maxUnavailable`` (a percentage rounded up);
- ``currentHealthy``: selected pods that are Ready, not being deleted, and not in
  ``disruptedPods`` (evictions the API server approved in the last 2 minutes);
- ``disruptionsAllowed``: currentHealthy - desiredHealthy, but 0 when negative or when no
  pods are expected.

Worked example: minAvailable 4 over a 6-replica Deployment, all Ready: 6 healthy, 4 desired,
2 disruptions allowed. Evicting one adds it to disruptedPods (5 healthy, 1 allowed) until its
deletion is seen; its replacement counts again once Ready.

An entry of disruptedPods whose pod is still not being deleted after 2 minutes
(DeletionTimeout) is dropped, and the PDB is re-checked when the oldest entry expires.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import Pod, PodDisruptionBudget
from sim.apiserver import DELETED, ApiServer
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler

__all__ = ["DELETION_TIMEOUT", "DisruptionController", "PdbStatus", "build_disrupted_pod_map",
           "count_healthy_pods", "expected_pod_count", "pdb_selects", "scaled_value", "pdb_status"]

DELETION_TIMEOUT = 120.0  # DeletionTimeout
CONFLICT_RETRY = 0.005  # DefaultControllerRateLimiter's first per-item delay
PdbStatus = tuple[int, int, int, int]  # currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed
ScaleOf = Callable[[Pod], tuple[int, int] | None]  # pod -> (controller uid, spec.replicas)


def pdb_selects(pdb: PodDisruptionBudget, pod: Pod) -> bool:
    """Same namespace and selector match (an empty selector selects nothing, as eviction treats it)."""
    return (pod.meta.namespace == pdb.meta.namespace and not pdb.selector.empty
            and pdb.selector.matches(pod.meta.labels))


def scaled_value(value: int | str, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent with roundUp: '50%' of 5 -> 3."""
    if isinstance(value, int):
        return value
    return math.ceil(int(value.rstrip("%")) * total / 100)


def expected_pod_count(pdb: PodDisruptionBudget, pods: list[Pod], scale_of: ScaleOf) -> tuple[int, int, list[str]]:
    """(expectedPods, desiredHealthy, unmanaged pod names); raises LookupError for a pod whose
    controller cannot be found (upstream then fails safe to 0 disruptions allowed)."""
    if pdb.max_unavailable is None and isinstance(pdb.min_available, int):
        return len(pods), pdb.min_available, []
    scales: dict[int, int] = {}
    unmanaged = []
    for pod in pods:
        if pod.meta.owner is None:
            unmanaged.append(pod.meta.name)
            continue
        found = scale_of(pod)
        if found is None:
            raise LookupError(f'found no controllers for pod "{pod.meta.name}"')
        scales[found[0]] = found[1]
    expected = sum(scales.values())
    if pdb.max_unavailable is not None:
        desired = max(0, expected - scaled_value(pdb.max_unavailable, expected))
    else:
        desired = scaled_value(pdb.min_available or 0, expected)
    return expected, desired, unmanaged


def build_disrupted_pod_map(pods: list[Pod], disrupted: dict[str, float],
                            now: float) -> tuple[dict[str, float], float | None]:
    """Entries still pending (pod present, not yet being deleted, younger than DeletionTimeout)
    and when the oldest of them expires."""
    kept: dict[str, float] = {}
    recheck = None
    for pod in pods:
        at = disrupted.get(pod.meta.name)
        if at is None or pod.terminating:
            continue
        expires = at + DELETION_TIMEOUT
        if expires >= now:
            kept[pod.meta.name] = at
            recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def count_healthy_pods(pods: list[Pod], disrupted: dict[str, float], now: float) -> int:
    """Ready pods that are neither being deleted nor expected to be (recent disruptedPods)."""
    healthy = 0
    for pod in pods:
        if pod.terminating:
            continue
        at = disrupted.get(pod.meta.name)
        if at is not None and at + DELETION_TIMEOUT > now:
            continue
        healthy += pod.ready
    return healthy


def pdb_status(current_healthy: int, desired_healthy: int, expected: int) -> PdbStatus:
    """The four counters of PodDisruptionBudgetStatus."""
    allowed = current_healthy - desired_healthy
    if expected <= 0 or allowed <= 0:
        allowed = 0
    return current_healthy, desired_healthy, expected, allowed


class DisruptionController(Controller):
    """Keeps each PodDisruptionBudget's status current (one worker, as upstream runs)."""

    name = "disruption"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, sync_latency: Sampler) -> None:
        super().__init__(env, api, client, 1, sync_latency)
        self._pods: dict[str, dict[int, Pod]] = defaultdict(dict)  # pod informer, by namespace
        self._pdbs: dict[str, dict[str, PodDisruptionBudget]] = defaultdict(dict)
        self._watching_pods = False
        self.informers.watch("PodDisruptionBudget", self._on_pdbs)

    def _watch_pods(self) -> None:
        """Add the pod handler (after reading the pods it missed, as an informer's late handler
        is first handed its cache) with the first PDB: only pods a budget selects matter, so a
        cluster without PDBs pays nothing for it."""
        self._watching_pods = True
        for pod in self.api.store.list("Pod"):
            self._pods[pod.meta.namespace][pod.meta.uid] = pod
        self.informers.watch("Pod", self._on_pods)

    def _on_pdbs(self, events: list[tuple[str, Any]]) -> None:
        if not self._watching_pods:
            self._watch_pods()
        for etype, pdb in events:
            if etype == DELETED:
                self._pdbs[pdb.meta.namespace].pop(pdb.meta.name, None)
            else:
                self._pdbs[pdb.meta.namespace][pdb.meta.name] = pdb
            self.queue.add((pdb.meta.namespace, pdb.meta.name))

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            ns = pod.meta.namespace
            if etype == DELETED:
                self._pods[ns].pop(pod.meta.uid, None)
            else:
                self._pods[ns][pod.meta.uid] = pod
            for name, pdb in sorted(self._pdbs[ns].items()):
                if pdb_selects(pdb, pod):
                    self.queue.add((ns, name))

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        pdb: PodDisruptionBudget | None = self.api.store.get("PodDisruptionBudget", *key)
        if pdb is None:
            return
        pods = [p for _, p in sorted(self._pods[key[0]].items()) if pdb_selects(pdb, p)]
        now = self.env.now
        try:
            expected, desired, _ = expected_pod_count(pdb, pods, self._scale_of)
        except LookupError:
            # failSafe: no disruption is allowed while the budget cannot be computed
            status = (pdb.current_healthy, pdb.desired_healthy, pdb.expected_pods, 0)
            yield from self._write(pdb, status, dict(pdb.disrupted_pods))
            return
        disrupted, recheck = build_disrupted_pod_map(pods, pdb.disrupted_pods, now)
        status = pdb_status(count_healthy_pods(pods, disrupted, now), desired, expected)
        yield from self._write(pdb, status, disrupted)
        if recheck is not None:
            self.queue.add_after(key, max(0.0, recheck - now))

    def _write(self, pdb: PodDisruptionBudget, status: PdbStatus,
               disrupted: dict[str, float]) -> Generator[simpy.Event, Any, None]:
        current = (pdb.current_healthy, pdb.desired_healthy, pdb.expected_pods, pdb.disruptions_allowed)
        generation, read = pdb.meta.generation, pdb.meta.resource_version
        if current == status and pdb.disrupted_pods == disrupted and pdb.observed_generation == generation:
            return

        def set_status(obj: PodDisruptionBudget) -> None:
            obj.current_healthy, obj.desired_healthy, obj.expected_pods, obj.disruptions_allowed = status
            obj.disrupted_pods = disrupted
            obj.observed_generation = generation

        # UpdateStatus carries the resourceVersion read: an eviction that changed the budget
        # meanwhile makes it a Conflict, and the PDB is synced again (rate-limited requeue).
        ok = yield self.call(self.api.update, pdb, set_status, resource_version=read)
        if not ok:
            self.queue.add_after((pdb.meta.namespace, pdb.meta.name), CONFLICT_RETRY)

    def _scale_of(self, pod: Pod) -> tuple[int, int] | None:
        """The pod's controller and its spec.replicas: a ReplicaSet's owning Deployment if it
        has one, else the controller itself (any kind with replicas, as the scale subresource)."""
        owner = self.api.store.by_uid(pod.meta.owner.uid) if pod.meta.owner is not None else None
        if owner is None:
            return None
        parent = owner.meta.owner
        if owner.kind == "ReplicaSet" and parent is not None and parent.kind == "Deployment":
            deployment = self.api.store.by_uid(parent.uid)
            return None if deployment is None else (deployment.meta.uid, deployment.replicas)
        replicas = getattr(owner, "replicas", None)
        return None if replicas is None else (owner.meta.uid, replicas)
