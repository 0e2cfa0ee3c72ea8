"""The serving data path end to end (sim/workloads/system.py): Erlang C, exact vs fluid, routing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine import Simulation, run
from sim.scenario import scenario_from_text
from sim.workloads.queueing import mmc_mean_wait
from sim.workloads.serving import NO_ENDPOINTS

SCENARIO = """
name: serve
seed: {seed}
duration: {duration}
cluster:
  nodePools: [{{name: n, count: 3, capacity: {{cpu: "16", memory: 64Gi}}, pricePerHour: 1.0}}]
workloads:
- name: server
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: server}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: server}}}}
      template:
        metadata: {{labels: {{app: server}}}}
        spec: {{containers: [{{name: s, image: "server:1", resources: {{requests: {{cpu: "2"}}}}}}]}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: server}}
    spec: {{selector: {{app: server}}, ports: [{{port: 80}}]}}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {{name: web}}
    spec:
      rules:
      - host: web.example.com
        http:
          paths: [{{path: /api, pathType: Prefix, backend: {{service: {{name: server, port: {{number: 80}}}}}}}}]
  behavior:
    readiness: {readiness}
    serving:
      concurrency: {slots}
      queue: {{limit: {limit}, timeout: 30s}}
      serviceTime: {{dist: exponential, mean: 100ms}}
traffic:
{traffic}
serving:
  mode: {mode}
{extra}
"""


def scenario(traffic: str, mode: str = "exact", duration: str = "10m", replicas: int = 2, slots: int = 4,
             limit: int = 1000, readiness: str = "2s", seed: int = 1, extra: str = "") -> object:
    return scenario_from_text(SCENARIO.format(traffic=traffic, mode=mode, duration=duration, replicas=replicas,
                                              slots=slots, limit=limit, readiness=readiness, seed=seed,
                                              extra=extra))


def constant(rate: float, start: str = "30s", target: str = "service: server") -> str:
    return f"- {{name: users, {target}, start: {start}, rate: {{pattern: constant, rate: {rate}}}}}"


def test_exact_mode_mean_wait_matches_erlang_c() -> None:
    """Poisson 30/s split at random over 2 replicas of 2 slots (exponential 100 ms): mean wait within
    5% of Erlang C for 15/s on 2 slots, over 160,000 requests."""
    sim = Simulation(scenario(constant(30), duration="90m", slots=2))
    result = sim.run()
    latency = np.frombuffer(sim.serving.exact.outcomes.latency)  # type: ignore[union-attr]
    assert result.summary["requests_served"] > 150_000
    mean_wait = float(latency.mean()) - 0.1
    assert math.isclose(mean_wait, mmc_mean_wait(15, 10, 2), rel_tol=0.05)


@pytest.fixture(scope="module")
def exact_and_fluid() -> tuple[dict, dict]:
    """The same moderate load (ρ = 0.75, room for 4 waiting) run both ways for 40 minutes."""
    text = dict(traffic=constant(150), duration="40m", replicas=5, limit=4)
    return run(scenario(mode="exact", **text)).summary, run(scenario(mode="fluid", **text)).summary


@pytest.mark.parametrize("figure", ["latency_p50_s", "latency_p99_s", "drop_rate"])
def test_exact_and_fluid_modes_agree(exact_and_fluid: tuple[dict, dict], figure: str) -> None:
    """At moderate load the fluid mode's p50, p99 and drop rate are within 5% of the exact mode's."""
    exact, fluid = exact_and_fluid
    assert exact["serving_mode"] == "exact"
    assert fluid["serving_mode"] == "fluid"
    assert exact["requests_offered"] > 300_000
    assert math.isclose(fluid[figure], exact[figure], rel_tol=0.05)


def test_requests_reach_a_pod_only_after_kube_proxy_programs_it() -> None:
    """Before the first pod is Ready and programmed, requests find no endpoints; after, none do."""
    sim = Simulation(scenario(constant(20, start="0s"), duration="2m", replicas=1, readiness="20s"))
    result = sim.run()
    outcomes = sim.serving.exact.outcomes  # type: ignore[union-attr]
    arrival = np.frombuffer(outcomes.arrival)
    refused = np.frombuffer(outcomes.outcome, dtype=np.int8) == NO_ENDPOINTS
    ready_at = float(result.pods()["ready"].min())
    programmed = next(t for t, endpoints in sim.kube_proxy.history("default", "server") if endpoints)
    assert ready_at < programmed < ready_at + 0.5  # watch delay and EndpointSlice propagation
    assert refused[arrival < programmed].all()
    assert not refused[arrival >= programmed].any()
    assert result.summary["requests_no_endpoints"] == int(refused.sum()) > 300


def test_ingress_routes_by_host_and_sheds_beyond_capacity() -> None:
    """Through the Ingress, requests over the controller's capacity are dropped; an unknown path is a 404."""
    traffic = "\n".join([constant(300, target="host: web.example.com, path: /api/v1"),
                         "- {name: lost, host: web.example.com, path: /api, start: 30s, "
                         "rate: {pattern: constant, rate: 5}}"])
    capped = scenario(traffic, replicas=4, extra="  ingressController: {replicas: 1, capacityPerPod: 200}")
    summary = run(capped).summary
    assert math.isclose(summary["requests_ingress_overload"] / summary["requests_offered"], 100 / 305, rel_tol=0.05)
    assert summary["requests_no_route"] == 0


def test_unknown_ingress_path_is_rejected_at_load_time() -> None:
    """A source whose host and path no Ingress rule routes is a located scenario error."""
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=r"traffic\[0\]\.host: no Ingress routes host 'web.example.com' "
                                            r"path '/other'"):
        scenario(constant(5, target="host: web.example.com, path: /other"))


def test_auto_mode_switches_to_fluid_at_high_rates() -> None:
    """auto picks exact below exactMaxRate and fluid above it."""
    low = Simulation(scenario(constant(50), mode="auto", duration="1m"))
    high = Simulation(scenario(constant(900), mode="auto", duration="1m", replicas=3))
    assert (low.serving.mode, high.serving.mode) == ("exact", "fluid")  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["exact", "fluid"])
def test_runs_are_deterministic(mode: str) -> None:
    """The same scenario and seed give the same serving figures and series."""
    a, b = (run(scenario(constant(40), mode=mode, duration="3m")) for _ in range(2))
    assert a.summary == b.summary | {"wall_time_s": a.summary["wall_time_s"],
                                     "events_per_wall_s": a.summary["events_per_wall_s"]}
    assert np.array_equal(a.trace.series_array("serving_latency_p99_s")[1],
                          b.trace.series_array("serving_latency_p99_s")[1], equal_nan=True)


def test_pod_signals_feed_the_autoscalers() -> None:
    """Per-pod CPU, requests per second and in-flight requests follow the load."""
    sim = Simulation(scenario(constant(30), duration="3m", slots=4))
    sim.run()
    pod = next(p for p in sim.serving.tracker.pods() if p.ready)  # type: ignore[union-attr]
    rps = sim.serving.usage(pod, "requests_per_second", 60)  # type: ignore[union-attr]
    assert math.isclose(rps, 15, rel_tol=0.25)
    busy = sim.serving.usage(pod, "cpu", 60) - 0.01  # type: ignore[union-attr]
    assert math.isclose(busy, 15 * 0.1 * 0.5, rel_tol=0.35)  # 1.5 busy slots × (2 cores / 4 slots)
    assert sim.serving.usage(pod, "inflight_requests", 60) > 1.0  # type: ignore[union-attr]


def _serving(traffic_target: str, readiness: str = "5s") -> Simulation:
    return Simulation(scenario(constant(10, start="0s", target=traffic_target), duration="2m", replicas=3,
                               readiness=readiness))


def test_service_traffic_routes_to_what_kube_proxy_programs() -> None:
    """The serving view of a Service changes exactly when the cluster's kube-proxy syncs, to the same pods."""
    sim = _serving("service: server")
    sim.run()
    history = sim.kube_proxy.history("default", "server")
    assert len(history) >= 2
    assert history[-1][1]
    assert sim.serving.kube_proxy.sync_times == [t for t, _ in history]  # type: ignore[union-attr]
    final = [p.meta.name for p in sim.serving.kube_proxy.endpoints(("default", "server"))]  # type: ignore[union-attr]
    assert final == [e.pod for e in history[-1][1]]
    assert len(final) == 3


def test_ingress_traffic_follows_endpointslices_at_the_controller_rate_limit() -> None:
    """The ingress controller picks up Ready endpoints from EndpointSlices, never sooner than the pods'
    Ready writes and at most 0.3 reconfigurations a second."""
    sim = _serving("host: web.example.com, path: /api")
    result = sim.run()
    syncs = sim.serving.ingress_proxy.sync_times  # type: ignore[union-attr]
    assert syncs
    assert all(b - a >= 1 / 0.3 - 1e-9 for a, b in zip(syncs, syncs[1:], strict=False))
    first_ready = float(result.pods()["ready"].min())
    assert syncs[0] > first_ready  # status write, EndpointSlice write and watch come first
    routed = sim.serving.ingress_proxy.endpoints(("default", "server"))  # type: ignore[union-attr]
    assert sorted(p.meta.name for p in routed) == sorted(e.pod for e in sim.kube_proxy.routable("default", "server"))
