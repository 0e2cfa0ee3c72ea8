"""metrics-server and a custom/external metrics adapter: the metrics APIs the HPA reads.

Models kubernetes-sigs/metrics-server v0.8 (``pkg/scraper``, ``pkg/storage/pod.go``,
``pkg/storage/types.go``) and the kubelet's cAdvisor CPU counters it scrapes. Every
``--metric-resolution`` (15 s) metrics-server reads each running container's cumulative
CPU counter, as sampled at the container's last cAdvisor housekeeping (every 10 s from its
start), keeps the last two points per pod and serves ``metrics.k8s.io`` PodMetrics: usage =
counter increase / time between the points (the window), timestamped at the newer point.
A pod gets a metric from its second point, or from its first if that came 10-15 s after
the container started (``freshContainerMinMetricsResolution``). A node whose kubelet is
down or cut off is not scraped, so its pods' metrics go missing.

Worked example: a pod started at t=3 using 0.3 cores; housekeeping samples it at 13, 23,
33, ...; a scrape at t=15 reads the t=13 sample (counter 3 core-s) and, as the container
is 10 s old, pairs it with (t=3, 0): 300m over a 10 s window, timestamped 13.

Custom (``custom.metrics.k8s.io``) and external (``external.metrics.k8s.io``) metrics are
served by ``MetricsAdapter``, which evaluates the usage source when asked, as an adapter
querying its backend on each request does. Both register as aggregated APIs on the API
server; components never call them except through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.api.selectors import Selector
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.config import MetricsServerConfig
from sim.workloads.usage import RunningPods, UsageSource

__all__ = [
    "CUSTOM_METRICS",
    "EXTERNAL_METRICS",
    "FRESH_CONTAINER_MIN_METRICS_RESOLUTION",
    "RESOURCE_METRICS",
    "CpuCounters",
    "MetricsAdapter",
    "MetricsPoint",
    "MetricsServer",
    "PodMetrics",
    "housekeeping_timestamp",
    "resource_usage",
    "store_points",
]

RESOURCE_METRICS = "metrics.k8s.io"
CUSTOM_METRICS = "custom.metrics.k8s.io"
EXTERNAL_METRICS = "external.metrics.k8s.io"
FRESH_CONTAINER_MIN_METRICS_RESOLUTION = 10.0  # pkg/storage/pod.go

PodKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True, slots=True)
class MetricsPoint:
    """One scraped sample of a pod: container start, sample time, cumulative CPU (ns)."""

    start_time: float
    timestamp: float
    cumulative_cpu_ns: int


@dataclass(frozen=True, slots=True)
class PodMetrics:
    """metrics.k8s.io/v1beta1 PodMetrics, summed over the pod's containers."""

    namespace: str
    name: str
    timestamp: float
    window: float
    cpu_milli: int


def housekeeping_timestamp(start: float, now: float, interval: float) -> float | None:
    """When a container's counters were last sampled (None: not yet sampled).

    cAdvisor housekeeping samples every ``interval`` from the container's start; 0 reads live.
    """
    if interval <= 0:
        return now if now > start else None
    k = math.floor((now - start) / interval + 1e-9)
    return start + k * interval if k >= 1 else None


def store_points(last: dict[PodKey, MetricsPoint], prev: dict[PodKey, MetricsPoint],
                 batch: dict[PodKey, MetricsPoint], resolution: float
                 ) -> tuple[dict[PodKey, MetricsPoint], dict[PodKey, MetricsPoint]]:
    """podStorage.Store: the new (last, prev) points after a scrape.

    A fresh container (its point 10 s to one resolution after its start) is paired with a
    zero point at its start; otherwise the stored last point becomes prev if the container
    has not restarted and the new point is newer (else an older prev is kept).
    """
    new_last, new_prev = {}, {}
    for key in sorted(batch):
        point = batch[key]
        new_last[key] = point
        age = point.timestamp - point.start_time
        if point.start_time < point.timestamp and FRESH_CONTAINER_MIN_METRICS_RESOLUTION <= age < resolution:
            new_prev[key] = MetricsPoint(point.start_time, point.start_time, 0)
            continue
        stored = last.get(key)
        if stored is None or not point.start_time < stored.timestamp:
            continue
        if point.timestamp > stored.timestamp:
            new_prev[key] = stored
        elif key in prev and prev[key].timestamp < point.timestamp:
            new_prev[key] = prev[key]
    return new_last, new_prev


def resource_usage(last: MetricsPoint, prev: MetricsPoint) -> tuple[int, float] | None:
    """(CPU milli-cores, window) between two points; None if the counter went backwards.

    metrics-server reports whole nanocores; the HPA reads them with ``MilliValue`` (rounded up).
    """
    if last.start_time < prev.start_time or last.cumulative_cpu_ns < prev.cumulative_cpu_ns:
        return None
    window = last.timestamp - prev.timestamp
    if window <= 0:
        return None
    nanocores = int((last.cumulative_cpu_ns - prev.cumulative_cpu_ns) / window)
    return -(-nanocores // 1_000_000), window


class CpuCounters:
    """Every running container's cumulative CPU counter (cgroup cpuacct, read by cAdvisor).

    Usage is piecewise constant between change points; each pod keeps the segments
    (start, counter at start, cores) its next reading may still need.
    """

    def __init__(self) -> None:
        self._segments: dict[int, list[tuple[float, float, float]]] = {}

    def uids(self) -> list[int]:
        """Pods with a counter."""
        return list(self._segments)

    def set_rate(self, uid: int, start: float, now: float, cores: float) -> None:
        """From ``now`` on the pod uses ``cores`` (its counter starts at 0 at ``start``)."""
        segments = self._segments.get(uid)
        if segments is None:
            self._segments[uid] = [(start, 0.0, cores)]
            return
        t, counter, rate = segments[-1]
        if rate != cores:
            segments.append((now, counter + rate * (now - t), cores))

    def stop(self, uid: int) -> None:
        """The container is gone."""
        self._segments.pop(uid, None)

    def cumulative(self, uid: int, at: float) -> float:
        """Core-seconds used up to ``at`` (at or after the oldest kept segment)."""
        segments = self._segments[uid]
        for t, counter, rate in reversed(segments):
            if t <= at:
                return counter + rate * (at - t)
        t, counter, rate = segments[0]
        return counter + rate * max(at - t, 0.0)

    def forget_before(self, uid: int, at: float) -> None:
        """Drop segments that end before ``at`` (no later reading needs them)."""
        segments = self._segments[uid]
        while len(segments) > 1 and segments[1][0] <= at:
            segments.pop(0)


class MetricsServer:
    """Scrapes the kubelets' CPU counters and serves metrics.k8s.io PodMetrics."""

    def __init__(self, env: simpy.Environment, api: ApiServer, config: MetricsServerConfig,
                 source: UsageSource, pods: RunningPods) -> None:
        self.env = env
        self.api = api
        self.config = config
        self.source = source
        self.pods = pods
        self.counters = CpuCounters()
        self.scrapes = 0
        self.last: dict[PodKey, MetricsPoint] = {}
        self.prev: dict[PodKey, MetricsPoint] = {}
        self.reachable: Callable[[str], bool] = lambda node: True  # can a scrape reach this node's kubelet?
        api.watch("Pod", self._on_pods)
        api.register_api_service(RESOURCE_METRICS, self)

    def start(self) -> None:
        """Start scraping, and re-read usage whenever the source says it steps."""
        self.env.process(self._scrape_loop())
        for t in self.source.change_times():
            if t > self.env.now:
                call_later(self.env, t - self.env.now, self.advance)

    # ------------------------------------------------------------------ kubelet side
    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            self.pods.observe(etype == DELETED, pod)
        self.advance()

    def advance(self) -> None:
        """Bring every running container's counter to now and take in its current usage."""
        now = self.env.now
        running = self.pods.pods
        for uid in self.counters.uids():
            if uid not in running:
                self.counters.stop(uid)
        for uid, pod in running.items():
            self.counters.set_rate(uid, pod.start_time or now, now, self.source.cpu_usage(pod, now))

    # ------------------------------------------------------------------ scraping
    def _scrape_loop(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.config.metric_resolution)
            self.scrape()

    def scrape(self) -> None:
        """One scrape of every kubelet: store the newest point of each running pod."""
        self.advance()
        now, interval = self.env.now, self.config.housekeeping_interval
        batch: dict[PodKey, MetricsPoint] = {}
        for uid, pod in self.pods.pods.items():
            if not self.reachable(pod.node_name):  # a crashed or cut-off kubelet: no points this time
                continue
            start = pod.start_time if pod.start_time is not None else now
            at = housekeeping_timestamp(start, now, interval)
            if at is None:
                continue
            ns = round(self.counters.cumulative(uid, at) * 1e9)
            batch[(pod.meta.namespace, pod.meta.name)] = MetricsPoint(start, at, ns)
            self.counters.forget_before(uid, at)
        self.last, self.prev = store_points(self.last, self.prev, batch, self.config.metric_resolution)
        self.scrapes += 1

    # ------------------------------------------------------------------ metrics.k8s.io
    def list_pod_metrics(self, namespace: str, selector: Selector) -> list[PodMetrics]:
        """PodMetrics of the pods matching ``selector`` that have two points."""
        out = []
        for (ns, name), last in sorted(self.last.items()):
            prev = self.prev.get((ns, name))
            if ns != namespace or prev is None:
                continue
            pod = self.api.store.get("Pod", ns, name)
            if pod is None or not selector.matches(pod.meta.labels):
                continue
            usage = resource_usage(last, prev)
            if usage is not None:
                out.append(PodMetrics(ns, name, last.timestamp, usage[1], usage[0]))
        return out


class MetricsAdapter:
    """custom.metrics.k8s.io and external.metrics.k8s.io backed by the usage source."""

    def __init__(self, env: simpy.Environment, api: ApiServer, source: UsageSource,
                 pods: RunningPods) -> None:
        self.env = env
        self.source = source
        self.pods = pods
        api.register_api_service(CUSTOM_METRICS, self)
        api.register_api_service(EXTERNAL_METRICS, self)

    def list_pods_metric(self, namespace: str, selector: Selector, name: str) -> list[tuple[str, int, float]]:
        """(pod name, value in milli-units, timestamp) of metric ``name`` for matching running pods."""
        now, out = self.env.now, []
        for pod in sorted(self.pods.pods.values(), key=lambda p: p.meta.name):
            if pod.meta.namespace != namespace or not selector.matches(pod.meta.labels):
                continue
            value = self.source.pods_metric(pod, name, now)
            if value is not None:
                out.append((pod.meta.name, _milli(value), now))
        return out

    def list_external_metric(self, namespace: str, name: str) -> list[tuple[int, float]]:
        """(value in milli-units, timestamp) of each series of external metric ``name``."""
        now = self.env.now
        value = self.source.external_metric(namespace, name, now)
        return [] if value is None else [(_milli(value), now)]


def _milli(value: float) -> int:
    """A float as a Quantity's MilliValue: rounded up, after rounding off float noise."""
    nanos = round(value * 1e9)
    return -(-nanos // 1_000_000)
