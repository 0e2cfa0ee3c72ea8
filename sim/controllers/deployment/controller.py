"""Deployment controller: models pkg/controller/deployment/deployment_controller.go and
sync.go (new ReplicaSet creation, scaling, status).

Handlers only enqueue keys. ``sync`` finds the Deployment's ReplicaSets, creates the new
one for the current template (named ``<deployment>-<pod-template-hash>``), dispatches on
the strategy, and finally writes the status counters.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import Deployment, ObjectMeta, OwnerReference, Pod, PodTemplate, ReplicaSet
from sim.api.selectors import Requirement, Selector
from sim.apiserver import ApiServer
from sim.controllers.deployment.recreate import recreate_step
from sim.controllers.deployment.rolling import RSState, rolling_step
from sim.controllers.deployment.util import new_rs_new_replicas
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler

__all__ = ["DeploymentController"]

POD_TEMPLATE_HASH = "pod-template-hash"


class DeploymentController(Controller):
    """Rolls Deployments out through their ReplicaSets."""

    name = "deployment"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        api.watch("Deployment", self._on_deployments)
        api.watch("ReplicaSet", self._on_replicasets)
        api.watch("Pod", self._on_pods)

    def _on_deployments(self, events: list[tuple[str, Any]]) -> None:
        for _, d in events:
            self.queue.add((d.meta.namespace, d.meta.name))

    def _on_replicasets(self, events: list[tuple[str, Any]]) -> None:
        for _, rs in events:
            owner = rs.meta.owner
            if owner is not None and owner.kind == "Deployment":
                self.queue.add((rs.meta.namespace, owner.name))

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        # Recreate waits for old pods to be gone: pod deletions re-trigger the sync.
        for etype, pod in events:
            if etype != "DELETED" or pod.meta.owner is None:
                continue
            rs = self.api.store.by_uid(pod.meta.owner.uid)
            if rs is not None and rs.meta.owner is not None:
                self.queue.add((rs.meta.namespace, rs.meta.owner.name))

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        d: Deployment | None = self.api.store.get("Deployment", *key)
        if d is None or d.meta.deletion_time is not None:
            return
        owned = [rs for rs in self.api.store.owned_by(d.meta.uid) if isinstance(rs, ReplicaSet)]
        new = next((rs for rs in owned if rs.template.hash == d.template.hash), None)
        old = [rs for rs in owned if rs is not new]
        if new is None:
            new = yield from self._create_new_rs(d, old)
            if new is None:
                return
        if not d.paused:
            if d.strategy.type == "Recreate":
                running = sum(1 for rs in old for p in self.api.store.owned_by(rs.meta.uid)
                              if isinstance(p, Pod) and p.phase in ("Pending", "Running"))
                new_target, old_targets = recreate_step(
                    d.replicas, new.replicas, {rs.meta.name: rs.replicas for rs in old}, running)
            else:
                new_target, old_targets = rolling_step(
                    d.replicas, d.strategy.max_surge, d.strategy.max_unavailable,
                    _state(new), [_state(rs) for rs in old])
            yield from self._scale(new, new_target)
            for rs in old:
                yield from self._scale(rs, old_targets[rs.meta.name])
        yield from self._sync_status(d, new, old)

    def _create_new_rs(self, d: Deployment, old: list[ReplicaSet]) -> Generator[simpy.Event, Any, ReplicaSet | None]:
        all_replicas = sum(rs.replicas for rs in old)
        if d.strategy.type == "Recreate":
            replicas = 0 if any(rs.replicas for rs in old) else d.replicas
        else:
            replicas = new_rs_new_replicas(d.replicas, d.strategy.max_surge, d.strategy.max_unavailable,
                                           all_replicas, 0)
        template_hash = d.template.hash
        labels = {**dict(d.template.labels), POD_TEMPLATE_HASH: template_hash}
        template = PodTemplate(tuple(sorted(labels.items())), d.template.annotations,
                                        d.template.spec, template_hash)
        rs = ReplicaSet(
            meta=ObjectMeta(name=f"{d.meta.name}-{template_hash}", namespace=d.meta.namespace,
                            labels=labels, owner=OwnerReference("Deployment", d.meta.name, d.meta.uid)),
            replicas=replicas,
            selector=Selector(d.selector.requirements + (Requirement(POD_TEMPLATE_HASH, "In", (template_hash,)),)),
            template=template,
            min_ready_seconds=d.min_ready_seconds,
        )
        ok = yield self.call(self.api.create, rs)
        return rs if ok else None

    def _scale(self, rs: ReplicaSet, replicas: int) -> Generator[simpy.Event, Any, None]:
        if rs.replicas == replicas:
            return

        def set_replicas(obj: ReplicaSet) -> None:
            obj.replicas = replicas
            obj.meta.generation += 1

        yield self.call(self.api.update, rs, set_replicas,
                        record=("scaled", "ScalingReplicaSet", f"Scaled {rs.meta.name} to {replicas}"))

    def _sync_status(self, d: Deployment, new: ReplicaSet, old: list[ReplicaSet]) -> Generator[simpy.Event, Any, None]:
        every = [new, *old]
        status = (sum(rs.status_replicas for rs in every), new.status_replicas,
                  sum(rs.ready_replicas for rs in every), sum(rs.available_replicas for rs in every))
        if status == (d.status_replicas, d.updated_replicas, d.ready_replicas, d.available_replicas):
            return

        def set_status(obj: Deployment) -> None:
            obj.status_replicas, obj.updated_replicas, obj.ready_replicas, obj.available_replicas = status

        yield self.call(self.api.update, d, set_status)


def _state(rs: ReplicaSet) -> RSState:
    return RSState(rs.meta.name, rs.replicas, rs.available_replicas, rs.meta.creation_time)
