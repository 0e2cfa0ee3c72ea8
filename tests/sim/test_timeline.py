"""Timeline actions reach the cluster through the API server: delete cascades, setImage rolls out."""

from __future__ import annotations

from sim.engine import run
from sim.scenario import scenario_from_text

BASE = """
name: t
duration: 3m
cluster:
  nodePools:
  - {name: w, count: 2, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: "web:1"}]}
timeline:
"""


def test_deleting_a_deployment_removes_its_replicaset_and_pods() -> None:
    """The garbage collector deletes dependents of a deleted Deployment (background propagation)."""
    result = run(scenario_from_text(BASE + "- {at: 60s, action: delete, target: deployment/web}\n"))
    df = result.to_frame()
    deleted = df[df["event"] == "deleted"]
    kinds = deleted.groupby("kind", observed=True).size().to_dict()
    assert kinds.get("Deployment") == 1
    assert kinds.get("ReplicaSet") == 1
    assert kinds.get("Pod") == 3
    assert (deleted["t"] >= 60).all()


def test_set_image_replaces_every_pod_with_the_new_template() -> None:
    """After setImage all surviving pods belong to the new ReplicaSet."""
    result = run(scenario_from_text(BASE + "- {at: 30s, action: setImage, target: deployment/web, image: 'web:2'}\n"))
    pods = result.pods()
    old_rs, new_rs = sorted({n.rsplit("-", 1)[0] for n in pods["name"]}, key=lambda rs: pods[
        pods["name"].str.startswith(rs + "-")]["created"].min())
    survivors = pods[pods["deleted"].isna()]
    assert len(survivors) == 3
    assert all(name.startswith(new_rs + "-") for name in survivors["name"])
    assert pods[pods["name"].str.startswith(old_rs + "-")]["deleted"].notna().all()
