"""Node lifecycle controller: zone states, taint decisions, heartbeat timing, disruption modes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sim.api.objects import Taint
from sim.config import ControllerManagerConfig
from sim.controllers.nodelifecycle import (
    FULL_DISRUPTION,
    NORMAL,
    PARTIAL_DISRUPTION,
    compute_zone_state,
    condition_taints,
    swap_taints,
    zone_eviction_qps,
    zone_key,
)
from sim.engine import Simulation, run
from sim.scenario import scenario_from_text

UNREACHABLE, NOT_READY = "node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"


@pytest.mark.parametrize(("ready", "not_ready", "state"), [
    (10, 0, NORMAL),
    (0, 3, FULL_DISRUPTION),
    (0, 0, NORMAL),            # an empty zone is not disrupted
    (1, 2, NORMAL),            # 67 % but only 2 NotReady: needs more than 2
    (2, 3, PARTIAL_DISRUPTION),  # 60 % >= 55 %
    (3, 3, NORMAL),            # 50 % < 55 %
    (45, 55, PARTIAL_DISRUPTION),
], ids=["healthy", "all-down", "empty", "two-of-three", "three-of-five", "half", "55-percent"])
def test_compute_zone_state(ready: int, not_ready: int, state: str) -> None:
    """Full disruption: no Ready node; partial: >2 NotReady making up >= 55 % of the zone."""
    assert compute_zone_state(ready, not_ready, 0.55) == state


@pytest.mark.parametrize(("state", "size", "qps"), [
    (NORMAL, 10, 0.1), (FULL_DISRUPTION, 10, 0.1), (PARTIAL_DISRUPTION, 51, 0.01), (PARTIAL_DISRUPTION, 50, 0.0),
], ids=["normal", "full-keeps-rate", "partial-large", "partial-small-stops"])
def test_zone_eviction_qps(state: str, size: int, qps: float) -> None:
    """setLimiterInZone with the defaults: a partially disrupted zone of <= 50 nodes stops tainting."""
    assert zone_eviction_qps(state, size, ControllerManagerConfig()) == qps


@pytest.mark.parametrize(("status", "unschedulable", "keys"), [
    ("True", False, []), ("Unknown", False, [UNREACHABLE]), ("False", False, [NOT_READY]),
    ("True", True, ["node.kubernetes.io/unschedulable"]),
], ids=["ready", "unknown", "not-ready", "cordoned"])
def test_condition_taints_are_noschedule(status: str, unschedulable: bool, keys: list[str]) -> None:
    """TaintNodesByCondition: the Ready condition (and cordon) map to NoSchedule taints."""
    taints = condition_taints(status, unschedulable)
    assert [t.key for t in taints] == keys
    assert all(t.effect == "NoSchedule" for t in taints)


def test_swap_taints_matches_on_key_and_effect_and_keeps_others() -> None:
    """The unreachable NoExecute taint replaces not-ready NoExecute; other taints stay in place."""
    gpu = Taint("nvidia.com/gpu", "present", "NoSchedule")
    taints = (gpu, Taint(NOT_READY, effect="NoExecute"), Taint(NOT_READY, effect="NoSchedule"))
    out = swap_taints(taints, [Taint(UNREACHABLE, effect="NoExecute")], [Taint(NOT_READY, effect="NoExecute")])
    assert out == (gpu, Taint(NOT_READY, effect="NoSchedule"), Taint(UNREACHABLE, effect="NoExecute"))


@pytest.mark.parametrize(("labels", "key"), [
    ({}, ""), ({"topology.kubernetes.io/zone": "a"}, ":\x00:a"),
    ({"topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "a"}, "r:\x00:a"),
], ids=["none", "zone", "region-zone"])
def test_zone_key(labels: dict[str, str], key: str) -> None:
    """Nodes count per region+zone; unlabelled nodes share one zone."""
    assert zone_key(labels) == key


def _cluster(pools: str, crash: str, duration: str = "8m", extra: str = "") -> str:
    return f"""
name: nlc
duration: {duration}
cluster:
  nodePools:
{pools}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: 4
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec: {{containers: [{{name: c, image: "web:1", resources: {{requests: {{cpu: 100m}}}}}}]}}
{extra}
timeline:
{crash}
"""


def _node_events(trace: Any, event: str, message_part: str = "") -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for e in trace.events():
        if e["kind"] == "Node" and e["event"] == event and message_part in e["message"]:
            out.setdefault(e["name"], []).append(e["t"])
    return out


def test_silent_node_goes_unknown_after_grace_then_tainted_one_pass_later() -> None:
    """Unknown at the first 5 s pass more than 50 s after the last lease renewal; NoExecute taint at the next pass."""
    text = _cluster("  - {name: w, count: 3, capacity: {cpu: '8', memory: 16Gi}, zones: [a, b, c]}",
                    "- {at: 60s, action: nodeCrash, nodes: [w-1]}", "3m")
    result = run(scenario_from_text(text))
    sim = result.simulation
    last_renew = float(sim.leases.renew_time[sim.leases.slots["w-1"]])
    assert 50.0 <= last_renew <= 60.0  # renewed every 10 s until the crash
    unknown = _node_events(result.trace, "statusUnknown")["w-1"][0]
    # worked example: last renewal at 58 s, first seen by the pass at 60 s (probeTimestamp);
    # 60 + 50 = 110 is not yet "after" the grace period, so the pass at 115 s writes Unknown
    seen = math.ceil(last_renew / 5) * 5
    assert unknown == pytest.approx(seen + 55, abs=0.05) or unknown == pytest.approx(seen + 60, abs=0.05)
    noschedule = _node_events(result.trace, "tainted", "unreachable:NoSchedule")["w-1"][0]
    noexecute = _node_events(result.trace, "tainted", "unreachable:NoExecute")["w-1"][0]
    assert noschedule == pytest.approx(unknown, abs=0.1)  # the condition taint follows the status at once
    assert noexecute == pytest.approx(unknown + 5, abs=0.2)  # the next monitor pass, then the 100 ms tainting pass


def test_kubelet_reporting_not_ready_gets_the_not_ready_taint_and_eviction() -> None:
    """A kubelet posting Ready=False (runtime down) keeps its lease: not-ready:NoExecute, pods evicted 300 s on."""
    text = _cluster("  - {name: w, count: 2, capacity: {cpu: '8', memory: 16Gi}}", "[]", "8m")
    sim = Simulation(scenario_from_text(text.replace("timeline:\n[]", "timeline: []")))
    sim.env.run(until=60)
    sim.kubelets["w-0"].set_runtime_ready(False)
    sim.env.run(until=480)
    posted = _node_events(sim.trace, "notReady", "status is now: NodeNotReady")["w-0"][0]
    assert 60 <= posted <= 70  # the kubelet's next 10 s node-status tick
    tainted = _node_events(sim.trace, "tainted", "not-ready:NoExecute")["w-0"][0]
    assert posted < tainted <= posted + 10.2  # within two monitor passes
    assert "w-0" not in _node_events(sim.trace, "statusUnknown")  # the lease kept it from Unknown
    evicted = [e["t"] for e in sim.trace.events() if e["event"] == "evicted"]
    assert evicted
    assert all(t == pytest.approx(tainted + 300, abs=0.05) for t in evicted)


def test_all_zones_down_is_master_disruption_mode_no_eviction() -> None:
    """When every zone is fully disrupted the controller stops tainting: pods stay bound, none evicted."""
    text = _cluster("  - {name: w, count: 3, capacity: {cpu: '8', memory: 16Gi}}",
                    "- {at: 30s, action: nodeCrash, pool: w}", "8m")
    result = run(scenario_from_text(text))
    assert len(_node_events(result.trace, "statusUnknown")) == 3
    assert not _node_events(result.trace, "tainted", "NoExecute")
    assert not [e for e in result.trace.events() if e["event"] == "evicted"]
    assert set(result.simulation.node_lifecycle_controller.zone_states.values()) == {FULL_DISRUPTION}


def test_large_partially_disrupted_zone_taints_at_the_secondary_rate() -> None:
    """A 60-node zone with 40 nodes down (67 %) taints at 0.01 nodes/s: one node per 100 s."""
    pools = ("  - {name: a, count: 60, capacity: {cpu: '8', memory: 16Gi}, zones: [zone-a]}\n"
             "  - {name: b, count: 5, capacity: {cpu: '8', memory: 16Gi}, zones: [zone-b]}")
    text = _cluster(pools, "- {at: 30s, action: nodeCrash, pool: a, count: 40}", "8m")
    result = run(scenario_from_text(text))
    assert result.simulation.node_lifecycle_controller.zone_states[":\x00:zone-a"] == PARTIAL_DISRUPTION
    times = sorted(t for ts in _node_events(result.trace, "tainted", "NoExecute").values() for t in ts)
    # worked example: the 40 leases lapse together, the pass at 80 s sees most of them Unknown
    # (> 55 %) and slows the zone to 0.01/s before any is queued: taints at ~86, 186, 286, 386 s
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == pytest.approx([100, 100, 100], abs=1.0)  # commits lag a little behind (kcm client QPS)
