"""The scheduling queue: backoff, PrioritySort, unschedulablePods and cluster-event moves.

Follows pkg/scheduler/backend/queue (scheduling_queue.go, active_queue.go,
backoff_queue.go) and CALIBRATION.md 1.9: backoff min(1s * 2^(attempts-1), 10s); activeQ
by priority then enqueue time; a failed pod waits in unschedulablePods until a cluster event
moves it to backoffQ (still backing off) or activeQ. With SchedulerPopFromBackoffQ the
backoff expiry ``Timestamp + backoff`` (Timestamp = when the attempt failed) is truncated to
a whole second, and a pod is still backing off while that second is >= the current one.
"""

from __future__ import annotations

import pytest
import simpy
from builders import make_pod

from sim import run
from sim.config import SchedulerConfig
from sim.scenario import scenario_from_text
from sim.scheduler.queue import SchedulingQueue, backoff_duration


@pytest.mark.parametrize(("attempts", "want"), [
    (0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (6, 10.0), (30, 10.0),
], ids=lambda v: str(v))
def test_backoff_duration_defaults(attempts, want) -> None:
    """podInitialBackoffSeconds 1 doubling to podMaxBackoffSeconds 10: 1, 2, 4, 8, 10, 10 s."""
    assert backoff_duration(attempts, 1.0, 10.0) == want


def test_backoff_duration_custom() -> None:
    """Other initial/max values follow the same doubling and cap."""
    assert [backoff_duration(a, 0.5, 3.0) for a in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


# ------------------------------------------------------------------ helpers

def new_queue() -> tuple[simpy.Environment, SchedulingQueue]:
    env = simpy.Environment()
    return env, SchedulingQueue(env, SchedulerConfig())


def pop(queue: SchedulingQueue):
    event = queue.pop()
    assert event.triggered, "expected a pod to be ready"
    return event.value


def fail(env: simpy.Environment, queue: SchedulingQueue, name: str, at: float, attempts: int = 1):
    """Add a pod, pop it and report it unschedulable at time ``at`` after ``attempts`` tries."""
    env.run(until=at)
    pod = make_pod(name).obj()
    pod.meta.uid = hash(name) & 0xFFFFFF
    queue.add(pod)
    info = pop(queue)
    info.attempts = attempts
    queue.add_unschedulable(info, queue.scheduling_cycle)
    return info


# ------------------------------------------------------------------ activeQ order

def test_priority_sort_order() -> None:
    """Higher priority first; equal priority in enqueue order."""
    env, queue = new_queue()
    for t, (name, prio) in enumerate([("low", 0), ("high-early", 10), ("mid", 5), ("high-late", 10)]):
        env.run(until=t + 0.5)
        pod = make_pod(name).priority(prio).obj()
        pod.meta.uid = t + 1
        queue.add(pod)
    assert [pop(queue).pod.meta.name for _ in range(4)] == ["high-early", "high-late", "mid", "low"]


def test_pop_waits_for_a_pod() -> None:
    """pop() on an empty queue yields the next pod once the instant's adds are in."""
    env, queue = new_queue()
    event = queue.pop()
    assert not event.triggered
    pod = make_pod("p").obj()
    pod.meta.uid = 1
    queue.add(pod)
    env.run(until=0.001)
    assert event.triggered
    assert event.value.pod is pod
    assert event.value.attempts == 1


def test_pods_added_together_compete_on_priority() -> None:
    """A waiting scheduler gets the highest-priority pod of those added at the same instant."""
    env, queue = new_queue()
    event = queue.pop()
    low, high = make_pod("low").obj(), make_pod("high").priority(100).obj()
    low.meta.uid, high.meta.uid = 1, 2
    queue.add(low)
    queue.add(high)
    env.run(until=0.001)
    assert event.value.pod is high


# ------------------------------------------------------------------ unschedulablePods

def test_unschedulable_waits_for_cluster_event() -> None:
    """A rejected pod stays in unschedulablePods until an event moves it to activeQ."""
    env, queue = new_queue()
    fail(env, queue, "p", at=0.5)
    env.run(until=20)
    assert queue.pending_counts == (0, 0, 1)  # no event, no retry (short of the 5 min flush)
    assert queue.move_all_to_active_or_backoff("NodeAdd") == 1
    assert queue.pending_counts == (1, 0, 0)  # backoff (1 s from 0.5 s) long over -> activeQ
    assert pop(queue).attempts == 2


def test_event_during_cycle_goes_to_backoff() -> None:
    """An event received while the pod was being scheduled sends it to backoffQ, not unschedulable."""
    env, queue = new_queue()
    env.run(until=0.5)
    pod = make_pod("p").obj()
    pod.meta.uid = 1
    queue.add(pod)
    info = pop(queue)
    cycle = queue.scheduling_cycle
    queue.move_all_to_active_or_backoff("NodeAdd")  # arrives mid-cycle
    queue.add_unschedulable(info, cycle)
    assert queue.pending_counts == (0, 1, 0)


@pytest.mark.parametrize(("failed_at", "attempts", "check", "want"), [
    # failed 0.3 s, backoff 1 s: expiry 1.3 -> window 1; at the 1 s flush it is still in
    # window 1 (isPodBackingoff: !1.Before(1)), so it leaves at the 2 s flush
    pytest.param(0.3, 1, 1.5, (0, 1, 0), id="not-flushed-before-expiry"),
    pytest.param(0.3, 1, 2.5, (1, 0, 0), id="flushed-at-next-window"),
    # failed 2.0 s, backoff 2 s: expiry 4.0 -> window 4 -> leaves at the 5 s flush
    pytest.param(2.0, 2, 4.5, (0, 1, 0), id="whole-second-expiry-waits-its-window"),
    pytest.param(2.0, 2, 5.5, (1, 0, 0), id="whole-second-expiry-flushed"),
])
def test_backoff_flush_window(failed_at, attempts, check, want) -> None:
    """backoffQ releases a pod only once the second holding its expiry has passed."""
    env, queue = new_queue()
    env.run(until=failed_at)
    pod = make_pod("p").obj()
    pod.meta.uid = 1
    queue.add(pod)
    info = pop(queue)
    info.attempts = attempts
    cycle = queue.scheduling_cycle
    queue.move_all_to_active_or_backoff("NodeAdd")  # mid-cycle event -> backoffQ
    queue.add_unschedulable(info, cycle)
    env.run(until=check)
    assert queue.pending_counts == want


@pytest.mark.parametrize(("event_at", "queue_after_event", "active_at"), [
    # failed 0.5 s after 3 attempts: backoff 4 s -> expiry 4.5 -> window 4
    pytest.param(3.2, (0, 1, 0), 5.0, id="event-while-backing-off"),  # leaves backoffQ at the 5 s flush
    pytest.param(4.7, (0, 1, 0), 5.0, id="event-inside-expiry-window"),  # 4 >= trunc(4.7): still backing off
    pytest.param(5.2, (1, 0, 0), 5.2, id="event-after-backoff"),  # straight to activeQ
])
def test_moved_pod_backoff_counts_from_failure(event_at, queue_after_event, active_at) -> None:
    """A pod moved by an event backs off from when its attempt failed, not from the event."""
    env, queue = new_queue()
    fail(env, queue, "p", at=0.5, attempts=3)
    env.run(until=event_at)
    queue.move_all_to_active_or_backoff("NodeUpdate")
    assert queue.pending_counts == queue_after_event
    env.run(until=active_at + 0.01)
    assert queue.pending_counts == (1, 0, 0)


def test_leftover_flush_after_five_minutes() -> None:
    """Pods in unschedulablePods over 5 min are flushed (every 30 s) straight to activeQ."""
    env, queue = new_queue()
    fail(env, queue, "p", at=0.5)
    env.run(until=300.5)  # the 300 s flush: resident 299.5 s, not yet over 5 min
    assert queue.pending_counts == (0, 0, 1)
    env.run(until=330.5)  # the 330 s flush: resident 329.5 s; its 1 s backoff is long over
    assert queue.pending_counts == (1, 0, 0)


# ------------------------------------------------------------------ end to end

FREED_BY_DELETE = """
name: freed-by-delete
seed: 3
duration: 60s
cluster:
  nodePools:
  - {name: small, count: 1, capacity: {cpu: "1", memory: 2Gi}}
workloads:
- name: a
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: a},
     spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: 800m}}}]}}
- name: b
  at: 2s
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: b},
     spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: 800m}}}]}}
timeline:
- {at: 20s, action: delete, target: pod/a}
"""


def test_unschedulable_pod_scheduled_when_assigned_pod_deleted() -> None:
    """A pod rejected for cpu is retried as soon as the pod holding the cpu is deleted."""
    result = run(scenario_from_text(FREED_BY_DELETE))
    pods = result.trace.pods_frame().set_index("name")
    events = result.to_frame()
    reasons = set(events.loc[(events["name"] == "b") & (events["event"] == "failedScheduling"), "message"])
    assert reasons == {"0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                       "1 No preemption victims found for incoming pod."}
    assert pods.loc["b", "attempts"] >= 1
    deleted, scheduled = pods.loc["a", "deleted"], pods.loc["b", "scheduled"]
    assert deleted < scheduled < deleted + 1.0  # moved by the AssignedPodDelete event, not a timer
    assert pods.loc["b", "node"] == "small-0"
