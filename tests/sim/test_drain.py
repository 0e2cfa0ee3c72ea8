"""kubectl drain/cordon: a PodDisruptionBudget holds through a node-by-node drain; timeouts,
unmanaged pods and cordoning behave as kubectl's."""

from __future__ import annotations

from typing import Any

import pytest

from sim.api.objects import ObjectMeta, OwnerReference, Pod, PodSpec
from sim.drain import drain_filter
from sim.engine import Result, run
from sim.scenario import scenario_from_text

BASE = """
name: drain
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 3, capacity: {{cpu: "4", memory: 16Gi}}}}
workloads:
- name: server
  at: {server_at}
  behavior: {{readiness: 20s}}
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: server}}
    spec:
      replicas: 6
      selector: {{matchLabels: {{app: server}}}}
      template:
        metadata: {{labels: {{app: server}}}}
        spec:
          containers:
          - name: c
            image: "server:1"
            resources: {{requests: {{cpu: "1"}}}}
            readinessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: 5}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: server}}
    spec: {{selector: {{app: server}}, ports: [{{port: 80}}]}}
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {{name: server}}
    spec: {{minAvailable: {min_available}, selector: {{matchLabels: {{app: server}}}}}}
{extra}timeline:
{timeline}"""

BARE = """- name: bare
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: bare}, spec: {nodeName: w-0, containers: [{name: c, image: "b:1"}]}}
"""


def _run(timeline: str, min_available: int = 4, duration: str = "10m", extra: str = "",
         server_at: str = "0s") -> Result:
    return run(scenario_from_text(BASE.format(timeline=timeline, min_available=min_available,
                                              duration=duration, extra=extra, server_at=server_at)))


def _available_over_time(df: Any) -> list[tuple[float, int]]:
    """(t, pods Ready and not terminating) after every pod event."""
    ready: set[str] = set()
    out = []
    for t, name, event in df.loc[df["kind"] == "Pod", ["t", "name", "event"]].itertuples(index=False):
        if event == "ready":
            ready.add(name)
        elif event in ("terminating", "deleted", "evicted"):
            ready.discard(name)
        out.append((t, len(ready)))
    return out


def test_node_by_node_drain_keeps_min_available() -> None:
    """Draining each node in turn: evictions beyond the budget are refused (429) and retried,
    so at least minAvailable pods stay Ready and routed throughout, and every node drains."""
    result = _run("- {at: 2m, action: drain, target: nodepool/w, uncordonAfter: 30s, timeout: 5m}\n")
    df = result.to_frame()
    drained = df.loc[(df["kind"] == "Node") & (df["event"] == "drained"), "name"].astype(str).tolist()
    assert drained == ["w-0", "w-1", "w-2"]
    assert (df["event"] == "evictionRefused").sum() > 0  # the budget did hold evictions back
    assert min(n for t, n in _available_over_time(df) if t >= 60) >= 4
    t, routed = result.trace.series_array("endpoints_routable/default/server")
    assert routed[t >= 60].min() >= 4
    nodes = {n.meta.name: n for n in result.simulation.api.store.list("Node")}
    assert not any(n.unschedulable for n in nodes.values())  # each uncordoned after its drain


def test_drain_that_cannot_finish_times_out_and_stays_cordoned() -> None:
    """minAvailable equal to replicas allows no eviction: the drain gives up at its timeout."""
    result = _run("- {at: 2m, action: drain, target: node/w-0, timeout: 30s}\n", min_available=6, duration="4m")
    df = result.to_frame()
    failed = df[(df["kind"] == "Node") & (df["event"] == "drainFailed")]
    assert len(failed) == 1
    assert 150 <= float(failed["t"].iloc[0]) <= 156
    assert "global timeout reached" in str(failed["message"].iloc[0])
    assert (df["event"] == "evicted").sum() == 0
    assert result.simulation.api.store.get("Node", "", "w-0").unschedulable


@pytest.mark.parametrize(("force", "outcome"), [(False, "drainFailed"), (True, "drained")], ids=["refused", "force"])
def test_pods_without_a_controller_need_force(force: bool, outcome: str) -> None:
    """A bare pod on the node stops the drain unless --force, which evicts it too."""
    action = f"- {{at: 2m, action: drain, target: node/w-0, force: {str(force).lower()}}}\n"
    result = _run(action, min_available=1, duration="4m", extra=BARE)
    df = result.to_frame()
    events = df.loc[(df["kind"] == "Node") & (df["name"] == "w-0"), "event"].astype(str).tolist()
    assert outcome in events
    bare_events = set(df.loc[df["name"] == "bare", "event"].astype(str))
    assert ("evicted" in bare_events) is force


def test_cordoned_node_gets_no_new_pods_until_uncordoned() -> None:
    """While w-0 and w-1 are cordoned, pods land only on w-2 (4 fit; 2 wait as unschedulable);
    uncordoning lets the waiting pods and a later scale-up use the other nodes."""
    timeline = ("- {at: 1s, action: cordon, target: node/w-0}\n- {at: 1s, action: cordon, target: node/w-1}\n"
                "- {at: 3m, action: uncordon, target: nodepool/w}\n"
                "- {at: 4m, action: scale, target: deployment/server, replicas: 10}\n")
    result = _run(timeline, duration="5m", server_at="10s")
    pods = result.pods()
    assert set(pods.loc[pods["bound"] < 180, "node"]) == {"w-2"}
    assert (pods["bound"] < 180).sum() == 4
    assert ((pods["created"] < 60) & (pods["bound"] > 180)).sum() == 2
    assert len(set(pods.loc[pods["created"] > 240, "node"]) - {"w-2"}) > 0
    df = result.to_frame()
    waiting = df[(df["event"] == "failedScheduling") & (df["t"] < 180)]
    assert len(waiting)
    assert waiting["message"].astype(str).str.contains("2 node\\(s\\) were unschedulable").all()


@pytest.mark.parametrize(("owner", "phase", "force", "errors"), [
    (True, "Running", False, 0), (False, "Running", False, 1), (False, "Running", True, 0),
    (False, "Succeeded", False, 0),
], ids=["managed", "bare", "bare-force", "bare-finished"])
def test_drain_filter(owner: bool, phase: str, force: bool, errors: int) -> None:
    """GetPodsForDeletion: unmanaged running pods are errors unless forced; finished ones are fine."""
    meta = ObjectMeta(name="p", owner=OwnerReference("ReplicaSet", "rs", 1) if owner else None)
    pods, problems = drain_filter([Pod(meta=meta, spec=PodSpec(containers=()), phase=phase)], force)
    assert len(problems) == errors
    assert len(pods) == (0 if errors else 1)
