"""The kube-scheduler process: models pkg/scheduler/scheduler.go and schedule_one.go.

Informers feed the queue (pending pods) and the cache (nodes, bound pods). Each cycle
pops one pod, runs the profile's filters and scores (taking simulated time proportional to
the nodes evaluated), assumes the pod on the chosen node and binds it asynchronously
through the API server under the scheduler's client QPS; the next cycle starts at once.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.objects import FAILED, SUCCEEDED, Node, Pod
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.config import SchedulerConfig
from sim.scheduler.framework import PodInfo, Profile, ScheduleResult, schedule_pod
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.registry import default_profile
from sim.scheduler.queue import QueuedPodInfo, SchedulingQueue
from sim.trace import Trace

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    """One kube-scheduler with its profiles, queue, cache and binding client."""

    def __init__(self, env: simpy.Environment, api: ApiServer, config: SchedulerConfig,
                 resources: list[str], rng: np.random.Generator, trace: Trace) -> None:
        self.env = env
        self.api = api
        self.config = config
        self.trace = trace
        self.rng = rng
        self.client = Client("kube-scheduler", config.qps, config.burst)
        self.table = NodeTable(resources)
        self.queue = SchedulingQueue(env, config)
        profile = default_profile(percentage_of_nodes_to_score=config.percentage_of_nodes_to_score)
        self.profiles: dict[str, Profile] = {profile.scheduler_name: profile}
        self._accounted: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        self._pod_infos: dict[int, PodInfo] = {}
        self._next_start = 0
        self.attempts = 0
        self.scheduled = 0
        self.busy_s = 0.0
        self.last_result: dict[int, ScheduleResult] = {}
        api.watch("Node", self._on_nodes)
        api.watch("Pod", self._on_pods)
        env.process(self._run())

    # ------------------------------------------------------------------ informers
    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        for etype, node in events:
            if etype == DELETED:
                self.table.remove_node(node.meta.name)
            elif etype == ADDED:
                self.table.add_node(node)
            else:
                self.table.update_node(node)
        self.queue.move_all_to_active_or_backoff("NodeChange")

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        freed = False
        for etype, pod in events:
            uid = pod.meta.uid
            gone = etype == DELETED or pod.phase in (SUCCEEDED, FAILED)
            if gone:
                freed |= self._release(uid)
                self.queue.delete(pod)
                self._pod_infos.pop(uid, None)
            elif pod.node_name:
                if uid not in self._accounted:
                    self._account(pod, pod.node_name)
                self.queue.delete(pod)
            elif (pod.spec.scheduler_name in self.profiles and not pod.terminating
                  and uid not in self._accounted):  # IsAssumedPod: ignore updates while binding
                self.queue.add(pod)
        if freed:
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")

    def _pod_info(self, pod: Pod) -> PodInfo:
        info = self._pod_infos.get(pod.meta.uid)
        if info is None:
            vec, nonzero, unknown = self.table.request_vector(pod)
            info = self._pod_infos[pod.meta.uid] = PodInfo(pod, vec, nonzero, unknown)
        return info

    def _account(self, pod: Pod, node_name: str) -> None:
        row = self.table.index.get(node_name)
        if row is None:
            return
        info = self._pod_info(pod)
        self.table.assume(row, info.request, info.nonzero)
        self._accounted[pod.meta.uid] = (row, info.request, info.nonzero)

    def _release(self, uid: int) -> bool:
        entry = self._accounted.pop(uid, None)
        if entry is None:
            return False
        self.table.forget(*entry)
        return True

    # ------------------------------------------------------------------ the loop
    def _run(self):  # type: ignore[no-untyped-def]
        while True:
            queued: QueuedPodInfo = yield self.queue.pop()
            pod = queued.pod
            if not self.api.store.exists(pod) or pod.node_name or pod.terminating:
                self.queue.done(pod)
                continue
            cycle = self.queue.scheduling_cycle
            profile = self.profiles[pod.spec.scheduler_name]
            info = self._pod_info(pod)
            n = max(self.table.n, 1)
            result = schedule_pod(profile, info, self.table, self._next_start, self.rng)
            self._next_start = (self._next_start + result.evaluated) % n
            self.attempts += 1
            cost = self.config.cycle_base + self.config.per_node_cost * result.evaluated
            self.busy_s += cost
            yield self.env.timeout(cost)
            if result.node_row >= 0 and self.api.store.exists(pod) and not pod.terminating:
                self._assume_and_bind(queued, result.node_row)
            else:
                self._unschedulable(queued, result, cycle)

    def _assume_and_bind(self, queued: QueuedPodInfo, row: int) -> None:
        pod = queued.pod
        node: Node = self.table.nodes[row]
        self._account(pod, node.meta.name)
        self.queue.done(pod)
        self.scheduled += 1
        self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "scheduled",
                          node.meta.name, "Scheduled", f"attempts={queued.attempts}")

        def bound(ok: bool) -> None:
            if ok or pod.node_name == node.meta.name:
                return
            self._release(pod.meta.uid)  # ForgetPod: the binding failed
            if self.api.store.exists(pod) and not pod.node_name:
                self.queue.add_backoff(queued)

        self.api.bind(self.client, pod, node.meta.name, bound)

    def _unschedulable(self, queued: QueuedPodInfo, result: ScheduleResult, cycle: int) -> None:
        pod = queued.pod
        message = result.message or "pod was deleted or changed during its cycle"
        self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "failedScheduling",
                          "", "FailedScheduling", message)
        self.queue.add_unschedulable(queued, cycle)
        if pod.reason != "Unschedulable" or pod.message != message:
            def set_condition(p: Pod) -> None:
                p.reason, p.message = "Unschedulable", message
            self.api.update(self.client, pod, set_condition)

    # ------------------------------------------------------------------ explain
    def explain(self, pod: Pod) -> ScheduleResult:
        """Re-run the filters and scores for ``pod`` on the current cache, with per-plugin scores."""
        profile = self.profiles[pod.spec.scheduler_name]
        vec, nonzero, unknown = self.table.request_vector(pod)
        return schedule_pod(profile, PodInfo(pod, vec, nonzero, unknown), self.table, 0,
                            np.random.default_rng(0), explain=True)
