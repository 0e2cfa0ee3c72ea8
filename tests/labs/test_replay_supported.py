"""Which serving scenarios a KWOK replay reproduces (labs.replay.supported)."""

from __future__ import annotations

import pytest

from labs.replay import supported


@pytest.mark.parametrize(("path", "ok", "reason"), [
    ("scenarios/serving-trace-replay.yaml", True, ""),
    ("scenarios/serving-autoscale-kpa.yaml", False, "serving.autoscalers: the concurrency autoscaler scales on "
                                                    "simulated traffic"),
    ("scenarios/serving-autoscale.yaml", False, "HorizontalPodAutoscaler"),
], ids=["fixed-replicas", "concurrency-autoscaler", "hpa"])
def test_serving_scenarios(path: str, ok: bool, reason: str) -> None:
    """Objects and scale actions replay as-is; scaling on simulated traffic does not."""
    supported_, why = supported(path)
    assert supported_ is ok
    assert reason in why


@pytest.mark.parametrize(("path", "namespace"), [
    ("scenarios/labs/lab07-preempt.yaml", "default"),  # PriorityClasses are cluster-scoped: not a namespace
    ("scenarios/pod-startup.yaml", "default"),
])
def test_the_replay_namespace_stands_for_the_scenarios_one_namespace(path: str, namespace: str) -> None:
    """Cluster-scoped objects do not make a scenario multi-namespace, so the trace keeps its names."""
    from sim import load_scenario

    from labs.replay import scenario_namespace

    assert scenario_namespace(load_scenario(path)) == namespace


def test_changed_component_flags_are_not_replayed() -> None:
    """Client limits and inflight seats are the real components' flags: a replay cannot set them."""
    ok, why = supported("scenarios/labs/lab08-fast-clients.yaml")
    assert not ok
    assert "controlPlane controllerManager.qps, controllerManager.burst" in why
    assert supported("scenarios/labs/lab08-startup-burst.yaml") == (True, "")


@pytest.mark.parametrize(("taints", "status", "ok"), [
    ([], "True", True),
    ([{"key": "dedicated", "value": "test", "effect": "PreferNoSchedule"}], "True", True),
    ([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}], "True", False),
    ([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}], "True", False),
    ([], "False", False),
    ([], "Unknown", False),
], ids=["plain", "pool-taint", "not-ready-taint", "unreachable-taint", "not-ready", "unknown"])
def test_t0_waits_until_a_node_is_ready_and_its_lifecycle_taint_is_lifted(taints: list, status: str,
                                                                          ok: bool) -> None:
    """kube-controller-manager lifts node.kubernetes.io/not-ready some time after Ready; pods wait for it."""
    from labs.replay import _schedulable

    node = {"spec": {"taints": taints}, "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                                                  {"type": "Ready", "status": status}]}}
    assert _schedulable(node) is ok
