"""Model-server replicas (sim/workloads/serving.py): FCFS slots, queue limit, timeout, batching."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import make_pod

from sim.workloads.queueing import erlang_c, mmc_mean_wait, mmck
from sim.workloads.serving import (
    QUEUE_FULL,
    SERVED,
    TIMED_OUT,
    BatchingReplica,
    Outcomes,
    Replica,
    ServiceTimeModel,
    batch_factor,
    service_time_for,
)
from sim.workloads.spec import Batching, ServiceTime, ServingBehavior


def behavior(**fields: object) -> ServingBehavior:
    return ServingBehavior.model_validate({"serviceTime": {"dist": "constant", "value": 1.0}, **fields})


def play(replica: Replica, requests: list[tuple[float, float]]) -> list[tuple[int, float]]:
    log = Outcomes()
    for at, service in requests:
        replica.offer(at, service, 0.0, log)
    replica.flush(log)
    order = np.argsort(np.frombuffer(log.arrival), kind="stable")
    return [(int(log.outcome[i]), round(log.latency[i], 9)) for i in order]


@pytest.mark.parametrize(("fields", "requests", "expected"), [
    ({"concurrency": 2}, [(0, 1), (0, 1), (0, 1)], [(SERVED, 1), (SERVED, 1), (SERVED, 2)]),
    ({"concurrency": 1, "queue": {"limit": 1}}, [(0, 1), (0.1, 1), (0.2, 1)],
     [(SERVED, 1), (SERVED, 1.9), (QUEUE_FULL, 0)]),
    ({"concurrency": 1, "queue": {"limit": 0}}, [(0, 1), (0.5, 1), (1.0, 1)],
     [(SERVED, 1), (QUEUE_FULL, 0), (SERVED, 1)]),
    ({"concurrency": 1, "queue": {"timeout": 0.5}}, [(0, 1), (0.2, 1), (0.6, 1)],
     [(SERVED, 1), (TIMED_OUT, 0.5), (SERVED, 1.4)]),
    ({"concurrency": 1, "queue": {"limit": 1, "timeout": 0.5}}, [(0, 1), (0.2, 1), (0.3, 1), (0.8, 1)],
     [(SERVED, 1), (TIMED_OUT, 0.5), (QUEUE_FULL, 0), (SERVED, 1.2)]),
], ids=["slots-then-queue", "queue-limit", "no-queue", "timeout-frees-no-slot", "gave-up-still-queued-until-deadline"])
def test_fcfs_replica(fields: dict, requests: list[tuple[float, float]], expected: list[tuple[int, float]]) -> None:
    """A request's fate is decided on arrival: start at the earliest free slot, or drop, or give up."""
    assert play(Replica(1, "p", behavior(**fields), 0.0), requests) == expected


def test_in_flight_and_busy_count_queued_and_serving_requests() -> None:
    """Three requests on two slots: three present, two busy; all gone once served."""
    replica = Replica(1, "p", behavior(concurrency=2), 0.0)
    play(replica, [(0, 1), (0, 1), (0, 1)])
    assert (replica.in_flight(0.5), replica.busy(0.5)) == (3, 2)
    assert (replica.in_flight(1.5), replica.busy(1.5)) == (1, 1)
    assert replica.in_flight(2.0) == 0
    assert replica.arrived == 3


def test_fcfs_replica_mean_wait_matches_erlang_c() -> None:
    """Poisson arrivals at 30/s on 4 slots of exponential 100 ms: mean wait within 5% of Erlang C (51 ms)."""
    rng = np.random.default_rng(7)
    n = 400_000
    arrivals = np.cumsum(rng.exponential(1 / 30, n))
    service = rng.exponential(0.1, n)
    replica = Replica(1, "p", behavior(concurrency=4, queue={"limit": 10_000, "timeout": 1e9}), 0.0)
    log = Outcomes()
    for at, s in zip(arrivals.tolist(), service.tolist(), strict=True):
        replica.offer(at, s, 0.0, log)
    waits = np.frombuffer(log.latency) - service
    waited = waits > 1e-12
    assert math.isclose(float(waits.mean()), mmc_mean_wait(30, 10, 4), rel_tol=0.05)
    assert math.isclose(float(waited.mean()), erlang_c(4, 3.0), rel_tol=0.05)


def test_fcfs_replica_blocking_matches_mmck() -> None:
    """With room for 4 waiting, the share turned away is M/M/4/8's blocking (4.6%) within 5%."""
    rng = np.random.default_rng(8)
    n = 400_000
    arrivals, service = np.cumsum(rng.exponential(1 / 30, n)), rng.exponential(0.1, n)
    replica = Replica(1, "p", behavior(concurrency=4, queue={"limit": 4}), 0.0)
    outcomes = [o for o, _ in play(replica, list(zip(arrivals.tolist(), service.tolist(), strict=True)))]
    assert math.isclose(outcomes.count(QUEUE_FULL) / n, mmck(30, 10, 4, 4).blocking, rel_tol=0.05)


BATCHING = {"concurrency": 1, "queue": {"limit": 16},
            "batching": {"maxBatchSize": 4, "maxQueueDelay": 0.1, "latencyFactor": [[1, 1.0], [4, 2.0]]}}


@pytest.mark.parametrize(("requests", "expected"), [
    ([(0, 1), (0.01, 1), (0.02, 1), (0.03, 1)], [(SERVED, 2.03), (SERVED, 2.02), (SERVED, 2.01), (SERVED, 2.0)]),
    ([(0, 1), (0.05, 0.5)], [(SERVED, 0.1 + 4 / 3), (SERVED, 0.05 + 4 / 3)]),
    ([(0, 1), (0.5, 1)], [(SERVED, 1.1), (SERVED, 1.6)]),
], ids=["full-batch-goes-at-once", "deadline-sends-a-partial-batch", "busy-instance-queues-the-next"])
def test_dynamic_batching(requests: list[tuple[float, float]], expected: list[tuple[int, float]]) -> None:
    """A batch leaves when full or at the oldest member's deadline, and takes factor(b) × its longest time."""
    got = play(BatchingReplica(1, "p", behavior(**BATCHING), 0.0), requests)
    assert [o for o, _ in got] == [o for o, _ in expected]
    assert np.allclose([lat for _, lat in got], [lat for _, lat in expected], atol=1e-6)


def test_batch_factor_interpolates_and_stays_flat_beyond_the_curve() -> None:
    """latencyFactor is linear between points and flat after the last one."""
    batching = Batching.model_validate({"maxBatchSize": 16, "latencyFactor": [[1, 1.0], [8, 2.4]]})
    assert batch_factor(batching, 1) == 1.0
    assert math.isclose(batch_factor(batching, 4), 1.6)
    assert batch_factor(batching, 16) == 2.4


@pytest.mark.parametrize(("spec", "expected"), [
    ({"dist": "constant", "value": 0.05, "perContextToken": 0.001, "perGeneratedToken": 0.01}, [0.05 + 1.0 + 2.0]),
    ({"dist": "exponential", "mean": 0.1}, [0.1 * 1.5]),
    ({"dist": "lognormal", "median": 0.2, "sigma": 0.5}, [0.2 * math.exp(0.5 * 0.3)]),
    ({"dist": "empirical", "values": [0.3, 0.1, 0.2]}, [0.3]),
], ids=["constant-plus-tokens", "exponential", "lognormal", "empirical"])
def test_service_time_transforms_shared_variates(spec: dict, expected: list[float]) -> None:
    """One normal, exponential and uniform variate per request give each distribution's draw."""
    model = ServiceTimeModel(ServiceTime.model_validate(spec))
    tokens = (np.array([1000.0]), np.array([200.0])) if "perContextToken" in spec else (np.zeros(1), np.zeros(1))
    got = model.draw(np.array([0.3]), np.array([1.5]), np.array([0.9]), *tokens)
    assert np.allclose(got, expected)


def test_gpu_pods_serve_at_service_time_and_cpu_pods_at_cpu_service_time() -> None:
    """The pod's nvidia.com/gpu request decides which service time applies."""
    spec = behavior(cpuServiceTime={"dist": "constant", "value": 5.0})
    gpu_pod = make_pod("g").req(cpu="1", **{"nvidia.com/gpu": 1}).obj()
    cpu_pod = make_pod("c").req(cpu="1").obj()
    assert service_time_for(spec, gpu_pod).value == 1.0
    assert service_time_for(spec, cpu_pod).value == 5.0
    assert service_time_for(behavior(), cpu_pod).value == 1.0
