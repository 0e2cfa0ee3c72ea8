"""StatefulSet controller: models pkg/controller/statefulset (stateful_set.go, stateful_set_control.go,
stateful_set_utils.go, stateful_pod_control.go), Kubernetes 1.36.5.

Pods get stable names ``<set>-<ordinal>``. Under OrderedReady (the default) one sync does at
most one thing: create the lowest missing ordinal, wait for every lower ordinal to be Running,
Ready and available (minReadySeconds), and scale down from the highest ordinal, one pod at a
time, waiting for each to terminate. Parallel creates and deletes all at once (in slow-start
batches). A template change makes a new ControllerRevision; the RollingUpdate strategy then
deletes the highest-ordinal pod not at that revision, down to ``partition``, one at a time,
each replacement healthy before the next (the MaxUnavailableStatefulSet gate is off by
default in 1.36, so ``rollingUpdate.maxUnavailable`` is not used). The decisions are the pure
``plan`` below; the controller class only reads the store and issues the calls.

Each volumeClaimTemplate gives every pod its own PersistentVolumeClaim
``<template>-<set>-<ordinal>``, created before the pod and kept when the pod or the set goes
(the default Retain policy), so a recreated ``db-1`` finds ``data-db-1`` again.

Worked example (ours): 3 replicas, OrderedReady, partition 1, template changed from r1 to r2.
Sync 1 deletes web-2 (r1). Once it is gone, web-2 is created at r2; when it is Ready, web-1
(r1) is deleted and recreated at r2. web-0 stays at r1 because 0 < partition.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    ControllerRevision,
    ObjectMeta,
    OwnerReference,
    PersistentVolumeClaim,
    Pod,
    StatefulSet,
)
from sim.apiserver import ApiServer
from sim.controllers.replicaset import slow_start_batches
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler

__all__ = ["POD_INDEX_LABEL", "POD_NAME_LABEL", "REVISION_LABEL", "PodState", "SetSpec", "SetStatus", "Step",
           "StatefulSetController", "claim_name", "next_availability_check", "plan", "pod_ordinal",
           "replica_status", "revisions_to_truncate"]

REVISION_LABEL = "controller-revision-hash"  # apps.StatefulSetRevisionLabel
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL = re.compile(r"(.*)-([0-9]+)$")


def claim_name(template: str, set_name: str, ordinal: int) -> str:
    """getPersistentVolumeClaimName: ``<template>-<set>-<ordinal>``."""
    return f"{template}-{set_name}-{ordinal}"


def pod_ordinal(name: str) -> int:
    """getOrdinal: the trailing number of ``<set>-<i>``, or -1."""
    match = _ORDINAL.match(name)
    return int(match.group(2)) if match else -1


def _owned_by_statefulset(etype: str, obj: Any) -> bool:
    """The events the StatefulSet controller's pod and revision handlers act on."""
    owner = obj.meta.owner
    return owner is not None and owner.kind == "StatefulSet"


@dataclass(frozen=True, slots=True)
class PodState:
    """What the controller reads of one existing pod."""

    ordinal: int
    revision: str
    phase: str = "Pending"
    ready: bool = False
    ready_time: float | None = None
    terminating: bool = False

    @classmethod
    def of(cls, pod: Pod) -> PodState:
        """The view of a stored pod."""
        return cls(pod_ordinal(pod.meta.name), pod.meta.labels.get(REVISION_LABEL, ""), pod.phase, pod.ready,
                   pod.ready_time, pod.terminating)

    @property
    def running_and_ready(self) -> bool:
        """isRunningAndReady."""
        return self.phase == RUNNING and self.ready

    def available(self, min_ready_seconds: float, now: float) -> bool:
        """IsPodAvailable: Ready for at least minReadySeconds."""
        return self.ready and (min_ready_seconds == 0 or (
            self.ready_time is not None and self.ready_time + min_ready_seconds <= now))

    def unavailable(self, min_ready_seconds: float, now: float) -> bool:
        """isUnavailable: not available, or being deleted."""
        return self.terminating or not self.available(min_ready_seconds, now)


@dataclass(frozen=True, slots=True)
class SetSpec:
    """The spec fields the plan reads."""

    replicas: int
    parallel: bool = False  # podManagementPolicy Parallel
    on_delete: bool = False  # updateStrategy OnDelete
    partition: int = 0
    min_ready_seconds: float = 0.0

    @classmethod
    def of(cls, s: StatefulSet) -> SetSpec:
        """The plan's view of a StatefulSet."""
        return cls(s.replicas, s.pod_management_policy == "Parallel", s.update_strategy == "OnDelete",
                   s.partition, s.min_ready_seconds)


@dataclass(frozen=True, slots=True)
class Step:
    """One call: create ordinal at revision, or delete the pod with that ordinal."""

    verb: str  # "create" or "delete"
    ordinal: int
    revision: str = ""
    for_update: bool = False  # a delete that replaces an out-of-date pod (rolling update)


def _new_pod_revision(spec: SetSpec, ordinal: int, current: str, update: str) -> str:
    """newVersionedStatefulSetPod: below the partition a recreated pod keeps the current revision."""
    return current if not spec.on_delete and ordinal < spec.partition else update


def plan(spec: SetSpec, pods: list[PodState], current: str, update: str, now: float) -> list[Step]:
    """updateStatefulSet: the calls of one sync, in order (at most one under OrderedReady)."""
    monotonic = not spec.parallel
    replicas = {p.ordinal: p for p in pods if 0 <= p.ordinal < spec.replicas}
    condemned = sorted((p for p in pods if p.ordinal >= spec.replicas), key=lambda p: -p.ordinal)
    min_ready = spec.min_ready_seconds
    first_unavailable: PodState | None = None  # stays None when a missing replica comes first
    for ordinal in range(spec.replicas):
        pod = replicas.get(ordinal)
        if pod is None:
            break
        if pod.unavailable(min_ready, now):
            first_unavailable = pod
            break
    else:
        first_unavailable = next((p for p in reversed(condemned) if p.unavailable(min_ready, now)), None)
    steps: list[Step] = []
    for ordinal in range(spec.replicas):
        pod = replicas.get(ordinal)
        if pod is None:
            steps.append(Step("create", ordinal, _new_pod_revision(spec, ordinal, current, update)))
            if monotonic:
                return steps
            continue
        if pod.phase in (FAILED, SUCCEEDED):  # deleted now, recreated once gone
            if not pod.terminating:
                steps.append(Step("delete", ordinal))
            if monotonic:
                return steps
            continue
        if monotonic and (pod.terminating or not pod.running_and_ready or not pod.available(min_ready, now)):
            return steps  # every predecessor must be Running, Ready and available first
    for pod in condemned:  # highest ordinal first
        if pod.terminating:
            if monotonic:
                return steps
            continue
        if monotonic and pod is not first_unavailable and (
                not pod.running_and_ready or not pod.available(min_ready, now)):
            return steps
        steps.append(Step("delete", pod.ordinal))
        if monotonic:
            return steps
    if spec.on_delete:
        return steps
    touched = {s.ordinal for s in steps}
    for ordinal in range(spec.replicas - 1, spec.partition - 1, -1):
        pod = replicas.get(ordinal)
        if pod is None or ordinal in touched:
            return steps  # just created or replaced: not available yet
        if pod.revision != update and not pod.terminating:
            steps.append(Step("delete", ordinal, for_update=True))
            return steps
        if pod.unavailable(min_ready, now):
            return steps
    return steps


@dataclass(frozen=True, slots=True)
class SetStatus:
    """status of a StatefulSet."""

    observed_generation: int
    replicas: int
    ready_replicas: int
    available_replicas: int
    current_replicas: int
    updated_replicas: int
    current_revision: str
    update_revision: str

    @classmethod
    def of(cls, s: StatefulSet) -> SetStatus:
        """The status stored on ``s``."""
        return cls(s.observed_generation, s.status_replicas, s.ready_replicas, s.available_replicas,
                   s.current_replicas, s.updated_replicas, s.current_revision, s.update_revision)


def replica_status(spec: SetSpec, generation: int, pods: list[PodState], current: str, update: str,
                   rolling_deletes: int, now: float) -> SetStatus:
    """computeReplicaStatus plus completeRollingUpdate: counts, and a finished update makes the
    update revision current. ``rolling_deletes`` pods were just deleted for the update."""
    live = [p for p in pods if not p.terminating]
    ready = [p for p in pods if p.running_and_ready]
    status = SetStatus(
        observed_generation=generation,
        replicas=len(pods),
        ready_replicas=len(ready),
        available_replicas=sum(1 for p in ready if p.available(spec.min_ready_seconds, now)),
        current_replicas=sum(1 for p in live if p.revision == current) - rolling_deletes,
        updated_replicas=sum(1 for p in live if p.revision == update),
        current_revision=current,
        update_revision=update,
    )
    if not spec.on_delete and status.updated_replicas == status.replicas == status.ready_replicas:
        return SetStatus(status.observed_generation, status.replicas, status.ready_replicas,
                         status.available_replicas, status.updated_replicas, status.updated_replicas,
                         update, update)
    return status


def next_availability_check(pods: list[PodState], min_ready_seconds: float, now: float) -> float | None:
    """FindMinNextPodAvailabilityCheck: seconds until the next Ready pod becomes available."""
    if min_ready_seconds <= 0:
        return None
    waits = [p.ready_time + min_ready_seconds - now for p in pods
             if p.ready and p.ready_time is not None and not p.available(min_ready_seconds, now)]
    return max(min(waits), 0.0) if waits else None


def revisions_to_truncate(revisions: list[tuple[str, int]], live: set[str], limit: int) -> list[str]:
    """truncateHistory: the oldest revisions that no pod and no status uses, beyond the limit."""
    history = [name for name, _ in sorted(revisions, key=lambda r: (r[1], r[0])) if name not in live]
    return history[: max(len(history) - limit, 0)]


class StatefulSetController(Controller):
    """Keeps each StatefulSet's ordinal pods created, ordered and at the right revision."""

    name = "statefulset"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.informers.watch("StatefulSet", self._on_sets)
        self.informers.watch("Pod", self._on_owned, wants=_owned_by_statefulset)
        self.informers.watch("ControllerRevision", self._on_owned, wants=_owned_by_statefulset)

    def _on_sets(self, events: list[tuple[str, Any]]) -> None:
        for _, s in events:
            self.queue.add((s.meta.namespace, s.meta.name))

    def _on_owned(self, events: list[tuple[str, Any]]) -> None:  # filtered by _owned_by_statefulset
        for _, obj in events:
            owner = obj.meta.owner
            if owner is not None and owner.kind == "StatefulSet":
                self.queue.add((obj.meta.namespace, owner.name))

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        s: StatefulSet | None = self.api.store.get("StatefulSet", *key)
        if s is None:
            return
        owned = self.api.store.owned_by(s.meta.uid)
        pods = sorted((p for p in owned if isinstance(p, Pod) and pod_ordinal(p.meta.name) >= 0),
                      key=lambda p: pod_ordinal(p.meta.name))
        revisions = sorted((r for r in owned if isinstance(r, ControllerRevision)),
                           key=lambda r: (r.revision, r.meta.name))
        update = yield from self._update_revision(s, revisions)
        if update is None:
            self.queue.add_after(key, 0.005)
            return
        names = {r.meta.name: r for r in revisions}
        current = names.get(s.current_revision, update)
        spec, now = SetSpec.of(s), self.env.now
        states = [PodState.of(p) for p in pods]
        steps = [] if s.meta.deletion_time is not None else plan(spec, states, current.meta.name,
                                                                  update.meta.name, now)
        for pod in pods:  # processReplica: a pending pod gets back any claim deleted under it
            if pod.phase == PENDING and not pod.terminating:
                yield from self._create_claims(s, pod_ordinal(pod.meta.name))
        ok = yield from self._execute(s, steps, {p.ordinal: pod for p, pod in zip(states, pods, strict=True)},
                                      {current.meta.name: current, update.meta.name: update})
        rolling = sum(1 for step in steps if step.for_update)
        status = replica_status(spec, s.meta.generation, states, current.meta.name, update.meta.name, rolling, now)
        yield from self._write_status(s, status)
        live = {status.current_revision, status.update_revision} | {p.revision for p in states}
        for name in revisions_to_truncate([(r.meta.name, r.revision) for r in revisions], live,
                                          s.revision_history_limit):
            yield self.call(self.api.delete, names[name])
        wait = next_availability_check(states, s.min_ready_seconds, now)
        if not ok:
            self.queue.add_after(key, 0.005)
        elif wait is not None:
            self.queue.add_after(key, wait)

    # ------------------------------------------------------------------ revisions
    def _update_revision(self, s: StatefulSet,
                         revisions: list[ControllerRevision]) -> Generator[simpy.Event, Any, ControllerRevision | None]:
        """getStatefulSetRevisions: the revision of the current template, created or renumbered if needed."""
        next_number = revisions[-1].revision + 1 if revisions else 1
        equal = [r for r in revisions if r.template.hash == s.template.hash]
        if equal and equal[-1] is revisions[-1]:
            return equal[-1]
        if equal:  # back to an earlier template: that revision becomes the newest again
            revision = equal[-1]

            def renumber(obj: ControllerRevision) -> None:
                obj.revision = next_number

            ok = yield self.call(self.api.update, revision, renumber)
            return revision if ok else None
        revision = ControllerRevision(
            meta=ObjectMeta(name=f"{s.meta.name}-{s.template.hash}", namespace=s.meta.namespace,
                            labels=dict(s.template.labels),
                            owner=OwnerReference("StatefulSet", s.meta.name, s.meta.uid)),
            revision=next_number, template=s.template, raw_template=s.raw_template)
        ok = yield self.call(self.api.create, revision)
        return revision if ok else None

    # ------------------------------------------------------------------ calls
    def _execute(self, s: StatefulSet, steps: list[Step], pods: dict[int, Pod],
                 revisions: dict[str, ControllerRevision]) -> Generator[simpy.Event, Any, bool]:
        """Issue the plan's calls; Parallel's in slow-start batches (1, 2, 4, ...), stopping at a failure."""
        calls = [self._create_pod(s, step.ordinal, revisions[step.revision]) if step.verb == "create"
                 else self._delete_pod(pods[step.ordinal]) for step in steps]
        done = 0
        for size in slow_start_batches(len(calls)):
            results = yield simpy.AllOf(self.env, [call() for call in calls[done:done + size]])
            done += size
            if not all(results.values()):
                return False
        return True

    def _create_pod(self, s: StatefulSet, ordinal: int, revision: ControllerRevision) -> Any:
        """CreateStatefulPod: its claims first, then the pod from the revision's template with the
        stable name, identity labels and its own claims among its volumes (updateStorage)."""
        name = f"{s.meta.name}-{ordinal}"
        template = revision.template
        labels = {**dict(template.labels), REVISION_LABEL: revision.meta.name, POD_NAME_LABEL: name,
                  POD_INDEX_LABEL: str(ordinal)}
        spec = template.spec
        if s.volume_claim_templates:
            own = tuple(claim_name(c.meta.name, s.meta.name, ordinal) for c in s.volume_claim_templates)
            spec = replace(spec, persistent_volume_claims=own + tuple(
                c for c in spec.persistent_volume_claims if c not in own))

        def create() -> Generator[simpy.Event, Any, bool]:
            if not (yield from self._create_claims(s, ordinal)):
                return False
            pod = Pod(meta=ObjectMeta(name=name, namespace=s.meta.namespace, labels=labels,
                                      annotations=dict(template.annotations),
                                      owner=OwnerReference("StatefulSet", s.meta.name, s.meta.uid)),
                      spec=spec, node_name=spec.node_name)
            ok: bool = yield self.call(self.api.create, pod)
            return ok

        return lambda: self.env.process(create())

    def _create_claims(self, s: StatefulSet, ordinal: int) -> Generator[simpy.Event, Any, bool]:
        """createPersistentVolumeClaims: the pod's missing claims (one per template); False if one
        is being deleted or cannot be created."""
        ok = True
        for template in s.volume_claim_templates:
            name = claim_name(template.meta.name, s.meta.name, ordinal)
            existing = self.api.store.get("PersistentVolumeClaim", s.meta.namespace, name)
            if existing is not None:
                ok = ok and existing.meta.deletion_time is None
                continue
            labels = {**template.meta.labels, **{r.key: r.values[0] for r in s.selector.requirements
                                                if r.operator == "In" and len(r.values) == 1}}
            claim = PersistentVolumeClaim(
                meta=ObjectMeta(name=name, namespace=s.meta.namespace, labels=labels),
                storage_class_name=template.storage_class_name, storage=template.storage,
                access_modes=template.access_modes)
            created = yield self.call(self.api.create, claim)
            ok = ok and bool(created)
        return ok

    def _delete_pod(self, pod: Pod) -> Any:
        return lambda: self.call(self.api.delete, pod)

    def _write_status(self, s: StatefulSet, status: SetStatus) -> Generator[simpy.Event, Any, None]:
        """updateStatefulSetStatus: only when something changed (inconsistentStatus)."""
        if status == SetStatus.of(s):
            return

        def apply(obj: StatefulSet) -> None:
            (obj.observed_generation, obj.status_replicas, obj.ready_replicas, obj.available_replicas,
             obj.current_replicas, obj.updated_replicas, obj.current_revision, obj.update_revision) = (
                status.observed_generation, status.replicas, status.ready_replicas, status.available_replicas,
                status.current_replicas, status.updated_replicas, status.current_revision, status.update_revision)

        yield self.call(self.api.update, s, apply)
