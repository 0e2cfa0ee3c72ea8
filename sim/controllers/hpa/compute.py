"""One proposal per metric, then the largest: models computeReplicasForMetrics and the
computeStatusFor*Metric functions of pkg/controller/podautoscaler/horizontal.go (1.36).

Each metric of the HPA is fetched and handed to the replica calculator; a failure becomes
the ScalingActive=False condition and event upstream raises (``FailedGetResourceMetric``
and friends) with upstream's nested error text. The HPA acts on the largest proposal; if
some metrics failed it still scales up on the others, but never down.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.api.autoscaling import MetricSpec, MetricStatus
from sim.api.objects import Pod
from sim.api.selectors import Selector
from sim.controllers.hpa.metrics import MetricsClient
from sim.controllers.hpa.replica_calculator import (
    ReadinessParams,
    ReplicaCalculatorError,
    Tolerances,
    calculate_requests,
    get_external_metric_replicas,
    get_external_per_pod_metric_replicas,
    get_metric_replicas,
    get_resource_replicas,
    pod_state,
)

__all__ = ["MetricContext", "MetricFailure", "MetricResult", "MetricsOutcome", "compute_replicas_for_metric",
           "compute_replicas_for_metrics", "selector_description"]


@dataclass(frozen=True, slots=True)
class MetricContext:
    """What a metric's computation reads: the target's scale, its pods and the metrics APIs."""

    namespace: str
    selector: Selector
    spec_replicas: int
    status_replicas: int
    pods: list[Pod]
    now: float
    tolerances: Tolerances
    readiness: ReadinessParams
    client: MetricsClient


@dataclass(frozen=True, slots=True)
class MetricResult:
    """A metric's proposal, its description (for the rescale reason) and its status."""

    replicas: int
    name: str
    status: MetricStatus
    timestamp: float


@dataclass(frozen=True, slots=True)
class MetricFailure:
    """Why a metric gave no proposal: event/condition reason, its text, the returned error."""

    reason: str
    detail: str
    error: str


@dataclass(frozen=True, slots=True)
class MetricsOutcome:
    """computeReplicasForMetrics' answer; ``replicas`` -1 means the HPA cannot act."""

    replicas: int
    metric: str
    statuses: tuple[MetricStatus, ...]
    failures: tuple[MetricFailure, ...]
    error: str = ""


def selector_description(selector: Selector | None) -> str:
    """A metric selector as Go's ``%+v`` prints a *LabelSelector."""
    if selector is None:
        return "<nil>"
    labels = "".join(f"{r.key}: {r.values[0]}," for r in selector.requirements)
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
            "MatchExpressions:[]LabelSelectorRequirement{},}")


def compute_replicas_for_metrics(specs: tuple[MetricSpec, ...], ctx: MetricContext) -> MetricsOutcome:
    """The largest proposal over the metrics, or -1 if all failed (or some did and it would shrink)."""
    replicas, metric = 0, ""
    statuses: list[MetricStatus] = []
    failures: list[MetricFailure] = []
    for spec in specs:
        result = compute_replicas_for_metric(spec, ctx)
        if isinstance(result, MetricFailure):
            failures.append(result)
            statuses.append(MetricStatus("", ""))
            continue
        statuses.append(result.status)
        if replicas == 0 or result.replicas > replicas:
            replicas, metric = result.replicas, result.name
    error = ""
    if failures:
        error = (f"invalid metrics ({len(failures)} invalid out of {len(specs)}), "
                 f"first error is: {failures[0].error}")
    if len(failures) >= len(specs) or (failures and replicas < ctx.spec_replicas):
        return MetricsOutcome(-1, "", tuple(statuses), tuple(failures), error)
    return MetricsOutcome(replicas, metric, tuple(statuses), tuple(failures), error)


def compute_replicas_for_metric(spec: MetricSpec, ctx: MetricContext) -> MetricResult | MetricFailure:
    """One metric's proposal (computeReplicasForMetric)."""
    if spec.type == "Resource":
        return _resource(spec, ctx)
    if spec.type == "Pods":
        return _pods(spec, ctx)
    return _external(spec, ctx)


def _resource(spec: MetricSpec, ctx: MetricContext) -> MetricResult | MetricFailure:
    what = "usage" if spec.target.average_value is not None else "utilization"
    try:
        return _resource_proposal(spec, ctx)
    except ReplicaCalculatorError as exc:
        detail = f"failed to get {spec.name} {what}: {exc}"
        return MetricFailure("FailedGetResourceMetric", detail,
                             f"failed to get {spec.name} resource metric value: {detail}")


def _resource_proposal(spec: MetricSpec, ctx: MetricContext) -> MetricResult:
    target, resource = spec.target, spec.name
    try:
        metrics, timestamp = ctx.client.get_resource_metric(resource, ctx.namespace, ctx.selector)
    except ReplicaCalculatorError as exc:
        raise ReplicaCalculatorError(f"unable to get metrics for resource {resource}: {exc}") from None
    states = [pod_state(p) for p in ctx.pods]
    if target.average_value is not None:
        replicas, usage = get_metric_replicas(ctx.spec_replicas, target.average_value, states, metrics,
                                              ctx.tolerances, ctx.now, ctx.readiness, resource)
        status = MetricStatus("Resource", resource, average_value=usage)
        return MetricResult(replicas, f"{resource} resource", status, timestamp)
    try:
        requests: dict[str, int] | ReplicaCalculatorError = calculate_requests(ctx.pods, resource)
    except ReplicaCalculatorError as exc:
        requests = exc
    replicas, utilization, raw = get_resource_replicas(
        ctx.spec_replicas, target.average_utilization or 0, states, metrics, requests, ctx.tolerances, ctx.now,
        ctx.readiness, resource)
    status = MetricStatus("Resource", resource, average_utilization=utilization, average_value=raw)
    return MetricResult(replicas, f"{resource} resource utilization (percentage of request)", status, timestamp)


def _pods(spec: MetricSpec, ctx: MetricContext) -> MetricResult | MetricFailure:
    states = [pod_state(p) for p in ctx.pods]
    try:
        try:
            metrics, timestamp = ctx.client.get_raw_metric(spec.name, ctx.namespace, ctx.selector)
        except ReplicaCalculatorError as exc:
            raise ReplicaCalculatorError(f"unable to get metric {spec.name}: {exc}") from None
        replicas, usage = get_metric_replicas(ctx.spec_replicas, spec.target.average_value or 0, states, metrics,
                                              ctx.tolerances, ctx.now, ctx.readiness)
    except ReplicaCalculatorError as exc:
        return MetricFailure("FailedGetPodsMetric", str(exc), f"failed to get pods metric value: {exc}")
    status = MetricStatus("Pods", spec.name, average_value=usage)
    return MetricResult(replicas, f"pods metric {spec.name}", status, timestamp)


def _external(spec: MetricSpec, ctx: MetricContext) -> MetricResult | MetricFailure:
    target, selector = spec.target, selector_description(spec.selector)
    name = f"external metric {spec.name}({selector})"
    try:
        values, timestamp = ctx.client.get_external_metric(spec.name, ctx.namespace)
    except ReplicaCalculatorError as exc:
        detail = f"unable to get external metric {ctx.namespace}/{spec.name}/{selector}: {exc}"
        inner = (f"failed to get {spec.name} external metric: {detail}" if target.average_value is not None
                 else f"failed to get external metric {spec.name}: {detail}")
        return MetricFailure("FailedGetExternalMetric", detail,
                             f"failed to get {spec.name} external metric value: {inner}")
    if target.average_value is not None:
        replicas, usage = get_external_per_pod_metric_replicas(ctx.status_replicas, target.average_value, values,
                                                               ctx.tolerances)
        return MetricResult(replicas, name, MetricStatus("External", spec.name, average_value=usage), timestamp)
    try:
        replicas, usage = get_external_metric_replicas(ctx.spec_replicas, target.value or 0, values,
                                                       [pod_state(p) for p in ctx.pods], ctx.tolerances)
    except ReplicaCalculatorError as exc:
        return MetricFailure("FailedGetExternalMetric", str(exc), f"failed to get {spec.name} external metric "
                             f"value: failed to get external metric {spec.name}: {exc}")
    return MetricResult(replicas, name, MetricStatus("External", spec.name, value=usage), timestamp)

