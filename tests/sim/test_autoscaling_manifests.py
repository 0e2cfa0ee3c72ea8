"""HorizontalPodAutoscaler manifests: autoscaling/v2 defaults, metric targets and located errors."""

from __future__ import annotations

import pytest

from sim.api.autoscaling import (
    HPAScalingPolicy,
    MetricTarget,
    default_scale_down_rules,
    default_scale_up_rules,
)
from sim.api.manifests import parse_manifest
from sim.api.objects import WorkloadBehavior
from sim.yamlio import SourceError, load_text

HEAD = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
"""


def parse(spec: str):
    return parse_manifest(load_text(HEAD + spec, "hpa.yaml")[0], "default", WorkloadBehavior())


def test_defaults_minreplicas_cpu_80_and_no_behavior() -> None:
    """minReplicas defaults to 1, metrics to CPU at 80 %; an unset behavior stays unset."""
    hpa = parse("  maxReplicas: 5\n")
    spec = hpa.spec
    assert (spec.min_replicas, spec.max_replicas, spec.behavior) == (1, 5, None)
    assert [(m.type, m.name, m.target) for m in spec.metrics] == [("Resource", "cpu", MetricTarget("Utilization", 80))]
    assert (spec.scale_target_ref.kind, spec.scale_target_ref.name) == ("Deployment", "web")


def test_behavior_is_completed_with_defaults() -> None:
    """Setting only scaleDown's window fills everything else from defaults.go."""
    hpa = parse("  maxReplicas: 5\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: 60}\n")
    behavior = hpa.spec.behavior
    assert behavior.scale_up == default_scale_up_rules()
    assert behavior.scale_down.stabilization_window_seconds == 60
    assert behavior.scale_down.policies == default_scale_down_rules().policies
    assert default_scale_down_rules().stabilization_window_seconds is None  # the controller flag decides


def test_metric_targets_are_milli_values() -> None:
    """Quantities become milli-units, rounded up like Quantity.MilliValue."""
    hpa = parse("""  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: AverageValue, averageValue: 250m}}
  - type: Pods
    pods:
      metric: {name: requests_per_second}
      target: {type: AverageValue, averageValue: "10"}
  - type: External
    external:
      metric: {name: queue_messages, selector: {matchLabels: {queue: jobs}}}
      target: {type: Value, value: 1.0005}
  behavior:
    scaleUp:
      selectPolicy: Min
      tolerance: 0.05
      policies: [{type: Pods, value: 2, periodSeconds: 60}]
""")
    targets = [m.target for m in hpa.spec.metrics]
    assert targets == [MetricTarget("AverageValue", average_value=250),
                       MetricTarget("AverageValue", average_value=10_000),
                       MetricTarget("Value", value=1001)]
    assert str(hpa.spec.metrics[2].selector) == "queue=jobs"
    up = hpa.spec.behavior.scale_up
    assert (up.select_policy, up.tolerance, up.policies) == ("Min", 0.05, (HPAScalingPolicy("Pods", 2, 60),))


@pytest.mark.parametrize(("spec", "where", "message"), [
    ("  minReplicas: 3\n  maxReplicas: 2\n", "hpa.yaml:7: spec.maxReplicas", "greater than or equal to minReplicas"),
    ("  minReplicas: 0\n  maxReplicas: 2\n", "hpa.yaml:6: spec.minReplicas", "must be >= 1"),
    ("  minReplicas: 1\n", "spec.maxReplicas", "required field is missing"),
    ("  maxReplicas: 2\n  metrics:\n  - {type: Object, object: {}}\n", "spec.metrics[0].type", "not modelled"),
    ("  maxReplicas: 2\n  metrics:\n  - type: Resource\n    resource: {name: memory, target: {type: Utilization, "
     "averageUtilization: 50}}\n", "spec.metrics[0].resource.name", "only the cpu resource"),
    ("  maxReplicas: 2\n  metrics:\n  - type: Pods\n    pods: {metric: {name: rps}, target: {type: Value, value: 1}}\n",
     "spec.metrics[0].pods.target.type", "expected AverageValue"),
    ("  maxReplicas: 2\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization}}\n",
     "spec.metrics[0].resource.target.averageUtilization", "required"),
    ("  maxReplicas: 2\n  behavior:\n    scaleDown:\n      policies: [{type: Pods, value: 1, periodSeconds: 3600}]\n",
     "spec.behavior.scaleDown.policies[0].periodSeconds", "between 1 and 1800"),
    ("  maxReplicas: 2\n  behavior:\n    scaleUp: {selectPolicy: Fastest}\n",
     "spec.behavior.scaleUp.selectPolicy", "expected Max, Min or Disabled"),
], ids=["max-below-min", "min-zero", "no-max", "object-metric", "memory", "pods-value", "no-utilization",
        "long-period", "bad-select"])
def test_invalid_hpa_is_a_located_error(spec: str, where: str, message: str) -> None:
    """What the API server's validation rejects fails at load time, naming file, line and field."""
    with pytest.raises(SourceError) as info:
        parse(spec)
    assert where in str(info.value)
    assert message in str(info.value)
