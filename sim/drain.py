"""kubectl cordon / uncordon / drain: models staging/src/k8s.io/kubectl/pkg/drain (drain.go,
cordon.go, filters.go) and pkg/cmd/drain (Kubernetes 1.36).

``drain`` cordons the node (spec.unschedulable), lists its pods and filters them as kubectl
does: pods already finished are deleted, DaemonSet pods stop the drain unless
``ignore_daemon_sets`` (``--ignore-daemonsets``), which leaves them where they are (the
DaemonSet controller would recreate them anyway), pods without a controller stop it unless
``force`` is set (kubesim has no mirror or emptyDir pods to skip). It then evicts
every pod at once, each on its own: a 429 refusal (the PDB allows no disruption yet) is
retried every 5 s; an accepted eviction is followed by polling every second until the pod is
gone. A global ``timeout`` (0: none) ends the drain with an error, leaving the node cordoned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import FAILED, SUCCEEDED, Node, Pod
from sim.apiserver import ApiServer
from sim.clock import call_later
from sim.eviction import EvictionResult, evict
from sim.trace import Trace

__all__ = ["EVICTION_RETRY_INTERVAL", "POLL_INTERVAL", "Drain", "cordon", "drain_filter"]

EVICTION_RETRY_INTERVAL = 5.0  # kubectl: "error when evicting pods ... (will retry after 5s)"
POLL_INTERVAL = 1.0  # waitForDelete's poll interval


def cordon(api: ApiServer, client: Client, node: Node, unschedulable: bool = True,
           on_done: Callable[[bool], None] | None = None) -> None:
    """PATCH spec.unschedulable (kubectl cordon / uncordon); recorded when it commits."""
    def mutate(obj: Node) -> None:
        obj.unschedulable = unschedulable
    event = "cordoned" if unschedulable else "uncordoned"
    api.update(client, node, mutate, on_done, record=(event, "", f"node {node.meta.name} {event}"))


def drain_filter(pods: list[Pod], force: bool, ignore_daemon_sets: bool = False) -> tuple[list[Pod], list[str]]:
    """(pods to evict, errors) as GetPodsForDeletion: finished pods are deleted too; a
    DaemonSet's pod is an error unless ``ignore_daemon_sets`` (then it stays); a pod with no
    controller is an error unless ``force``."""
    daemon, unreplicated, out = [], [], []
    for pod in pods:
        finished = pod.phase in (SUCCEEDED, FAILED)
        if pod.meta.owner is not None and pod.meta.owner.kind == "DaemonSet" and not finished:
            if not ignore_daemon_sets:
                daemon.append(f"{pod.meta.namespace}/{pod.meta.name}")
            continue
        if pod.meta.owner is None and not finished and not force:
            unreplicated.append(f"{pod.meta.namespace}/{pod.meta.name}")
        out.append(pod)
    errors = []
    if daemon:
        errors.append(f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {', '.join(daemon)}")
    if unreplicated:
        errors.append(f"cannot delete Pods that declare no controller (use --force to override): "
                      f"{', '.join(unreplicated)}")
    return ([], errors) if errors else (out, [])


class Drain:
    """One ``kubectl drain <node>``; ``on_finished(ok)`` is called when it ends."""

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, trace: Trace, node_name: str,
                 timeout: float = 0.0, grace: float | None = None, force: bool = False,
                 on_finished: Callable[[bool], None] | None = None, ignore_daemon_sets: bool = False) -> None:
        self.env = env
        self.api = api
        self.client = client
        self.trace = trace
        self.node_name = node_name
        self.deadline = env.now + timeout if timeout > 0 else float("inf")
        self.grace = grace
        self.force = force
        self.ignore_daemon_sets = ignore_daemon_sets
        self.on_finished = on_finished
        self._pending = 0
        self.errors: list[str] = []

    def start(self) -> None:
        """Cordon, then evict the node's pods."""
        node = self.api.store.get("Node", "", self.node_name)
        if node is None:
            self._finish([f'nodes "{self.node_name}" not found'])
            return
        cordon(self.api, self.client, node, True, lambda _ok: self._evict_all())

    def _evict_all(self) -> None:
        pods = [p for p in self.api.store.list("Pod") if p.node_name == self.node_name]
        pods, errors = drain_filter(sorted(pods, key=lambda p: (p.meta.namespace, p.meta.name)), self.force,
                                    self.ignore_daemon_sets)
        if errors or not pods:
            self._finish(errors)
            return
        self._pending = len(pods)
        for pod in pods:
            self._evict(pod)

    def _evict(self, pod: Pod) -> None:
        if self.env.now >= self.deadline:
            self._pod_done(f'error when evicting pod "{pod.meta.name}": global timeout reached')
            return
        evict(self.api, self.client, pod, lambda result: self._evicted(pod, result), self.grace)

    def _evicted(self, pod: Pod, result: EvictionResult) -> None:
        if result.ok:
            self._wait_for_delete(pod)
        elif result.code == 404:
            self._pod_done(None)
        elif result.code == 429:
            self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "evictionRefused",
                              pod.node_name, "TooManyRequests",
                              f"error when evicting pods/{pod.meta.name} (will retry after 5s): {result.message}")
            call_later(self.env, EVICTION_RETRY_INTERVAL, self._evict, pod)
        else:
            self._pod_done(f'error when evicting pod "{pod.meta.name}": {result.message}')

    def _wait_for_delete(self, pod: Pod) -> None:
        current: Any = self.api.store.get("Pod", pod.meta.namespace, pod.meta.name)
        if current is None or current.meta.uid != pod.meta.uid:
            self._pod_done(None)
        elif self.env.now >= self.deadline:
            self._pod_done(f'error when waiting for pod "{pod.meta.name}" terminating: global timeout reached')
        else:
            call_later(self.env, POLL_INTERVAL, self._wait_for_delete, pod)

    def _pod_done(self, error: str | None) -> None:
        if error is not None:
            self.errors.append(error)
        self._pending -= 1
        if self._pending == 0:
            self._finish(self.errors)

    def _finish(self, errors: list[str]) -> None:
        ok = not errors
        self.trace.record(self.env.now, "Node", "", self.node_name, "drained" if ok else "drainFailed",
                          "", "" if ok else "DrainError", "; ".join(errors) or f"node/{self.node_name} drained")
        if self.on_finished is not None:
            self.on_finished(ok)
