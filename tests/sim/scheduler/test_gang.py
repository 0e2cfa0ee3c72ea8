"""Coscheduling (sim/scheduler/gang.py), after kubernetes-sigs/scheduler-plugins
pkg/coscheduling/coscheduling_test.go and core/core_test.go.

Unit tests drive the plugin through a small fake framework handle; scenario tests run the
real scheduler: the training deadlock under the default scheduler, its cure with gang
scheduling, a gang that times out at Permit, and a gang profile mixed with the default one.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from builders import make_pod

from sim import run
from sim.api.manifests import POD_GROUP_LABEL
from sim.api.objects import ObjectMeta, Pod, PodGroup
from sim.api.store import Store
from sim.apiserver import ADDED, DELETED
from sim.scenario import load_scenario, scenario_from_text
from sim.scheduler.framework import Code, CycleState, PodInfo, ScheduleResult
from sim.scheduler.gang import Coscheduling
from sim.scheduler.plugins.args import CoschedulingArgs
from sim.scheduler.queue import QueuedPodInfo
from sim.scheduler.scheduler import WaitingPod

# ---------------------------------------------------------------------------- fake handle


class FakeHandle:
    """The parts of the Scheduler a Permit/PostFilter plugin uses; reject runs Unreserve."""

    def __init__(self, plugin: Coscheduling) -> None:
        self.env = SimpleNamespace(now=0.0)
        self.api = SimpleNamespace(store=Store())
        self.waiting: dict[int, WaitingPod] = {}
        self.allowed: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.activated: list[int] = []
        self.queue = SimpleNamespace(activate=self.activated.extend)
        self.plugin = plugin
        self.handlers: list[Any] = []
        plugin.bind_handle(self)

    def add_pod_handler(self, handler: Any) -> None:
        self.handlers.append(handler)

    def allow(self, uid: int, plugin: str) -> None:
        self.allowed.append(self.waiting.pop(uid).queued.pod.meta.name)

    def reject(self, uid: int, message: str) -> None:
        waiting = self.waiting.pop(uid, None)
        if waiting is not None:
            self.rejected.append((waiting.queued.pod.meta.name, message))
            self.plugin.unreserve(waiting.queued.pod, waiting.row)


def setup(min_member: int = 3, timeout: float | None = 10.0, pods: int = 3,
          args: CoschedulingArgs | None = None,
          created: float = 5.0) -> tuple[Coscheduling, FakeHandle, list[Pod]]:
    """A plugin whose informer has seen ``pods`` members of PodGroup ``default/g``."""
    plugin = Coscheduling(args)
    handle = FakeHandle(plugin)
    group = PodGroup(ObjectMeta("g", creation_time=created, uid=1), min_member, timeout)
    handle.api.store.add(group)
    members = [member(f"g-{i}", "g", uid=100 + i) for i in range(pods)]
    for handler in handle.handlers:
        handler([(ADDED, p) for p in members])
    return plugin, handle, members


def member(name: str, group: str = "", uid: int = 0, priority: int = 0) -> Pod:
    pod = make_pod(name).req({"nvidia.com/gpu": 1}).priority(priority).obj()
    pod.meta.uid = uid
    if group:
        pod.meta.labels[POD_GROUP_LABEL] = group
    return pod


def permit(plugin: Coscheduling, handle: FakeHandle, pod: Pod) -> tuple[Code, float, str]:
    """Permit as the scheduler runs it: a WAIT puts the pod among the waiting pods."""
    code, timeout, message = plugin.permit(CycleState(), pod, 0)
    if code == Code.WAIT:
        waiting = WaitingPod(QueuedPodInfo(pod, 0.0), 0, 1, {plugin.name}, timeout)
        handle.waiting[pod.meta.uid] = waiting
    return code, timeout, message


def post_filter(plugin: Coscheduling, pod: Pod) -> tuple[int | None, str]:
    gen = plugin.post_filter(CycleState(), PodInfo(pod, None, None, []), ScheduleResult())  # type: ignore[arg-type]
    with pytest.raises(StopIteration) as done:
        next(gen)
    return done.value.value


# ---------------------------------------------------------------------------- QueueSort


def test_sort_key_orders_priority_then_group_time_then_group_name() -> None:
    plugin, handle, _ = setup(created=5.0)
    store = handle.api.store
    store.add(PodGroup(ObjectMeta("early", creation_time=1.0, uid=2), 2))
    store.add(PodGroup(ObjectMeta("also-5s", creation_time=5.0, uid=3), 2))
    infos = {
        "g-z": QueuedPodInfo(member("z", "g"), timestamp=0.5),
        "g-a": QueuedPodInfo(member("a", "g"), timestamp=9.0),
        "early": QueuedPodInfo(member("e", "early"), timestamp=9.0),
        "also-5s": QueuedPodInfo(member("b", "also-5s"), timestamp=0.0),
        "high": QueuedPodInfo(member("h", "g", priority=10), timestamp=9.0),
        "plain": QueuedPodInfo(member("p"), timestamp=3.0),
    }
    order = sorted(infos, key=lambda k: plugin.sort_key(infos[k]))
    # Priority first; then time (the group's creation, a plain pod's enqueue time); groups
    # created together by name, and a group's own pods by pod name whatever their enqueue time.
    assert order == ["high", "early", "plain", "also-5s", "g-a", "g-z"]


def test_a_failed_group_sorts_by_its_failure_time() -> None:
    plugin, handle, pods = setup(created=5.0)
    handle.api.store.add(PodGroup(ObjectMeta("other", creation_time=8.0, uid=2), 2))
    mine, theirs = QueuedPodInfo(pods[0], 0.0), QueuedPodInfo(member("o", "other"), 0.0)
    assert plugin.sort_key(mine) < plugin.sort_key(theirs)
    handle.env.now = 20.0
    post_filter(plugin, pods[0])  # nothing assigned: the group is rejected and marked failed
    assert plugin.sort_key(mine) > plugin.sort_key(theirs)


def test_pods_without_a_group_keep_priority_order() -> None:
    plugin, _, _ = setup()
    first, later = QueuedPodInfo(member("b"), 1.0), QueuedPodInfo(member("a"), 2.0)
    important = QueuedPodInfo(member("c", priority=5), 3.0)
    ranked = sorted([later, first, important], key=plugin.sort_key)
    assert [q.pod.meta.name for q in ranked] == ["c", "b", "a"]


# ---------------------------------------------------------------------------- PreFilter


def test_pre_filter_needs_min_member_pods_in_the_group() -> None:
    plugin, handle, pods = setup(min_member=4, pods=3)
    info = PodInfo(pods[0], None, None, [])  # type: ignore[arg-type]
    assert plugin.pre_filter(CycleState(), info, None) == (
        "pre-filter pod g-0 cannot find enough sibling pods, "
        "current pods number: 3, minMember of group: 4")
    for handler in handle.handlers:
        handler([(ADDED, member("g-3", "g", uid=200))])
    assert plugin.pre_filter(CycleState(), info, None) is None
    for handler in handle.handlers:
        handler([(DELETED, member("g-3", "g", uid=200))])
    assert "current pods number: 3" in (plugin.pre_filter(CycleState(), info, None) or "")


def test_pre_filter_ignores_pods_without_a_group_or_podgroup() -> None:
    plugin, _, _ = setup()
    for pod in (member("plain"), member("orphan", "no-such-group")):
        assert plugin.pre_filter(CycleState(), PodInfo(pod, None, None, []), None) is None  # type: ignore[arg-type]


def test_pre_filter_rejects_a_group_backing_off_after_a_failure() -> None:
    plugin, handle, pods = setup(args=CoschedulingArgs(pod_group_backoff_seconds=30))
    info = PodInfo(pods[0], None, None, [])  # type: ignore[arg-type]
    handle.env.now = 100.0
    post_filter(plugin, pods[0])
    assert plugin.pre_filter(CycleState(), info, None) == "podGroup default/g failed recently"
    handle.env.now = 130.0
    assert plugin.pre_filter(CycleState(), info, None) is None


# ---------------------------------------------------------------------------- Permit


def test_permit_waits_until_min_member_then_allows_the_waiting_siblings() -> None:
    plugin, handle, pods = setup(min_member=3, timeout=10.0)
    assert permit(plugin, handle, pods[0]) == (Code.WAIT, 10.0, "")
    assert sorted(handle.activated) == [101, 102]  # the first waiter activates its siblings
    assert permit(plugin, handle, pods[1]) == (Code.WAIT, 10.0, "")
    assert len(handle.activated) == 2  # only the first waiter does
    assert permit(plugin, handle, pods[2]) == (Code.SUCCESS, 0.0, "")
    assert sorted(handle.allowed) == ["g-0", "g-1"]
    assert not handle.waiting
    assert plugin.assigned_count("default/g") == 3


def test_permit_timeout_is_the_groups_else_the_plugins() -> None:
    plugin, handle, pods = setup(timeout=None)
    assert permit(plugin, handle, pods[0])[1] == 60.0  # permitWaitingTimeSeconds default
    fifteen = CoschedulingArgs(permit_waiting_time_seconds=15)
    plugin, handle, pods = setup(timeout=None, args=fifteen)
    assert permit(plugin, handle, pods[0])[1] == 15.0
    plugin, handle, pods = setup(timeout=7.0, args=fifteen)
    assert permit(plugin, handle, pods[0])[1] == 7.0


def test_permit_without_group_succeeds_and_without_podgroup_fails() -> None:
    plugin, handle, _ = setup()
    assert permit(plugin, handle, member("plain", uid=7)) == (Code.SUCCESS, 0.0, "")
    assert permit(plugin, handle, member("lost", "missing", uid=8)) == (Code.UNSCHEDULABLE, 0.0,
                                                                        "PodGroup not found")


def test_unreserve_rejects_every_waiting_sibling() -> None:
    """A waiter that times out is unreserved; the gang lets go of all it holds."""
    plugin, handle, pods = setup(min_member=4, pods=4)
    for pod in pods[:3]:
        assert permit(plugin, handle, pod)[0] == Code.WAIT
    handle.env.now = 10.0
    timed_out = "rejected due to timeout after waiting 10s at plugin Coscheduling"
    handle.reject(pods[0].meta.uid, timed_out)
    assert handle.rejected == [
        ("g-0", timed_out),
        ("g-1", "rejection in Unreserve"), ("g-2", "rejection in Unreserve")]
    assert not handle.waiting
    assert plugin.assigned_count("default/g") == 0


# ---------------------------------------------------------------------------- PostFilter


def test_post_filter_rejects_the_waiting_gang_unless_nearly_complete() -> None:
    plugin, handle, pods = setup(min_member=4, pods=4)
    for pod in pods[:2]:
        permit(plugin, handle, pod)
    assert post_filter(plugin, pods[2]) == (
        None, "PodGroup default/g gets rejected due to Pod g-2 is unschedulable even after "
        "PostFilter")
    assert handle.rejected == [("g-0", "optimistic rejection in PostFilter"),
                               ("g-1", "optimistic rejection in PostFilter")]


def test_post_filter_keeps_a_gang_within_the_reject_percentage() -> None:
    quarter = CoschedulingArgs(pod_group_reject_percentage=25)
    plugin, handle, pods = setup(min_member=4, pods=4, args=quarter)
    for pod in pods[:3]:
        permit(plugin, handle, pod)
    assert post_filter(plugin, pods[3]) == (None, "")  # 1 of 4 missing = 25%: keep waiting
    assert not handle.rejected
    assert len(handle.waiting) == 3


def test_post_filter_without_group() -> None:
    plugin, _, _ = setup()
    assert post_filter(plugin, member("plain")) == (None, "can not find pod group")


# ---------------------------------------------------------------------------- scenarios


def _jobs(result: Any) -> pd.DataFrame:
    pods = result.pods()
    pods["job"] = pods["name"].str.rsplit("-", n=2).str[0]  # <job>-<index>-<suffix>
    return pods


def test_default_scheduler_deadlocks_two_training_jobs() -> None:
    """Each job gets some of the 8 GPUs, none gets all: no worker trains, half stay Pending."""
    result = run(load_scenario("scenarios/training-deadlock.yaml"))
    pods, events = _jobs(result), result.to_frame()
    assert pods["succeeded"].isna().all()
    assert (events["event"] == "trainingStarted").sum() == 0
    running = pods.groupby("job")["started"].count()
    assert running.sum() == 8
    assert ((running > 0) & (running < 8)).all(), running
    assert result.summary["pods_pending_at_end"] == 8


def test_gang_scheduling_runs_the_jobs_one_after_the_other() -> None:
    result = run(load_scenario("scenarios/training-gang.yaml"))
    pods = _jobs(result)
    assert pods["succeeded"].notna().all()
    assert len(pods) == 16
    by_job = pods.groupby("job").agg(first_start=("started", "min"), last_end=("succeeded", "max"),
                                     first_bound=("bound", "min"))
    first, second = by_job.sort_values("first_start").index
    assert by_job.loc[second, "first_bound"] > by_job.loc[first, "last_end"]
    assert by_job.loc[second, "first_start"] > by_job.loc[first, "last_end"]


GANG_TOO_BIG = """
name: gang-timeout
duration: 2m
cluster:
  nodePools:
  - {name: gpu, count: 1, capacity: {cpu: "8", memory: 32Gi, pods: 110, nvidia.com/gpu: 2}}
controlPlane:
  scheduler:
    profiles:
    - schedulerName: default-scheduler
      plugins: {multiPoint: {enabled: [{name: Coscheduling}]}}
      pluginConfig:
      - {name: Coscheduling, args: {podGroupRejectPercentage: 100}}
workloads:
- name: gang
  at: 5s
  manifests:
  - {apiVersion: scheduling.x-k8s.io/v1alpha1, kind: PodGroup, metadata: {name: g},
     spec: {minMember: 3, scheduleTimeoutSeconds: 20}}
""" + "".join(f"""
  - apiVersion: v1
    kind: Pod
    metadata: {{name: g-{i}, labels: {{scheduling.x-k8s.io/pod-group: g}}}}
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: pause, resources: {{limits: {{nvidia.com/gpu: 1}}}}}}]
""" for i in range(3))


def test_a_gang_that_cannot_complete_times_out_and_releases_its_node() -> None:
    """Two of three members fit; PostFilter may not reject (100%), so they hold the GPUs
    until the 20 s timeout, when the first waiter's rejection rejects its sibling too."""
    result = run(scenario_from_text(GANG_TOO_BIG))
    events = result.to_frame()
    waits = events[events["event"] == "waiting"]
    assert len(waits) >= 2
    messages = events["message"].astype(str)
    rejected = events[messages.str.contains("timeout after waiting 20s|rejection in Unreserve")]
    first_wait = waits["t"].min()
    first_batch = rejected[rejected["t"] < first_wait + 21]
    assert set(first_batch["message"]) == {
        "rejected due to timeout after waiting 20s at plugin Coscheduling",
        "rejection in Unreserve"}
    assert first_batch["t"].min() == pytest.approx(first_wait + 20, abs=0.5)
    assert (events["event"] == "bound").sum() == 0
    scheduler = result.simulation.scheduler
    gpu = scheduler.table.column["nvidia.com/gpu"]
    assert len(scheduler.waiting) <= 2
    if not scheduler.waiting:
        assert int(scheduler.table.requested[0, gpu]) == 0


MIXED_PROFILES = """
name: gang-beside-default
duration: 10m
cluster:
  nodePools:
  - {name: gpu, count: 1, capacity: {cpu: "16", memory: 64Gi, pods: 110, nvidia.com/gpu: 2}}
controlPlane:
  scheduler:
    profiles:
    - schedulerName: default-scheduler
    - schedulerName: gang-scheduler
      plugins: {multiPoint: {enabled: [{name: Coscheduling}]}}
workloads:
- name: podgroups
  manifests:
  - {apiVersion: scheduling.x-k8s.io/v1alpha1, kind: PodGroup,
     metadata: {name: a}, spec: {minMember: 2}}
  - {apiVersion: scheduling.x-k8s.io/v1alpha1, kind: PodGroup,
     metadata: {name: b}, spec: {minMember: 2}}
- name: jobs
  at: 5s
  behavior: {runDuration: 1m, rendezvous: {groupLabel: scheduling.x-k8s.io/pod-group, worldSize: 2}}
  manifests:
""" + "".join(f"""
  - apiVersion: v1
    kind: Pod
    metadata: {{name: {job}-{i}, labels: {{scheduling.x-k8s.io/pod-group: {job}}}}}
    spec:
      schedulerName: gang-scheduler
      restartPolicy: Never
      containers: [{{name: c, image: pause, resources: {{limits: {{nvidia.com/gpu: 1}}}}}}]
""" for i, job in [(0, "a"), (0, "b"), (1, "a"), (1, "b")]) + """
- name: web
  at: 5s
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: web},
     spec: {containers: [{name: c, image: pause}]}}
"""


def test_gang_profile_beside_the_default_profile() -> None:
    """Pods choose the gang profile by schedulerName; its queue sort orders the one queue, and
    a pod of the default profile (no group) is scheduled as usual."""
    result = run(scenario_from_text(MIXED_PROFILES))
    scheduler = result.simulation.scheduler
    assert scheduler.queue.sort_key == scheduler.profiles["gang-scheduler"].queue_sort.sort_key
    assert scheduler.profiles["default-scheduler"].queue_sort is None
    pods = _jobs(result).set_index("name")
    assert pods.loc["web", "started"] > 0
    jobs = pods.drop("web").groupby("job").agg(start=("started", "min"), end=("succeeded", "max"))
    assert jobs["end"].notna().all()
    first, second = jobs.sort_values("start").index
    assert jobs.loc[second, "start"] > jobs.loc[first, "end"]
