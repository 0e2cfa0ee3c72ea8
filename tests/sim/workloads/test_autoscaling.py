"""Serving load drives the autoscalers: the HPA through the metrics pipeline, and the KPA."""

from __future__ import annotations

import numpy as np
import pytest

from sim import Result, load_scenario, run


@pytest.fixture(scope="module")
def hpa_run() -> Result:
    return run(load_scenario("scenarios/serving-autoscale.yaml"))


@pytest.fixture(scope="module")
def kpa_run() -> Result:
    return run(load_scenario("scenarios/serving-autoscale-kpa.yaml"))


def rescales(result: Result, kind: str) -> list[tuple[float, int]]:
    frame = result.to_frame()
    rows = frame[(frame["kind"] == kind) & (frame["event"] == "rescaled")]
    return [(t, int(str(m).split("New size: ")[1].split(";")[0])) for t, m in zip(rows["t"], rows["message"],
                                                                                  strict=True)]


def test_hpa_scales_on_the_pods_in_flight_requests(hpa_run: Result) -> None:
    """Cold starts (a 7 GiB image, then the model load) make in-flight requests pile up on the first
    replicas, so the HPA scales out well before the peak; through the flash crowd at 9 min it holds
    enough replicas for three times the traffic (15-16 of maxReplicas 16), keeps them through its
    5-minute downscale stabilisation, and only then gives replicas back."""
    events = rescales(hpa_run, "HorizontalPodAutoscaler")
    assert events
    assert events[0][0] < 540
    assert all(size <= 16 for _, size in events)
    t, desired = hpa_run.trace.series_array("serving_replicas")
    burst = (t >= 600) & (t <= 660)
    assert desired[burst].min() >= 15
    assert not [size for when, size in events if 540 < when < 900 and size < 15]  # no scale-down yet
    assert min(size for when, size in events if when > 900) < 15  # ... but later
    assert hpa_run.summary["requests_dropped"] / hpa_run.summary["requests_offered"] < 0.01


def test_kpa_panics_on_the_burst_and_scales_through_the_api(kpa_run: Result) -> None:
    """The KPA enters panic mode during the flash crowd and writes spec.replicas up to maxScale."""
    events = rescales(kpa_run, "PodAutoscaler")
    t, panic = kpa_run.trace.series_array("kpa_panic:llm-server")
    assert panic[(t > 540) & (t < 600)].max() == 1.0
    assert max(size for when, size in events if 540 <= when <= 620) == 16
    replicas_t, replicas = kpa_run.trace.series_array("serving_replicas")
    assert replicas[(replicas_t > 600) & (replicas_t < 700)].max() == 16
    assert np.all(replicas[replicas_t > 1500] < 16)


def test_the_kpa_gives_back_replicas_sooner_than_the_hpa(hpa_run: Result, kpa_run: Result) -> None:
    """Same day, same burst: the KPA's shorter memory costs fewer replica-hours."""
    assert kpa_run.summary["serving_replica_hours"] < hpa_run.summary["serving_replica_hours"]
