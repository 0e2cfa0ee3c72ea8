"""Manifests for storage and ports: StorageClass and PersistentVolumeClaim kinds, a pod's
claim volumes, and container host ports, with upstream's defaults and located errors."""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import HostPort, WorkloadBehavior
from sim.yamlio import SourceError, load_text


def parse(text: str):
    return parse_manifest(load_text(text, "m.yaml")[0], "default", WorkloadBehavior())


def test_storage_class_defaults_and_topologies() -> None:
    """volumeBindingMode defaults to Immediate; allowedTopologies become ORed In-terms."""
    sc = parse("""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: ebs.csi.aws.com
allowedTopologies:
- matchLabelExpressions: [{key: topology.kubernetes.io/zone, values: [us-east-1a, us-east-1b]}]
""")
    assert (sc.provisioner, sc.volume_binding_mode, sc.meta.namespace, sc.is_default) == (
        "ebs.csi.aws.com", "Immediate", "", True)
    assert sc.allowed_topologies[0].matches({"topology.kubernetes.io/zone": "us-east-1b"})
    assert not sc.allowed_topologies[0].matches({"topology.kubernetes.io/zone": "us-east-1c"})


def test_claim_fields() -> None:
    """A claim keeps its class (None when unset), access modes and requested bytes."""
    pvc = parse("""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
""")
    assert (pvc.storage_class_name, pvc.access_modes, pvc.storage, pvc.phase) == (
        None, ("ReadWriteOnce",), 10 * 1024**3, "Pending")


def test_pod_volumes_and_ports() -> None:
    """Claim volumes are collected; hostPorts keep protocol and hostIP; hostNetwork defaults
    hostPort to containerPort; a sidecar's ports count, and ports without hostPort do not."""
    pod = parse("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
  - {name: scratch, emptyDir: {}}
  - {name: logs, persistentVolumeClaim: {claimName: logs, readOnly: true}}
  initContainers:
  - {name: proxy, image: envoy:1, restartPolicy: Always, ports: [{containerPort: 15001}]}
  containers:
  - name: c
    image: app:1
    ports:
    - {containerPort: 53, protocol: UDP}
    - {containerPort: 8080, hostPort: 8080, hostIP: 10.0.0.1}
""")
    assert pod.spec.persistent_volume_claims == ("data", "logs")
    assert pod.spec.host_ports == (HostPort(15001), HostPort(53, "UDP"), HostPort(8080, "TCP", "10.0.0.1"))


def test_ports_without_host_network() -> None:
    """Without hostNetwork only ports with a hostPort hold the node's port."""
    pod = parse("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: c, image: app:1, ports: [{containerPort: 80}, {containerPort: 443, hostPort: 8443}]}
""")
    assert pod.spec.host_ports == (HostPort(8443),)


CLAIM = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\n"
CLASS = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: s}\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"


@pytest.mark.parametrize(("text", "where", "message"), [
    (CLAIM + "spec: {resources: {requests: {storage: 1Gi}}}", "spec.accessModes", "at least 1 access mode"),
    (CLAIM + "spec: {accessModes: [ReadWriteSometimes], resources: {requests: {storage: 1Gi}}}",
     "spec.accessModes[0]", "unsupported value 'ReadWriteSometimes'"),
    (CLAIM + "spec: {accessModes: [ReadWriteOnce]}", "spec.resources.requests", "storage is required"),
    (CLAIM + "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: lots}}}",
     "spec.resources.requests.storage", "lots"),
    (CLAIM + "spec: {accessModes: [ReadWriteOnce], volumeName: pv-1, resources: {requests: {storage: 1Gi}}}",
     "spec.volumeName", "not modelled"),
    (CLASS + "volumeBindingMode: Immediate", "provisioner", "required field is missing"),
    (CLASS + "provisioner: x\nvolumeBindingMode: Lazy", "volumeBindingMode", "supported values: Immediate"),
    (CLASS + "provisioner: x\nallowedTopologies: [{matchLabelExpressions: [{key: z, values: []}]}]",
     "allowedTopologies[0].matchLabelExpressions[0].values", "at least one value"),
    (POD + "spec: {containers: [{name: c, image: i}], volumes: [{name: v, persistentVolumeClaim: {}}]}",
     "spec.volumes[0].persistentVolumeClaim.claimName", "required field is missing"),
    (POD + "spec: {containers: [{name: c, image: i}], volumes: [{name: v, emptyDir: {}}, {name: v, emptyDir: {}}]}",
     "spec.volumes[1].name", "duplicate volume name 'v'"),
    (POD + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80, protocol: HTTP}]}]}",
     "spec.containers[0].ports[0].protocol", "expected TCP, UDP or SCTP"),
    (POD + "spec: {containers: [{name: c, image: i, ports: [{hostPort: 80}]}]}",
     "spec.containers[0].ports[0].containerPort", "required field is missing"),
    (POD + "spec: {containers: [{name: c, image: i, restartPolicy: Always}]}",
     "spec.containers[0].restartPolicy", "only init containers"),
], ids=["no-access-modes", "bad-access-mode", "no-storage", "bad-storage", "pre-bound", "no-provisioner",
        "bad-binding-mode", "empty-topology-values", "no-claim-name", "duplicate-volume", "bad-protocol",
        "no-container-port", "container-restart-policy"])
def test_located_errors(text: str, where: str, message: str) -> None:
    """Each invalid field is reported at its path with what was expected."""
    with pytest.raises(SourceError) as exc:
        parse(text)
    assert f"{where}: " in str(exc.value)
    assert message in str(exc.value)
