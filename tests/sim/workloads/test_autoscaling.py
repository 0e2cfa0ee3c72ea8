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
    """The flash crowd at 9 min raises in-flight requests per pod; the HPA answers within a minute,
    up to maxReplicas, then holds through its 5-minute downscale stabilisation."""
    events = rescales(hpa_run, "HorizontalPodAutoscaler")
    burst = [size for t, size in events if 540 <= t <= 600]
    assert burst and max(burst) == 16
    assert not [size for t, size in events if 600 < t < 900 and size < 16]  # no scale-down yet
    assert min(size for t, size in events if t > 900) < 16  # ... but later


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
