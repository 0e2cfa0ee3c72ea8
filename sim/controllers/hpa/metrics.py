"""The HPA's metrics client: models pkg/controller/podautoscaler/metrics/client.go (1.36).

Reads the three metrics APIs through the API server's aggregation layer: PodMetrics from
``metrics.k8s.io`` (metrics-server), per-pod series from ``custom.metrics.k8s.io`` and
series from ``external.metrics.k8s.io`` (an adapter). An API group nobody serves, or an
empty answer, is an error with upstream's wording, which the controller turns into the
HPA's ScalingActive=False condition. Metric label selectors are accepted but every
declared metric is one unlabelled series, so they select it or nothing alike.
"""

from __future__ import annotations

from sim.api.selectors import Selector
from sim.apiserver import ApiServer
from sim.controllers.hpa.replica_calculator import PodMetric, ReplicaCalculatorError
from sim.metrics_server import CUSTOM_METRICS, EXTERNAL_METRICS, RESOURCE_METRICS

__all__ = ["CUSTOM_METRIC_DEFAULT_WINDOW", "MetricsClient"]

CUSTOM_METRIC_DEFAULT_WINDOW = 60.0  # metricServerDefaultMetricWindow, for series without one


class MetricsClient:
    """Fetches resource, custom and external metrics for the HPA controller."""

    def __init__(self, api: ApiServer) -> None:
        self.api = api

    def get_resource_metric(self, resource: str, namespace: str,
                            selector: Selector) -> tuple[dict[str, PodMetric], float]:
        """Per-pod usage (milli-units) of ``resource`` and the first item's timestamp."""
        backend = self.api.api_service(RESOURCE_METRICS)
        if backend is None:
            raise ReplicaCalculatorError("unable to fetch metrics from resource metrics API: the server "
                                         "could not find the requested resource (get pods.metrics.k8s.io)")
        items = backend.list_pod_metrics(namespace, selector)
        if not items:
            raise ReplicaCalculatorError("no metrics returned from resource metrics API")
        return {m.name: PodMetric(m.cpu_milli, m.timestamp, m.window) for m in items}, items[0].timestamp

    def get_raw_metric(self, name: str, namespace: str, selector: Selector) -> tuple[dict[str, PodMetric], float]:
        """Per-pod values (milli-units) of custom metric ``name`` and the first timestamp."""
        backend = self.api.api_service(CUSTOM_METRICS)
        if backend is None:
            raise ReplicaCalculatorError("unable to fetch metrics from custom metrics API: no custom "
                                         "metrics API (custom.metrics.k8s.io) registered")
        items = backend.list_pods_metric(namespace, selector, name)
        if not items:
            raise ReplicaCalculatorError("no metrics returned from custom metrics API")
        out = {pod: PodMetric(value, at, CUSTOM_METRIC_DEFAULT_WINDOW) for pod, value, at in items}
        return out, items[0][2]

    def get_external_metric(self, name: str, namespace: str) -> tuple[list[int], float]:
        """Values (milli-units) of every series of external metric ``name``."""
        backend = self.api.api_service(EXTERNAL_METRICS)
        if backend is None:
            raise ReplicaCalculatorError("unable to fetch metrics from external metrics API: no external "
                                         "metrics API (external.metrics.k8s.io) registered")
        items = backend.list_external_metric(namespace, name)
        if not items:
            raise ReplicaCalculatorError("no metrics returned from external metrics API")
        return [value for value, _ in items], items[0][1]
