"""The HPA's replica calculator: models pkg/controller/podautoscaler/replica_calculator.go and
metrics/utilization.go (Kubernetes 1.36), as pure functions.

Each function takes the pods the scale target selects and the metrics fetched for them and
returns the replica count one metric proposes. The arithmetic is upstream's: metric values
are integers in milli-units, utilisation is ``sum(usage) * 100 // sum(requests)`` (integer
division), and the proposal is ``ceil(ratio * pods)``. Worked example (the documentation's):
4 ready pods averaging 200m against a 100m target give ratio 2.0 and ``ceil(2.0 * 4) = 8``.

Pods without a metric, and pods not yet ready (CPU only), are first set aside; if any were
set aside the ratio is recomputed conservatively (missing pods at 0 on a scale-up and at
100 % of their request, or the target, on a scale-down; unready pods at 0 on a scale-up),
and the HPA does nothing if that recomputation lands within tolerance or flips direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.api.objects import FAILED, PENDING, Pod

__all__ = [
    "PodMetric",
    "PodState",
    "ReadinessParams",
    "ReplicaCalculatorError",
    "Tolerances",
    "calculate_requests",
    "get_external_metric_replicas",
    "get_external_per_pod_metric_replicas",
    "get_metric_replicas",
    "get_resource_replicas",
    "group_pods",
    "metric_usage_ratio",
    "pod_state",
    "ready_pods_count",
    "resource_utilization_ratio",
]

MAX_INT32 = 2**31 - 1


class ReplicaCalculatorError(Exception):
    """The calculator could not propose a replica count (the message is upstream's)."""


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far below / above 1.0 the usage ratio may be before the HPA acts."""

    scale_down: float = 0.1
    scale_up: float = 0.1

    def is_within(self, ratio: float) -> bool:
        """Whether ``ratio`` is close enough to 1.0 to keep the current size."""
        return 1.0 - self.scale_down <= ratio <= 1.0 + self.scale_up


@dataclass(frozen=True, slots=True)
class ReadinessParams:
    """--horizontal-pod-autoscaler-cpu-initialization-period and -initial-readiness-delay."""

    cpu_initialization_period: float = 300.0
    initial_readiness_delay: float = 30.0


@dataclass(frozen=True, slots=True)
class PodMetric:
    """One pod's sample: value in milli-units, when it was taken and over what window."""

    value: int
    timestamp: float = 0.0
    window: float = 0.0


@dataclass(frozen=True, slots=True)
class PodState:
    """What the calculator reads of a pod (the pod lister's view).

    ``ready`` is the Ready condition's status (None: no condition yet) and
    ``ready_transition`` its lastTransitionTime.
    """

    name: str
    phase: str = "Running"
    deleted: bool = False
    ready: bool | None = True
    ready_transition: float = 0.0
    start_time: float | None = 0.0


def pod_state(pod: Pod) -> PodState:
    """A pod as the calculator sees it.

    Our pods record when they became Ready but not when they last turned unready, so a pod
    that is not Ready is taken to have turned unready when it was last Ready or, if it never
    was, when it started (the kubelet's first status sets Ready=False then). Their start time
    is when the containers started; upstream's status.startTime is when the kubelet took
    the pod, before any image pull, so a slow pull shortens the real CPU initialisation period.
    """
    if pod.ready:
        transition = pod.ready_time if pod.ready_time is not None else 0.0
    else:
        transition = pod.ready_time if pod.ready_time is not None else (pod.start_time or 0.0)
    has_condition = pod.start_time is not None
    return PodState(pod.meta.name, pod.phase, pod.terminating, pod.ready if has_condition else None,
                    transition, pod.start_time)


def calculate_requests(pods: list[Pod], resource: str) -> dict[str, int]:
    """Each pod's request of ``resource`` (milli-units): its containers' plus sidecars'.

    Raises:
        ReplicaCalculatorError: a container has no request for the resource.
    """
    requests = {}
    for pod in pods:
        containers = pod.spec.containers + tuple(c for c in pod.spec.init_containers
                                                 if c.restart_policy == "Always")
        total = 0
        for c in containers:
            amount = dict(c.requests).get(resource)
            if amount is None:
                raise ReplicaCalculatorError(
                    f"missing request for {resource} in container {c.name} of Pod {pod.meta.name}")
            total += amount if resource == "cpu" else amount * 1000  # MilliValue
        requests[pod.meta.name] = total
    return requests


def group_pods(pods: list[PodState], metrics: dict[str, PodMetric], resource: str, now: float,
               params: ReadinessParams) -> tuple[int, set[str], set[str], set[str]]:
    """(ready pod count, unready, missing, ignored): upstream's groupPods.

    Deleted and failed pods are ignored; pending pods are unready; a pod with no sample is
    missing. For CPU only, a running pod is also unready if it is not Ready or its sample was
    taken (partly) before it turned Ready, while inside the CPU initialisation period; after
    it, only if it is not Ready and never was (its condition changed within the initial
    readiness delay of its start).
    """
    ready_count, unready, missing, ignored = 0, set(), set(), set()
    for pod in pods:
        if pod.deleted or pod.phase == FAILED:
            ignored.add(pod.name)
            continue
        if pod.phase == PENDING:
            unready.add(pod.name)
            continue
        metric = metrics.get(pod.name)
        if metric is None:
            missing.add(pod.name)
            continue
        if resource == "cpu" and _cpu_unready(pod, metric, now, params):
            unready.add(pod.name)
            continue
        ready_count += 1
    return ready_count, unready, missing, ignored


def _cpu_unready(pod: PodState, metric: PodMetric, now: float, params: ReadinessParams) -> bool:
    if pod.ready is None or pod.start_time is None:
        return True
    if pod.start_time + params.cpu_initialization_period > now:
        return not pod.ready or metric.timestamp < pod.ready_transition + metric.window
    return not pod.ready and pod.start_time + params.initial_readiness_delay > pod.ready_transition


def resource_utilization_ratio(metrics: dict[str, PodMetric], requests: dict[str, int],
                               target_utilization: int) -> tuple[float, int, int]:
    """(usage ratio, utilisation %, raw average milli-value) over the pods with a request."""
    metrics_total = requests_total = entries = 0
    for name, metric in metrics.items():
        request = requests.get(name)
        if request is None:
            continue
        metrics_total += metric.value
        requests_total += request
        entries += 1
    if requests_total == 0:
        raise ReplicaCalculatorError("no metrics returned matched known pods")
    utilization = metrics_total * 100 // requests_total
    return utilization / target_utilization, utilization, metrics_total // entries


def metric_usage_ratio(metrics: dict[str, PodMetric], target_usage: int) -> tuple[float, int]:
    """(usage ratio, average milli-value) of a plain per-pod metric."""
    usage = sum(m.value for m in metrics.values()) // len(metrics)
    return usage / target_usage, usage


def _dampen(usage_ratio: float, new_ratio: float, tolerances: Tolerances) -> bool:
    """Whether the recomputed ratio is within tolerance or points the other way."""
    return (tolerances.is_within(new_ratio) or (usage_ratio < 1.0 < new_ratio)
            or (usage_ratio > 1.0 > new_ratio))


def get_resource_replicas(current: int, target_utilization: int, pods: list[PodState],
                          metrics: dict[str, PodMetric], requests: dict[str, int] | ReplicaCalculatorError,
                          tolerances: Tolerances, now: float, params: ReadinessParams,
                          resource: str = "cpu") -> tuple[int, int, int]:
    """(replicas, utilisation %, raw average) for a Utilization target (GetResourceReplicas).

    ``requests`` is ``calculate_requests``' answer, or the error it raised: upstream reports
    that error only once it has found metrics for some targeted pod.
    """
    if not pods:
        raise ReplicaCalculatorError("no pods returned by selector while calculating replica count")
    ready_count, unready, missing, ignored = group_pods(pods, metrics, resource, now, params)
    metrics = {n: m for n, m in metrics.items() if n not in ignored and n not in unready}
    if not metrics:
        raise ReplicaCalculatorError("did not receive metrics for targeted pods (pods might be unready)")
    if isinstance(requests, ReplicaCalculatorError):
        raise requests
    ratio, utilization, raw = resource_utilization_ratio(metrics, requests, target_utilization)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.is_within(ratio):
            return current, utilization, raw
        return math.ceil(ratio * ready_count), utilization, raw
    if missing:
        if ratio < 1.0:
            fallback = max(100, target_utilization)
            metrics.update({n: PodMetric(requests[n] * fallback // 100) for n in sorted(missing)})
        elif ratio > 1.0:
            metrics.update({n: PodMetric(0) for n in sorted(missing)})
    if scale_up_with_unready:
        metrics.update({n: PodMetric(0) for n in sorted(unready)})
    new_ratio, _, _ = resource_utilization_ratio(metrics, requests, target_utilization)
    if _dampen(ratio, new_ratio, tolerances):
        return current, utilization, raw
    replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, utilization, raw
    return replicas, utilization, raw


def get_metric_replicas(current: int, target_usage: int, pods: list[PodState],
                        metrics: dict[str, PodMetric], tolerances: Tolerances, now: float,
                        params: ReadinessParams, resource: str = "") -> tuple[int, int]:
    """(replicas, average usage) for an AverageValue target of a per-pod metric.

    Upstream's calcPlainMetricReplicas: Pods metrics pass no resource (so readiness is not
    checked), a Resource metric with an AverageValue target passes its resource.
    """
    if not pods:
        raise ReplicaCalculatorError("no pods returned by selector while calculating replica count")
    ready_count, unready, missing, ignored = group_pods(pods, metrics, resource, now, params)
    metrics = {n: m for n, m in metrics.items() if n not in ignored and n not in unready}
    if not metrics:
        raise ReplicaCalculatorError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, usage = metric_usage_ratio(metrics, target_usage)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.is_within(ratio):
            return current, usage
        return math.ceil(ratio * ready_count), usage
    if missing:
        if ratio < 1.0:
            metrics.update({n: PodMetric(target_usage) for n in sorted(missing)})
        elif ratio > 1.0:
            metrics.update({n: PodMetric(0) for n in sorted(missing)})
    if scale_up_with_unready:
        metrics.update({n: PodMetric(0) for n in sorted(unready)})
    new_ratio, _ = metric_usage_ratio(metrics, target_usage)
    if _dampen(ratio, new_ratio, tolerances):
        return current, usage
    replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, usage
    return replicas, usage


def ready_pods_count(pods: list[PodState]) -> int:
    """Running and Ready pods (getReadyPodsCount; terminating pods that are Ready count)."""
    if not pods:
        raise ReplicaCalculatorError("no pods returned by selector while calculating replica count")
    return sum(1 for p in pods if p.phase == "Running" and p.ready)


def get_external_metric_replicas(current: int, target: int, values: list[int], pods: list[PodState],
                                 tolerances: Tolerances) -> tuple[int, int]:
    """(replicas, total usage) for an External metric with a Value target.

    The sum of the metric's series over the target gives the ratio, applied to the ready
    pods; with 0 current replicas the ratio alone is the proposal (scale from zero).
    """
    usage = sum(values)
    ratio = usage / target
    if current == 0:
        return math.ceil(ratio), usage
    if tolerances.is_within(ratio):
        return current, usage
    try:
        ready = ready_pods_count(pods)
    except ReplicaCalculatorError as exc:
        raise ReplicaCalculatorError(f"unable to calculate ready pods: {exc}") from None
    return min(math.ceil(ratio * ready), MAX_INT32), usage


def get_external_per_pod_metric_replicas(status_replicas: int, target_per_pod: int, values: list[int],
                                         tolerances: Tolerances) -> tuple[int, int]:
    """(replicas, usage per pod) for an External metric with an AverageValue target.

    The proposal is ``ceil(total / target)``, unless the total per current replica is
    within tolerance of the target.
    """
    usage = sum(values)
    replicas = status_replicas
    ratio = usage / (target_per_pod * replicas) if replicas else math.inf
    if not tolerances.is_within(ratio):
        replicas = min(math.ceil(usage / target_per_pod), MAX_INT32)
    per_pod = math.ceil(usage / status_replicas) if status_replicas else usage
    return replicas, per_pod
