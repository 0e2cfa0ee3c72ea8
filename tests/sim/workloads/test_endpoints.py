"""The serving proxies (sim/workloads/endpoints.py): rate-limited syncs, and routing that follows the
cluster's EndpointSlices and kube-proxy rather than pod readiness directly."""

from __future__ import annotations

import simpy
from builders import make_pod

from sim.api.objects import Pod
from sim.workloads.endpoints import ProgrammedEndpoints


def pod(name: str) -> Pod:
    p = make_pod(name).obj()
    p.phase, p.ready = "Running", True
    return p


def test_proxy_syncs_at_most_once_per_min_sync_period() -> None:
    """The first change is programmed at once; changes within a second wait for the next allowed sync."""
    env = simpy.Environment()
    seen: list[float] = []
    proxy = ProgrammedEndpoints(env, 1.0, before_sync=lambda: seen.append(env.now))
    key = ("default", "svc")
    a, b = (pod("a"),), (pod("a"), pod("b"))
    env.process(_changes(env, proxy, key, [(0.2, a), (0.5, b), (0.7, a)]))
    env.run(until=0.6)
    assert proxy.endpoints(key) == a
    env.run(until=3)
    assert proxy.sync_times == [0.2, 1.2] == seen
    assert proxy.endpoints(key) == a


def _changes(env: simpy.Environment, proxy: ProgrammedEndpoints, key: tuple[str, str],
             steps: list[tuple[float, tuple[Pod, ...]]]):  # type: ignore[no-untyped-def]
    for at, endpoints in steps:
        yield env.timeout(at - env.now)
        proxy.observe(key, endpoints)


def test_program_changes_the_rules_at_once_after_playing_requests_so_far() -> None:
    """A sync done elsewhere (kube-proxy's) takes effect now; the requests before it are played first."""
    env = simpy.Environment()
    seen: list[float] = []
    proxy = ProgrammedEndpoints(env, 1.0, before_sync=lambda: seen.append(env.now))
    env.run(until=0.3)
    proxy.program(("default", "svc"), (pod("a"),))
    assert [p.meta.name for p in proxy.endpoints(("default", "svc"))] == ["a"]
    assert seen == [0.3]
