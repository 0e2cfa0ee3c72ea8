"""StatefulSet: the pure plan (ordering, partition, scale-down) and scenarios through the API."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.controllers.statefulset import (
    PodState,
    SetSpec,
    Step,
    next_availability_check,
    plan,
    pod_ordinal,
    replica_status,
    revisions_to_truncate,
)
from sim.engine import Result, run
from sim.scenario import scenario_from_text


def ready(ordinal: int, revision: str = "r1", at: float = 0.0) -> PodState:
    return PodState(ordinal, revision, "Running", True, at)


def pending(ordinal: int, revision: str = "r1") -> PodState:
    return PodState(ordinal, revision)


def terminating(ordinal: int, revision: str = "r1") -> PodState:
    return PodState(ordinal, revision, "Running", True, 0.0, terminating=True)


@pytest.mark.parametrize(("spec", "pods", "expected"), [
    # OrderedReady: one pod per sync, each only after its predecessors are Running and Ready.
    (SetSpec(3), [], [Step("create", 0, "r1")]),
    (SetSpec(3), [pending(0)], []),
    (SetSpec(3), [ready(0)], [Step("create", 1, "r1")]),
    # Parallel: every missing ordinal at once.
    (SetSpec(3, parallel=True), [], [Step("create", 0, "r1"), Step("create", 1, "r1"), Step("create", 2, "r1")]),
    # Scale 3 -> 1: highest ordinal first, waiting for it to terminate before the next.
    (SetSpec(1), [ready(0), ready(1), ready(2)], [Step("delete", 2)]),
    (SetSpec(1), [ready(0), ready(1), terminating(2)], []),
    (SetSpec(1, parallel=True), [ready(0), ready(1), ready(2)], [Step("delete", 2), Step("delete", 1)]),
    # A failed pod is deleted, and recreated only once it is gone.
    (SetSpec(2), [PodState(0, "r1", "Failed"), ready(1)], [Step("delete", 0)]),
    # minReadySeconds 30: pod 0 ready since t=80 is not available at t=100, so pod 1 waits.
    (SetSpec(2, min_ready_seconds=30), [ready(0, at=80.0)], []),
    (SetSpec(2, min_ready_seconds=30), [ready(0, at=70.0)], [Step("create", 1, "r1")]),
], ids=["ordered-first", "ordered-waits-for-ready", "ordered-next", "parallel-all", "scale-down-highest",
        "scale-down-waits", "parallel-scale-down", "failed-pod", "min-ready-waits", "min-ready-passed"])
def test_plan_scaling(spec: SetSpec, pods: list[PodState], expected: list[Step]) -> None:
    """Creation in ordinal order (or all at once), deletion from the top, one step at a time."""
    assert plan(spec, pods, "r1", "r1", now=100.0) == expected


@pytest.mark.parametrize(("partition", "pods", "expected"), [
    (0, [ready(0), ready(1), ready(2)], [Step("delete", 2, for_update=True)]),        # highest first
    (0, [ready(0), ready(1), ready(2, "r2")], [Step("delete", 1, for_update=True)]),  # then the next
    (0, [ready(0), ready(1), pending(2, "r2")], []),                                 # replacement not ready
    (0, [ready(0), terminating(1), ready(2, "r2")], []),                             # wait for it to go
    (1, [ready(0), ready(1, "r2"), ready(2, "r2")], []),                             # partition 1 keeps pod 0
    (2, [ready(0), ready(1), ready(2)], [Step("delete", 2, for_update=True)]),
], ids=["first", "second", "wait-ready", "wait-terminating", "partition-reached", "partition-2"])
def test_plan_rolling_update(partition: int, pods: list[PodState], expected: list[Step]) -> None:
    """Reverse ordinal, one pod at a time, never below the partition."""
    assert plan(SetSpec(3, partition=partition), pods, "r1", "r2", now=100.0) == expected


def test_recreated_pod_below_partition_keeps_current_revision() -> None:
    """A missing pod under the partition comes back at the current revision, above it at the update one."""
    assert plan(SetSpec(3, partition=2), [ready(1), ready(2, "r2")], "r1", "r2", 100.0) == [Step("create", 0, "r1")]
    assert plan(SetSpec(3, partition=1), [ready(0), ready(1, "r2")], "r1", "r2", 100.0) == [Step("create", 2, "r2")]


def test_on_delete_never_deletes_for_update() -> None:
    """OnDelete: out-of-date pods stay until someone deletes them; new pods get the update revision."""
    spec = SetSpec(2, on_delete=True)
    assert plan(spec, [ready(0), ready(1)], "r1", "r2", 100.0) == []
    assert plan(spec, [ready(0)], "r1", "r2", 100.0) == [Step("create", 1, "r2")]


def test_replica_status_completes_rolling_update() -> None:
    """Once every pod is updated and ready, the update revision becomes the current one."""
    mid = replica_status(SetSpec(3), 2, [ready(0), ready(1, "r2"), ready(2, "r2")], "r1", "r2", 0, 100.0)
    assert (mid.current_replicas, mid.updated_replicas, mid.current_revision) == (1, 2, "r1")
    done = replica_status(SetSpec(3), 2, [ready(i, "r2") for i in range(3)], "r1", "r2", 0, 100.0)
    assert (done.current_replicas, done.current_revision, done.update_revision) == (3, "r2", "r2")


def test_helpers() -> None:
    """Ordinals parse from names; history keeps live revisions; minReadySeconds sets the next check."""
    assert [pod_ordinal(n) for n in ("web-0", "web-12", "web", "a-b-3")] == [0, 12, -1, 3]
    revisions = [("web-a", 1), ("web-b", 2), ("web-c", 3), ("web-d", 4)]
    assert revisions_to_truncate(revisions, {"web-d", "web-b"}, limit=1) == ["web-a"]
    assert next_availability_check([ready(0, at=80.0), ready(1, at=60.0)], 30.0, now=100.0) == 10.0
    assert next_availability_check([ready(0, at=60.0)], 30.0, now=100.0) is None


SET = """
name: sts
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 3, capacity: {{cpu: "8", memory: 16Gi}}}}
workloads:
- name: db
  manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: db}}
    spec:
      replicas: 3
      serviceName: db
      {spec}
      selector: {{matchLabels: {{app: db}}}}
      template:
        metadata: {{labels: {{app: db}}}}
        spec:
          containers: [{{name: c, image: "db:1", resources: {{requests: {{cpu: 100m}}}}}}]
  behavior:
    readiness: 10s
timeline: [{timeline}]
"""


def run_set(spec: str = "", timeline: str = "", duration: str = "5m") -> Result:
    return run(scenario_from_text(SET.format(spec=spec, timeline=timeline, duration=duration)))


def pod_events(result: Result, event: str) -> pd.DataFrame:
    df = result.to_frame()
    return df[(df["kind"] == "Pod") & (df["event"] == event)].reset_index(drop=True)


def test_ordered_ready_creates_each_pod_after_the_previous_is_ready() -> None:
    """OrderedReady: db-1 is not created before db-0 is Ready, nor db-2 before db-1."""
    result = run_set()
    created = pod_events(result, "created").set_index("name")["t"]
    ready_at = pod_events(result, "ready").set_index("name")["t"]
    assert list(created.index) == ["db-0", "db-1", "db-2"]
    assert created["db-1"] > ready_at["db-0"]
    assert created["db-2"] > ready_at["db-1"]
    s = result.simulation.api.store.get("StatefulSet", "default", "db")
    assert (s.ready_replicas, s.available_replicas, s.current_revision) == (3, 3, s.update_revision)


def test_parallel_creates_all_pods_at_once() -> None:
    """Parallel: all three pods are created before any of them is ready."""
    result = run_set("podManagementPolicy: Parallel")
    created = pod_events(result, "created")["t"]
    assert len(created) == 3
    assert created.max() < pod_events(result, "ready")["t"].min()


def test_scale_down_goes_from_the_highest_ordinal_waiting_for_each() -> None:
    """Scaling 3 -> 1 deletes db-2, and only after it is gone, db-1."""
    result = run_set(timeline="{at: 2m, action: scale, target: statefulset/db, replicas: 1}")
    terminating_at = pod_events(result, "terminating").set_index("name")["t"]
    deleted_at = pod_events(result, "deleted").set_index("name")["t"]
    assert list(terminating_at.index) == ["db-2", "db-1"]
    assert terminating_at["db-1"] > deleted_at["db-2"]


def test_rolling_update_respects_partition() -> None:
    """Partition 1: db-2 then db-1 move to db:2 in reverse order, db-0 keeps db:1."""
    result = run_set("updateStrategy: {rollingUpdate: {partition: 1}}",
                     "{at: 2m, action: setImage, target: statefulset/db, image: 'db:2'}", duration="6m")
    store = result.simulation.api.store
    images = {p.meta.name: p.spec.containers[0].image for p in store.list("Pod")}
    assert images == {"db-0": "db:1", "db-1": "db:2", "db-2": "db:2"}
    terminating_at = pod_events(result, "terminating").set_index("name")["t"]
    assert list(terminating_at.index) == ["db-2", "db-1"]
    recreated = pod_events(result, "ready").query("t > 120").set_index("name")["t"]
    assert terminating_at["db-1"] > recreated["db-2"]  # one at a time: db-2 back and Ready first
    s = store.get("StatefulSet", "default", "db")
    assert (s.current_replicas, s.updated_replicas) == (1, 2)
    assert s.current_revision != s.update_revision
    revisions = sorted((r.revision, r.template.spec.containers[0].image) for r in store.list("ControllerRevision"))
    assert revisions == [(1, "db:1"), (2, "db:2")]


def test_deleting_a_statefulset_removes_its_pods_and_revisions() -> None:
    """The garbage collector deletes a StatefulSet's pods and ControllerRevisions."""
    result = run_set(timeline="{at: 2m, action: delete, target: statefulset/db}")
    store = result.simulation.api.store
    assert store.count("Pod") == 0
    assert store.count("ControllerRevision") == 0


CLAIMS = """
name: sts-claims
duration: 6m
controlPlane:
  controllerManager: {volumeProvisioning: 10s}
cluster:
  nodePools:
  - {name: w, count: 2, capacity: {cpu: "8", memory: 16Gi}, zones: [zone-a, zone-b]}
workloads:
- name: db
  manifests:
  - {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: ssd},
     provisioner: pd.csi.storage.gke.io, volumeBindingMode: WaitForFirstConsumer}
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db}
    spec:
      replicas: 2
      serviceName: db
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers: [{name: c, image: "db:1", resources: {requests: {cpu: 100m}}}]
      volumeClaimTemplates:
      - metadata: {name: data}
        spec: {storageClassName: ssd, accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
timeline:
- {at: 2m, action: scale, target: statefulset/db, replicas: 1}
- {at: 4m, action: scale, target: statefulset/db, replicas: 2}
"""


def test_volume_claim_templates_give_each_pod_its_own_claim() -> None:
    """data-db-<i> is created before db-<i>, bound in the pod's zone, kept on scale-down and reused."""
    result = run(scenario_from_text(CLAIMS))
    df = result.to_frame()
    created = df[df["event"] == "created"]
    claims = created[created["kind"] == "PersistentVolumeClaim"].set_index("name")["t"]
    pods = created[created["kind"] == "Pod"]
    assert sorted(claims.index) == ["data-db-0", "data-db-1"]  # two claims, although db-1 is created twice
    assert claims["data-db-1"] < pods[pods["name"] == "db-1"]["t"].min()
    assert (pods["name"] == "db-1").sum() == 2
    store = result.simulation.api.store
    for ordinal in (0, 1):
        pod = store.get("Pod", "default", f"db-{ordinal}")
        claim = store.get("PersistentVolumeClaim", "default", f"data-db-{ordinal}")
        assert pod.spec.persistent_volume_claims == (f"data-db-{ordinal}",)
        assert claim.phase == "Bound"
        assert claim.meta.labels["app"] == "db"
        node = next(n for n in result.simulation.nodes if n.meta.name == pod.node_name)
        assert claim.zone == node.meta.labels["topology.kubernetes.io/zone"]
    assert pod_events(result, "ready")["name"].tolist().count("db-1") == 2
