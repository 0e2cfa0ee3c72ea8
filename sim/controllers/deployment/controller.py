"""Deployment controller: models pkg/controller/deployment/deployment_controller.go (Kubernetes 1.36.5).

Handlers only enqueue keys. ``sync`` dispatches in ``syncDeployment``'s order: a deleted
Deployment only gets its status; a paused one is scaled (proportionally) and cleaned up
but not rolled; a pending rollback request is served next; then a scaling event (the
user changed spec.replicas) is spread proportionally over the ReplicaSets; otherwise the
strategy (RollingUpdate or Recreate) takes one step. The decisions are the pure functions
of the phase modules; this module only reads the store and issues the API calls.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import Deployment, DeploymentCondition, ObjectMeta, OwnerReference, Pod, PodTemplate, ReplicaSet
from sim.api.selectors import Requirement, Selector
from sim.apiserver import DELETED, ApiServer
from sim.controllers.deployment import progress, rolling, sync
from sim.controllers.deployment.recreate import old_pods_running, scale_down_old_for_recreate
from sim.controllers.deployment.rollback import ROLLBACK_DONE, decide_rollback, rollback_to
from sim.controllers.deployment.util import (
    POD_TEMPLATE_HASH,
    REVISION,
    ROLLBACK_TO,
    RSState,
    copy_annotations,
    max_revision,
    new_rs_new_replicas,
    skip_copy_annotation,
    strategy_surge,
)
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler

__all__ = ["DeploymentController", "condition_event"]

Records = list[tuple[str, str, str]]
MAX_RETRIES = 15  # maxRetries: a Deployment failing this often waits for its next event
_EVENT_BY_REASON = {progress.TIMED_OUT: "progressDeadlineExceeded", progress.PAUSED: "paused",
                    progress.RESUMED: "resumed"}


def condition_event(type_: str, status: str, reason: str) -> str:
    """The trace event recording a condition change: ``progressing``, ``available``, ``unavailable``, ..."""
    if reason in _EVENT_BY_REASON:
        return _EVENT_BY_REASON[reason]
    if type_ == sync.AVAILABLE:
        return "available" if status == "True" else "unavailable"
    return type_[0].lower() + type_[1:]


class ApiError(Exception):
    """A write failed (Conflict with a newer version, NotFound): the sync stops and is retried."""


class DeploymentController(Controller):
    """Rolls Deployments out through their ReplicaSets.

    Writes carry the resourceVersion they were decided on, as upstream's Update calls do:
    a ReplicaSet whose status changed meanwhile makes the scale fail with a Conflict, and the
    Deployment is synced again after a short backoff with the fresh status. The Deployment
    object itself is written with the version read at the start of the sync, so a second
    write in one sync conflicts, exactly as upstream's (discarded-response) UpdateStatus calls do.
    """

    name = "deployment"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self._read_version: dict[Key, int] = {}  # the Deployment's resourceVersion when its sync began
        self.informers.watch("Deployment", self._on_deployments)
        self.informers.watch("ReplicaSet", self._on_replicasets)
        self.informers.watch("Pod", self._on_pods,
                             wants=lambda etype, pod: etype == DELETED and pod.meta.owner is not None)

    # ------------------------------------------------------------------ handlers
    def _on_deployments(self, events: list[tuple[str, Any]]) -> None:
        for _, d in events:
            self.queue.add((d.meta.namespace, d.meta.name))

    def _on_replicasets(self, events: list[tuple[str, Any]]) -> None:
        for _, rs in events:
            owner = rs.meta.owner
            if owner is not None and owner.kind == "Deployment":
                self.queue.add((rs.meta.namespace, owner.name))

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        # deletePod: only a Recreate Deployment waits for pods, and only for the last one to go.
        for etype, pod in events:
            if etype != DELETED or pod.meta.owner is None:
                continue
            rs = self.api.store.by_uid(pod.meta.owner.uid)
            if rs is None or rs.meta.owner is None:
                continue
            d = self.api.store.by_uid(rs.meta.owner.uid)
            if isinstance(d, Deployment) and d.strategy.type == "Recreate" and not self._pods_of(d):
                self.queue.add((d.meta.namespace, d.meta.name))

    def _pods_of(self, d: Deployment) -> list[Pod]:
        return [p for rs in self._replica_sets(d) for p in self.api.store.owned_by(rs.meta.uid)
                if isinstance(p, Pod)]

    # ------------------------------------------------------------------ dispatch
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        """syncDeployment plus handleErr: a failed write requeues the key with exponential backoff."""
        d: Deployment | None = self.api.store.get("Deployment", *key)
        if d is None:
            self.queue.forget(key)
            self._read_version.pop(key, None)
            return
        self._read_version[key] = d.meta.resource_version
        try:
            yield from self._sync_deployment(d)
        except ApiError:
            if self.queue.num_requeues(key) < MAX_RETRIES:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            return
        self.queue.forget(key)

    def _sync_deployment(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        if d.meta.deletion_time is not None:
            new, olds = yield from self._get_all(d, create=False)
            yield from self._sync_status(d, new, olds)
            return
        yield from self._check_paused_conditions(d)
        if d.paused:
            yield from self._sync(d)
        elif rollback_to(d.meta.annotations) is not None:
            yield from self._rollback(d)
        else:
            new, olds = yield from self._get_all(d, create=False)
            if sync.is_scaling_event(d.replicas, [RSState.of(rs) for rs in [new, *olds] if rs is not None]):
                yield from self._sync(d)
            elif d.strategy.type == "Recreate":
                yield from self._rollout_recreate(d)
            else:
                yield from self._rollout_rolling(d)

    # ------------------------------------------------------------------ phases
    def _sync(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        """sync.go ``sync``: proportional scaling; cleanup while paused; status."""
        new, olds = yield from self._get_all(d, create=False)
        seen = _states([*olds, new])
        targets = sync.proportional_scale(d.replicas, d.strategy, _state(new), [seen[rs.meta.name] for rs in olds],
                                          d.status_replicas)
        for rs in [*olds, new]:
            if rs is not None and rs.meta.name in targets:
                yield from self._scale(d, rs, targets[rs.meta.name], True, seen[rs.meta.name].resource_version)
        if d.paused and rollback_to(d.meta.annotations) is None:
            yield from self._cleanup(d, olds)
        yield from self._sync_status(d, new, olds)

    def _rollout_rolling(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        new, olds = yield from self._get_all(d, create=True)
        if new is None:
            return
        every = [RSState.of(rs) for rs in [*olds, new]]
        target = rolling.reconcile_new_replica_set(d.replicas, d.strategy, RSState.of(new), every)
        if target != new.replicas:
            yield from self._scale(d, new, target)
            yield from self._sync_rollout_status(d, new, olds)
            return
        active = [rs for rs in olds if rs.replicas > 0]
        seen = _states(active)
        try:
            cuts = rolling.reconcile_old_replica_sets(d.replicas, d.strategy, RSState.of(new), list(seen.values()))
        except rolling.StaleAvailability as stale:  # the sync fails after the scale-downs made before
            for rs in active:
                if rs.meta.name in stale.targets:
                    yield from self._scale(d, rs, stale.targets[rs.meta.name],
                                           version=seen[rs.meta.name].resource_version)
            raise ApiError(str(stale)) from stale
        for rs in active:
            if rs.meta.name in cuts:
                yield from self._scale(d, rs, cuts[rs.meta.name], version=seen[rs.meta.name].resource_version)
        if not cuts and progress.deployment_complete(d.replicas, d.meta.generation, sync.Status.of(d)):
            yield from self._cleanup(d, olds)
        yield from self._sync_rollout_status(d, new, olds)

    def _rollout_recreate(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        new, olds = yield from self._get_all(d, create=False)
        seen = _states(olds)
        cuts = scale_down_old_for_recreate(list(seen.values()))
        for rs in olds:
            if rs.meta.name in cuts:
                yield from self._scale(d, rs, 0, version=seen[rs.meta.name].resource_version)
        old_pods = [p for rs in olds for p in self.api.store.owned_by(rs.meta.uid) if isinstance(p, Pod)]
        if cuts or old_pods_running([RSState.of(rs) for rs in olds], old_pods):
            yield from self._sync_rollout_status(d, new, olds)
            return
        if new is None:
            new, olds = yield from self._get_all(d, create=True)
            if new is None:
                return
        yield from self._scale(d, new, d.replicas)
        if progress.deployment_complete(d.replicas, d.meta.generation, sync.Status.of(d)):
            yield from self._cleanup(d, olds)
        yield from self._sync_rollout_status(d, new, olds)

    def _rollback(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        new, olds = yield from self._get_all(d, create=True)
        every = [rs for rs in [*olds, new] if rs is not None]
        decision = decide_rollback(d.meta.name, rollback_to(d.meta.annotations) or 0,
                                   [RSState.of(rs) for rs in every], d.template.hash,
                                   {rs.meta.name: rs.template.hash for rs in every})
        source = next((rs for rs in every if rs.meta.name == decision.source), None)
        event = "rolledBack" if decision.reason == ROLLBACK_DONE else "rollbackSkipped"

        def apply(obj: Deployment) -> None:
            obj.meta.annotations.pop(ROLLBACK_TO, None)
            if source is None:
                return
            obj.template, obj.raw_template = self.deployment_template(source), source.raw_template
            kept = {k: v for k, v in obj.meta.annotations.items() if skip_copy_annotation(k)}
            copy_annotations(source.meta.annotations, kept)
            obj.meta.annotations = kept
            obj.meta.generation += 1

        yield from self._put(d, apply, (event, decision.reason, decision.message), self._version_of(d))

    def _check_paused_conditions(self, d: Deployment) -> Generator[simpy.Event, Any, None]:
        """checkPausedConditions: an Unknown Progressing condition while paused, so time spent
        paused never counts against the progress deadline."""
        if not progress.has_progress_deadline(d.progress_deadline_seconds):
            return
        cond = d.condition(sync.PROGRESSING)
        if cond is not None and cond.reason == progress.TIMED_OUT:
            return
        paused_cond = cond is not None and cond.reason == progress.PAUSED
        now = self.env.now
        if d.paused and not paused_cond:
            new_cond = DeploymentCondition(sync.PROGRESSING, "Unknown", progress.PAUSED,
                                                "Deployment is paused", now, now)
        elif not d.paused and paused_cond:
            new_cond = DeploymentCondition(sync.PROGRESSING, "Unknown", progress.RESUMED,
                                                "Deployment is resumed", now, now)
        else:
            return
        status = sync.Status.of(d)
        status = sync.Status(*_counters(status), sync.set_condition(status.conditions, new_cond))
        yield from self._write_status(d, status)

    # ------------------------------------------------------------------ status
    def _status(self, d: Deployment, new: ReplicaSet | None, olds: list[ReplicaSet]) -> sync.Status:
        every = [RSState.of(rs) for rs in [*olds, new] if rs is not None]
        return sync.calculate_status(d.replicas, d.meta.generation, d.strategy, _state(new), every,
                                     d.conditions, self.env.now)

    def _sync_status(self, d: Deployment, new: ReplicaSet | None,
                     olds: list[ReplicaSet]) -> Generator[simpy.Event, Any, None]:
        """syncDeploymentStatus: counters and the Available condition."""
        yield from self._write_status(d, self._status(d, new, olds))

    def _sync_rollout_status(self, d: Deployment, new: ReplicaSet | None,
                             olds: list[ReplicaSet]) -> Generator[simpy.Event, Any, None]:
        """syncRolloutStatus: counters plus the Progressing condition, and the stuck-rollout requeue."""
        now = self.env.now
        status = progress.rollout_status(d.meta.name, new.meta.name if new is not None else None, d.replicas,
                                         d.meta.generation, d.progress_deadline_seconds, sync.Status.of(d),
                                         self._status(d, new, olds), now)
        if status == sync.Status.of(d):
            after = progress.requeue_after(d.replicas, d.meta.generation, d.progress_deadline_seconds,
                                           d.condition(sync.PROGRESSING), status, now)
            if after == progress.RATE_LIMITED:
                # a progress check "now": rate-limited, and the sync's success then forgets the
                # key's back-off, so this repeats at the shared bucket's 10 per second until
                # the rollout completes, as kube-controller-manager does
                self.queue.add_rate_limited((d.meta.namespace, d.meta.name))
            elif after is not None:
                self.queue.add_after((d.meta.namespace, d.meta.name), after)
            return
        yield from self._write_status(d, status)

    def _write_status(self, d: Deployment, status: sync.Status,
                      annotations: dict[str, str] | None = None) -> Generator[simpy.Event, Any, None]:
        if status == sync.Status.of(d) and annotations is None:
            return
        records: Records = []
        for cond in status.conditions:
            before = d.condition(cond.type)
            if before is None or (before.status, before.reason) != (cond.status, cond.reason):
                records.append((condition_event(cond.type, cond.status, cond.reason), cond.reason, cond.message))

        def apply(obj: Deployment) -> None:
            status.write_to(obj)
            if annotations:
                obj.meta.annotations.update(annotations)

        yield from self._put(d, apply, records, self._version_of(d))

    def _cleanup(self, d: Deployment, olds: list[ReplicaSet]) -> Generator[simpy.Event, Any, None]:
        """cleanupDeployment: delete empty old ReplicaSets beyond revisionHistoryLimit."""
        deleting = {rs.meta.name for rs in olds if rs.meta.deletion_time is not None}
        victims = sync.cleanup_victims([RSState.of(rs) for rs in olds], deleting, d.revision_history_limit)
        for rs in olds:
            if rs.meta.name in victims:
                yield self.call(self.api.delete, rs)


    # ------------------------------------------------------------------ replica sets
    def _replica_sets(self, d: Deployment) -> list[ReplicaSet]:
        """The Deployment's ReplicaSets (by controller reference), oldest first."""
        owned = [rs for rs in self.api.store.owned_by(d.meta.uid) if isinstance(rs, ReplicaSet)]
        return sorted(owned, key=lambda rs: (rs.meta.creation_time, rs.meta.name))

    def _get_all(self, d: Deployment, create: bool) -> Generator[simpy.Event, Any, tuple[ReplicaSet | None,
                                                                                          list[ReplicaSet]]]:
        """getAllReplicaSetsAndSyncRevision: (new RS or None, old RSs), revisions brought up to date."""
        rss = self._replica_sets(d)
        new = next((rs for rs in rss if rs.template.hash == d.template.hash), None)
        olds = [rs for rs in rss if rs is not new]
        revision = max_revision([RSState.of(rs) for rs in olds]) + 1
        if new is not None:
            yield from self._sync_new_rs(d, new, revision)
        elif create:
            new = yield from self._create_new_rs(d, olds, revision)
        return new, olds

    def _sync_new_rs(self, d: Deployment, rs: ReplicaSet, revision: int) -> Generator[simpy.Event, Any, None]:
        surge = strategy_surge(d.strategy, d.replicas)
        annotations = sync.new_rs_annotations(d.meta.annotations, rs.meta.annotations, revision, True,
                                              d.replicas, d.replicas + surge)
        if annotations != rs.meta.annotations or rs.min_ready_seconds != d.min_ready_seconds:
            def apply(obj: ReplicaSet) -> None:
                obj.meta.annotations = dict(annotations)
                if obj.min_ready_seconds != d.min_ready_seconds:
                    obj.min_ready_seconds = d.min_ready_seconds
                    obj.meta.generation += 1
            yield from self._put(rs, apply, None, rs.meta.resource_version)
            return  # upstream returns here; the Deployment's revision follows on the next sync
        status = sync.Status.of(d)
        if progress.has_progress_deadline(d.progress_deadline_seconds) and d.condition(sync.PROGRESSING) is None:
            now = self.env.now
            cond = DeploymentCondition(sync.PROGRESSING, "True", progress.FOUND_NEW_RS,
                                            f'Found new replica set "{rs.meta.name}"', now, now)
            status = sync.Status(*_counters(status), sync.set_condition(status.conditions, cond))
        rs_revision = rs.meta.annotations.get(REVISION, "")
        changed = d.meta.annotations.get(REVISION) != rs_revision
        if changed or status != sync.Status.of(d):
            yield from self._write_status(d, status, {REVISION: rs_revision} if changed else None)

    def _create_new_rs(self, d: Deployment, olds: list[ReplicaSet],
                       revision: int) -> Generator[simpy.Event, Any, ReplicaSet | None]:
        template_hash = d.template.hash
        if d.strategy.type == "Recreate":
            replicas = d.replicas
        else:
            replicas = new_rs_new_replicas(d.replicas, d.strategy.max_surge, d.strategy.max_unavailable,
                                           sum(rs.replicas for rs in olds), 0)
        labels = {**dict(d.template.labels), POD_TEMPLATE_HASH: template_hash}
        surge = strategy_surge(d.strategy, d.replicas)
        rs = ReplicaSet(
            meta=ObjectMeta(name=f"{d.meta.name}-{template_hash}", namespace=d.meta.namespace, labels=labels,
                            annotations=sync.new_rs_annotations(d.meta.annotations, {}, revision, False,
                                                                d.replicas, d.replicas + surge),
                            owner=OwnerReference("Deployment", d.meta.name, d.meta.uid)),
            replicas=replicas,
            selector=Selector(d.selector.requirements + (Requirement(POD_TEMPLATE_HASH, "In", (template_hash,)),)),
            template=PodTemplate(tuple(sorted(labels.items())), d.template.annotations, d.template.spec,
                                 template_hash),
            min_ready_seconds=d.min_ready_seconds,
            raw_template=d.raw_template,
        )
        ok = yield self.call(self.api.create, rs)
        if not ok:  # AlreadyExists: ours if the same template (a slow cache), else give up this sync
            rs = self.api.store.get("ReplicaSet", rs.meta.namespace, rs.meta.name)
            owned = rs is not None and rs.meta.owner is not None and rs.meta.owner.uid == d.meta.uid
            if owned and rs.template.hash == template_hash:
                return rs
            raise ApiError(f"replica set {rs.meta.name if rs else ''} already exists")
        status = sync.Status.of(d)
        if progress.has_progress_deadline(d.progress_deadline_seconds):
            now = self.env.now
            cond = DeploymentCondition(sync.PROGRESSING, "True", progress.NEW_RS_CREATED,
                                            f'Created new replica set "{rs.meta.name}"', now, now)
            status = sync.Status(*_counters(status), sync.set_condition(status.conditions, cond))
        yield from self._write_status(d, status, {REVISION: str(revision)})
        return rs

    def _scale(self, d: Deployment, rs: ReplicaSet, replicas: int, annotate: bool = False,
               version: int | None = None) -> Generator[simpy.Event, Any, None]:
        """scaleReplicaSet(AndRecordEvent): size plus the desired/max annotations; ``annotate``
        writes stale annotations even at an unchanged size (proportional scaling does).
        ``version`` is the RS's resourceVersion the decision was based on."""
        annotations = sync.replicas_annotations(d.replicas, d.replicas + strategy_surge(d.strategy, d.replicas))
        stale = any(rs.meta.annotations.get(k) != v for k, v in annotations.items())
        if rs.replicas == replicas and not (annotate and stale):
            return
        before = rs.replicas
        direction = "up" if replicas > before else "down"

        def apply(obj: ReplicaSet) -> None:
            obj.meta.annotations.update(annotations)
            if obj.replicas != replicas:
                obj.replicas = replicas
                obj.meta.generation += 1

        record = None if before == replicas else (
            "scaled", "ScalingReplicaSet", f"Scaled {direction} replica set {rs.meta.name} from {before} to {replicas}")
        yield from self._put(rs, apply, record, version if version is not None else rs.meta.resource_version)

    def _put(self, obj: Any, mutate: Any, record: Any, version: int) -> Generator[simpy.Event, Any, None]:
        """An Update with optimistic concurrency; a failure ends the sync (ApiError)."""
        ok = yield self.call(self.api.update, obj, mutate, record=record, resource_version=version)
        if not ok:
            raise ApiError(f"{obj.kind} {obj.meta.name}: the object has been modified")

    def _version_of(self, d: Deployment) -> int:
        return self._read_version.get((d.meta.namespace, d.meta.name), d.meta.resource_version)

    @staticmethod
    def deployment_template(rs: ReplicaSet) -> PodTemplate:
        """SetFromReplicaSetTemplate: the RS's pod template without its pod-template-hash label."""
        labels = tuple((k, v) for k, v in rs.template.labels if k != POD_TEMPLATE_HASH)
        return PodTemplate(labels, rs.template.annotations, rs.template.spec, rs.template.hash)


def _state(rs: ReplicaSet | None) -> RSState | None:
    return None if rs is None else RSState.of(rs)


def _states(rss: list[ReplicaSet | None]) -> dict[str, RSState]:
    """What a decision is based on, by RS name (its versions guard the writes that follow)."""
    return {rs.meta.name: RSState.of(rs) for rs in rss if rs is not None}


def _counters(status: sync.Status) -> tuple[int, int, int, int, int, int]:
    return (status.observed_generation, status.replicas, status.updated_replicas, status.ready_replicas,
            status.available_replicas, status.unavailable_replicas)
