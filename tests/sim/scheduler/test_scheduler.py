"""The scheduler process: informer handling around assume and bind.

Upstream's updatePodInSchedulingQueue (pkg/scheduler/eventhandlers.go) ignores updates of a
pod the cache has assumed (IsAssumedPod): its binding is in flight, so re-queueing it would
schedule it a second time and count its requests twice.
"""

from __future__ import annotations

from collections import Counter

from sim import run
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
  - {apiVersion: v1, kind: Pod, metadata: {name: p0}, spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}}
- name: p1
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: p1}, spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}}
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
