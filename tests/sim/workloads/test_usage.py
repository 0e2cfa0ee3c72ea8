"""Usage profiles: steps, per-pod and split loads, Ready counts, and scenario validation."""

from __future__ import annotations

import pytest

from sim.api.objects import ObjectMeta, Pod, PodSpec, WorkloadBehavior
from sim.scenario import ScenarioError, scenario_from_text
from sim.workloads.usage import LoadSpec, ProfileUsage, RunningPods, StepProfile, WorkloadUsage

STEPS = StepProfile((60.0, 120.0), (1.0, 0.25))


@pytest.mark.parametrize(("t", "value"), [(0.0, 0.0), (60.0, 1.0), (119.9, 1.0), (500.0, 0.25)],
                         ids=["before-first", "at-step", "holds", "last"])
def test_step_profile_holds_each_value_until_the_next(t: float, value: float) -> None:
    """Steps hold from their time on; before the first the value is 0."""
    assert STEPS.at(t) == value


@pytest.mark.parametrize(("spec", "ready", "ready_pods", "value"), [
    (LoadSpec(StepProfile((0.0,), (0.3,)), None), False, 4, 0.3),  # perPod: every running pod alike
    (LoadSpec(None, StepProfile((0.0,), (2.0,))), True, 4, 0.5),  # total 2 over 4 Ready pods
    (LoadSpec(None, StepProfile((0.0,), (2.0,)), 0.1), False, 4, 0.1),  # not Ready: the unready value
    (LoadSpec(None, StepProfile((0.0,), (2.0,))), True, 0, 2.0),  # a lone pod counted before it is seen
], ids=["per-pod", "split", "unready", "no-ready-yet"])
def test_load_value(spec: LoadSpec, ready: bool, ready_pods: int, value: float) -> None:
    """A pod's share of a load at t=10."""
    assert spec.value(ready, ready_pods, 10.0) == value


def _pod(uid: int, ready: bool, workload: str = "web", phase: str = "Running") -> Pod:
    usage = WorkloadUsage(workload, cpu=LoadSpec(None, StepProfile((0.0,), (3.0,))))
    meta = ObjectMeta(f"p{uid}", uid=uid)
    return Pod(meta, PodSpec(containers=(), behavior=WorkloadBehavior(usage=usage)), phase=phase, ready=ready)


def test_total_load_is_split_across_ready_pods() -> None:
    """3 cores over the workload's 2 Ready pods: 1.5 each; the unready pod idles."""
    pods = RunningPods()
    a, b, c = _pod(1, True), _pod(2, True), _pod(3, False)
    for pod in (a, b, c):
        pods.observe(False, pod)
    source = ProfileUsage(pods, {})
    assert [source.cpu_usage(p, 0.0) for p in (a, b, c)] == [1.5, 1.5, 0.0]
    pods.observe(True, b)
    assert source.cpu_usage(a, 0.0) == 3.0
    assert pods.ready_count("default", "web") == 1
    assert source.pods_metric(a, "requests_per_second", 0.0) is None


SCENARIO = """
name: u
duration: 1m
cluster:
  nodePools:
  - {name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}
workloads:
- name: web
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i}]}}
  behavior:
    cpuUsage: {total: [{at: 0s, value: 500m}, {at: 30s, value: "2"}]}
    podMetrics:
      requests_per_second: {perPod: 10}
    externalMetrics:
      queue_messages: 30
"""


def test_scenario_usage_reaches_the_pod_spec() -> None:
    """A workload's usage fields ride on its pods' behaviour, named after the workload."""
    scenario = scenario_from_text(SCENARIO)
    usage = scenario.objects[0][1].spec.behavior.usage
    assert usage.workload == "web"
    assert usage.cpu.total.at(45.0) == 2.0
    assert dict(usage.pod_metrics)["requests_per_second"].per_pod.at(0.0) == 10.0
    source = ProfileUsage.from_scenario(scenario, RunningPods())
    assert source.external_metric("default", "queue_messages", 0.0) == 30.0
    assert source.change_times() == [0.0, 30.0]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("cpuUsage: {total: [{at: 0s, value: 500m}, {at: 30s, value: \"2\"}]}", "cpuUsage: {total: 1, perPod: 1}",
     r"<text>:12: workloads\[0\]\.behavior\.cpuUsage: set exactly one of perPod and total"),
    ("queue_messages: 30", "queue_messages: lots",
     r"<text>:16: .*externalMetrics\.queue_messages: 'lots' is not a Kubernetes quantity"),
], ids=["both-modes", "bad-quantity"])
def test_bad_usage_is_a_located_error(old: str, new: str, message: str) -> None:
    """A malformed usage description is reported at load time with its line and field."""
    with pytest.raises(ScenarioError, match=message):
        scenario_from_text(SCENARIO.replace(old, new))


def test_one_external_metric_per_namespace() -> None:
    """Two workloads declaring the same external metric in one namespace is an error at the second."""
    second = """- name: worker
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: w}, spec: {containers: [{name: c, image: i}]}}
  behavior:
    externalMetrics: {queue_messages: 5}
"""
    with pytest.raises(ScenarioError, match=r"externalMetrics\.queue_messages: external metric 'queue_messages' in "
                       r"namespace 'default' is already declared by workload 'web'"):
        scenario_from_text(SCENARIO + second)
