"""The HPA controller end to end: sync timing, rescale events, conditions, and each metric type."""

from __future__ import annotations

from typing import Any

import pytest

from sim import load_scenario
from sim.engine import Result, run
from sim.scenario import scenario_from_text

TEMPLATE = """
name: hpa
duration: {duration}
cluster:
  nodePools:
  - {{name: n, count: 2, capacity: {{cpu: "16", memory: 64Gi}}, images: ["app:1"]}}
controlPlane:
  metricsServer: {{enabled: {metrics}}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - {{name: c, image: "app:1", resources: {{requests: {{cpu: 500m}}}}}}
  - apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {{name: web}}
    spec:
      scaleTargetRef: {{apiVersion: apps/v1, kind: {kind}, name: web}}
      minReplicas: {min}
      maxReplicas: 20
{spec}
  behavior:
    containerStart: 1s
{behavior}
"""

CPU_50 = """      metrics:
      - type: Resource
        resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}"""


def _run(spec: str = CPU_50, behavior: str = "", duration: str = "3m", replicas: int = 2, min_: int = 1,
         kind: str = "Deployment", metrics: str = "null") -> Result:
    text = TEMPLATE.format(spec=spec, behavior=behavior, duration=duration, replicas=replicas, min=min_,
                           kind=kind, metrics=metrics)
    return run(scenario_from_text(text))


def _events(result: Result, event: str | None = None) -> list[dict[str, Any]]:
    return [e for e in result.trace.events() if e["kind"] == "HorizontalPodAutoscaler"
            and (event is None or e["event"] == event)]


def _hpa(result: Result) -> Any:
    return result.simulation.api.store.get("HorizontalPodAutoscaler", "default", "web")


def test_hpa_basic_scales_at_the_sync_after_the_load_step() -> None:
    """Load 5x at 60 s: the scrape at 75 s sees it, the sync just after doubles, the next doubles again."""
    result = run(load_scenario("scenarios/hpa-basic.yaml"))
    rescales = [(e["t"], e["message"]) for e in _events(result, "rescaled")]
    # the first sync (15 s) has no usable sample yet: the pods became Ready inside the sample's window
    assert [e["reason"] for e in _events(result, "warning")][0] == "FailedGetResourceMetric"
    (t1, m1), (t2, m2) = rescales[:2]
    assert 75 < t1 < 76
    assert m1.startswith("New size: 4; reason: cpu resource utilization (percentage of request) "
                                          "above target")
    assert 90 < t2 < 91
    assert m2.startswith("New size: 8;")
    # load drops at 240 s; the 5-minute downscale stabilisation holds 8 until 540 s
    downs = [t for t, m in rescales if "All metrics below target" in m]
    assert downs
    assert downs[0] > 540
    pods = result.pods()
    new = pods[pods["created"] > 75]
    assert len(new) == 6
    assert new["created"].min() < t1 + 0.5
    assert (new["started"] < t2 + 10).all()
    assert new["ready"].notna().all()


def test_status_reports_replicas_metrics_and_conditions() -> None:
    """status carries current/desired replicas, the utilisation read and upstream's condition reasons."""
    result = run(load_scenario("scenarios/hpa-basic.yaml"))
    status = _hpa(result).status
    assert status.current_metrics[0].type == "Resource"
    assert status.current_metrics[0].average_utilization is not None
    reasons = {c.type: (c.status, c.reason) for c in status.conditions}
    assert reasons["AbleToScale"][0] == "True"
    assert reasons["ScalingActive"] == ("True", "ValidMetricFound")
    assert "ScalingLimited" in reasons
    assert status.last_scale_time is not None


def test_without_behavior_one_step_is_max_2x_or_4() -> None:
    """With no spec.behavior, 2 replicas wanting 16 go to 4, then 8, then 16 (one sync apart)."""
    result = _run(behavior="    cpuUsage: {perPod: 2}\n", duration="100s")
    sizes = [int(e["message"].split(";")[0].split()[-1]) for e in _events(result, "rescaled")]
    assert sizes[:3] == [4, 8, 16]


def test_default_behavior_scales_by_max_4_pods_or_100_percent() -> None:
    """behavior: {} defaults the policies: 2 -> 6 (+4 beats +100 %), then 6 -> 12."""
    spec = CPU_50 + "\n      behavior: {}"
    result = _run(spec=spec, behavior="    cpuUsage: {perPod: 2}\n", duration="100s")
    sizes = [int(e["message"].split(";")[0].split()[-1]) for e in _events(result, "rescaled")]
    assert sizes[:2] == [6, 12]


def test_below_min_replicas_is_corrected_without_metrics() -> None:
    """A target under minReplicas is raised at the first sync, 15 s after the HPA appears."""
    result = _run(replicas=1, min_=3, metrics="false", duration="40s")
    rescale = _events(result, "rescaled")[0]
    assert 15 < rescale["t"] < 16
    assert rescale["message"] == "New size: 3; reason: Current number of replicas below Spec.MinReplicas"


def test_no_metrics_api_is_scaling_active_false() -> None:
    """Without metrics-server the HPA cannot compute a replica count and says why."""
    result = _run(metrics="false", duration="40s")
    assert not _events(result, "rescaled")
    condition = _hpa(result).status.condition("ScalingActive")
    assert (condition.status, condition.reason) == ("False", "FailedGetResourceMetric")
    assert "unable to fetch metrics from resource metrics API" in condition.message
    reasons = [e["reason"] for e in _events(result, "warning")]
    assert reasons == ["FailedGetResourceMetric", "FailedComputeMetricsReplicas"]  # repeats are folded


def test_missing_target_is_failed_get_scale() -> None:
    """A scaleTargetRef that names nothing leaves AbleToScale False with FailedGetScale."""
    result = _run(kind="StatefulSet", duration="20s")
    condition = _hpa(result).status.condition("AbleToScale")
    assert (condition.status, condition.reason) == ("False", "FailedGetScale")
    assert 'statefulsets.apps "web" not found' in condition.message


def test_zero_replicas_disables_scaling() -> None:
    """A target scaled to 0 (with minReplicas 1) is left alone: ScalingActive False, ScalingDisabled."""
    result = _run(replicas=0, duration="20s", behavior="    cpuUsage: {perPod: 2}\n")
    assert not _events(result, "rescaled")
    assert _hpa(result).status.condition("ScalingActive").reason == "ScalingDisabled"


def test_pods_metric_average_value() -> None:
    """20 requests/s per pod against an average of 10 doubles 2 replicas to 4."""
    spec = """      metrics:
      - type: Pods
        pods:
          metric: {name: requests_per_second}
          target: {type: AverageValue, averageValue: "10"}"""
    behavior = "    podMetrics:\n      requests_per_second: {perPod: 20}\n"
    result = _run(spec=spec, behavior=behavior, duration="20s")
    first = _events(result, "rescaled")[0]
    assert first["message"] == "New size: 4; reason: pods metric requests_per_second above target"
    assert _hpa(result).status.current_metrics[0].average_value == 20_000


@pytest.mark.parametrize(("target", "size", "limited"), [
    ("value: \"30\"", 4, ("True", "ScaleUpLimit")),  # 90/30 * 2 ready pods = 6, one step allows max(2 * 2, 4)
    ("averageValue: \"30\"", 3, ("False", "DesiredWithinRange")),  # ceil(90 / 30)
], ids=["value", "average-value"])
def test_external_metric(target: str, size: int, limited: tuple[str, str]) -> None:
    """90 queued messages against 30: a Value target scales the ready pods, AverageValue wants 90/30."""
    kind = "Value" if target.startswith("value") else "AverageValue"
    spec = f"""      metrics:
      - type: External
        external:
          metric: {{name: queue_messages}}
          target: {{type: {kind}, {target}}}"""
    result = _run(spec=spec, behavior="    externalMetrics:\n      queue_messages: 90\n", duration="20s")
    first = _events(result, "rescaled")[0]
    assert first["message"] == f"New size: {size}; reason: external metric queue_messages(<nil>) above target"
    condition = _hpa(result).status.condition("ScalingLimited")
    assert (condition.status, condition.reason) == limited


def test_largest_proposal_wins() -> None:
    """CPU wants 2 (on target), requests/s wants 6 (4 this step): the HPA follows the Pods metric."""
    spec = CPU_50 + """
      - type: Pods
        pods:
          metric: {name: requests_per_second}
          target: {type: AverageValue, averageValue: "10"}"""
    behavior = "    cpuUsage: {perPod: 250m}\n    podMetrics:\n      requests_per_second: {perPod: 30}\n"
    result = _run(spec=spec, behavior=behavior, duration="35s")
    assert _events(result, "rescaled")[0]["message"].startswith("New size: 4; reason: pods metric")


def test_reconciles_every_sync_period_and_stop_after_delete() -> None:
    """Reconciles come 15 s apart (plus the API time of the last one); a deleted HPA is forgotten."""
    text = TEMPLATE.format(spec=CPU_50, behavior="    cpuUsage: {perPod: 250m}\n", duration="2m", replicas=2,
                           min=1, kind="Deployment", metrics="null")
    text += "timeline:\n- {at: 62s, action: delete, target: hpa/web}\n"
    result = run(scenario_from_text(text))
    times = result.trace.series_array("hpa.default.web.desired_replicas")[0]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(15 <= g < 15.05 for g in gaps)
    assert times[-1] < 62
    assert result.simulation.horizontal_controller.reconciles == len(times) + 1  # +1: the first, without metrics


def test_within_tolerance_nothing_moves() -> None:
    """Pods at 270m of 500m (54 % against 50 %, ratio 1.08) stay at 2 replicas."""
    result = _run(behavior="    cpuUsage: {perPod: 270m}\n", duration="2m")
    assert not _events(result, "rescaled")
    status = _hpa(result).status
    assert (status.current_metrics[0].average_utilization, status.desired_replicas) == (54, 2)


def test_two_hpas_on_one_target_are_ambiguous() -> None:
    """A second HPA selecting the same pods stops both with AmbiguousSelector."""
    text = TEMPLATE.format(spec=CPU_50, behavior="    cpuUsage: {perPod: 2}\n", duration="40s", replicas=2, min=1,
                           kind="Deployment", metrics="null")
    second = """  - apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web-2}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      maxReplicas: 5
"""
    text = text.replace("  behavior:\n    containerStart", second + "  behavior:\n    containerStart")
    result = run(scenario_from_text(text))
    warnings = [e for e in result.trace.events() if e["reason"] == "AmbiguousSelector"]
    assert warnings
    assert "are controlled by multiple HPAs: [{web default} {web-2 default}]" in warnings[0]["message"]
    assert not _events(result, "rescaled")


def test_behavior_tolerance_narrows_the_band() -> None:
    """With behavior.scaleUp.tolerance 0.05 the same 54 % (ratio 1.08) scales 2 -> ceil(2.16) = 3."""
    spec = CPU_50 + "\n      behavior:\n        scaleUp: {tolerance: 0.05}"
    result = _run(spec=spec, behavior="    cpuUsage: {perPod: 270m}\n", duration="40s")
    assert _events(result, "rescaled")[0]["message"].startswith("New size: 3;")
