"""The kube-scheduler process: models pkg/scheduler/scheduler.go and schedule_one.go.

Informers feed the queue (pending pods) and the cache (nodes, bound pods). Each cycle
pops one pod, runs its profile's PreFilter, Filter and Score plugins (taking simulated
time that grows with the nodes evaluated and scored), then either assumes the pod on the
chosen node, runs Reserve and Permit, and binds it asynchronously through the API server
under the scheduler's client QPS, or runs PostFilter (preemption) and records upstream's
FailedScheduling message. The next cycle starts as soon as this one has decided.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.objects import FAILED, SUCCEEDED, Node, Pod
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.clock import call_later, call_urgent
from sim.config import SchedulerConfig
from sim.rng import BoundedDraws
from sim.scheduler.framework import Code, PodInfo, Profile, ScheduleResult, schedule_pod
from sim.scheduler.nodetable import NodeTable, PodEntry
from sim.scheduler.plugins.registry import build_profile
from sim.scheduler.queue import QueuedPodInfo, SchedulingQueue
from sim.scheduler.timing import cycle_cost
from sim.trace import Trace

__all__ = ["Scheduler", "WaitingPod"]

log = logging.getLogger(__name__)
TOP_NODES_IN_DECISION = 3


@dataclass(slots=True)
class WaitingPod:
    """A pod held at Permit (e.g. a gang member waiting for its siblings)."""

    queued: QueuedPodInfo
    row: int
    cycle: int
    pending: set[str]
    timeout: float


class Scheduler:
    """One kube-scheduler with its profiles, queue, cache and binding client.

    It is also the framework handle plugins receive (``bind_handle``): they may read the
    cache (``table``), the API (``api``, ``client``), and allow or reject waiting pods.
    """

    def __init__(self, env: simpy.Environment, api: ApiServer, config: SchedulerConfig,
                 resources: list[str], rng: np.random.Generator, trace: Trace,
                 record_decisions: bool = True) -> None:
        self.env = env
        self.api = api
        self.config = config
        self.trace = trace
        # the tie-breaks' draws (numpy's integers(n), a block of outputs at a time): the
        # scheduler's stream serves nothing else
        self.rng = BoundedDraws(rng)
        self.record_decisions = record_decisions
        self.client = Client("kube-scheduler", config.qps, config.burst)
        self.table = NodeTable(resources)
        self.profiles: dict[str, Profile] = {}
        for profile_config in config.profiles:
            profile = build_profile(profile_config, config.percentage_of_nodes_to_score)
            profile.objects_revision = lambda store=api.store: store.non_pod_revision  # plans read the API objects
            self.profiles[profile.scheduler_name] = profile
        sort = next((p.queue_sort for p in self.profiles.values() if p.queue_sort is not None), None)
        self.queue = SchedulingQueue(env, config, sort_key=getattr(sort, "sort_key", None))
        self._pod_handlers: list[Callable[[list[tuple[str, Any]]], None]] = []
        for profile in self.profiles.values():
            for plugin in {id(p): p for p in (*profile.filters, *(p for p, _ in profile.scores),
                                              *profile.pre_filters, *profile.post_filters,
                                              *profile.permits, *profile.reserves)}.values():
                if hasattr(plugin, "bind_handle"):
                    plugin.bind_handle(self)
        self._accounted: dict[int, PodEntry] = {}
        self._pod_infos: dict[int, PodInfo] = {}
        self.waiting: dict[int, WaitingPod] = {}
        self.nominated: dict[int, int] = {}  # pod uid -> nominated node row
        self._next_start = 0
        self.attempts = 0
        self.scheduled = 0
        self.preemptions = 0
        self.busy_s = 0.0
        api.watch("Node", self._on_nodes)
        api.watch("Pod", self._on_pods)
        call_urgent(env, self._next)  # where a process started now would first pop

    # ------------------------------------------------------------------ informers
    def _on_nodes(self, events: list[tuple[str, Any]]) -> None:
        changed = False
        for etype, node in events:
            if etype == DELETED:
                self.table.remove_node(node.meta.name)
                changed = True
            elif etype == ADDED:
                self.table.add_node(node)
                changed = True
            else:  # a status update that only lists new images moves no pod
                changed |= self.table.update_node(node)
        if changed:
            self.queue.move_all_to_active_or_backoff("NodeChange")

    def add_pod_handler(self, handler: Callable[[list[tuple[str, Any]]], None]) -> None:
        """Let a plugin share the scheduler's pod informer (one SharedInformerFactory upstream):
        ``handler`` gets each batch of pod events just before the scheduler handles it."""
        self._pod_handlers.append(handler)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for handler in self._pod_handlers:
            handler(events)
        freed = False
        for etype, pod in events:
            uid = pod.meta.uid
            gone = etype == DELETED or pod.phase in (SUCCEEDED, FAILED)
            if gone or pod.node_name:
                self.nominated.pop(uid, None)
            if gone:
                freed |= self._release(uid)
                self.queue.delete(pod)
                self._pod_infos.pop(uid, None)
                if uid in self.waiting:  # RejectWaitingPod: Unreserve plugins run (a gang lets go)
                    self.reject(uid, "removed")
            elif pod.node_name:
                if uid not in self._accounted:
                    self._account(pod, pod.node_name)
                elif pod.terminating:  # PodTopologySpread stops counting it (upstream #87621)
                    self.table.mark_terminating(self._accounted[uid])
                self.queue.delete(pod)
            elif uid in self._accounted:
                # Assumed and binding in flight (or waiting at Permit): upstream skips updates
                # of assumed pods rather than queueing them again.
                continue
            elif pod.spec.scheduler_name in self.profiles and not pod.terminating:
                self.queue.add(pod)
        if freed:
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")

    def pod_info(self, pod: Pod) -> PodInfo:
        """PodInfo for ``pod`` (computed once per pod)."""
        info = self._pod_infos.get(pod.meta.uid)
        if info is None:
            vec, nonzero, unknown = self.table.request_vector(pod)
            info = self._pod_infos[pod.meta.uid] = PodInfo(pod, vec, nonzero, unknown)
        return info

    _pod_info = pod_info

    def _account(self, pod: Pod, node_name: str) -> None:
        row = self.table.index.get(node_name)
        if row is None:
            return
        info = self.pod_info(pod)
        self._accounted[pod.meta.uid] = self.table.assume(row, pod, info.request, info.nonzero)

    def _release(self, uid: int) -> bool:
        entry = self._accounted.pop(uid, None)
        if entry is None:
            return False
        self.table.forget(entry)
        return True

    # ------------------------------------------------------------------ the loop
    # One cycle after another, as callbacks on the clock (no SimPy process): the queue hands
    # a pod over (``_cycle``), the cycle's simulated cost passes (``_decide``), and the next
    # pop follows at once. Each step is one heap entry where a process's resume would be.
    def _next(self) -> None:
        self.queue.pop_to(self._cycle)

    def _cycle(self, queued: QueuedPodInfo) -> None:
        pod = queued.pod
        if not self.api.store.exists(pod) or pod.node_name or pod.terminating:
            self.queue.done(pod)
            self._next()
            return
        cycle = self.queue.scheduling_cycle
        profile = self.profiles[pod.spec.scheduler_name]
        info = self.pod_info(pod)
        n = max(self.table.n, 1)
        result = self._schedule_with_nominated(profile, info)
        self._next_start = (self._next_start + result.evaluated) % n
        self.attempts += 1
        cost = cycle_cost(self.config, pod.spec, result.evaluated, result.feasible)
        self.busy_s += cost
        call_later(self.env, cost, self._decide, queued, profile, info, result, cycle)

    def _decide(self, queued: QueuedPodInfo, profile: Profile, info: PodInfo, result: ScheduleResult,
                cycle: int) -> None:
        pod = queued.pod
        if not self.api.store.exists(pod) or pod.terminating:
            self.queue.done(pod)
        elif result.node_row >= 0:
            self._record_decision(queued, result)
            self._reserve_and_permit(queued, profile, result, cycle)
        else:
            self._drive(self._post_filter(queued, profile, info, result, cycle))
            return
        self._next()

    def _drive(self, steps: Generator[simpy.Event, Any, None], done: simpy.Event | None = None) -> None:
        """Run PostFilter, which may wait on SimPy events, as a process would (a failed event is
        thrown into it, and defused); then the next cycle."""
        while True:
            try:
                if done is None:
                    event = next(steps)
                elif done._ok:
                    event = steps.send(done._value)
                else:
                    done._defused = True
                    event = steps.throw(done._value)
            except StopIteration:
                self._next()
                return
            if event.callbacks is not None:  # not yet processed: resume when it is
                event.callbacks.append(lambda processed: self._drive(steps, processed))
                return
            done = event

    def _schedule_with_nominated(self, profile: Profile, info: PodInfo) -> ScheduleResult:
        """One cycle, with pods nominated by preemption holding their room for equal or higher
        priority, and the pod's own nominated node tried first (as upstream does)."""
        pod = info.pod
        held = self.hold_nominated(pod)
        try:
            own = self.nominated.get(pod.meta.uid)
            if own is not None and self.table.present[own]:
                result = schedule_pod(profile, info, self.table, own, self.rng, explain=self.record_decisions,
                                      only_rows=np.array([own]))
                if result.node_row >= 0:
                    return result
            return schedule_pod(profile, info, self.table, self._next_start, self.rng,
                                explain=self.record_decisions)
        finally:
            for entry in held:
                self.table.forget(entry)

    def hold_nominated(self, pod: Pod, row: int | None = None) -> list[Any]:
        """Assume every other pod nominated (to ``row``, or anywhere) with priority >= ``pod``'s on
        its node, as RunFilterPluginsWithNominatedPods does; the caller forgets the entries."""
        held = []
        for uid, at in self.nominated.items():
            if row is not None and at != row:
                continue
            other = self.api.store.by_uid(uid)
            if uid == pod.meta.uid or other is None or other.node_name or uid in self._accounted:
                continue  # already assumed or bound: its requests are counted on the node
            if other.spec.priority >= pod.spec.priority:
                other_info = self.pod_info(other)
                held.append(self.table.assume(at, other, other_info.request, other_info.nonzero))
        return held

    def nominate(self, pod: Pod, row: int) -> None:
        """Set status.nominatedNodeName after a successful preemption."""
        node = self.table.names[row]
        self.nominated[pod.meta.uid] = row
        self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "nominated", node,
                          "Preempting", f"nominated to {node}")

        def set_nominated(p: Pod) -> None:
            p.nominated_node_name = node
        self.api.update(self.client, pod, set_nominated)

    def clear_nomination(self, pod: Pod) -> None:
        """Drop a lower-priority pod's nomination to a node a preemptor now claims."""
        self.nominated.pop(pod.meta.uid, None)

        def clear(p: Pod) -> None:
            p.nominated_node_name = ""
        self.api.update(self.client, pod, clear)

    # ------------------------------------------------------------------ success path
    def _reserve_and_permit(self, queued: QueuedPodInfo, profile: Profile, result: ScheduleResult,
                            cycle: int) -> None:
        pod, row = queued.pod, result.node_row
        self.nominated.pop(pod.meta.uid, None)
        self._account(pod, self.table.names[row])
        self.queue.done(pod)
        for plugin in profile.reserves:
            plugin.reserve(result.state, pod, row)
        wait, pending, timeout = False, set(), 0.0
        for plugin in profile.permits:
            code, plugin_timeout, message = plugin.permit(result.state, pod, row)
            if code == Code.WAIT:
                wait, timeout = True, max(timeout, plugin_timeout)
                pending.add(plugin.name)
            elif code != Code.SUCCESS:
                self._unreserve(queued, profile, row)
                self.queue.readd(queued)  # it left the queue when assumed
                self._failed(queued, message or "rejected at Permit", cycle)
                return
        if wait:
            waiting = WaitingPod(queued, row, cycle, pending, timeout)
            self.waiting[pod.meta.uid] = waiting
            self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "waiting",
                              self.table.names[row], "WaitOnPermit", ", ".join(sorted(pending)))
            call_later(self.env, timeout, self._permit_timeout, waiting)
            return
        self._bind(queued, row)

    def _unreserve(self, queued: QueuedPodInfo, profile: Profile, row: int) -> None:
        self._release(queued.pod.meta.uid)
        for plugin in profile.reserves:
            if hasattr(plugin, "unreserve"):
                plugin.unreserve(queued.pod, row)

    def allow(self, uid: int, plugin: str) -> None:
        """A Permit plugin lets a waiting pod go on to binding."""
        waiting = self.waiting.get(uid)
        if waiting is None:
            return
        waiting.pending.discard(plugin)
        if not waiting.pending:
            del self.waiting[uid]
            self._bind(waiting.queued, waiting.row)

    def reject(self, uid: int, message: str) -> None:
        """A plugin rejects a waiting pod: it is unreserved and goes back to the queue."""
        waiting = self.waiting.pop(uid, None)
        if waiting is None:
            return
        pod = waiting.queued.pod
        self._unreserve(waiting.queued, self.profiles[pod.spec.scheduler_name], waiting.row)
        if self.api.store.exists(pod):
            self.queue.readd(waiting.queued)
            self._failed(waiting.queued, message, waiting.cycle)
        self.queue.move_all_to_active_or_backoff("PodRejectedAtPermit")

    def _permit_timeout(self, waiting: WaitingPod) -> None:
        if self.waiting.get(waiting.queued.pod.meta.uid) is waiting:
            plugins = ", ".join(sorted(waiting.pending))
            self.reject(waiting.queued.pod.meta.uid,
                        f"rejected due to timeout after waiting {waiting.timeout:g}s at plugin {plugins}")

    def _bind(self, queued: QueuedPodInfo, row: int) -> None:
        pod = queued.pod
        node: Node = self.table.nodes[row]
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

    # ------------------------------------------------------------------ failure path
    def _post_filter(self, queued: QueuedPodInfo, profile: Profile, info: PodInfo, result: ScheduleResult,
                     cycle: int):  # type: ignore[no-untyped-def]
        message = result.message
        for plugin in profile.post_filters:
            outcome = yield from plugin.post_filter(result.state, info, result)
            if outcome is not None:
                nominated, post_message = outcome
                if post_message:
                    message = f"{message} {post_message}"
                if nominated is not None:
                    self.preemptions += 1
                    break
        self._record_decision(queued, result, message)
        self._failed(queued, message, cycle)

    def _failed(self, queued: QueuedPodInfo, message: str, cycle: int) -> None:
        pod = queued.pod
        self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, "failedScheduling",
                          "", "FailedScheduling", message)
        self.queue.add_unschedulable(queued, cycle)
        if pod.reason != "Unschedulable" or pod.message != message:
            def set_condition(p: Pod) -> None:
                p.reason, p.message = "Unschedulable", message
            self.api.update(self.client, pod, set_condition)

    # ------------------------------------------------------------------ explain
    def _record_decision(self, queued: QueuedPodInfo, result: ScheduleResult, message: str = "") -> None:
        if not self.record_decisions:
            return
        pod = queued.pod
        record: dict[str, Any] = {"t": round(self.env.now, 6), "namespace": pod.meta.namespace,
                                  "pod": pod.meta.name, "attempt": queued.attempts,
                                  "node": self.table.names[result.node_row] if result.node_row >= 0 else "",
                                  "evaluated": result.evaluated, "feasible": result.feasible}
        if result.node_row < 0:
            record["message"] = message or result.message
            record["reasons"] = dict(sorted((result.reasons or {}).items()))
        elif result.scores is not None and result.candidates is not None:
            total = result.scores["total"]
            top = np.argsort(-total, kind="stable")[:TOP_NODES_IN_DECISION]
            record["top"] = [{"node": self.table.names[int(result.candidates[i])], "total": int(total[i]),
                              "plugins": {name: int(arr[i]) for name, arr in result.scores.items()
                                          if name != "total"}} for i in top]
        self.trace.decisions.append(json.dumps(record, sort_keys=True))

    def explain(self, pod: Pod) -> ScheduleResult:
        """Re-run the filters and scores for ``pod`` on the current cache, with per-plugin scores."""
        profile = self.profiles[pod.spec.scheduler_name]
        vec, nonzero, unknown = self.table.request_vector(pod)
        return schedule_pod(profile, PodInfo(pod, vec, nonzero, unknown), self.table, 0,
                            np.random.default_rng(0), explain=True)
