"""ReplicaSet controller: slow-start batches, deletion order, and a live scale-up/down."""

from __future__ import annotations

import pytest

from sim.api.objects import ObjectMeta, Pod, PodSpec
from sim.controllers.replicaset import deletion_order, slow_start_batches
from sim.engine import run
from sim.scenario import scenario_from_text


@pytest.mark.parametrize(("count", "batches"), [
    (0, []), (1, [1]), (3, [1, 2]), (7, [1, 2, 4]), (10, [1, 2, 4, 3]), (500, [1, 2, 4, 8, 16, 32, 64, 128, 245]),
], ids=["0", "1", "3", "7", "10", "500"])
def test_slow_start_batches_double_from_one(count: int, batches: list[int]) -> None:
    """Creations go out in batches of 1, 2, 4, ... (1 + floor(log2 N) batches for N pods)."""
    assert slow_start_batches(count) == batches
    assert sum(batches) == count


def _pod(name: str, node: str = "", phase: str = "Pending", ready: bool = False, created: float = 0.0,
         ready_time: float | None = None) -> Pod:
    return Pod(meta=ObjectMeta(name=name, creation_time=created), spec=PodSpec(containers=()), node_name=node,
               phase=phase, ready=ready, ready_time=ready_time)


def test_deletion_order_prefers_unscheduled_pending_unready_then_newer() -> None:
    """Upstream ranks victims: unassigned < assigned, Pending < Running, not-ready < ready."""
    pods = [
        _pod("ready-old", "n1", "Running", True, created=1, ready_time=2),
        _pod("unscheduled", "", "Pending", created=5),
        _pod("running-unready", "n1", "Running", False, created=3),
        _pod("pending-on-node", "n2", "Pending", created=4),
        _pod("ready-new", "n2", "Running", True, created=6, ready_time=50),
    ]
    order = [p.meta.name for p in deletion_order(pods, now=100)]
    assert order == ["unscheduled", "pending-on-node", "running-unready", "ready-new", "ready-old"]


def test_deletion_order_prefers_nodes_with_more_replicas() -> None:
    """Among equal pods, the one sharing its node with more replicas goes first."""
    pods = [_pod("alone", "n1", "Running", True, created=1, ready_time=10),
            _pod("crowded-a", "n2", "Running", True, created=1, ready_time=10),
            _pod("crowded-b", "n2", "Running", True, created=1, ready_time=10)]
    assert deletion_order(pods, now=100)[0].meta.name.startswith("crowded")


SCALE = """
name: rs-scale
duration: 3m
cluster:
  nodePools:
  - {name: w, count: 4, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata: {name: web}
    spec:
      replicas: 5
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: img:1, resources: {requests: {cpu: 100m}}}]
timeline:
- {at: 60s, action: scale, target: replicaset/web, replicas: 9}
- {at: 120s, action: scale, target: replicaset/web, replicas: 2}
"""


def test_replicaset_scales_up_and_down_through_the_api() -> None:
    """5 pods start; scaling to 9 adds 4; scaling to 2 deletes 7, leaving 2 running."""
    result = run(scenario_from_text(SCALE))
    pods = result.pods()
    assert len(pods) == 9
    assert pods["deleted"].notna().sum() == 7
    alive = pods[pods["deleted"].isna()]
    assert len(alive) == 2
    assert alive["ready"].notna().all()
    created = pods["created"].to_numpy()
    assert (created[:5] < 60).all()
    assert (created[5:] >= 60).all()
