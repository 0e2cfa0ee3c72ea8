"""The scenario's driver: applies workloads and timeline actions through the API server.

Plays the part of a user with ``kubectl``: ``apply`` of each workload's manifests at its
time, then ``scale``, ``set image``, ``delete`` and ``rollout pause|resume|undo`` at theirs;
fault actions (node crashes, an etcd leader loss, ...) go to ``sim.faults.Faults`` instead of
the API server. ``rollout undo`` is sent as the Deployment's rollback request annotation,
which the Deployment controller serves (``pkg/controller/deployment/rollback.go``). Objects are copied from the
scenario before they are created, so one loaded scenario can drive many runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.manifests import template_with_image
from sim.api.objects import Deployment, ReplicaSet, StatefulSet
from sim.apiserver import ApiServer
from sim.controllers.deployment.util import ROLLBACK_TO
from sim.faults import FAULT_ACTIONS, Faults
from sim.scenario import (
    DeleteAction,
    PauseAction,
    ResumeAction,
    RollbackAction,
    ScaleAction,
    Scenario,
    SetImageAction,
)
from sim.trace import Trace

__all__ = ["Timeline", "fresh_copy"]

KUBECTL_QPS, KUBECTL_BURST = 50.0, 300  # kubectl's client-go defaults
Act = ScaleAction | SetImageAction | DeleteAction | RollbackAction | PauseAction | ResumeAction


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
        target = self.api.store.get(*action.target_key)
        self.trace.record(self.env.now, "Timeline", action.namespace, action.target, action.action,
                          "", "", _describe(action))
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
        else:
            self._set_image(target, action)

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
    return ""
