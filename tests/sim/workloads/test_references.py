"""Load-time checks of traffic and serving sections (sim/workloads/references.py, spec.py)."""

from __future__ import annotations

import pytest

from sim.scenario import ScenarioError, scenario_from_text

BASE = """
name: refs
duration: 1m
cluster:
  nodePools: [{name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}}]
workloads:
- name: server
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: server}
    spec:
      selector: {matchLabels: {app: server}}
      template:
        metadata: {labels: {app: server}}
        spec: {containers: [{name: s, image: "s:1"}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: server}
    spec: {selector: {app: server}}
  behavior:
    SERVING
traffic:
- TRAFFIC
SERVINGCONFIG
"""
SERVING = "serving: {concurrency: 2, serviceTime: {dist: constant, value: 100ms}}"
RATE = "rate: {pattern: constant, rate: 5}"


def text(traffic: str = f"{{name: t, service: server, {RATE}}}", serving: str = SERVING, config: str = "") -> str:
    return BASE.replace("SERVINGCONFIG", config).replace("SERVING", serving).replace("TRAFFIC", traffic)


@pytest.mark.parametrize(("scenario", "message"), [
    (text(f"{{name: t, service: servr, {RATE}}}"),
     r":24: traffic\[0\]\.service: no Service 'servr' in namespace 'default' \(Services: server\)"),
    (text(serving="readiness: 1s"),
     r"traffic\[0\]\.service: Service 'server' selects the pods of deployment/server, whose workload has no "
     r"behavior\.serving"),
    (text("{name: t, service: server, trace: {file: nope.csv}}"),
     r"traffic\[0\]\.trace\.file: trace file 'nope\.csv' not found"),
    (text(f"{{name: t, service: server, host: a.example.com, {RATE}}}"),
     r"traffic\[0\]: set exactly one of service \(via kube-proxy\) and host \(via the Ingress\)"),
    (text("{name: t, service: server}"), r"traffic\[0\]: set exactly one of rate and trace"),
    (text(config="serving:\n  autoscalers: [{deployment: servr}]"),
     r"serving\.autoscalers\[0\]\.deployment: no Deployment 'servr' in namespace 'default'"),
    (text(serving="serving: {queue: {limit: 2}, batching: {maxBatchSize: 4}, serviceTime: {dist: constant, "
                  "value: 1s}}"),
     r"queue\.limit \(2\) must be at least maxBatchSize \(4\)"),
    (text(serving="serving: {serviceTime: {dist: lognormal, median: 1s}}"),
     r"a lognormal service time needs sigma or p99"),
], ids=["unknown-service", "pods-without-serving-behavior", "trace-file-missing", "service-and-host",
        "neither-rate-nor-trace", "autoscaler-without-deployment", "batch-larger-than-queue",
        "lognormal-without-spread"])
def test_located_errors(scenario: str, message: str) -> None:
    """Each broken reference is one located error naming the field."""
    with pytest.raises(ScenarioError, match=message):
        scenario_from_text(scenario)


def test_a_valid_serving_scenario_loads() -> None:
    """The base scenario, with traffic to a Service of model servers, is valid."""
    assert len(scenario_from_text(text()).traffic) == 1
