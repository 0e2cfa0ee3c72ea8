"""metrics-server: housekeeping timestamps, the last/prev store, usage rounding, and a live scrape."""

from __future__ import annotations

import pytest

from sim.api.selectors import Selector
from sim.engine import run
from sim.metrics_server import (
    CpuCounters,
    MetricsPoint,
    housekeeping_timestamp,
    resource_usage,
    store_points,
)
from sim.scenario import scenario_from_text

POD = ("default", "p")


@pytest.mark.parametrize(("start", "now", "interval", "expected"), [
    (3.0, 12.0, 10.0, None),  # first housekeeping not done yet
    (3.0, 13.0, 10.0, 13.0),
    (3.0, 30.0, 10.0, 23.0),
    (3.0, 30.0, 0.0, 30.0),  # live counters
    (30.0, 30.0, 0.0, None),
], ids=["too-young", "first", "lagging", "live", "live-just-started"])
def test_housekeeping_timestamp(start: float, now: float, interval: float, expected: float | None) -> None:
    """A scrape reads the counter as of the container's last housekeeping (every 10 s from start)."""
    assert housekeeping_timestamp(start, now, interval) == expected


def test_fresh_container_is_paired_with_its_start() -> None:
    """A point 10-15 s after start gets a zero point at start, so it has a metric at once."""
    last, prev = store_points({}, {}, {POD: MetricsPoint(3.0, 13.0, 3_000_000_000)}, 15.0)
    assert prev[POD] == MetricsPoint(3.0, 3.0, 0)
    last, prev = store_points({}, {}, {POD: MetricsPoint(3.0, 8.0, 1)}, 15.0)  # only 5 s old: too fresh
    assert POD not in prev


def test_points_roll_from_last_to_prev() -> None:
    """A newer point pushes the stored one to prev; a repeated timestamp keeps the older prev."""
    first = MetricsPoint(0.0, 20.0, 100)
    second = MetricsPoint(0.0, 30.0, 200)
    last, prev = store_points({POD: first}, {}, {POD: second}, 15.0)
    assert (last[POD], prev[POD]) == (second, first)
    again, prev2 = store_points(last, {POD: first}, {POD: second}, 15.0)
    assert prev2[POD] == first
    restarted = MetricsPoint(35.0, 55.0, 5)  # started after the stored point: no pair
    assert POD not in store_points(last, prev, {POD: restarted}, 15.0)[1]


@pytest.mark.parametrize(("delta_ns", "window", "expected"), [
    (3_000_000_000, 10.0, (300, 10.0)),
    (3_000_000_001, 10.0, (300, 10.0)),  # 300000000.1 nanocores: the fraction is dropped
    (3_000_000_010, 10.0, (301, 10.0)),  # 300000001 nanocores
    (1, 15.0, (0, 15.0)),
], ids=["exact", "sub-nano", "rounds-up", "tiny"])
def test_resource_usage_is_whole_nanocores_rounded_up_to_milli(delta_ns: int, window: float,
                                                                expected: tuple[int, float]) -> None:
    """usage = counter increase / window, in nanocores, read by the HPA as MilliValue."""
    assert resource_usage(MetricsPoint(0.0, window, delta_ns), MetricsPoint(0.0, 0.0, 0)) == expected


def test_counter_decrease_gives_no_usage() -> None:
    """A counter that went backwards (a restart the start time missed) is skipped."""
    assert resource_usage(MetricsPoint(0.0, 20.0, 5), MetricsPoint(0.0, 10.0, 9)) is None


def test_cpu_counters_integrate_piecewise_usage() -> None:
    """1 core from 0 to 10 then 3 cores: 10 + 3 * 5 = 25 core-seconds at t=15."""
    counters = CpuCounters()
    counters.set_rate(1, 0.0, 0.0, 1.0)
    counters.set_rate(1, 0.0, 10.0, 3.0)
    assert counters.cumulative(1, 15.0) == 25.0
    assert counters.cumulative(1, 5.0) == 5.0
    counters.forget_before(1, 12.0)
    assert counters.cumulative(1, 15.0) == 25.0


ONE_POD = """
name: ms
duration: 40s
cluster:
  nodePools:
  - {name: n, count: 1, capacity: {cpu: "4", memory: 8Gi}, images: [app:1]}
controlPlane:
  metricsServer: {enabled: true}
workloads:
- name: app
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p, labels: {app: a}}
    spec:
      containers:
      - {name: c, image: "app:1", resources: {requests: {cpu: "1"}}}
  behavior:
    containerStart: 1s
    cpuUsage: {perPod: 300m}
"""


def test_live_scrape_serves_usage_with_window_and_timestamp() -> None:
    """A pod at a steady 300m reads 300m; the points are its housekeeping samples, 10 s apart."""
    result = run(scenario_from_text(ONE_POD))
    server = result.simulation.metrics_server
    start = result.simulation.api.store.get("Pod", "default", "p").start_time
    # scrapes at 15 s and 30 s read the samples at start + 10 (paired with start) and start + 20
    metrics = server.list_pod_metrics("default", Selector.from_labels({"app": "a"}))
    assert [m.cpu_milli for m in metrics] == [300]
    assert (metrics[0].timestamp, metrics[0].window) == (pytest.approx(start + 20.0), pytest.approx(10.0))
    assert server.scrapes == 2
    assert server.list_pod_metrics("default", Selector.from_labels({"app": "other"})) == []


def test_a_crashed_node_is_not_scraped() -> None:
    """Once its node crashes the pod has no points, so metrics.k8s.io has nothing for it."""
    text = (ONE_POD.replace("duration: 40s", "duration: 60s")
            + "timeline:\n- {at: 31s, action: nodeCrash, nodes: [n-0]}\n")
    result = run(scenario_from_text(text))
    server = result.simulation.metrics_server
    assert server.scrapes == 3  # at 15, 30 and 45 s; the one at 45 s finds the kubelet down
    assert server.list_pod_metrics("default", Selector.from_labels({"app": "a"})) == []
