"""Per-pod serving signals (sim/workloads/podmetrics.py): windows over scrapes, CPU from busy slots."""

from __future__ import annotations

import math

import pytest
from builders import make_pod

from sim.workloads.podmetrics import PodSample, PodSignals, cpu_per_request
from sim.workloads.spec import ServingBehavior


@pytest.fixture
def signals() -> PodSignals:
    s = PodSignals(keep_s=60, tick=5)
    for i, (in_flight, busy) in enumerate([(2, 1), (4, 2), (6, 3), (8, 4)]):
        s.record(1, PodSample(5.0 * (i + 1), in_flight, busy, arrived=100.0 * (i + 1)))
    return s


def test_in_flight_averages_the_window(signals: PodSignals) -> None:
    """The mean over scrapes inside the window (the last two of four)."""
    assert signals.in_flight(1, now=20, window=10) == 7.0
    assert signals.in_flight(2, now=20, window=10) == 0.0


def test_requests_per_second_from_the_cumulative_count(signals: PodSignals) -> None:
    """Requests counted between the window's edges, per second."""
    assert signals.requests_per_second(1, now=20, window=10) == 20.0


def test_cpu_is_idle_plus_per_request_use(signals: PodSignals) -> None:
    """CPU = idle + per-request cores × mean busy slots."""
    assert math.isclose(signals.cpu_cores(1, now=20, window=10, idle=0.05, per_request=0.5), 0.05 + 0.5 * 3.5)


def test_cpu_per_request_defaults_to_the_request_shared_by_slots() -> None:
    """Without cpuPerRequest a request in service uses the pod's cpu request / concurrency."""
    behavior = ServingBehavior.model_validate({"concurrency": 4, "serviceTime": {"dist": "constant", "value": 1}})
    assert cpu_per_request(behavior, make_pod("p").req(cpu="2").obj()) == 0.5
    explicit = behavior.model_copy(update={"cpu_per_request": 0.25})
    assert cpu_per_request(explicit, make_pod("p").req(cpu="2").obj()) == 0.25


def test_old_samples_are_forgotten() -> None:
    """The ring keeps only keep_s of scrapes."""
    s = PodSignals(keep_s=10, tick=5)
    for i in range(10):
        s.record(1, PodSample(float(i), 1.0, 1.0, 0.0))
    assert len(s._samples[1]) == s.maxlen  # noqa: SLF001
