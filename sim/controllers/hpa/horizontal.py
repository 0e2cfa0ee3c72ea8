"""The HorizontalPodAutoscaler controller: models pkg/controller/podautoscaler/horizontal.go
(reconcileAutoscaler; Kubernetes 1.36).

Each HPA is reconciled every ``--horizontal-pod-autoscaler-sync-period`` (15 s): its key
is queued 15 s after it is added and again 15 s after each reconcile ends (upstream's
FixedItemIntervalRateLimiter; a pending key keeps its earliest time). A reconcile reads
the target's scale, asks every metric for a proposal (compute.py, replica_calculator.py),
stabilises and rate-limits the largest (normalize.py), writes the new size through the
target's scale subresource (spec.replicas), records a ``SuccessfulRescale`` event, and
writes status (currentReplicas, desiredReplicas, currentMetrics, conditions) if it changed.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import simpy

from sim.api.autoscaling import Condition, HorizontalPodAutoscaler, HPAStatus, MetricStatus
from sim.api.client import Client
from sim.api.selectors import Selector
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.config import ControllerManagerConfig
from sim.controllers.hpa.compute import MetricContext, MetricsOutcome, compute_replicas_for_metrics
from sim.controllers.hpa.metrics import MetricsClient
from sim.controllers.hpa.normalize import (
    Normalized,
    Recommendation,
    ScaleEvent,
    normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
    store_scale_event,
)
from sim.controllers.hpa.replica_calculator import ReadinessParams, Tolerances
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler
from sim.trace import Trace

__all__ = ["HorizontalController", "set_condition"]

KIND = "HorizontalPodAutoscaler"
_RESOURCES = {"Deployment": "deployments.apps", "ReplicaSet": "replicasets.apps",
              "StatefulSet": "statefulsets.apps"}


def set_condition(conditions: tuple[Condition, ...], type_: str, status: bool, reason: str, message: str,
                  now: float) -> tuple[Condition, ...]:
    """setConditionInList: replace or append; the transition time moves only on a status change."""
    text = "True" if status else "False"
    for i, c in enumerate(conditions):
        if c.type == type_:
            when = c.last_transition_time if c.status == text else now
            return conditions[:i] + (Condition(type_, text, reason, message, when),) + conditions[i + 1:]
    return (*conditions, Condition(type_, text, reason, message, now))


@dataclass(slots=True)
class _History:
    """Per-HPA memory of the controller: recent recommendations and scale events."""

    recommendations: tuple[Recommendation, ...] = ()
    scale_up: tuple[ScaleEvent, ...] = ()
    scale_down: tuple[ScaleEvent, ...] = ()


class _Reconcile:
    """The working copy of one reconcile: conditions set so far and events to emit."""

    def __init__(self, hpa: HorizontalPodAutoscaler, now: float) -> None:
        self.hpa, self.now = hpa, now
        self.conditions = hpa.status.conditions

    def condition(self, type_: str, status: bool, reason: str, message: str) -> None:
        self.conditions = set_condition(self.conditions, type_, status, reason, message, self.now)


class HorizontalController(Controller):
    """Scales Deployments, ReplicaSets (and StatefulSets) to their HPAs' metrics."""

    name = "horizontal-pod-autoscaler"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, config: ControllerManagerConfig,
                 sync_latency: Sampler, trace: Trace) -> None:
        super().__init__(env, api, client, config.concurrent_horizontal_pod_autoscaler_syncs, sync_latency)
        self.config = config
        self.trace = trace
        self.metrics = MetricsClient(api)
        self.period = config.horizontal_pod_autoscaler_sync_period
        self.readiness = ReadinessParams(config.horizontal_pod_autoscaler_cpu_initialization_period,
                                         config.horizontal_pod_autoscaler_initial_readiness_delay)
        self.reconciles = 0
        self._due: dict[Key, float] = {}
        self._history: dict[Key, _History] = {}
        self._selectors: dict[Key, Selector] = {}  # hpaSelectors: what each HPA last selected
        self._last_warning: dict[tuple[Key, str], str] = {}
        self.informers.watch(KIND, self._on_hpas)

    # ------------------------------------------------------------------ queue
    def _on_hpas(self, events: list[tuple[str, Any]]) -> None:
        for etype, hpa in events:
            key = (hpa.meta.namespace, hpa.meta.name)
            if etype == DELETED:
                self._selectors.pop(key, None)
            self._add_rate_limited(key)

    def _add_rate_limited(self, key: Key) -> None:
        """Queue ``key`` one sync period from now, unless it is already due sooner."""
        due = self.env.now + self.period
        if self._due.get(key, float("inf")) <= due:
            return
        self._due[key] = due
        call_later(self.env, self.period, self._ready, key, due)

    def _ready(self, key: Key, due: float) -> None:
        if self._due.get(key) == due:
            del self._due[key]
            self.queue.add(key)

    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        hpa = self.api.store.get(KIND, *key)
        if hpa is None:  # deleted: forget its history and stop requeueing
            self._history.pop(key, None)
            self._selectors.pop(key, None)
            return
        self.reconciles += 1
        yield from self._reconcile(hpa, key)
        self._add_rate_limited(key)

    # ------------------------------------------------------------------ reconcile
    def _reconcile(self, hpa: HorizontalPodAutoscaler, key: Key) -> Generator[simpy.Event, Any, None]:
        now, spec = self.env.now, hpa.spec
        work = _Reconcile(hpa, now)
        ref = spec.scale_target_ref
        target = self.api.store.get(ref.kind, hpa.meta.namespace, ref.name)
        if target is None or not hasattr(target, "replicas"):
            resource = _RESOURCES.get(ref.kind, ref.kind.lower() + "s")
            error = f'{resource} "{ref.name}" not found'
            self._warn(hpa, "FailedGetScale", error)
            work.condition("AbleToScale", False, "FailedGetScale",
                           f"the HPA controller was unable to get the target's current scale: {error}")
            yield from self._update_status(hpa, replace(hpa.status, conditions=work.conditions))
            return
        work.condition("AbleToScale", True, "SucceededGetScale", "the HPA controller was able to get the target's "
                       "current scale")
        current = target.replicas
        history = self._history.setdefault(key, _History())
        if not history.recommendations:
            history.recommendations = (Recommendation(current, now),)
        statuses: tuple[MetricStatus, ...] = ()
        rescale, reason, desired = True, "", 0
        if current == 0 and spec.min_replicas != 0:
            rescale = False
            work.condition("ScalingActive", False, "ScalingDisabled",
                           "scaling is disabled since the replica count of the target is zero")
        elif current > spec.max_replicas:
            reason, desired = "Current number of replicas above Spec.MaxReplicas", spec.max_replicas
        elif current < spec.min_replicas:
            reason, desired = "Current number of replicas below Spec.MinReplicas", spec.min_replicas
        else:
            outcome = self._compute(hpa, key, target, work)
            statuses = outcome.statuses
            if outcome.replicas == -1:
                status = replace(hpa.status, current_replicas=current, current_metrics=statuses,
                                  conditions=work.conditions)
                yield from self._update_status(hpa, status)
                self._warn(hpa, "FailedComputeMetricsReplicas", outcome.error)
                return
            desired = max(outcome.replicas, 0)
            if desired > current:
                reason = f"{outcome.metric} above target"
            elif desired < current:
                reason = "All metrics below target"
            normalized = self._normalize(hpa, history, current, desired)
            work.condition("AbleToScale", True, *normalized.able_to_scale)
            work.condition("ScalingLimited", normalized.limited, *normalized.scaling_limited)
            desired = normalized.replicas
            rescale = desired != current
        last_scale_time = hpa.status.last_scale_time
        if rescale:
            ok = yield self.call(self.api.update, target, _set_replicas(desired))
            if not ok:
                error = f'{_RESOURCES.get(ref.kind, ref.kind)} "{ref.name}" not found'
                self._warn(hpa, "FailedRescale", f"New size: {desired}; reason: {reason}; error: {error}")
                work.condition("AbleToScale", False, "FailedUpdateScale",
                               f"the HPA controller was unable to update the target scale: {error}")
                status = replace(hpa.status, current_replicas=current, current_metrics=statuses,
                                  conditions=work.conditions)
                yield from self._update_status(hpa, status)
                return
            work.condition("AbleToScale", True, "SucceededRescale",
                           f"the HPA controller was able to update the target scale to {desired}")
            self.trace.record(self.env.now, KIND, hpa.meta.namespace, hpa.meta.name, "rescaled", "",
                              "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            self._store_scale_event(hpa, history, current, desired)
            last_scale_time = now
        else:
            desired = current
        self._sample(hpa, current, desired, statuses)
        status = HPAStatus(current, desired, statuses, work.conditions, last_scale_time)
        yield from self._update_status(hpa, status)

    def _compute(self, hpa: HorizontalPodAutoscaler, key: Key, target: Any, work: _Reconcile) -> MetricsOutcome:
        """computeReplicasForMetrics, with the selector checks and conditions it sets."""
        ns, selector = hpa.meta.namespace, target.selector
        self._selectors[key] = selector
        pods = [p for p in self.api.store.list("Pod")
                if p.meta.namespace == ns and selector.matches(p.meta.labels)]
        others = sorted(k for k, s in self._selectors.items()
                        if k != key and k[0] == ns and any(s.matches(p.meta.labels) for p in pods))
        if others:
            names = " ".join(f"{{{name} {ns}}}" for name in sorted([hpa.meta.name, *(k[1] for k in others)]))
            message = f"pods by selector {selector} are controlled by multiple HPAs: [{names}]"
            self._warn(hpa, "AmbiguousSelector", message)
            work.condition("ScalingActive", False, "AmbiguousSelector", message)
            return MetricsOutcome(-1, "", (), (), message)
        spec = hpa.spec
        tolerances = self._tolerances(hpa)
        ctx = MetricContext(ns, selector, target.replicas, getattr(target, "status_replicas", target.replicas),
                            pods, self.env.now, tolerances, self.readiness, self.metrics)
        outcome = compute_replicas_for_metrics(spec.metrics, ctx)
        for failure in outcome.failures:
            self._warn(hpa, failure.reason, failure.detail)
        if outcome.replicas == -1:
            first = outcome.failures[0]
            work.condition("ScalingActive", False, first.reason,
                           f"the HPA was unable to compute the replica count: {first.detail}")
        else:
            work.condition("ScalingActive", True, "ValidMetricFound",
                           f"the HPA was able to successfully calculate a replica count from {outcome.metric}")
        return outcome

    def _tolerances(self, hpa: HorizontalPodAutoscaler) -> Tolerances:
        """Each direction's behavior.tolerance, else --horizontal-pod-autoscaler-tolerance."""
        default, behavior = self.config.horizontal_pod_autoscaler_tolerance, hpa.spec.behavior
        if behavior is None:
            return Tolerances(default, default)
        down, up = behavior.scale_down.tolerance, behavior.scale_up.tolerance
        return Tolerances(default if down is None else down, default if up is None else up)

    def _normalize(self, hpa: HorizontalPodAutoscaler, history: _History, current: int,
                   desired: int) -> Normalized:
        spec, now = hpa.spec, self.env.now
        window = self.config.horizontal_pod_autoscaler_downscale_stabilization
        if spec.behavior is None:
            result = normalize_desired_replicas(history.recommendations, now, window, current, desired,
                                                spec.min_replicas, spec.max_replicas)
        else:
            result = normalize_desired_replicas_with_behaviors(
                history.recommendations, history.scale_up, history.scale_down, now, spec.behavior, window,
                current, desired, spec.min_replicas, spec.max_replicas)
        history.recommendations = result.recommendations
        return result

    def _store_scale_event(self, hpa: HorizontalPodAutoscaler, history: _History, previous: int, new: int) -> None:
        behavior, now = hpa.spec.behavior, self.env.now
        if behavior is None:  # upstream keeps no events then: nothing reads them
            return
        if new > previous:
            history.scale_up = store_scale_event(history.scale_up, behavior.scale_up, now, new - previous)
        else:
            history.scale_down = store_scale_event(history.scale_down, behavior.scale_down, now, previous - new)

    # ------------------------------------------------------------------ writes and records
    def _update_status(self, hpa: HorizontalPodAutoscaler, status: HPAStatus) -> Generator[simpy.Event, Any, None]:
        """updateStatusIfNeeded: write only a changed status."""
        if status == hpa.status:
            return

        def apply(obj: HorizontalPodAutoscaler) -> None:
            obj.status = status

        yield self.call(self.api.update, hpa, apply)

    def _warn(self, hpa: HorizontalPodAutoscaler, reason: str, message: str) -> None:
        """A Warning event; repeats of the last one are folded, as the event recorder counts them."""
        key = ((hpa.meta.namespace, hpa.meta.name), reason)
        if self._last_warning.get(key) == message:
            return
        self._last_warning[key] = message
        self.trace.record(self.env.now, KIND, hpa.meta.namespace, hpa.meta.name, "warning", "", reason, message)

    def _sample(self, hpa: HorizontalPodAutoscaler, current: int, desired: int,
                statuses: tuple[MetricStatus, ...]) -> None:
        prefix, now = f"hpa.{hpa.meta.namespace}.{hpa.meta.name}", self.env.now
        self.trace.sample(f"{prefix}.current_replicas", now, current)
        self.trace.sample(f"{prefix}.desired_replicas", now, desired)
        for status in statuses:
            label, value = _metric_series(status)
            if label:
                self.trace.sample(f"{prefix}.{label}", now, value)


def _metric_series(status: MetricStatus) -> tuple[str, float]:
    """A metric status as a (series name, value) pair: percent, or units of the metric."""
    if status.type == "Resource" and status.average_utilization is not None:
        return f"{status.name}_utilization_percent", float(status.average_utilization)
    if status.type == "Resource":
        return f"{status.name}_average", (status.average_value or 0) / 1000
    if status.type == "Pods":
        return f"pods_{status.name}", (status.average_value or 0) / 1000
    if status.type == "External":
        value = status.value if status.value is not None else status.average_value
        return f"external_{status.name}", (value or 0) / 1000
    return "", 0.0


def _set_replicas(replicas: int) -> Any:
    """A scale subresource update: spec.replicas of the target (a spec change bumps generation)."""
    def apply(obj: Any) -> None:
        obj.replicas = replicas
        obj.meta.generation += 1
    return apply
