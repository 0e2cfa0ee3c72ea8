"""The volume controller: default class, zone choice, and claims that never bind."""

from __future__ import annotations

import pytest

from sim.api.objects import ObjectMeta, StorageClass
from sim.api.selectors import Requirement, Selector
from sim.controllers.volume import allowed_zones
from sim.engine import run
from sim.scenario import scenario_from_text

ZONE = "topology.kubernetes.io/zone"


def scenario(classes: str, claims: str, zones: str = "[zone-a, zone-b, zone-c]") -> str:
    return f"""
name: volumes
seed: 11
duration: 1m
controlPlane: {{controllerManager: {{volumeProvisioning: 2s}}}}
cluster:
  nodePools:
  - {{name: w, count: 3, capacity: {{cpu: "4", memory: 8Gi}}, zones: {zones}}}
workloads:
- name: storage
  manifests:
{classes}
{claims}
"""


def claim(name: str, class_name: str | None) -> str:
    spec = f"storageClassName: {class_name}, " if class_name is not None else ""
    return (f"  - {{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {{name: {name}}}, "
            f"spec: {{{spec}accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}}}")


def storage_class(name: str, provisioner: str = "ebs.csi.aws.com", default: bool = False) -> str:
    note = ', annotations: {storageclass.kubernetes.io/is-default-class: "true"}' if default else ""
    return (f"  - {{apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {{name: {name}{note}}}, "
            f"provisioner: {provisioner}}}")


def claims_of(result):
    return {c.meta.name: c for c in result.simulation.api.store.list("PersistentVolumeClaim")}


def test_unset_class_gets_the_default_and_binds() -> None:
    """A claim without storageClassName is given the default class, then provisioned."""
    text = scenario(storage_class("std", default=True) + "\n" + storage_class("other"), claim("data", None))
    data = claims_of(run(scenario_from_text(text)))["data"]
    assert data.storage_class_name == "std"
    assert data.phase == "Bound"
    assert data.zone in {"zone-a", "zone-b", "zone-c"}


@pytest.mark.parametrize(("classes", "class_name", "reason"), [
    (storage_class("static", "kubernetes.io/no-provisioner"), "static", None),
    (storage_class("std"), "missing", "ProvisioningFailed"),
    (storage_class("std"), '""', None),
], ids=["no-provisioner", "unknown-class", "explicit-no-class"])
def test_claims_that_never_bind(classes: str, class_name: str, reason: str | None) -> None:
    """Static-only, unknown and explicitly empty classes leave the claim Pending."""
    result = run(scenario_from_text(scenario(classes, claim("data", class_name))))
    data = claims_of(result)["data"]
    assert data.phase == "Pending"
    assert not data.volume_name
    events = result.to_frame()
    reasons = set(events.loc[(events["name"] == "data") & (events["event"] == "pending"), "reason"])
    assert reasons == ({reason} if reason else set())


def test_immediate_zones_come_from_the_nodes() -> None:
    """Without allowedTopologies an Immediate claim lands in one of the nodes' zones."""
    text = scenario(storage_class("std"), "\n".join(claim(f"c{i}", "std") for i in range(12)))
    zones = {c.zone for c in claims_of(run(scenario_from_text(text))).values()}
    assert zones <= {"zone-a", "zone-b", "zone-c"}
    assert len(zones) > 1


def test_cluster_without_zones_gives_zoneless_volumes() -> None:
    """With no zone labels anywhere the volume has no zone (any node can use it)."""
    text = scenario(storage_class("std"), claim("data", "std"), zones="[]")
    assert claims_of(run(scenario_from_text(text)))["data"].zone == ""


def test_allowed_zones() -> None:
    """Zone values are gathered over every term, for the GA and the beta zone key."""
    terms = (Selector((Requirement(ZONE, "In", ("b", "a")),)),
             Selector((Requirement("failure-domain.beta.kubernetes.io/zone", "In", ("c",)),)),
             Selector((Requirement("rack", "In", ("r1",)),)))
    assert allowed_zones(StorageClass(ObjectMeta("s", ""), "x", allowed_topologies=terms)) == ["a", "b", "c"]
