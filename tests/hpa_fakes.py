"""Stand-ins for the metrics APIs, so HPA tests can fix what each metric reads."""

from __future__ import annotations

from typing import Any

from sim.api.objects import Container, ObjectMeta, Pod, PodSpec
from sim.api.selectors import Selector
from sim.controllers.hpa.compute import MetricContext
from sim.controllers.hpa.metrics import MetricsClient
from sim.controllers.hpa.replica_calculator import ReadinessParams, Tolerances
from sim.metrics_server import CUSTOM_METRICS, EXTERNAL_METRICS, RESOURCE_METRICS, PodMetrics

__all__ = ["ALL_GROUPS", "metric_context"]

ALL_GROUPS = (RESOURCE_METRICS, CUSTOM_METRICS, EXTERNAL_METRICS)


class _Backends:
    """Stand-ins for metrics-server and the adapter, answering from fixed tables."""

    def __init__(self, cpu: dict[str, int], rps: dict[str, int], queue: list[int]) -> None:
        self.cpu, self.rps, self.queue = cpu, rps, queue

    def list_pod_metrics(self, namespace: str, selector: Selector) -> list[PodMetrics]:
        return [PodMetrics(namespace, n, 95.0, 15.0, v) for n, v in sorted(self.cpu.items())]

    def list_pods_metric(self, namespace: str, selector: Selector, name: str) -> list[tuple[str, int, float]]:
        return [(n, v, 95.0) for n, v in sorted(self.rps.items())]

    def list_external_metric(self, namespace: str, name: str) -> list[tuple[int, float]]:
        return [(v, 95.0) for v in self.queue]


class _Api:
    """The API server's aggregation registry, and nothing else."""

    def __init__(self, backends: Any) -> None:
        self.backends = backends

    def api_service(self, group: str) -> Any:
        return self.backends.get(group)


def metric_context(cpu: dict[str, int], rps: dict[str, int], queue: list[int],
                   groups: tuple[str, ...] = ALL_GROUPS) -> MetricContext:
    """Two Ready pods requesting 1 CPU each; cpu usage, requests/s and the queue read from the tables."""
    backend = _Backends(cpu, rps, queue)
    api: Any = _Api({g: backend for g in groups})
    container = Container("c", "img", requests=(("cpu", 1000),))
    pods = [Pod(ObjectMeta(f"p{i}"), PodSpec(containers=(container,)), phase="Running", ready=True, ready_time=0.0,
                start_time=0.0) for i in range(2)]
    return MetricContext("default", Selector(), 2, 2, pods, 100.0, Tolerances(), ReadinessParams(),
                         MetricsClient(api))
