"""A Knative-Pod-Autoscaler-like concurrency autoscaler: models knative/serving
``pkg/autoscaler/scaling/autoscaler.go`` (the decider) fed by a per-second metric collector
(``pkg/autoscaler/metrics``), scaling a Deployment through the API server as the HPA does.

Every second it scrapes the total in-flight requests (or requests received) of the
Deployment's ready pods; every ``tickInterval`` it averages them over the stable window
(60 s) and the panic window (10% of it, 6 s) and decides:

    desired stable = ceil(stable average / target),  desired panic = ceil(panic average / target)

with target = ``target × targetUtilization`` per pod (default 100 × 0.7 = 70), each clamped
to [ready / maxScaleDownRate, ready × maxScaleUpRate]. When the panic count reaches
``panicThresholdPercentage`` (200%) of the ready pods it panics: it then takes the larger
of the two counts and never scales down, until the panic condition has been absent for a
whole stable window. Example: target 10, 4 ready pods, a burst raises the 6-second average
to 95 concurrent requests: ceil(95/10) = 10 ≥ 2 × 4, so it panics and asks for 10 pods at
once, where the 60-second average alone would still be climbing.

Not modelled: scale to zero and the activator, scale-down delay, and the weighted stable
window; the bounds are ``minScale`` (≥ 1) and ``maxScale``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import simpy

from sim.api.client import Client
from sim.api.objects import Deployment, Pod
from sim.apiserver import ApiServer
from sim.trace import Trace
from sim.workloads.spec import KpaSpec

if TYPE_CHECKING:
    from sim.workloads.system import ServingSystem

__all__ = ["KnativeAutoscaler", "KpaDecision", "KpaState", "bounded", "kpa_decide"]

SCRAPE_PERIOD = 1.0  # the metric collector's scrape tick
CLIENT_QPS, CLIENT_BURST = 20.0, 30


@dataclass(frozen=True, slots=True)
class KpaState:
    """What the decider remembers between ticks: when panic began (or was last renewed)."""

    panic_time: float | None = None
    max_panic_pods: int = 0


@dataclass(frozen=True, slots=True)
class KpaDecision:
    """One tick's result: the pod count wanted and the state to carry on."""

    desired: int
    state: KpaState

    @property
    def panicking(self) -> bool:
        """Whether the decider is in panic mode after this tick."""
        return self.state.panic_time is not None


def kpa_decide(spec: KpaSpec, state: KpaState, stable: float, panic: float, ready_pods: int,
               now: float) -> KpaDecision:
    """Knative's Scale(): desired pods from the window averages, with panic mode."""
    ready = max(1, ready_pods)
    max_up = math.ceil(spec.max_scale_up_rate * ready)
    max_down = math.floor(ready / spec.max_scale_down_rate)
    dspc = math.ceil(stable / spec.target_value)
    dppc = math.ceil(panic / spec.target_value)
    desired_stable = int(min(max(dspc, max_down), max_up))
    desired_panic = int(min(max(dppc, max_down), max_up))
    over = dppc / ready >= spec.panic_threshold_percentage / 100
    panic_time, max_panic = state.panic_time, state.max_panic_pods
    if over:
        panic_time = now  # start panicking, or stay in panic a stable window longer
    elif panic_time is not None and panic_time + spec.stable_window < now:
        panic_time, max_panic = None, 0
    desired = desired_stable
    if panic_time is not None:
        desired = max(desired, desired_panic, max_panic)  # never scale down in panic
        max_panic = desired
    return KpaDecision(desired, KpaState(panic_time, max_panic))


def bounded(spec: KpaSpec, desired: int) -> int:
    """``desired`` within [minScale, maxScale] (maxScale 0: unbounded)."""
    desired = max(spec.min_scale, desired)
    return min(desired, spec.max_scale) if spec.max_scale > 0 else desired


class KnativeAutoscaler:
    """Scrapes a Deployment's pods every second and sets its replicas every tick."""

    def __init__(self, env: simpy.Environment, api: ApiServer, serving: ServingSystem, spec: KpaSpec,
                 trace: Trace) -> None:
        self.env, self.api, self.serving, self.spec, self.trace = env, api, serving, spec, trace
        self.client = Client(f"knative-autoscaler/{spec.deployment}", CLIENT_QPS, CLIENT_BURST)
        keep = int(spec.stable_window / SCRAPE_PERIOD) + 1
        self.samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (time, total metric)
        self.state = KpaState()
        self._last_arrived: float | None = None
        self._pods_cache: tuple[int, list[Pod], list[Pod]] | None = None  # (tracker version, ready, all)
        env.process(self._collect())
        env.process(self._decide())

    def _deployment(self) -> Deployment | None:
        return self.api.store.get("Deployment", self.spec.namespace, self.spec.deployment)

    def _pods(self, deployment: Deployment) -> tuple[list[Pod], list[Pod]]:
        """(ready pods, all pods) of the Deployment, as the serving model's informer knows them."""
        tracker = self.serving.tracker
        if self._pods_cache is None or self._pods_cache[0] != tracker.version:
            owned = [p for p in tracker.pods() if p.meta.namespace == deployment.meta.namespace
                     and deployment.selector.matches(p.meta.labels)]
            ready = [p for p in owned if p.ready and not p.terminating]
            self._pods_cache = (tracker.version, ready, owned)
        return self._pods_cache[1], self._pods_cache[2]

    def _collect(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(SCRAPE_PERIOD)
            deployment = self._deployment()
            if deployment is None:
                continue
            ready, owned = self._pods(deployment)
            if self.spec.metric == "concurrency":
                self.samples.append((self.env.now, self.serving.in_flight_now([p.meta.uid for p in ready])))
            else:
                total = self.serving.arrived([p.meta.uid for p in owned])
                if self._last_arrived is not None:
                    self.samples.append((self.env.now, (total - self._last_arrived) / SCRAPE_PERIOD))
                self._last_arrived = total

    def _average(self, window: float) -> float:
        now = self.env.now
        values = [v for t, v in self.samples if t > now - window - 1e-9]
        return sum(values) / len(values) if values else 0.0

    def _decide(self):  # type: ignore[no-untyped-def]
        spec = self.spec
        panic_window = spec.stable_window * spec.panic_window_percentage / 100
        while True:
            yield self.env.timeout(spec.tick_interval)
            deployment = self._deployment()
            if deployment is None or not self.samples:
                continue
            ready = len(self._pods(deployment)[0])
            decision = kpa_decide(spec, self.state, self._average(spec.stable_window),
                                  self._average(panic_window), ready, self.env.now)
            self.state = decision.state
            desired = bounded(spec, decision.desired)
            name = spec.deployment
            self.trace.sample(f"kpa_desired_pods:{name}", self.env.now, desired)
            self.trace.sample(f"kpa_panic:{name}", self.env.now, float(decision.panicking))
            if desired != deployment.replicas:
                self._scale(deployment, desired, decision.panicking)

    def _scale(self, deployment: Deployment, replicas: int, panicking: bool) -> None:
        def apply(obj: Deployment) -> None:
            obj.replicas = replicas
            obj.meta.generation += 1

        mode = "panic" if panicking else "stable"
        self.trace.record(self.env.now, "PodAutoscaler", deployment.meta.namespace, deployment.meta.name,
                          "rescaled", "", "SuccessfulRescale", f"New size: {replicas}; reason: {mode} window")
        self.api.update(self.client, deployment, apply)
