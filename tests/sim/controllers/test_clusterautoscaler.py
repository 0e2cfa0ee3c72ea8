"""cluster-autoscaler: least-waste choice, utilisation, PDB budgets, bin-packing, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.api.objects import ObjectMeta, PodDisruptionBudget
from sim.api.selectors import Selector
from sim.controllers.clusterautoscaler import (
    ScaleUpOption,
    disruptions_allowed,
    estimate_nodes,
    least_waste,
    node_utilization,
    simulation_profile,
)
from sim.engine import run
from sim.scenario import load_scenario, scenario_from_text
from tests.builders import make_node, make_pod

GiB = 1024**3
SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def _pods(n: int, cpu: str = "1500m", memory: str = "2Gi") -> tuple:
    return tuple(make_pod(f"p{i}").req(cpu=cpu, memory=memory).obj() for i in range(n))


SMALL = make_node("small").capacity(cpu="4", memory="16Gi", pods=110).obj()
LARGE = make_node("large").capacity(cpu="16", memory="64Gi", pods=110).obj()


@pytest.mark.parametrize(("options", "want"), [
    ([("small", 2), ("large", 1)], ["small"]),          # 25 % cpu waste beats 62.5 %
    ([("small", 5), ("large", 1)], ["large"]),          # 5 small nodes waste more than 1 large
    ([("a", 2), ("b", 2)], ["a", "b"]),                 # equal waste: both go to the random fallback
], ids=["fewer-small", "one-large", "tie"])
def test_least_waste_picks_smallest_wasted_fraction(options, want) -> None:
    pods = _pods(4)
    templates = {"small": SMALL, "large": LARGE, "a": SMALL, "b": SMALL}
    got = least_waste([ScaleUpOption(g, n, pods) for g, n in options], templates)
    assert [o.group for o in got] == want


@pytest.mark.parametrize(("allocatable", "requested", "want"), [
    ({"cpu": 4000, "memory": 16 * GiB}, {"cpu": 1000, "memory": 12 * GiB}, (0.75, "memory")),
    ({"cpu": 4000, "memory": 16 * GiB}, {"cpu": 3000, "memory": 1 * GiB}, (0.75, "cpu")),
    ({"cpu": 4000, "memory": 16 * GiB}, {}, (0.0, "cpu")),
    ({"cpu": 32000, "memory": 128 * GiB, "nvidia.com/gpu": 4}, {"cpu": 30000, "nvidia.com/gpu": 1},
     (0.25, "nvidia.com/gpu")),
], ids=["memory-bound", "cpu-bound", "empty", "gpu-node-uses-gpu"])
def test_node_utilization(allocatable, requested, want) -> None:
    assert node_utilization(allocatable, requested) == want


@pytest.mark.parametrize(("min_available", "max_unavailable", "ready", "want"), [
    (2, None, 3, 1), (3, None, 3, 0), ("50%", None, 3, 1), (None, 1, 3, 1), (None, "50%", 1, 0),
], ids=["min-2-of-3", "min-all", "min-50pct-rounds-up", "max-unavailable-1", "max-50pct-rounds-up-two-unready"])
def test_disruptions_allowed(min_available, max_unavailable, ready, want) -> None:
    pods = [make_pod(f"w{i}").label("app", "w").obj() for i in range(3)]
    for i, pod in enumerate(pods):
        pod.ready = i < ready
    pdb = PodDisruptionBudget(ObjectMeta(name="w", namespace="default"), Selector.from_labels({"app": "w"}),
                              min_available, max_unavailable)
    assert disruptions_allowed(pdb, pods) == want


def test_estimate_bin_packs_and_respects_the_limit() -> None:
    resources = ["cpu", "memory", "pods"]
    small = make_node("t").capacity(cpu="4", memory="16Gi", pods=110).obj()
    small.pool = "small"
    option = estimate_nodes(simulation_profile(), resources, small, _pods(5), 10)
    assert (option.node_count, len(option.pods)) == (3, 5)
    limited = estimate_nodes(simulation_profile(), resources, small, _pods(5), 1)
    assert (limited.node_count, len(limited.pods)) == (1, 2)
    too_big = estimate_nodes(simulation_profile(), resources, small, _pods(1, cpu="8"), 10)
    assert (too_big.node_count, too_big.pods) == (0, ())


def _events(trace, reason: str):
    df = trace.to_frame()
    return df[df.reason == reason]


def test_scale_up_then_pods_run_after_provisioning_and_idle_nodes_go() -> None:
    result = run(load_scenario(SCENARIOS / "cluster-autoscaler.yaml"))
    trace = result.trace
    up = _events(trace, "ScaledUpGroup")
    assert list(up.message) == ["Scale-up: setting group small size to 3 instead of 1 (max: 4)"]
    assert len(_events(trace, "TriggeredScaleUp")) == 4
    pods = result.pods()
    late = pods[pods.created > 30]
    assert len(late) == 4
    assert late.started.notna().all()
    # nodes appear ~3 min (lognormal, p99 4 min) after the decision; the pods start only then
    assert (late.started - float(up.t.iloc[0]) > 120).all()
    deleted = trace.to_frame().query("kind == 'Node' and event == 'deleted'")
    assert sorted(deleted.name) == ["small-1", "small-2"]
    # pods gone at ~8 min; unneeded for 10 min before removal
    assert (deleted.t > 480 + 600).all()


SCALE_UP_TO_MAX = """
name: ca-max
duration: 8m
controlPlane: {clusterAutoscaler: {provisioning: 1m}}
cluster:
  nodePools:
  - {name: cpu, count: 1, autoscaling: {min: 1, max: 2}, capacity: {cpu: "4", memory: 16Gi}}
workloads:
- name: api
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      replicas: 8
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers: [{name: c, image: pause, resources: {requests: {cpu: 1500m, memory: 1Gi}}}]
"""


def test_max_size_is_respected() -> None:
    result = run(scenario_from_text(SCALE_UP_TO_MAX))
    frame = result.to_frame()
    nodes = frame.query("kind == 'Node' and event == 'created'")
    assert sorted(nodes.name) == ["cpu-0", "cpu-1"]
    assert list(_events(result.trace, "ScaledUpGroup").message) == [
        "Scale-up: setting group cpu size to 2 instead of 1 (max: 2)"]
    assert result.pods().started.notna().sum() == 4
    assert len(_events(result.trace, "NotTriggerScaleUp")) >= 1


def test_runs_are_deterministic() -> None:
    a = run(scenario_from_text(SCALE_UP_TO_MAX)).to_frame()
    b = run(scenario_from_text(SCALE_UP_TO_MAX)).to_frame()
    assert a.equals(b)
