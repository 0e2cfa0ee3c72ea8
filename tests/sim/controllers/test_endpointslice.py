"""EndpointSlice controller and kube-proxy in a running cluster: conditions, slicing, and the
pod-ready -> status write -> EndpointSlice write -> proxy sync chain."""

from __future__ import annotations

from typing import Any

import pytest

from sim.api.discovery import EndpointSlice
from sim.engine import Result, run
from sim.scenario import scenario_from_text

WEB = """
name: svc
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 2, capacity: {{cpu: "8", memory: 16Gi}}}}
controlPlane:
  kubeProxy: {{syncDuration: 50ms}}
  controllerManager: {{maxEndpointsPerSlice: {per_slice}}}
workloads:
- name: web
  behavior: {{readiness: {readiness}, stopTime: 20s}}
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - name: c
            image: "web:1"
            readinessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: 5}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: web}}
    spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
timeline:
{timeline}"""


def _run(replicas: int = 1, readiness: str = "20s", per_slice: int = 100, duration: str = "2m",
         timeline: str = "  []") -> Result:
    return run(scenario_from_text(WEB.format(replicas=replicas, readiness=readiness, per_slice=per_slice,
                                             duration=duration, timeline=timeline)))


def _slices(result: Result) -> list[EndpointSlice]:
    return sorted(result.simulation.api.store.list("EndpointSlice"), key=lambda s: s.meta.name)


def _first(df: Any, **match: str) -> float:
    rows = df
    for column, value in match.items():
        rows = rows[rows[column].astype(str) == value]
    return float(rows["t"].iloc[0])


def test_ready_pod_becomes_routable_only_after_the_propagation_chain() -> None:
    """Each link takes time: status write -> slice write (watch + sync + API) -> proxy (watch + sync)."""
    result = _run()
    df = result.to_frame()
    pod = str(df.loc[(df["kind"] == "Pod") & (df["event"] == "ready"), "name"].iloc[0])
    t_ready = _first(df, kind="Pod", name=pod, event="ready")  # the kubelet's status write commits
    t_slice = _first(df, kind="EndpointSlice", event="updated", message="endpoints=1 ready=1 serving=1 terminating=0")
    t_proxy = _first(df, kind="Service", name="web", event="programmed", message="kube-proxy routes to 1 endpoint(s)")
    # EndpointSlice controller: watch delivery (ms) + 1 ms sync + one API write through etcd
    assert 0.001 < t_slice - t_ready < 0.05
    # kube-proxy: watch delivery, then a 50 ms sync started no sooner than 1 s after the last one ended
    proxy = result.simulation.kube_proxy
    start, end = next((s, e) for s, e in proxy.runs if e == pytest.approx(t_proxy))
    last_end = max((e for _, e in proxy.runs if e < start), default=float("-inf"))
    assert start >= t_slice
    assert start >= last_end + 1.0 - 1e-9
    assert end - start == pytest.approx(0.05)
    assert start - max(t_slice, last_end + 1.0) < 0.02  # no other wait
    endpoints = result.simulation.endpoints
    assert endpoints.ready_endpoints("web", t_slice) == []  # listed ready, not yet routed
    assert endpoints.ready_endpoints("web", t_proxy) == [pod]


def test_slices_list_unready_pods_but_only_ready_ones_are_routed() -> None:
    """Before its readiness probe passes a running pod is in the slice with ready=false, unrouted."""
    result = _run(replicas=2, readiness="10m", duration="90s")
    endpoints = [e for s in _slices(result) for e in s.endpoints]
    assert len(endpoints) == 2
    assert not any(e.ready or e.serving or e.terminating for e in endpoints)
    assert result.simulation.endpoints.ready_endpoints("web") == []
    t, v = result.trace.series_array("endpoints_ready/default/web")
    assert len(t)
    assert (v == 0).all()


def test_endpoints_are_split_at_max_endpoints_per_slice() -> None:
    """Five ready pods with maxEndpointsPerSlice 2 fill three slices (2, 2, 1), all routed."""
    result = _run(replicas=5, readiness="1s", per_slice=2)
    sizes = sorted(len(s.endpoints) for s in _slices(result))
    assert sizes == [1, 2, 2]
    assert all(e.ready for s in _slices(result) for e in s.endpoints)
    assert len(result.simulation.endpoints.ready_endpoints("web")) == 5
    t, v = result.trace.series_array("endpoints_routable/default/web")
    assert v[-1] == 5


def test_terminating_pods_keep_serving_until_gone_when_nothing_is_ready() -> None:
    """Deleting the Deployment: endpoints turn terminating (ready=false, serving=true); with no
    Ready endpoint left, kube-proxy keeps routing to the serving-terminating ones."""
    result = _run(replicas=2, readiness="1s", duration="2m",
                  timeline="- {at: 60s, action: delete, target: deployment/web}\n")
    df = result.to_frame()
    t_terminating = float(df.loc[df["event"] == "terminating", "t"].max())
    t_deleted = float(df.loc[(df["kind"] == "Pod") & (df["event"] == "deleted"), "t"].min())
    assert t_deleted - t_terminating > 15  # stopTime 20s
    during = result.simulation.endpoints.routable("default", "web", (t_terminating + t_deleted) / 2)
    assert len(during) == 2
    assert all(e.serving and e.terminating and not e.ready for e in during)
    assert result.simulation.endpoints.ready_endpoints("web") == []


def test_deleting_the_service_deletes_its_slices() -> None:
    """The garbage collector removes a deleted Service's EndpointSlices (owner references)."""
    result = _run(readiness="1s", timeline="- {at: 60s, action: delete, target: service/web}\n")
    df = result.to_frame()
    assert _first(df, kind="EndpointSlice", event="deleted") > 60
    assert _slices(result) == []
    assert result.simulation.endpoints.ready_endpoints("web") == []
