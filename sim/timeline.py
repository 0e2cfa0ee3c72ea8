"""The scenario's driver: applies workloads and timeline actions through the API server.

Plays the part of a user with ``kubectl``: ``apply`` of each workload's manifests at its
time, then ``scale``, ``set image``, ``patch``, ``delete``, ``rollout pause|resume|undo``,
``cordon``, ``uncordon`` and ``drain`` (sim/drain.py) at theirs; fault actions (node crashes, an
etcd leader loss, ...) go to ``sim.faults.Faults`` instead of the API server. ``rollout undo`` is
sent as the Deployment's rollback request annotation, which the Deployment controller serves
(``pkg/controller/deployment/rollback.go``). Objects are copied from the scenario before they are
created, so one loaded scenario can drive many runs.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.manifests import template_with_image
from sim.api.objects import Deployment, ReplicaSet, StatefulSet
from sim.api.patch import apply_patch
from sim.apiserver import ApiServer
from sim.clock import call_later
from sim.controllers.deployment.util import ROLLBACK_TO
from sim.drain import Drain, cordon
from sim.faults import FAULT_ACTIONS, POOL_LABEL, Faults
from sim.scenario import (
    CordonAction,
    DeleteAction,
    DrainAction,
    PatchAction,
    PauseAction,
    ResumeAction,
    RollbackAction,
    ScaleAction,
    Scenario,
    SetImageAction,
    UncordonAction,
)
from sim.trace import Trace

__all__ = ["Timeline", "fresh_copy"]

KUBECTL_QPS, KUBECTL_BURST = 50.0, 300  # kubectl's client-go defaults
Act = (ScaleAction | SetImageAction | DeleteAction | RollbackAction | PauseAction | ResumeAction | PatchAction
       | CordonAction | UncordonAction | DrainAction)


def fresh_copy(obj: Any) -> Any:
    """A new object with its own metadata and status; frozen specs are shared."""
    meta = dataclasses.replace(obj.meta, labels=dict(obj.meta.labels), annotations=dict(obj.meta.annotations))
    return dataclasses.replace(obj, meta=meta)


class Timeline:
    """Creates the scenario's objects and performs its actions at their times."""

    def __init__(self, env: simpy.Environment, api: ApiServer, scenario: Scenario, trace: Trace,
                 faults: Faults | None = None) -> None:
        self.env = env
        self.api = api
        self.trace = trace
        self.faults = faults
        self.client = Client("kubectl", KUBECTL_QPS, KUBECTL_BURST)
        self.behaviors = {w.name: w.behavior.to_object(w.name) for w in scenario.workloads}
        env.process(self._run(scenario))

    def _run(self, scenario: Scenario):  # type: ignore[no-untyped-def]
        steps: list[tuple[float, int, Any]] = [(at, i, obj) for i, (at, obj) in enumerate(scenario.objects)]
        steps += [(a.at, len(steps) + i, a) for i, a in enumerate(scenario.timeline)]
        for at, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            if isinstance(step, FAULT_ACTIONS):
                if self.faults is not None:
                    self.faults.inject(step)
            elif isinstance(step, Act):
                self._act(step)
            else:
                self.api.create(self.client, fresh_copy(step))

    def _act(self, action: Act) -> None:
        namespace = action.target_key[1]
        self.trace.record(self.env.now, "Timeline", namespace, action.target, action.action,
                          "", "", _describe(action))
        if isinstance(action, CordonAction | UncordonAction | DrainAction):
            self._node_action(action, self._nodes_of(action))
            return
        target = self.api.store.get(*action.target_key)
        if target is None:
            self.trace.record(self.env.now, "Timeline", action.namespace, action.target, "skipped",
                              "", "NotFound", f"{action.target} does not exist")
            return
        if isinstance(action, DeleteAction):
            self.api.delete(self.client, target)
        elif isinstance(action, ScaleAction):
            self.api.update(self.client, target, lambda obj: _scale(obj, action.replicas))
        elif isinstance(action, PauseAction | ResumeAction):
            self.api.update(self.client, target, lambda obj: _pause(obj, isinstance(action, PauseAction)))
        elif isinstance(action, RollbackAction):
            self.api.update(self.client, target, lambda obj: _request_rollback(obj, action.to_revision or 0))
        elif isinstance(action, PatchAction):
            self.api.update(self.client, target, apply_patch(action.patch),
                            record=("patched", "", f"{action.target} patched"))
        else:
            self._set_image(target, action)

    def _nodes_of(self, action: CordonAction | UncordonAction | DrainAction) -> list[str]:
        """node/<name>, or every node of nodepool/<pool> now (an autoscaled pool may have grown)."""
        kind, _, name = action.target_key
        if kind == "Node":
            return [name]
        nodes = [n.meta.name for n in self.api.store.list("Node") if n.meta.labels.get(POOL_LABEL) == name]
        return sorted(nodes, key=lambda n: (len(n), n))  # gpu-2 before gpu-10

    def _node_action(self, action: CordonAction | UncordonAction | DrainAction, nodes: list[str]) -> None:
        """Cordon/uncordon every node now; drain them one after another."""
        if not isinstance(action, DrainAction):
            for name in nodes:
                node = self.api.store.get("Node", "", name)
                if node is None:
                    self.trace.record(self.env.now, "Timeline", "", f"node/{name}", "skipped", "", "NotFound",
                                      f"node/{name} does not exist")
                else:
                    cordon(self.api, self.client, node, isinstance(action, CordonAction))
            return
        if not nodes:
            return
        name, rest = nodes[0], nodes[1:]

        def drained(ok: bool) -> None:  # like `drain a && drain b`: a failed drain stops the rest
            if not ok:
                return
            if action.uncordon_after is None:
                self._node_action(action, rest)
            else:
                call_later(self.env, action.uncordon_after, uncordon_then_next)

        def uncordon_then_next() -> None:
            node = self.api.store.get("Node", "", name)
            if node is not None:
                cordon(self.api, self.client, node, False, lambda _ok: self._node_action(action, rest))

        grace = None if action.grace_period is None else float(action.grace_period)
        Drain(self.env, self.api, self.client, self.trace, name, action.timeout, grace, action.force,
              drained, action.ignore_daemon_sets).start()

    def _set_image(self, target: Deployment | StatefulSet, action: SetImageAction) -> None:
        behavior = target.template.spec.behavior
        raw, template = template_with_image(target.raw_template, action.container, action.image, behavior)

        def apply(obj: Deployment | StatefulSet) -> None:
            obj.raw_template, obj.template = raw, template
            obj.meta.generation += 1

        self.api.update(self.client, target, apply)


def _scale(obj: Deployment | ReplicaSet | StatefulSet, replicas: int) -> None:
    obj.replicas = replicas
    obj.meta.generation += 1


def _pause(obj: Deployment, paused: bool) -> None:
    if obj.paused != paused:
        obj.paused = paused
        obj.meta.generation += 1


def _request_rollback(obj: Deployment, revision: int) -> None:
    obj.meta.annotations[ROLLBACK_TO] = str(revision)  # 0: the previous revision


def _describe(action: Act) -> str:
    if isinstance(action, ScaleAction):
        return f"replicas={action.replicas}"
    if isinstance(action, SetImageAction):
        return f"image={action.image}"
    if isinstance(action, RollbackAction):
        return f"toRevision={action.to_revision}" if action.to_revision else "toRevision=previous"
    if isinstance(action, PatchAction):
        return json.dumps(action.patch, sort_keys=True)
    if isinstance(action, DrainAction) and action.timeout:
        return f"timeout={action.timeout:g}s"
    return ""
