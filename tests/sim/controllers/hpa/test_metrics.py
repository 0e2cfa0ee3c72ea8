"""The HPA's metrics client: reads through aggregated API groups, with upstream's errors."""

from __future__ import annotations

import pytest
from hpa_fakes import metric_context

from sim.api.selectors import Selector
from sim.controllers.hpa.replica_calculator import ReplicaCalculatorError


def test_reads_each_metrics_api() -> None:
    """Resource metrics keep their window; custom metrics without one get upstream's 1 minute."""
    client = metric_context({"p0": 250}, {"p0": 5}, [7]).client
    metrics, at = client.get_resource_metric("cpu", "default", Selector())
    assert (metrics["p0"].value, metrics["p0"].window, at) == (250, 15.0, 95.0)
    assert client.get_raw_metric("rps", "default", Selector())[0]["p0"].window == 60.0
    assert client.get_external_metric("queue", "default") == ([7], 95.0)


@pytest.mark.parametrize(("groups", "message"), [
    ((), "unable to fetch metrics from resource metrics API"),
    (("metrics.k8s.io",), "no metrics returned from resource metrics API"),
], ids=["no-api-service", "empty"])
def test_resource_metric_errors(groups: tuple[str, ...], message: str) -> None:
    """An API group nobody serves, or no items, is an error the controller reports."""
    client = metric_context({}, {}, [], groups=groups).client
    with pytest.raises(ReplicaCalculatorError, match=message):
        client.get_resource_metric("cpu", "default", Selector())


def test_custom_and_external_errors() -> None:
    """Custom and external metrics fail the same way."""
    client = metric_context({}, {}, [], groups=()).client
    with pytest.raises(ReplicaCalculatorError, match="custom metrics API"):
        client.get_raw_metric("rps", "default", Selector())
    with pytest.raises(ReplicaCalculatorError, match="external metrics API"):
        client.get_external_metric("queue", "default")
