"""etcd commit latency (quorum) and the API server's inflight limit."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.api.client import Client
from sim.api.objects import ObjectMeta, Service
from sim.api.selectors import Selector
from sim.apiserver import ADDED, CONTROLLER_MANAGER, ApiServer
from sim.config import ApiServerConfig, ControlPlane, EtcdConfig
from sim.distributions import Dist
from sim.etcd import Etcd
from sim.rng import Streams
from sim.trace import Trace


def _etcd(members: int, fsync: float, rtt: float) -> Etcd:
    config = EtcdConfig(members=members, fsync=Dist(value=fsync), rtt=Dist(value=rtt))
    return Etcd(simpy.Environment(), config, np.random.default_rng(0), lambda batch: None)


@pytest.mark.parametrize(("members", "expected"), [(1, 0.002), (3, 0.003), (5, 0.003)],
                         ids=["single", "three", "five"])
def test_commit_needs_leader_fsync_and_a_quorum(members: int, expected: float) -> None:
    """Constant 2 ms fsync, 1 ms RTT: one member commits at 2 ms; a quorum waits RTT + fsync."""
    assert _etcd(members, 0.002, 0.001).commit_latency() == pytest.approx(expected)


def test_group_commit_batches_concurrent_writes() -> None:
    """Writes proposed while a batch is in flight share the next fsync."""
    config = EtcdConfig(members=1, fsync=Dist(value=0.01), rtt=Dist(value=0))
    env = simpy.Environment()
    applied: list[list[int]] = []
    etcd = Etcd(env, config, np.random.default_rng(0), applied.append)
    for i in range(5):
        etcd.propose(i)
    env.run()
    assert applied == [[0], [1, 2, 3, 4]]
    assert etcd.batches == 2
    assert etcd.writes == 5


def test_requests_queue_when_inflight_seats_are_full() -> None:
    """With 2 mutating seats and 10 ms handlers, 6 simultaneous creates are served 2 at a time."""
    control = ControlPlane(
        etcd=EtcdConfig(members=1, fsync=Dist(value=0), rtt=Dist(value=0)),
        api_server=ApiServerConfig(max_mutating_requests_inflight=2, request_latency=Dist(value=0.01),
                                   watch_latency=Dist(value=0)))
    env = simpy.Environment()
    api = ApiServer(env, control, Streams(0), Trace())
    client = Client("test", qps=1000, burst=1000)
    done: list[float] = []
    for i in range(6):
        svc = Service(meta=ObjectMeta(name=f"s{i}"), selector=Selector())
        api.create(client, svc, on_done=lambda ok: done.append(env.now))
    env.run()
    assert api.peak_queue == 4
    assert done == pytest.approx([0.01, 0.01, 0.02, 0.02, 0.03, 0.03])


def test_client_rate_limit_spaces_requests() -> None:
    """A 10 QPS, burst 2 client: two requests at once, then one every 100 ms."""
    client = Client("c", qps=10, burst=2)
    waits = [client.reserve(0.0) for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0.1, 0.2, 0.3])


def _watch_control() -> ControlPlane:
    """1 ms writes and exponential watch delays (mean 50 ms): batches arrive at distinct times."""
    return ControlPlane(
        etcd=EtcdConfig(members=1, fsync=Dist(value=0.001), rtt=Dist(value=0)),
        api_server=ApiServerConfig(request_latency=Dist(value=0.001),
                                   watch_latency=Dist(dist="exponential", mean=0.05)))


def test_filtered_watch_skips_unwanted_batches_but_keeps_their_place() -> None:
    """A watch's ``wants`` filter (client-go's FilteringResourceEventHandler): batches it does
    not want call no handler, yet draw their delivery delay like an unfiltered watch, so the
    wanted batches arrive exactly when they would have, and in order."""
    def run(wants):  # type: ignore[no-untyped-def]
        control = _watch_control()
        env = simpy.Environment()
        api = ApiServer(env, control, Streams(3), Trace())
        seen: list[tuple[float, str]] = []
        api.watch("Service", lambda batch: seen.extend((env.now, obj.meta.name) for _, obj in batch), wants)
        client = Client("test", qps=1000, burst=1000)
        for i in range(20):
            env.timeout(0.01 * i).callbacks.append(lambda _e, i=i: api.create(
                client, Service(meta=ObjectMeta(name=f"{'keep' if i % 3 == 0 else 'drop'}-{i}"),
                                selector=Selector())))
        env.run()
        return seen
    everything = run(None)
    kept = run(lambda etype, obj: obj.meta.name.startswith("keep"))
    assert len(everything) == 20
    assert [name for _, name in kept] == [f"keep-{i}" for i in range(0, 20, 3)]
    assert kept == [(t, name) for t, name in everything if name.startswith("keep")]


def test_shared_informers_deliver_each_batch_once_to_every_handler() -> None:
    """kube-controller-manager's SharedInformerFactory: one watch per kind, so every handler
    sees a batch at the same moment (one delivery delay drawn), in the order they were added,
    and a filtered handler only the batches it wants; the informer of a kind whose handlers all
    filter schedules nothing for a batch none of them wants."""
    control = _watch_control()
    env = simpy.Environment()
    api = ApiServer(env, control, Streams(3), Trace())
    informers = api.informers(CONTROLLER_MANAGER)
    assert api.informers(CONTROLLER_MANAGER) is informers
    assert api.informers("kube-scheduler") is not informers
    seen: list[tuple[str, float, str]] = []

    def handler(tag: str):  # type: ignore[no-untyped-def]
        return lambda batch: seen.extend((tag, env.now, obj.meta.name) for _, obj in batch)
    informers.watch("Service", handler("a"))
    informers.watch("Service", handler("b"), wants=lambda etype, obj: obj.meta.name.startswith("keep"))
    assert len(api._kind_watches["Service"]) == 1  # one watch for the kind
    client = Client("test", qps=1000, burst=1000)
    for i in range(6):
        env.timeout(0.1 * i).callbacks.append(lambda _e, i=i: api.create(
            client, Service(meta=ObjectMeta(name=f"{'keep' if i % 2 == 0 else 'drop'}-{i}"), selector=Selector())))
    env.run()
    a = [(t, name) for tag, t, name in seen if tag == "a"]
    b = [(t, name) for tag, t, name in seen if tag == "b"]
    assert [name for _, name in a] == [f"{'keep' if i % 2 == 0 else 'drop'}-{i}" for i in range(6)]
    assert b == [(t, name) for t, name in a if name.startswith("keep")]  # the same instants
    order = [tag for tag, _, name in seen if name.startswith("keep")]
    assert order == ["a", "b"] * 3  # handlers in the order they were added

    filtered = ApiServer(env, control, Streams(3), Trace()).informers(CONTROLLER_MANAGER)
    filtered.watch("Service", handler("c"), wants=lambda etype, obj: False)
    watch = filtered._api._kind_watches["Service"][0]
    assert watch.wants is not None
    assert not watch.wants(ADDED, Service(meta=ObjectMeta(name="x"), selector=Selector()))
