"""The scheduler process: informer handling around assume and bind.

Upstream's updatePodInSchedulingQueue (pkg/scheduler/eventhandlers.go) ignores updates of a
pod the cache has assumed (IsAssumedPod): its binding is in flight, so re-queueing it would
schedule it a second time and count its requests twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest

from sim import run
from sim.engine import Simulation
from sim.scenario import scenario_from_text

# Three best-effort pods for a node with room for exactly three. Two are created before the
# node registers, fail ("0/0 nodes"), and the scheduler writes their Unschedulable condition;
# that update reaches the informer while their binding is in flight.
THREE_PODS = """
name: assumed-pod-update
seed: 0
duration: 30s
cluster:
  nodePools:
  - {name: pool-0, count: 1, capacity: {cpu: "1", memory: 2Gi, pods: 3}}
workloads:
- name: d0
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: d0}
    spec:
      replicas: 1
      selector: {matchLabels: {app: d0}}
      template:
        metadata: {labels: {app: d0}}
        spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}
- name: p0
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: p0},
     spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}}
- name: p1
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: p1},
     spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}}
"""


def test_update_of_assumed_pod_does_not_requeue_it() -> None:
    """A pod whose binding is in flight is scheduled once and counted once on its node."""
    result = run(scenario_from_text(THREE_PODS))
    events = result.to_frame()
    scheduled = Counter(events.loc[events["event"] == "scheduled", "name"].astype(str))
    assert all(n == 1 for n in scheduled.values()), scheduled
    assert result.summary["pods_pending_at_end"] == 0
    table = result.simulation.scheduler.table
    assert int(table.requested[table.index["pool-0-0"], table.column["pods"]]) == 3


# A pod that fits nowhere, then one that fits: the first one's PostFilter runs before the
# second one's cycle.
TOO_BIG_THEN_SMALL = """
name: post-filter-waits
seed: 0
duration: 60s
cluster:
  nodePools:
  - {name: pool-0, count: 1, capacity: {cpu: "1", memory: 2Gi, pods: 10}}
workloads:
- name: big
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: big}
    spec:
      priority: 10
      containers: [{name: c, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: "2"}}}]
- name: small
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: small}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}
"""


class _WaitingPostFilter:
    """A PostFilter that takes 5 simulated seconds, then waits on an event that fails."""

    name = "WaitingPostFilter"

    def __init__(self, env: Any) -> None:
        self.env = env
        self.runs: list[tuple[str, float, float]] = []  # (pod, start, end)
        self.caught: list[str] = []

    def post_filter(self, state: Any, pod: Any, result: Any) -> Generator[Any, Any, None]:
        start = self.env.now
        yield self.env.timeout(5.0)
        failing = self.env.event()
        failing.fail(RuntimeError("no room"))
        try:
            yield failing
        except RuntimeError as exc:
            self.caught.append(str(exc))
        self.runs.append((pod.pod.meta.name, start, self.env.now))
        return None


def test_the_next_cycle_waits_for_a_post_filter_that_waits() -> None:
    """PostFilter may wait on simulated time and events (a failed one raises in it, as in a
    SimPy process); the scheduler's next cycle starts only when it has finished."""
    sim = Simulation(scenario_from_text(TOO_BIG_THEN_SMALL))
    plugin = _WaitingPostFilter(sim.env)
    sim.scheduler.profiles["default-scheduler"].post_filters.insert(0, plugin)
    events = sim.run().to_frame()
    assert {name for name, _, _ in plugin.runs} == {"big", "small"}  # small too, before the node came
    assert all(end == pytest.approx(start + 5.0) for _, start, end in plugin.runs)
    assert plugin.caught == ["no room"] * len(plugin.runs)
    decided = events.loc[events["event"].isin(["scheduled", "failedScheduling"]), "t"].astype(float)
    for _, start, end in plugin.runs:  # no cycle decided while a PostFilter ran
        assert not ((decided > start + 1e-9) & (decided < end - 1e-9)).any(), (start, end)
    small = events[(events["name"] == "small") & (events["event"] == "scheduled")]
    assert len(small) == 1
