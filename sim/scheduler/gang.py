"""Gang scheduling: models kubernetes-sigs/scheduler-plugins pkg/coscheduling (coscheduling.go,
core/core.go; read at v0.35.4-devel-37-g903da7df).

A pod joins a gang with the label ``scheduling.x-k8s.io/pod-group: <name>``; the gang is the
``PodGroup`` of that name in the pod's namespace, and it may only run once ``minMember`` of
its pods hold a node. The plugin acts at five extension points:

* **QueueSort** (``sort_key``): higher priority first, then the group's creation time (or,
  once the group has failed, the time it last failed, so a stuck gang stops blocking the
  head of the queue), then the group's name, then the pod's ``namespace/name``. A gang's
  pods therefore leave the queue back to back. (Upstream compares pod names right after
  the time; comparing the group name first keeps two gangs created in the same instant
  apart whatever their pods are called.) Pods without a group sort by priority and their
  first attempt (or enqueue) time, i.e. PrioritySort.
* **PreFilter**: a pod is ``UnschedulableAndUnresolvable`` while its group has fewer pods
  than ``minMember`` ("cannot find enough sibling pods"), or while the group is backing off
  after a failure (only when ``podGroupBackoffSeconds`` > 0).
* **PostFilter**: when a member fits nowhere and the group is missing more than
  ``podGroupRejectPercentage`` of ``minMember``, every member waiting at Permit is rejected
  ("optimistic rejection in PostFilter") so the gang frees what it holds.
* **Permit**: the member is counted as assigned; below ``minMember`` it WAITs (for the
  group's ``scheduleTimeoutSeconds``, else ``permitWaitingTimeSeconds``) and the first
  waiter activates its siblings; the member that completes the quorum allows them all.
* **Unreserve**: a member that is unreserved (its wait timed out, or it was rejected)
  rejects all its waiting siblings ("rejection in Unreserve"): all or nothing.

The plugin indexes the pods of each group from the scheduler's pod informer, as upstream's
pod lister does. Upstream requires every profile of a scheduler to use the same
QueueSort, so kubesim has one queue: when a scenario mixes a Coscheduling profile with
others, the gang ``sort_key`` orders the whole queue (pods without a group keep priority
order). Not modelled: ``minResources`` (upstream's cluster-capacity pre-check and its
permitted-group cache) and scheduling gates in the quorum count.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from sim.api.manifests import POD_GROUP_LABEL
from sim.api.objects import Pod, PodGroup
from sim.apiserver import ADDED, DELETED
from sim.scheduler.framework import Code, CycleState, PodInfo, ScheduleResult
from sim.scheduler.plugins.args import CoschedulingArgs
from sim.scheduler.plugins.names import COSCHEDULING
from sim.scheduler.queue import QueuedPodInfo

__all__ = ["DEFAULT_WAIT_SECONDS", "Coscheduling", "group_full_name"]

DEFAULT_WAIT_SECONDS = 60.0  # util.DefaultWaitTime: no PodGroup timeout and no plugin arg


def group_full_name(pod: Pod) -> str:
    """``namespace/group`` from the pod's pod-group label, or "" when it has none."""
    name = pod.meta.labels.get(POD_GROUP_LABEL, "")
    return f"{pod.meta.namespace}/{name}" if name else ""


class Coscheduling:
    """All-or-nothing placement of the pods of a PodGroup (one instance per profile)."""

    name = COSCHEDULING

    def __init__(self, args: CoschedulingArgs | None = None) -> None:
        self.args = args or CoschedulingArgs()
        self.reject_threshold = self.args.pod_group_reject_percentage / 100.0
        self.handle: Any = None
        self._members: dict[str, dict[int, Pod]] = {}  # group -> its pods (the pod lister)
        self._assigned: dict[str, set[str]] = {}  # group -> names of pods assumed or bound
        self._last_failed: dict[str, float] = {}  # group -> when it last failed (queue order)
        self._backoff_until: dict[str, float] = {}  # group -> end of its PreFilter backoff
        self._rejecting: set[str] = set()  # groups whose waiting pods are being rejected now

    def bind_handle(self, handle: Any) -> None:
        """Receive the scheduler (framework handle) and share its pod informer."""
        self.handle = handle
        handle.add_pod_handler(self.on_pods)

    # ------------------------------------------------------------------ informer
    def on_pods(self, events: list[tuple[str, Any]]) -> None:
        """Index the pods of every group; bound pods seen on Add count as assigned."""
        for etype, pod in events:
            group = group_full_name(pod)
            if not group:
                continue
            if etype == DELETED:
                members = self._members.get(group, {})
                members.pop(pod.meta.uid, None)
                if not members:
                    self._members.pop(group, None)
                self._forget(group, pod.meta.name)
                continue
            self._members.setdefault(group, {})[pod.meta.uid] = pod
            if etype == ADDED and pod.node_name:
                self._assigned.setdefault(group, set()).add(pod.meta.name)

    def pod_group(self, pod: Pod) -> tuple[str, PodGroup | None]:
        """(``namespace/group``, the PodGroup or None if it does not exist)."""
        group = group_full_name(pod)
        if not group:
            return "", None
        name = group.split("/", 1)[1]
        return group, self.handle.api.store.get("PodGroup", pod.meta.namespace, name)

    def assigned_count(self, group: str) -> int:
        """How many of the group's pods are assumed (waiting or binding) or bound."""
        return len(self._assigned.get(group, ()))

    def _forget(self, group: str, pod_name: str) -> None:
        assigned = self._assigned.get(group)
        if assigned is not None:
            assigned.discard(pod_name)
            if not assigned:
                del self._assigned[group]

    # ------------------------------------------------------------------ QueueSort
    def sort_key(self, info: QueuedPodInfo) -> tuple[Any, ...]:
        """Priority, then group (or pod) time, then group name, then ``namespace/pod``."""
        pod = info.pod
        own = f"{pod.meta.namespace}/{pod.meta.name}"
        started = info.initial_attempt if info.initial_attempt is not None else info.timestamp
        group = group_full_name(pod)
        if not group:
            return (-pod.spec.priority, started, own, own)
        when = self._last_failed.get(group)
        if when is None:
            _, pg = self.pod_group(pod)
            when = pg.meta.creation_time if pg is not None else started
        return (-pod.spec.priority, when, group, own)

    # ------------------------------------------------------------------ PreFilter
    def pre_filter(self, state: CycleState, pod: PodInfo, table: Any) -> str | None:
        """None to go on, or why the pod cannot be scheduled at all right now."""
        group, pg = self.pod_group(pod.pod)
        if pg is None:
            return None
        if self._backoff_until.get(group, -math.inf) > self.handle.env.now:
            return f"podGroup {group} failed recently"
        count = len(self._members.get(group, ()))
        if pg.min_member - count > 0:
            return (f"pre-filter pod {pod.pod.meta.name} cannot find enough sibling pods, "
                    f"current pods number: {count}, minMember of group: {pg.min_member}")
        return None

    # ------------------------------------------------------------------ PostFilter
    def post_filter(self, state: CycleState, pod: PodInfo,
                    result: ScheduleResult) -> Generator[Any, Any, tuple[int | None, str]]:
        """A member fits nowhere: unless the gang is (almost) complete, reject its waiters."""
        if False:  # pragma: no cover - a generator like every PostFilter plugin
            yield
        group, pg = self.pod_group(pod.pod)
        if pg is None:
            return None, "can not find pod group"
        assigned = self.assigned_count(group)
        if assigned >= pg.min_member:
            return None, ""
        if (pg.min_member - assigned) / pg.min_member <= self.reject_threshold:
            return None, ""
        self._reject_waiting(group, "optimistic rejection in PostFilter")
        now = self.handle.env.now
        backoff = self.args.pod_group_backoff_seconds
        if backoff > 0 and len(self._members.get(group, ())) >= pg.min_member:
            self._backoff_until[group] = now + backoff
        self._last_failed[group] = now
        return None, (f"PodGroup {group} gets rejected due to Pod {pod.pod.meta.name} "
                      "is unschedulable even after PostFilter")

    # ------------------------------------------------------------------ Permit
    def permit(self, state: CycleState, pod: Pod, row: int) -> tuple[Code, float, str]:
        """SUCCESS once the quorum is met (allowing the waiters), else WAIT with a timeout."""
        group, pg = self.pod_group(pod)
        if not group:
            return Code.SUCCESS, 0.0, ""
        if pg is None:
            return Code.UNSCHEDULABLE, 0.0, "PodGroup not found"
        assigned = self._assigned.setdefault(group, set())
        assigned.add(pod.meta.name)
        if len(assigned) >= pg.min_member:
            self._last_failed.pop(group, None)
            for uid in self._waiting_in(group):
                self.handle.allow(uid, self.name)
            return Code.SUCCESS, 0.0, ""
        if len(assigned) == 1:
            self._activate_siblings(pod, group)
        return Code.WAIT, self.wait_seconds(pg), ""

    def wait_seconds(self, pg: PodGroup | None) -> float:
        """The group's scheduleTimeoutSeconds, else permitWaitingTimeSeconds, else 60 s."""
        if pg is not None and pg.schedule_timeout_seconds is not None:
            return float(pg.schedule_timeout_seconds)
        return float(self.args.permit_waiting_time_seconds or DEFAULT_WAIT_SECONDS)

    def _activate_siblings(self, pod: Pod, group: str) -> None:
        """The first member to wait pulls its siblings out of backoff/unschedulable."""
        siblings = [uid for uid in self._members.get(group, {}) if uid != pod.meta.uid]
        if siblings:
            self.handle.queue.activate(siblings)

    def _waiting_in(self, group: str) -> list[int]:
        return [uid for uid, waiting in self.handle.waiting.items()
                if group_full_name(waiting.queued.pod) == group]

    # ------------------------------------------------------------------ Reserve / Unreserve
    def reserve(self, state: CycleState, pod: Pod, row: int) -> None:
        """Nothing to do: members are counted at Permit."""

    def unreserve(self, pod: Pod, row: int) -> None:
        """A member lost its place (timeout, rejection, failed bind): reject the whole gang."""
        group, pg = self.pod_group(pod)
        if pg is None:
            return
        self._forget(group, pod.meta.name)
        if group in self._rejecting:
            return  # this plugin is already rejecting the group's waiters
        self._reject_waiting(group, "rejection in Unreserve")
        self._last_failed[group] = self.handle.env.now

    def _reject_waiting(self, group: str, message: str) -> None:
        self._rejecting.add(group)
        try:
            for uid in self._waiting_in(group):
                self.handle.reject(uid, message)
        finally:
            self._rejecting.discard(group)
