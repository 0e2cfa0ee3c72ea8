"""Taint eviction controller: models pkg/controller/tainteviction/taint_eviction.go
(SeparateTaintEvictionController, GA in 1.34; Kubernetes 1.36).

Pods on a node with NoExecute taints are deleted: at once if some taint is not tolerated,
else when the shortest ``tolerationSeconds`` among the tolerations used runs out (never if
none of them sets it). Admission gives every pod 300 s for ``not-ready`` and
``unreachable`` (DefaultTolerationSeconds), so a dead node's pods go five minutes after it
is tainted. Taints removed before then cancel the eviction. The deletion is an ordinary
graceful delete: on a dead node the pod stays Terminating, but its ReplicaSet no longer
counts it and creates a replacement, which the scheduler keeps off the tainted node.

Worked example: a node tainted ``unreachable:NoExecute`` at t = 55 s; pod A has the
default 300 s toleration -> deleted at 355 s; pod B tolerates it for 30 s -> 85 s; pod C
tolerates it with no tolerationSeconds -> stays; pod D tolerates nothing -> 55 s.

Abstracted: the DisruptionTarget condition patched before the delete (the status write
is left out); the workers' hashing by node name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import Pod, Taint, Toleration
from sim.apiserver import CONTROLLER_MANAGER, DELETED, ApiServer
from sim.clock import call_later
from sim.controllers.nodeindex import PodNodeIndex
from sim.trace import Trace

__all__ = ["TaintEvictionController", "eviction_delay", "min_toleration_seconds", "no_execute_taints"]

REASON = "TaintManagerEviction"


def no_execute_taints(taints: Sequence[Taint]) -> tuple[Taint, ...]:
    """The NoExecute taints of a node, in order."""
    return tuple(t for t in taints if t.effect == "NoExecute")


def min_toleration_seconds(used: Sequence[Toleration]) -> float | None:
    """Shortest tolerationSeconds among the tolerations used (getMinTolerationTime).

    0 if none were used or one is <= 0; None (forever) if none sets a limit.
    """
    if not used:
        return 0.0
    limits = [t.toleration_seconds for t in used if t.toleration_seconds is not None]
    if any(s <= 0 for s in limits):
        return 0.0
    return min(limits) if limits else None


def eviction_delay(taints: Sequence[Taint], tolerations: Sequence[Toleration]) -> float | None:
    """Seconds until a pod on a node with these NoExecute taints is deleted; None: never.

    Each taint is matched by the first toleration that tolerates it (GetMatchingTolerations);
    one taint without a match means at once.
    """
    used = []
    for taint in taints:
        match = next((t for t in tolerations if t.tolerates(taint)), None)
        if match is None:
            return 0.0
        used.append(match)
    return min_toleration_seconds(used)


@dataclass(slots=True)
class _Work:
    created: float
    fire_at: float
    token: int


class TaintEvictionController:
    """Deletes pods from nodes whose NoExecute taints they do not (or no longer) tolerate."""

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, trace: Trace) -> None:
        self.env = env
        self.api = api
        self.informers = api.informers(CONTROLLER_MANAGER)
        self.client = client
        self.trace = trace
        self.pods = PodNodeIndex()
        self.tainted: dict[str, tuple[Taint, ...]] = {}  # node -> its NoExecute taints
        self.work: dict[tuple[str, str], _Work] = {}  # pod key -> scheduled eviction
        self.evictions = 0
        self._tokens = 0
        self.informers.watch("Node", self._on_nodes)
        self.informers.watch("Pod", self._on_pods)

    # ------------------------------------------------------------------ informers
    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        for etype, node in events:
            name = node.meta.name
            if etype == DELETED:
                self.tainted.pop(name, None)
                continue
            taints = no_execute_taints(node.taints)
            if taints == self.tainted.get(name, ()):
                continue
            if taints:
                self.tainted[name] = taints
            else:
                self.tainted.pop(name, None)
            self._handle_node(name, taints)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            if etype == DELETED:
                self.pods.observe(etype, pod)
                self._cancel(pod.meta.namespace, pod.meta.name)
            elif self.pods.observe(etype, pod):  # newly bound (tolerations never change here)
                taints = self.tainted.get(pod.node_name)
                if taints:
                    self._process(pod, taints)

    def _handle_node(self, name: str, taints: tuple[Taint, ...]) -> None:
        for pod in self.pods.pods_on(name):
            if taints:
                self._process(pod, taints)
            else:
                self._cancel(pod.meta.namespace, pod.meta.name)

    # ------------------------------------------------------------------ decisions
    def _process(self, pod: Pod, taints: tuple[Taint, ...]) -> None:
        """processPodOnNode: schedule, keep or cancel this pod's eviction."""
        key = (pod.meta.namespace, pod.meta.name)
        now = self.env.now
        delay = eviction_delay(taints, pod.spec.tolerations)
        if delay is None:
            self._cancel(*key)
            return
        start, trigger = now, now + delay
        existing = self.work.get(key)
        if delay == 0.0:
            self._cancel(*key)
        elif existing is not None:
            start = existing.created
            if start + delay < trigger:  # the one already scheduled stands
                return
            self._cancel(*key)
        self._tokens += 1
        self.work[key] = _Work(start, trigger, self._tokens)
        call_later(self.env, trigger - now, self._fire, key, self._tokens)

    def _cancel(self, namespace: str, name: str) -> None:
        if self.work.pop((namespace, name), None) is not None:
            self._record(namespace, name, "evictionCancelled", f"Cancelling deletion of Pod {namespace}/{name}")

    def _fire(self, key: tuple[str, str], token: int) -> None:
        work = self.work.get(key)
        if work is None or work.token != token:
            return
        del self.work[key]
        pod = self.api.store.get("Pod", *key)
        if pod is None:
            return
        self.evictions += 1
        self._record(*key, "evicted", f"Marking for deletion Pod {key[0]}/{key[1]}", pod.node_name)
        self.api.delete(self.client, pod)

    def _record(self, namespace: str, name: str, event: str, message: str, node: str = "") -> None:
        self.trace.record(self.env.now, "Pod", namespace, name, event, node, REASON, message)
