"""Node faults end to end: crash, reboot, zone outage, partition; node selection; the tolerationSeconds what-if."""

from __future__ import annotations

from typing import Any

import pytest

from sim import load_scenario
from sim.engine import Result, run
from sim.faults import NodeCrashAction, ZoneOutageAction, recovery_time_s, select_nodes
from sim.scenario import ScenarioError, scenario_from_text

NODES = [("a-0", "a", "z1"), ("a-1", "a", "z2"), ("b-0", "b", "z1"), ("b-1", "b", "z2")]


@pytest.mark.parametrize(("fields", "picked"), [
    ({"nodes": ["b-1", "a-0"]}, ["a-0", "b-1"]),
    ({"pool": "a"}, ["a-0", "a-1"]),
    ({"zone": "z1"}, ["a-0", "b-0"]),
    ({"pool": "b", "zone": "z2"}, ["b-1"]),
    ({"pool": "a", "count": 1}, ["a-0"]),
], ids=["names", "pool", "zone", "pool-and-zone", "count"])
def test_select_nodes(fields: dict[str, Any], picked: list[str]) -> None:
    """Nodes by name, or pool and/or zone, in name order, optionally only the first ``count``."""
    assert select_nodes(NodeCrashAction(at=0, action="nodeCrash", **fields), NODES) == picked


def test_zone_outage_selects_the_zone() -> None:
    """zoneOutage takes every node of its zone."""
    assert select_nodes(ZoneOutageAction(at=0, action="zoneOutage", zone="z2"), NODES) == ["a-1", "b-1"]


@pytest.mark.parametrize(("action", "message"), [
    ("{at: 1s, action: nodeCrash, nodes: [w-7]}", "no node 'w-7'"),
    ("{at: 1s, action: nodeCrash, pool: gpu}", "no node pool 'gpu'"),
    ("{at: 1s, action: zoneOutage, zone: zone-z}", "no zone 'zone-z'"),
    ("{at: 1s, action: partition}", "give nodes, pool or zone"),
    ("{at: 1h, action: nodeCrash, nodes: [w-0]}", "after the scenario ends"),
], ids=["node", "pool", "zone", "no-selector", "too-late"])
def test_bad_fault_targets_are_reported_at_load(action: str, message: str) -> None:
    """A fault naming nodes, pools or zones the cluster lacks fails validation with the field's line."""
    text = ("name: x\nduration: 1m\ncluster:\n  nodePools:\n"
            "  - {name: w, count: 2, capacity: {cpu: '2', memory: 4Gi}, zones: [zone-a]}\n"
            f"timeline:\n- {action}\n")
    with pytest.raises(ScenarioError, match=message):
        scenario_from_text(text)


def _pods(result: Result) -> Any:
    return result.pods().set_index("name")


def _events(result: Result, event: str) -> list[dict[str, Any]]:
    return [e for e in result.trace.events() if e["event"] == event]


def test_node_crash_pods_replaced_after_grace_period_plus_toleration() -> None:
    """Replacements come 50 s (grace) + 300 s (toleration) after the last heartbeat, within two 5 s passes."""
    result = run(load_scenario("scenarios/faults/node-crash.yaml"))
    sim, pods = result.simulation, _pods(result)
    last_renew = float(sim.leases.renew_time[sim.leases.slots["w-0"]])
    lost = sorted(pods.index[(pods["node"] == "w-0")])
    assert len(lost) == 2
    assert sorted(e["name"] for e in _events(result, "evicted")) == lost
    replacements = pods[pods["created"] > 120]
    assert len(replacements) == 2
    assert not (replacements["node"] == "w-0").any()
    # worked example: last renewal 118 s, seen at 120 s, Unknown at 175 s, tainted at 180.1 s,
    # evicted and replaced at 480.1 s: last renewal + 50 + 300 plus up to two passes and a tick
    created = replacements["created"].to_numpy()
    assert (created > last_renew + 350).all()
    assert (created <= last_renew + 350 + 15.5).all()
    assert recovery_time_s(result.trace, 120, "web-", 6) == pytest.approx(366, abs=3)


def test_node_reboot_before_the_toleration_cancels_eviction() -> None:
    """A node back within 300 s is untainted; its pods' evictions are cancelled and they restart in place."""
    result = run(load_scenario("scenarios/faults/node-reboot.yaml"))
    pods = _pods(result)
    assert not _events(result, "evicted")
    assert len(pods) == 6
    cancelled = sorted(e["name"] for e in _events(result, "evictionCancelled"))
    assert cancelled == sorted(pods.index[pods["node"] == "w-0"])
    restarted = [e for e in _events(result, "started") if e["node"] == "w-0" and e["t"] > 180]
    assert sorted(e["name"] for e in restarted) == cancelled
    untainted = [e["t"] for e in _events(result, "untainted") if "unreachable:NoExecute" in e["message"]]
    assert untainted
    assert 180 < untainted[0] <= 190
    assert recovery_time_s(result.trace, 60, "web-", 6) == pytest.approx(129, abs=5)


def test_zone_outage_taints_one_node_per_10s_and_moves_pods_out() -> None:
    """A fully disrupted zone (others healthy) is tainted at 0.1 nodes/s; its pods end up in the other zones."""
    result = run(load_scenario("scenarios/faults/zone-outage.yaml"))
    zone_a = {"w-0", "w-3", "w-6", "w-9"}
    tainted = sorted((e["t"], e["name"]) for e in _events(result, "tainted") if "NoExecute" in e["message"])
    assert {name for _, name in tainted} == zone_a
    gaps = [b[0] - a[0] for a, b in zip(tainted, tainted[1:], strict=False)]
    assert gaps == pytest.approx([10, 10, 10], abs=0.2)
    pods = _pods(result)
    alive = pods[pods["terminating"].isna() & pods["deleted"].isna()]
    assert len(alive) == 24
    assert not alive["node"].isin(zone_a).any()
    assert alive["ready"].notna().all()


def test_partition_replaces_pods_while_the_originals_still_run() -> None:
    """A partitioned node's pods are evicted and replaced, but only stop (and go) once it heals."""
    result = run(load_scenario("scenarios/faults/partition.yaml"))
    pods = _pods(result)
    on_w0 = pods[pods["node"] == "w-0"]
    evicted = {e["name"]: e["t"] for e in _events(result, "evicted")}
    assert set(evicted) == set(on_w0.index)
    replacements = pods[pods["created"] > 60]
    assert len(replacements) == 2
    assert (replacements["ready"] < 540).all()
    # split brain: the originals are deleted only after the partition heals at 540 s
    assert (on_w0["deleted"] > 540).all()
    assert (on_w0["deleted"] < 541).all()
    node_ready = [e["t"] for e in _events(result, "ready") if e["kind"] == "Node"]
    assert node_ready
    assert 540 < node_ready[0] <= 550


WHAT_IF = """
name: serving-toleration
seed: 21
duration: 10m
cluster:
  nodePools:
  - {name: gpu, count: 4, capacity: {cpu: "32", memory: 128Gi, nvidia.com/gpu: "4"}, zones: [a, b]}
workloads:
- name: model-server
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: model-server}
    spec:
      replicas: 6
      selector: {matchLabels: {app: model-server}}
      template:
        metadata: {labels: {app: model-server}}
        spec:
          containers:
          - name: server
            image: vllm:0.6
            resources: {limits: {nvidia.com/gpu: "2"}, requests: {cpu: "4", memory: 32Gi}}
          tolerations:
          - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: SECONDS}
  behavior: {imageSize: 8Gi, readiness: {dist: lognormal, median: 40s, p99: 90s}}
timeline:
- {at: 2m, action: nodeCrash, nodes: [gpu-1]}
"""


def test_what_if_shorter_unreachable_toleration_cuts_recovery_by_270s() -> None:
    """What if the model server tolerated an unreachable node for 30 s instead of 300 s? Recovery is ~270 s faster."""
    recovery = {}
    for seconds in (300, 30):
        result = run(scenario_from_text(WHAT_IF.replace("SECONDS", str(seconds))))
        recovery[seconds] = recovery_time_s(result.trace, 120, "model-server-", 6)
    assert recovery[300] is not None
    assert recovery[30] is not None
    # worked example: both runs are identical until the eviction, which comes 270 s earlier;
    # the replacements then pull 8 GiB and warm up the same way
    assert recovery[300] - recovery[30] == pytest.approx(270, abs=5)
    assert recovery[30] > 30 + 50  # still bounded below by grace period + toleration


def test_fault_runs_are_deterministic() -> None:
    """The same fault scenario and seed give the same trace (fault draws use named streams)."""
    first, second = (list(run(load_scenario("scenarios/faults/partition.yaml")).trace.events()) for _ in range(2))
    assert first == second
