"""autoscaling/v2 HorizontalPodAutoscaler: the object, its defaults and its validation.

Models ``k8s.io/api/autoscaling/v2`` types, ``pkg/apis/autoscaling/v2/defaults.go``
(minReplicas 1, CPU 80 % when no metric is given, scaling rules filled in only when
``spec.behavior`` is set) and the checks of ``pkg/apis/autoscaling/validation`` for the
fields the controller reads (Kubernetes 1.36). Metric values are held as upstream's
controller holds them: integer milli-units (``Quantity.MilliValue``, rounded up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.api.objects import ObjectMeta
from sim.api.quantity import QuantityError, cpu_millis
from sim.api.selectors import Requirement, Selector

__all__ = [
    "DEFAULT_CPU_UTILIZATION",
    "METRIC_TYPES",
    "Condition",
    "CrossVersionObjectReference",
    "HPABehavior",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HPASpec",
    "HPAStatus",
    "HorizontalPodAutoscaler",
    "MetricSpec",
    "MetricStatus",
    "MetricTarget",
    "default_scale_down_rules",
    "default_scale_up_rules",
    "parse_horizontal_pod_autoscaler",
]

Path = tuple[str | int, ...]
DEFAULT_CPU_UTILIZATION = 80  # autoscaling.DefaultCPUUtilization
METRIC_TYPES = ("Resource", "Pods", "External")  # Object and ContainerResource are not modelled
MAX_PERIOD_SECONDS = 1800  # MaxPeriodSeconds
MAX_STABILIZATION_WINDOW_SECONDS = 3600  # MaxStabilizationWindowSeconds
SELECT_POLICIES = ("Max", "Min", "Disabled")


@dataclass(frozen=True, slots=True)
class CrossVersionObjectReference:
    """spec.scaleTargetRef: the workload whose scale subresource the HPA sets."""

    kind: str
    name: str
    api_version: str = ""


@dataclass(frozen=True, slots=True)
class MetricTarget:
    """A metric's target: Utilization (percent of request), Value or AverageValue (milli-units)."""

    type: str
    average_utilization: int | None = None
    value: int | None = None  # milli-units
    average_value: int | None = None  # milli-units


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """spec.metrics[]: ``name`` is the resource name (Resource) or the metric's name."""

    type: str
    name: str
    target: MetricTarget
    selector: Selector | None = None  # metric.selector of Pods/External metrics


@dataclass(frozen=True, slots=True)
class HPAScalingPolicy:
    """One rate limit: at most ``value`` pods (Pods) or percent (Percent) per ``period_seconds``."""

    type: str
    value: int
    period_seconds: int


@dataclass(frozen=True, slots=True)
class HPAScalingRules:
    """behavior.scaleUp / scaleDown; a None window means the controller's flag (scale-down)."""

    policies: tuple[HPAScalingPolicy, ...]
    select_policy: str = "Max"
    stabilization_window_seconds: int | None = None
    tolerance: float | None = None  # None: --horizontal-pod-autoscaler-tolerance


@dataclass(frozen=True, slots=True)
class HPABehavior:
    """spec.behavior with both directions filled in (defaults.go's GenerateHPA*Rules)."""

    scale_up: HPAScalingRules
    scale_down: HPAScalingRules


def default_scale_up_rules() -> HPAScalingRules:
    """Scale up without stabilisation by max(+4 pods, +100 %) per 15 s."""
    return HPAScalingRules((HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15)), "Max", 0)


def default_scale_down_rules() -> HPAScalingRules:
    """Scale down by up to 100 % per 15 s, stabilised over the controller's window."""
    return HPAScalingRules((HPAScalingPolicy("Percent", 100, 15),), "Max", None)


@dataclass(frozen=True, slots=True)
class HPASpec:
    """spec, defaulted."""

    scale_target_ref: CrossVersionObjectReference
    max_replicas: int
    min_replicas: int = 1
    metrics: tuple[MetricSpec, ...] = ()
    behavior: HPABehavior | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """status.conditions[]: AbleToScale, ScalingActive or ScalingLimited."""

    type: str
    status: str  # "True" or "False"
    reason: str
    message: str
    last_transition_time: float


@dataclass(frozen=True, slots=True)
class MetricStatus:
    """status.currentMetrics[]: the value the controller computed (milli-units, or percent)."""

    type: str
    name: str
    average_utilization: int | None = None
    average_value: int | None = None
    value: int | None = None


@dataclass(frozen=True, slots=True)
class HPAStatus:
    """status: replaced as a whole on each update, so copies never share mutable state."""

    current_replicas: int = 0
    desired_replicas: int = 0
    current_metrics: tuple[MetricStatus, ...] = ()
    conditions: tuple[Condition, ...] = ()
    last_scale_time: float | None = None

    def condition(self, type_: str) -> Condition | None:
        """The condition of this type, if set."""
        return next((c for c in self.conditions if c.type == type_), None)


@dataclass(slots=True)
class HorizontalPodAutoscaler:
    """autoscaling/v2 HorizontalPodAutoscaler."""

    meta: ObjectMeta
    spec: HPASpec
    status: HPAStatus = HPAStatus()
    kind: str = "HorizontalPodAutoscaler"


# ---------------------------------------------------------------------------- parsing

def _int(r: Any, value: Any, path: Path, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.fail(path, f"expected an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise r.fail(path, f"must be {bound}, got {value}")
    return value


def _milli(r: Any, value: Any, path: Path) -> int:
    """A positive quantity in milli-units, rounded up as ``Quantity.MilliValue``."""
    if value is None:
        raise r.fail(path, "required field is missing")
    try:
        milli = cpu_millis(value)
    except QuantityError as exc:
        raise r.fail(path, str(exc)) from None
    if milli <= 0:
        raise r.fail(path, f"must be positive, got {value!r}")
    return milli


def _target(r: Any, value: Any, path: Path, allowed: tuple[str, ...]) -> MetricTarget:
    m = r.mapping(value, path)
    kind = r.string(m.get("type"), (*path, "type"), required=True)
    if kind not in allowed:
        raise r.fail((*path, "type"), f"expected {' or '.join(allowed)}, got {kind!r}")
    if kind == "Utilization":
        if m.get("averageUtilization") is None:
            raise r.fail((*path, "averageUtilization"), "required for a Utilization target")
        return MetricTarget(kind, average_utilization=_int(r, m["averageUtilization"],
                                                           (*path, "averageUtilization"), 1))
    if kind == "Value":
        return MetricTarget(kind, value=_milli(r, m.get("value"), (*path, "value")))
    return MetricTarget(kind, average_value=_milli(r, m.get("averageValue"), (*path, "averageValue")))


def _metric_selector(r: Any, value: Any, path: Path) -> Selector | None:
    if value is None:
        return None
    m = r.mapping(value, path)
    labels = r.labels(m.get("matchLabels"), (*path, "matchLabels"))
    if m.get("matchExpressions"):
        raise r.fail((*path, "matchExpressions"), "only matchLabels is modelled for metric selectors")
    return Selector(tuple(Requirement(k, "In", (v,)) for k, v in sorted(labels.items())))


def _metric(r: Any, value: Any, path: Path) -> MetricSpec:
    m = r.mapping(value, path)
    kind = r.string(m.get("type"), (*path, "type"), required=True)
    if kind not in METRIC_TYPES:
        raise r.fail((*path, "type"), f"metric type {kind!r} is not modelled; supported: "
                     f"{', '.join(METRIC_TYPES)}")
    source_path = (*path, kind[0].lower() + kind[1:])
    source = r.mapping(m.get(source_path[-1]), source_path)
    if not source:
        raise r.fail(source_path, f"required for a {kind} metric")
    if kind == "Resource":
        name = r.string(source.get("name"), (*source_path, "name"), required=True)
        if name != "cpu":
            raise r.fail((*source_path, "name"), f"only the cpu resource is modelled, got {name!r}")
        target = _target(r, source.get("target"), (*source_path, "target"), ("Utilization", "AverageValue"))
        return MetricSpec(kind, name, target)
    metric = r.mapping(source.get("metric"), (*source_path, "metric"))
    name = r.string(metric.get("name"), (*source_path, "metric", "name"), required=True)
    allowed = ("AverageValue",) if kind == "Pods" else ("Value", "AverageValue")
    target = _target(r, source.get("target"), (*source_path, "target"), allowed)
    return MetricSpec(kind, name, target, _metric_selector(r, metric.get("selector"),
                                                           (*source_path, "metric", "selector")))


def _rules(r: Any, value: Any, path: Path, default: HPAScalingRules) -> HPAScalingRules:
    if value is None:
        return default
    m = r.mapping(value, path)
    policies = default.policies
    if m.get("policies") is not None:
        items = r.sequence(m.get("policies"), (*path, "policies"))
        if not items:
            raise r.fail((*path, "policies"), "must specify at least one Policy")
        policies = tuple(_policy(r, p, (*path, "policies", i)) for i, p in enumerate(items))
    select = r.string(m.get("selectPolicy"), (*path, "selectPolicy")) or default.select_policy
    if select not in SELECT_POLICIES:
        raise r.fail((*path, "selectPolicy"), f"expected Max, Min or Disabled, got {select!r}")
    window = default.stabilization_window_seconds
    if m.get("stabilizationWindowSeconds") is not None:
        window = _int(r, m["stabilizationWindowSeconds"], (*path, "stabilizationWindowSeconds"), 0,
                      MAX_STABILIZATION_WINDOW_SECONDS)
    tolerance = m.get("tolerance")
    if tolerance is not None:
        tolerance = r.number(tolerance, (*path, "tolerance"), 0.0)
    return HPAScalingRules(policies, select, window, tolerance)


def _policy(r: Any, value: Any, path: Path) -> HPAScalingPolicy:
    m = r.mapping(value, path)
    kind = r.string(m.get("type"), (*path, "type"), required=True)
    if kind not in ("Pods", "Percent"):
        raise r.fail((*path, "type"), f"expected Pods or Percent, got {kind!r}")
    return HPAScalingPolicy(
        kind,
        _int(r, m.get("value"), (*path, "value"), 1),
        _int(r, m.get("periodSeconds"), (*path, "periodSeconds"), 1, MAX_PERIOD_SECONDS),
    )


def parse_horizontal_pod_autoscaler(r: Any, meta: ObjectMeta, spec: dict[str, Any]) -> HorizontalPodAutoscaler:
    """An autoscaling/v2 HorizontalPodAutoscaler, defaulted and validated."""
    ref = r.mapping(spec.get("scaleTargetRef"), ("spec", "scaleTargetRef"))
    if not ref:
        raise r.fail(("spec", "scaleTargetRef"), "required field is missing")
    target = CrossVersionObjectReference(
        r.string(ref.get("kind"), ("spec", "scaleTargetRef", "kind"), required=True),
        r.string(ref.get("name"), ("spec", "scaleTargetRef", "name"), required=True),
        r.string(ref.get("apiVersion"), ("spec", "scaleTargetRef", "apiVersion")),
    )
    min_replicas = 1
    if spec.get("minReplicas") is not None:  # 0 needs the alpha HPAScaleToZero gate
        min_replicas = _int(r, spec["minReplicas"], ("spec", "minReplicas"), 1)
    if spec.get("maxReplicas") is None:
        raise r.fail(("spec", "maxReplicas"), "required field is missing")
    max_replicas = _int(r, spec["maxReplicas"], ("spec", "maxReplicas"), 1)
    if max_replicas < min_replicas:
        raise r.fail(("spec", "maxReplicas"), f"must be greater than or equal to minReplicas ({min_replicas})")
    items = r.sequence(spec.get("metrics"), ("spec", "metrics"))
    metrics = tuple(_metric(r, m, ("spec", "metrics", i)) for i, m in enumerate(items))
    if not metrics:
        metrics = (MetricSpec("Resource", "cpu", MetricTarget("Utilization", DEFAULT_CPU_UTILIZATION)),)
    behavior = None
    if spec.get("behavior") is not None:
        b = r.mapping(spec["behavior"], ("spec", "behavior"))
        behavior = HPABehavior(
            _rules(r, b.get("scaleUp"), ("spec", "behavior", "scaleUp"), default_scale_up_rules()),
            _rules(r, b.get("scaleDown"), ("spec", "behavior", "scaleDown"), default_scale_down_rules()),
        )
    return HorizontalPodAutoscaler(meta, HPASpec(target, max_replicas, min_replicas, metrics, behavior))
