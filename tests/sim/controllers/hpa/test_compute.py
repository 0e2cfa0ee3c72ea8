"""Per-metric proposals and their combination: largest wins, failures block only scale-downs."""

from __future__ import annotations

import pytest
from hpa_fakes import metric_context

from sim.api.autoscaling import MetricSpec, MetricTarget
from sim.api.selectors import Selector
from sim.controllers.hpa.compute import compute_replicas_for_metrics, selector_description

CPU = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=50))
RPS = MetricSpec("Pods", "rps", MetricTarget("AverageValue", average_value=10_000))
QUEUE = MetricSpec("External", "queue", MetricTarget("Value", value=30_000))


def test_largest_proposal_wins() -> None:
    """CPU on target (2), requests/s 3x (6), queue 60 of 30 over 2 ready pods (4): 6, from requests/s."""
    outcome = compute_replicas_for_metrics((CPU, RPS, QUEUE), metric_context({"p0": 500, "p1": 500},
                                                                   {"p0": 30_000, "p1": 30_000}, [60_000]))
    assert (outcome.replicas, outcome.metric, outcome.error) == (6, "pods metric rps", "")
    assert [s.type for s in outcome.statuses] == ["Resource", "Pods", "External"]


@pytest.mark.parametrize(("cpu", "replicas"), [(1500, 6), (100, -1)], ids=["scale-up-proceeds", "scale-down-blocked"])
def test_a_failed_metric_blocks_only_scale_down(cpu: int, replicas: int) -> None:
    """With requests/s missing the HPA still scales up on CPU, but never down."""
    outcome = compute_replicas_for_metrics((CPU, RPS), metric_context({"p0": cpu, "p1": cpu}, {}, []))
    assert outcome.replicas == replicas
    assert outcome.error == ("invalid metrics (1 invalid out of 2), first error is: failed to get pods metric value: "
                             "unable to get metric rps: no metrics returned from custom metrics API")
    assert outcome.statuses[1].type == ""  # the failed metric's status stays empty, as upstream's


def test_resource_error_nests_like_upstream() -> None:
    """The familiar message of an HPA whose pods have no metrics yet."""
    outcome = compute_replicas_for_metrics((CPU,), metric_context({}, {}, []))
    failure = outcome.failures[0]
    assert failure.reason == "FailedGetResourceMetric"
    assert failure.detail == ("failed to get cpu utilization: unable to get metrics for resource cpu: "
                              "no metrics returned from resource metrics API")
    assert outcome.replicas == -1


def test_selector_description_prints_like_go() -> None:
    """An external metric's description shows its selector as %+v prints a *LabelSelector."""
    assert selector_description(None) == "<nil>"
    assert selector_description(Selector.from_labels({"queue": "jobs"})) == (
        "&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}")
