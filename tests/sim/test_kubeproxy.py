"""kube-proxy: endpoint categorization and the bounded-frequency sync runner."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import simpy

from sim.api.discovery import SERVICE_NAME_LABEL, Endpoint, EndpointSlice
from sim.api.objects import ObjectMeta, Service
from sim.api.selectors import Selector
from sim.config import KubeProxyConfig
from sim.kubeproxy import KubeProxy, categorize_endpoints
from sim.trace import Trace

READY = Endpoint("ready", 1, ready=True, serving=True)
UNREADY = Endpoint("unready", 2)
SERVING_TERMINATING = Endpoint("draining", 3, serving=True, terminating=True)
GONE_TERMINATING = Endpoint("gone", 4, terminating=True)


@pytest.mark.parametrize(("endpoints", "routed"), [
    ([READY, UNREADY, SERVING_TERMINATING], ["ready"]),
    ([UNREADY, SERVING_TERMINATING, GONE_TERMINATING], ["draining"]),  # fallback: no Ready endpoint
    ([UNREADY, GONE_TERMINATING], []),
    ([], []),
], ids=["ready-only", "serving-terminating-fallback", "nothing-usable", "empty"])
def test_categorize_endpoints(endpoints: list[Endpoint], routed: list[str]) -> None:
    """Ready endpoints get the traffic; if none, those still serving while terminating do."""
    assert [e.pod for e in categorize_endpoints(endpoints)] == routed


class _Api:
    """Just enough API server for kube-proxy: it records the watch handlers."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def watch(self, kind: str, handler: Any) -> None:
        self.handlers[kind] = handler


def _proxy(min_sync: float = 1.0, duration: str = "50ms") -> tuple[simpy.Environment, _Api, KubeProxy]:
    env, api = simpy.Environment(), _Api()
    config = KubeProxyConfig(min_sync_period=min_sync, sync_duration=duration)
    proxy = KubeProxy(env, api, config, np.random.default_rng(0), Trace())  # type: ignore[arg-type]
    svc = Service(ObjectMeta(name="web"), Selector.from_labels({"app": "web"}))
    api.handlers["Service"]([("ADDED", svc)])
    return env, api, proxy


def _slice_event(api: _Api, *endpoints: Endpoint) -> None:
    eps = EndpointSlice(ObjectMeta(name="web-abcde", labels={SERVICE_NAME_LABEL: "web"}), endpoints)
    api.handlers["EndpointSlice"]([("MODIFIED", eps)])


def _at(env: simpy.Environment, t: float, fn: Any, *args: Any) -> None:
    env.timeout(t).callbacks.append(lambda _e: fn(*args))


def test_change_after_a_quiet_second_is_programmed_after_one_sync() -> None:
    """Idle runner: a slice change at 5s is routable when the 50 ms sync ends (5.05s)."""
    env, api, proxy = _proxy()
    _at(env, 5.0, _slice_event, api, READY)
    env.run(until=10)
    assert proxy.history("default", "web")[-1][0] == pytest.approx(5.05)
    assert proxy.ready_endpoints("web", 5.049) == []
    assert proxy.ready_endpoints("web", 5.05) == ["ready"]


def test_min_sync_period_delays_a_change_right_after_a_sync() -> None:
    """A run ended at 5.05s: a change at 5.3s waits until 6.05s to start, so it is live at 6.10s."""
    env, api, proxy = _proxy()
    _at(env, 5.0, _slice_event, api, READY)
    _at(env, 5.3, _slice_event, api, READY, Endpoint("second", 5, ready=True, serving=True))
    env.run(until=10)
    assert [round(t, 3) for t, _ in proxy.history("default", "web")][-2:] == [5.05, 6.1]


def test_changes_during_the_interval_are_folded_into_one_run() -> None:
    """Three changes inside one min-sync interval cause one more run, not three."""
    env, api, proxy = _proxy()
    _at(env, 5.0, _slice_event, api, READY)
    for t in (5.2, 5.4, 5.6):
        _at(env, t, _slice_event, api, Endpoint(f"p{t}", int(t * 10), ready=True, serving=True))
    env.run(until=10)
    starts = [round(start, 3) for start, _ in proxy.runs]
    assert starts == [0.0, 5.0, 6.05]
    assert proxy.ready_endpoints("web", 7) == ["p5.6"]


def test_subscribers_hear_each_change_once() -> None:
    """subscribe() callbacks get (namespace, name, endpoints, t) when routing changes."""
    env, api, proxy = _proxy()
    heard: list[tuple[str, int, float]] = []
    proxy.subscribe(lambda ns, name, eps, t: heard.append((name, len(eps), round(t, 3))))
    _at(env, 5.0, _slice_event, api, READY)
    _at(env, 8.0, _slice_event, api, READY)  # same endpoints: no change to hear
    env.run(until=10)
    assert heard == [("web", 0, 0.05), ("web", 1, 5.05)]


def test_deleted_service_routes_nowhere() -> None:
    """Deleting the Service removes its rules even while slices remain."""
    env, api, proxy = _proxy()
    _at(env, 5.0, _slice_event, api, READY)
    svc = Service(ObjectMeta(name="web"), Selector.from_labels({"app": "web"}))
    _at(env, 8.0, api.handlers["Service"], [("DELETED", svc)])
    env.run(until=10)
    assert proxy.ready_endpoints("web", 7) == ["ready"]
    assert proxy.ready_endpoints("web", 9) == []
