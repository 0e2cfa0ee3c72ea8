"""End to end: zonal volumes, host ports and image locality through the whole control plane.

Four workers spread over zone-a and zone-b (w-0, w-2 in zone-a; w-1, w-3 in zone-b) and
two tainted nodes that differ only in a cached 2 GiB image. Provisioning takes a constant
10 s so the claim timeline is exact.
"""

from __future__ import annotations

import pytest

from sim.engine import Result, run
from sim.scenario import scenario_from_text

ZONE = "topology.kubernetes.io/zone"
LLM = "registry.example.com/llm/server:v1"

TEXT = f"""
name: storage-ports-images
seed: 3
duration: 3m
controlPlane:
  controllerManager:
    volumeProvisioning: 10s
cluster:
  nodePools:
  - {{name: w, count: 4, capacity: {{cpu: "8", memory: 32Gi}}, zones: [zone-a, zone-b]}}
  - name: cached
    count: 1
    capacity: {{cpu: "8", memory: 32Gi}}
    taints: [{{key: dedicated, value: llm, effect: NoSchedule}}]
    images: {{"{LLM}": 2Gi}}
  - name: cold
    count: 1
    capacity: {{cpu: "8", memory: 32Gi}}
    taints: [{{key: dedicated, value: llm, effect: NoSchedule}}]
workloads:
- name: storage
  manifests:
  - {{apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {{name: zonal-files}},
     provisioner: filestore.csi.storage.gke.io, volumeBindingMode: WaitForFirstConsumer}}
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: disk-b}}
    provisioner: pd.csi.storage.gke.io
    allowedTopologies:
    - matchLabelExpressions: [{{key: {ZONE}, values: [zone-b]}}]
  - {{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {{name: data}},
     spec: {{storageClassName: zonal-files, accessModes: [ReadWriteMany], resources: {{requests: {{storage: 1Ti}}}}}}}}
  - {{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {{name: logs}},
     spec: {{storageClassName: disk-b, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10Gi}}}}}}}}
- name: writer
  at: 1s
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: writer}}
    spec:
      containers: [{{name: c, image: "registry.k8s.io/pause:3.10", resources: {{requests: {{cpu: "1"}}}}}}]
      volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]
- name: logger
  at: 2s
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: logger}}
    spec:
      containers: [{{name: c, image: "registry.k8s.io/pause:3.10"}}]
      volumes: [{{name: logs, persistentVolumeClaim: {{claimName: logs}}}}]
- name: readers
  at: 60s
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: readers}}
    spec:
      replicas: 4
      selector: {{matchLabels: {{app: readers}}}}
      template:
        metadata: {{labels: {{app: readers}}}}
        spec:
          containers: [{{name: c, image: "registry.k8s.io/pause:3.10", resources: {{requests: {{cpu: "1"}}}}}}]
          volumes: [{{name: data, persistentVolumeClaim: {{claimName: data, readOnly: true}}}}]
- name: agents
  at: 90s
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: agents}}
    spec:
      replicas: 5
      selector: {{matchLabels: {{app: agents}}}}
      template:
        metadata: {{labels: {{app: agents}}}}
        spec:
          containers:
          - {{name: c, image: "registry.k8s.io/pause:3.10", ports: [{{containerPort: 9100, hostPort: 9100}}]}}
- name: llm
  at: 90s
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: llm}}
    spec:
      containers: [{{name: c, image: "{LLM}"}}]
      tolerations: [{{key: dedicated, operator: Equal, value: llm, effect: NoSchedule}}]
"""


@pytest.fixture(scope="module")
def result() -> Result:
    """One run shared by the checks below."""
    return run(scenario_from_text(TEXT))


def _pod(result: Result, name: str):
    return result.simulation.api.store.get("Pod", "default", name)


def _zone(result: Result, node: str) -> str:
    return result.simulation.api.store.get("Node", "", node).meta.labels.get(ZONE, "")


def _pods_of(result: Result, app: str) -> list:
    return [p for p in result.simulation.api.store.list("Pod") if p.meta.labels.get("app") == app]


def test_wait_for_first_consumer_claim_follows_its_pod(result: Result) -> None:
    """The delayed claim is provisioned in the zone of the node its first pod was given."""
    writer = _pod(result, "writer")
    claim = result.simulation.api.store.get("PersistentVolumeClaim", "default", "data")
    assert writer.node_name
    assert writer.phase == "Running"
    assert claim.volume_name
    assert claim.zone == _zone(result, writer.node_name)
    assert claim.selected_node == writer.node_name
    events = result.to_frame()
    writer_events = events[events["name"] == "writer"]
    waited = writer_events.loc[writer_events["event"] == "waiting", "t"].iloc[0]
    bound = writer_events.loc[writer_events["event"] == "bound", "t"].iloc[0]
    assert bound - waited >= 10.0  # the pod binds only once its volume exists (10 s provisioning)


def test_second_users_of_the_zonal_claim_stay_in_its_zone(result: Result) -> None:
    """Four readers of the now-bound claim all land in its zone, despite zone spreading."""
    zone = result.simulation.api.store.get("PersistentVolumeClaim", "default", "data").zone
    readers = _pods_of(result, "readers")
    assert len(readers) == 4
    assert all(p.node_name for p in readers)
    assert {_zone(result, p.node_name) for p in readers} == {zone}


def test_immediate_claim_in_zone_b_pulls_its_pod_there(result: Result) -> None:
    """The Immediate claim is provisioned in zone-b (allowedTopologies) and its pod follows."""
    logger = _pod(result, "logger")
    assert result.simulation.api.store.get("PersistentVolumeClaim", "default", "logs").zone == "zone-b"
    assert _zone(result, logger.node_name) == "zone-b"
    events = result.to_frame()
    failed = events[(events["name"] == "logger") & (events["event"] == "failedScheduling")]
    assert set(failed["message"]) == {"0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
                                      "preemption: 0/6 nodes are available: 6 Preemption is not helpful for "
                                      "scheduling."}


def test_host_port_collision_leaves_one_agent_pending(result: Result) -> None:
    """Five agents want hostPort 9100 on four untainted workers: one stays Pending with upstream's reasons."""
    agents = _pods_of(result, "agents")
    placed = [p for p in agents if p.node_name]
    pending = [p for p in agents if not p.node_name]
    assert len(placed) == 4
    assert len({p.node_name for p in placed}) == 4
    assert len(pending) == 1
    assert pending[0].message.startswith(
        "0/6 nodes are available: 2 node(s) had untolerated taint {dedicated: llm}, "
        "4 node(s) didn't have free ports for the requested pod ports.")


def test_image_locality_prefers_the_node_with_the_image(result: Result) -> None:
    """Of two otherwise equal nodes the one already holding the 2 GiB image wins.

    2 GiB on 1 of 6 nodes: 2048 MiB / 6 = 341.3 MiB; 100 * (341.3 - 23) // 977 = 32 points.
    """
    assert _pod(result, "llm").node_name == "cached-0"
    scheduler = result.simulation.scheduler
    scores = scheduler.explain(_pod(result, "llm"))
    assert scores.node_row == scheduler.table.index["cached-0"]
    events = result.to_frame()
    llm = events[events["name"] == "llm"]
    assert "pulling" not in set(llm["event"])  # IfNotPresent and cached: no pull
