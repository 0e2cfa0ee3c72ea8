"""`kubesim replay` on the real kwok-kubesim control plane (marker ``cluster``).

No part of the kubernetes client is mocked here: every test talks to the real etcd,
kube-apiserver, kube-controller-manager, kube-scheduler and kwok of ``make cluster``.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from sim.trace import Trace

from labs.cluster import LabError, connect
from labs.nodes import REPLAY_LABEL

pytestmark = pytest.mark.cluster


def _core(context: str) -> Any:
    from kubernetes import client

    return client.CoreV1Api(connect(context).api)


def _assert_cleaned_up(context: str, namespace: str) -> None:
    """The namespace is gone or going, and no node of the replay is left."""
    from kubernetes.client.exceptions import ApiException

    core = _core(context)
    try:
        phase = core.read_namespace(namespace).status.phase
    except ApiException as exc:
        phase = "gone" if exc.status == 404 else f"unreadable ({exc.status})"
    assert phase in ("Terminating", "gone")
    assert not core.list_namespaced_pod(namespace).items
    assert not core.list_node(label_selector=f"{REPLAY_LABEL}={namespace}").items


def test_replay_pod_startup_reaches_ready(kwok_cluster: str, tmp_path: Path) -> None:
    """The pod of pod-startup.yaml goes created -> scheduled -> bound -> started -> ready."""
    out = tmp_path / "real"
    assert main(["replay", "scenarios/pod-startup.yaml", "--context", kwok_cluster, "--until", "20s",
                 "--idle", "2s", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["pods.png", "report.md", "summary.json", "timeline.png",
                                                     "trace.jsonl"]
    trace = Trace.read_jsonl(out / "trace.jsonl")
    assert trace.header["source"] == "real"
    assert trace.header["cluster"] == "kwok"
    web = trace.pods_frame().set_index("name").loc["web"]
    assert web["node"].startswith("worker-")
    assert 0.9 < web["created"] <= web["scheduled"] <= web["bound"] <= web["started"] <= web["ready"] < 20
    assert web["ready"] - web["created"] < 5
    nodes = {r["name"] for r in trace.events() if r["kind"] == "Node" and r["event"] == "ready"}
    assert nodes == {"worker-0", "worker-1", "worker-2"}
    assert "replay on a real cluster" in (out / "report.md").read_text()
    _assert_cleaned_up(kwok_cluster, trace.header["namespace"])


TIMELINE_SCENARIO = """
name: timeline-real
duration: 12s
cluster:
  nodePools:
  - {name: pool, count: 2, capacity: {cpu: "4", memory: 8Gi}, zones: [zone-a, zone-b],
     labels: {tier: test}, taints: [{key: dedicated, value: test, effect: PreferNoSchedule}]}
workloads:
- name: app
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: app}
    spec:
      replicas: 2
      selector: {matchLabels: {app: app}}
      template:
        metadata: {labels: {app: app}}
        spec:
          containers:
          - {name: main, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: 100m, memory: 64Mi}}}
timeline:
- {at: 2s, action: scale, target: deployment/app, replicas: 4}
- {at: 4s, action: setImage, target: deployment/app, image: registry.k8s.io/pause:3.9}
- {at: 8s, action: delete, target: deployment/app}
"""


def test_timeline_actions_and_node_shape(kwok_cluster: str, tmp_path: Path) -> None:
    """scale, setImage and delete happen at their times; fake nodes carry the pool's shape."""
    from labs.replay import replay

    scenario = tmp_path / "timeline.yaml"
    scenario.write_text(TIMELINE_SCENARIO)
    seen: dict[str, Any] = {}

    def log(message: str) -> None:  # look at the nodes while the replay runs
        if message.startswith("replaying"):
            for node in _core(kwok_cluster).list_node(label_selector="kubesim.io/node-pool=pool").items:
                seen[node.metadata.name] = node

    result = replay(scenario, kwok_cluster, idle=2.0, log=log)
    node = seen["pool-1"]
    assert node.metadata.labels["topology.kubernetes.io/zone"] == "zone-b"
    assert node.metadata.labels["tier"] == "test"
    assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
    assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [("dedicated", "test", "PreferNoSchedule")]
    assert node.status.allocatable["cpu"] in ("4", "4000m")
    assert node.status.allocatable["pods"] == "110"
    actions = [(r["event"], round(r["t"])) for r in result.trace.events() if r["kind"] == "Timeline"]
    assert actions == [("scale", 2), ("setImage", 4), ("delete", 8)]
    pods = result.trace.pods_frame()
    assert len(pods) >= 6  # 2, scaled to 4, then a rollout replaces them
    assert pods["deleted"].notna().all()
    assert (pods["deleted"] > 4).all()
    created = {r["name"] for r in result.trace.events() if r["kind"] == "Deployment"}
    assert created == {"app"}
    _assert_cleaned_up(kwok_cluster, result.namespace)


def test_server_rejection_is_one_line_with_the_servers_message(kwok_cluster: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest kubesim accepts but the API server refuses: exit 2, its message, cleaned up."""
    text = TIMELINE_SCENARIO.replace("{name: main,", "{name: Main_Container,").split("timeline:")[0]
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    assert main(["validate", str(scenario)]) == 0
    capsys.readouterr()
    assert main(["replay", str(scenario), "--context", kwok_cluster, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("kubesim: error:"))
    assert "the server rejected Deployment 'app'" in line
    assert "Main_Container" in line
    assert not (tmp_path / "out").exists()
    namespace = next(x.split()[2] for x in err.splitlines() if "namespace kubesim-" in x and "created" in x)
    _assert_cleaned_up(kwok_cluster, namespace)


def test_insufficient_permissions(kwok_cluster: str, tmp_path: Path) -> None:
    """A context whose user may do nothing gets a one-line permissions error, nothing is created."""
    from kubernetes import client

    api = connect(kwok_cluster).api
    core = client.CoreV1Api(api)
    name = f"kubesim-perm-test-{os.getpid()}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"app.kubernetes.io/managed-by": "kubesim"})))
    try:
        account = client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
        core.create_namespaced_service_account(name, account)
        token = core.create_namespaced_service_account_token(
            "nobody", name, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
                audiences=[], expiration_seconds=600))).status.token
        ca = base64.b64encode(Path(api.configuration.ssl_ca_cert).read_bytes()).decode()
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "kwok-nobody",
                  "clusters": [{"name": "c", "cluster": {"server": api.configuration.host,
                                                         "certificate-authority-data": ca}}],
                  "users": [{"name": "nobody", "user": {"token": token}}],
                  "contexts": [{"name": "kwok-nobody", "context": {"cluster": "c", "user": "nobody"}}]}
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(config))
        with pytest.raises(LabError, match=r"^insufficient permissions on context 'kwok-nobody': cannot create "
                                           r"namespaces") as info:
            connect("kwok-nobody", kubeconfig=path)
        assert token not in str(info.value)
    finally:
        core.delete_namespace(name)


def test_ctrl_c_cleans_up(kwok_cluster: str, tmp_path: Path) -> None:
    """SIGINT in the middle of a replay: exit 130, namespace and fake nodes removed, no output."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "replay", "scenarios/serving-basic.yaml",
                             "--context", kwok_cluster, "--out", str(out)],
                            stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    lines = []
    deadline = time.monotonic() + 600  # it may first wait for another session's replay (the lock)
    assert proc.stderr is not None
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stderr.readline()
        lines.append(line)
        if line.startswith("kubesim: replaying"):
            break
    assert lines, "the replay printed nothing"
    assert lines[-1].startswith("kubesim: replaying"), lines
    time.sleep(2)  # the model servers are running now
    namespace = next(x.split()[2] for x in lines if "namespace kubesim-" in x)
    assert _core(kwok_cluster).list_node(label_selector=f"{REPLAY_LABEL}={namespace}").items
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, rest
    assert "cleaning up namespace" in rest
    assert not out.exists()
    _assert_cleaned_up(kwok_cluster, namespace)


def test_extended_resources_are_patched_onto_existing_workers_and_removed(kwok_cluster: str) -> None:
    """The kind path: a worker labelled with a GPU pool gets nvidia.com/gpu by a status JSON
    patch, and loses exactly that again. (A plain Node object stands in for a kind worker.)"""
    from kubernetes import client

    from sim.scenario import load_scenario

    from labs.cluster import exclusive
    from labs.nodes import NodeChanges, advertise_extended_resources

    target = connect(kwok_cluster)
    core = client.CoreV1Api(target.api)
    name = f"kubesim-test-worker-{os.getpid()}"
    with exclusive(target, 600, lambda _: None):  # replays must not see this node
        resources = {"cpu": "8", "memory": "8Gi", "pods": "110"}
        core.create_node({"metadata": {"name": name, "labels": {"kubesim.io/node-pool": "gpu",
                                                                "app.kubernetes.io/managed-by": "kubesim"}},
                          "spec": {"unschedulable": True},
                          "status": {"capacity": resources, "allocatable": resources}})
        try:
            scenario = load_scenario("scenarios/serving-basic.yaml")
            changes = NodeChanges(replay_id="test")
            assert advertise_extended_resources(core, scenario, changes) == []
            status = core.read_node_status(name).status
            assert status.capacity["nvidia.com/gpu"] == "4"
            assert status.allocatable["nvidia.com/gpu"] == "4"
            assert changes.patched == {name: ["/status/capacity/nvidia.com~1gpu",
                                              "/status/allocatable/nvidia.com~1gpu"]}
            assert advertise_extended_resources(core, scenario, NodeChanges()) == []  # present: left alone
            assert changes.undo(core) == []
            status = core.read_node_status(name).status
            assert "nvidia.com/gpu" not in status.capacity
            assert status.capacity["cpu"] == "8"
        finally:
            core.delete_node(name)


FAULT_SCENARIO = """
name: faults-real
duration: 6s
cluster:
  nodePools:
  - {name: w, count: 2, capacity: {cpu: "2", memory: 4Gi}}
workloads:
- name: web
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: web},
     spec: {containers: [{name: web, image: registry.k8s.io/pause:3.10}]}}
timeline:
- {at: 1s, action: nodeCrash, nodes: [w-0], recoverAfter: 2s}
- {at: 2s, action: etcdLeaderLoss}
"""


def test_faults_are_recorded_as_not_reproduced(kwok_cluster: str, tmp_path: Path) -> None:
    """Fault actions (sim.faults) are not injected into the real cluster: skipped, with a note."""
    from labs.replay import replay

    scenario = tmp_path / "faults.yaml"
    scenario.write_text(FAULT_SCENARIO)
    result = replay(scenario, kwok_cluster, idle=1.0, log=lambda _: None)
    skipped = [(r["name"], r["reason"]) for r in result.trace.events() if r["event"] == "skipped"]
    assert skipped == [("nodeCrash", "NotReproduced"), ("etcdLeaderLoss", "NotReproduced")]
    assert result.summary["pods_ready"] == 1
    assert any("nodeCrash was not reproduced" in n for n in result.notes)
