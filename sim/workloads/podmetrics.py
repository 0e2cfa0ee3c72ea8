"""Per-pod serving signals for autoscalers: in-flight requests, requests per second and CPU.

Models what the pods expose to the autoscaling pipelines: Knative's queue-proxy reports each
pod's concurrency (requests in the pod, queued or in service) and request count; the kubelet
(cAdvisor) reports CPU, which for a model server is an idle floor plus the CPU each request
in service uses. Samples are taken every serving tick and kept for a few minutes, so a
scraper can average over its own window (metrics-server's resolution, Knative's 60 s
stable window).

``ServingUsage`` hands these signals to the HPA's metrics pipeline (the ``UsageSource`` of
``sim/workloads/usage.py``): metrics-server reads a serving pod's CPU, and the custom metrics
adapter serves its ``requests_per_second`` and ``inflight_requests`` (what a Prometheus
adapter would compute as ``rate(requests_total[1m])`` and an average of the in-flight gauge);
pods without ``behavior.serving`` keep their declared profiles.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.api.objects import Pod
from sim.api.quantity import CPU
from sim.workloads.spec import ServingBehavior

if TYPE_CHECKING:
    from sim.workloads.system import ServingSystem
    from sim.workloads.usage import UsageSource

__all__ = ["POD_METRICS", "PodSample", "PodSignals", "ServingUsage", "cpu_per_request"]

POD_METRICS = ("requests_per_second", "inflight_requests")
"""Custom per-pod metrics a model-server pod reports (HPA metric type Pods)."""
POD_METRIC_WINDOW_S = 60.0  # rate(...[1m])-style averaging of the per-pod metrics


@dataclass(frozen=True, slots=True)
class PodSample:
    """One scrape of one pod."""

    t: float
    in_flight: float
    busy: float  # slots (or batch instances) serving
    arrived: float  # requests received since the pod started (cumulative)


def cpu_per_request(behavior: ServingBehavior, pod: Pod) -> float:
    """Cores one request in service uses: as configured, else the pod's cpu request / concurrency."""
    if behavior.cpu_per_request is not None:
        return behavior.cpu_per_request
    return dict(pod.spec.requests).get(CPU, 0) / 1000 / behavior.concurrency


class PodSignals:
    """Recent samples of every serving pod, by uid."""

    def __init__(self, keep_s: float, tick: float) -> None:
        self.maxlen = max(2, int(keep_s / tick) + 2)
        self._samples: dict[int, deque[PodSample]] = {}

    def record(self, uid: int, sample: PodSample) -> None:
        """Add a scrape of pod ``uid``."""
        ring = self._samples.get(uid)
        if ring is None:
            ring = self._samples[uid] = deque(maxlen=self.maxlen)
        ring.append(sample)

    def forget(self, uid: int) -> None:
        """Drop a pod that is gone."""
        self._samples.pop(uid, None)

    def _window(self, uid: int, now: float, window: float) -> list[PodSample]:
        ring = self._samples.get(uid, ())
        return [s for s in ring if s.t > now - window + 1e-9]

    def in_flight(self, uid: int, now: float, window: float) -> float:
        """Mean requests in the pod over the last ``window`` seconds (0 if never scraped)."""
        samples = self._window(uid, now, window)
        return sum(s.in_flight for s in samples) / len(samples) if samples else 0.0

    def requests_per_second(self, uid: int, now: float, window: float) -> float:
        """Requests received per second over the last ``window`` seconds."""
        ring = self._samples.get(uid)
        if not ring:
            return 0.0
        older = [s for s in ring if s.t <= now - window + 1e-9]
        first = older[-1] if older else ring[0]
        last = ring[-1]
        span = last.t - first.t
        return (last.arrived - first.arrived) / span if span > 0 else 0.0

    def cpu_cores(self, uid: int, now: float, window: float, idle: float, per_request: float) -> float:
        """Mean CPU cores over the last ``window`` seconds: idle floor + per-request use."""
        samples = self._window(uid, now, window)
        busy = sum(s.busy for s in samples) / len(samples) if samples else 0.0
        return idle + per_request * busy


class ServingUsage:
    """A ``UsageSource``: serving pods' CPU and request metrics from the serving model, every
    other pod's from ``fallback`` (the declared profiles)."""

    def __init__(self, fallback: UsageSource, serving: ServingSystem) -> None:
        self.fallback = fallback
        self.serving = serving

    def cpu_usage(self, pod: Pod, t: float) -> float:
        """Cores over the last scrape (the counter then carries that rate until the next one)."""
        if pod.spec.behavior.serving is None:
            return self.fallback.cpu_usage(pod, t)
        return self.serving.usage(pod, "cpu", self.serving.scrape_period)

    def pods_metric(self, pod: Pod, name: str, t: float) -> float | None:
        """``requests_per_second`` or ``inflight_requests`` over the last minute, for a serving pod."""
        if pod.spec.behavior.serving is None or name not in POD_METRICS:
            return self.fallback.pods_metric(pod, name, t)
        return self.serving.usage(pod, name, POD_METRIC_WINDOW_S)

    def external_metric(self, namespace: str, name: str, t: float) -> float | None:
        """External metrics stay as declared."""
        return self.fallback.external_metric(namespace, name, t)

    def change_times(self) -> Iterable[float]:
        """The declared profiles' steps (serving usage is re-read at every serving scrape)."""
        return self.fallback.change_times()
