"""Endpoint propagation (sim/workloads/endpoints.py): who is a ready endpoint, and when a proxy knows."""

from __future__ import annotations

import simpy
from builders import make_pod

from sim.api.objects import Pod, Service
from sim.api.selectors import Selector
from sim.workloads.endpoints import ProgrammedEndpoints, ready_endpoints

SERVICE = Service(meta=make_pod("svc").obj().meta, selector=Selector.from_labels({"app": "a"}))


def pod(name: str, ready: bool = True, terminating: bool = False, labels: dict | None = None,
        namespace: str = "default") -> Pod:
    p = make_pod(name, namespace).obj()
    p.meta.labels = labels if labels is not None else {"app": "a"}
    p.phase, p.ready = "Running", ready
    if terminating:
        p.meta.deletion_time = 1.0
    return p


def test_ready_endpoints_are_ready_selected_and_not_terminating() -> None:
    """Only Ready, non-terminating pods the selector matches in the Service's namespace, by name."""
    pods = [pod("c"), pod("a"), pod("b", ready=False), pod("d", terminating=True), pod("e", labels={"app": "x"}),
            pod("f", namespace="other")]
    assert [p.meta.name for p in ready_endpoints(SERVICE, pods)] == ["a", "c"]


def test_service_without_selector_has_no_managed_endpoints() -> None:
    """A selector-less Service gets no EndpointSlices from the controller."""
    assert ready_endpoints(Service(meta=SERVICE.meta, selector=Selector()), [pod("a")]) == ()


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
