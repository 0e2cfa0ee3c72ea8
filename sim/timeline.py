"""The scenario's driver: applies workloads and timeline actions through the API server.

Plays the part of a user with ``kubectl``: ``apply`` of each workload's manifests at its
time, then ``scale``, ``set image`` and ``delete`` at theirs; fault actions (node crashes,
an etcd leader loss, ...) go to ``sim.faults.Faults`` instead of the API server. Objects are copied from the
scenario before they are created, so one loaded scenario can drive many runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.manifests import template_with_image
from sim.api.objects import Deployment, ReplicaSet
from sim.apiserver import ApiServer
from sim.faults import FAULT_ACTIONS, Faults
from sim.scenario import DeleteAction, ScaleAction, Scenario, SetImageAction
from sim.trace import Trace

__all__ = ["Timeline", "fresh_copy"]

KUBECTL_QPS, KUBECTL_BURST = 50.0, 300  # kubectl's client-go defaults


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
            elif isinstance(step, ScaleAction | SetImageAction | DeleteAction):
                self._act(step)
            else:
                self.api.create(self.client, fresh_copy(step))

    def _act(self, action: ScaleAction | SetImageAction | DeleteAction) -> None:
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
        else:
            self._set_image(target, action)

    def _set_image(self, target: Deployment, action: SetImageAction) -> None:
        behavior = target.template.spec.behavior
        raw, template = template_with_image(target.raw_template, action.container, action.image, behavior)

        def apply(obj: Deployment) -> None:
            obj.raw_template, obj.template = raw, template
            obj.meta.generation += 1

        self.api.update(self.client, target, apply)


def _scale(obj: Deployment | ReplicaSet, replicas: int) -> None:
    obj.replicas = replicas
    obj.meta.generation += 1


def _describe(action: ScaleAction | SetImageAction | DeleteAction) -> str:
    if isinstance(action, ScaleAction):
        return f"replicas={action.replicas}"
    if isinstance(action, SetImageAction):
        return f"image={action.image}"
    return ""
