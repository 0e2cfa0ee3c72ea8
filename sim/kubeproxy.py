"""kube-proxy: models pkg/proxy (endpointslicecache.go, topology.go CategorizeEndpoints, the
iptables/nftables Proxier) and pkg/proxy/runner/bounded_frequency_runner.go (Kubernetes 1.36).

kube-proxy watches Services and EndpointSlices. Each change asks the sync runner for a run of
``syncProxyRules``; the runner starts it at once unless the previous run ended less than
``minSyncPeriod`` (1 s) ago, in which case it starts when that interval is over; requests
arriving meanwhile, or during a run, are folded into that one next run. A run takes the
changes pending at its start and programs them when it ends (``sync_duration`` later). For
each Service the rules send traffic to its Ready endpoints, or, if none is Ready, to those
still serving while terminating. (Upstream's cache also merges an endpoint listed in two
slices; kubesim's controller never lists one twice, so slices are simply concatenated.)

So a pod becomes routable through this chain, each link visible in the trace:

    readiness probe passes -> kubelet status write (pod ``ready`` event)
      -> EndpointSlice controller write (``endpoints_ready/...`` series, EndpointSlice ``updated``)
      -> kube-proxy sync (``endpoints_routable/...`` series, Service ``programmed`` event)

Every node runs kube-proxy, and every node's copy sees the same watch events and follows the
same runner rules; they differ only by milliseconds of watch delivery and sync time. kubesim
models one, which stands for all of them. (The hourly full resync and the ``syncPeriod`` retry
after a failed sync are not modelled: they do not change what is routed.)

Serving models read routing from here, not from the API: ``routable(namespace, name, t)`` is
the Endpoints traffic goes to at time ``t``; ``subscribe(callback)`` calls back on each change.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import simpy

from sim.api.discovery import Endpoint, EndpointSliceCache
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.config import KubeProxyConfig
from sim.distributions import Sampler
from sim.trace import Trace

__all__ = ["KubeProxy", "categorize_endpoints", "routable_series_name", "split_endpoints"]

Key = tuple[str, str]
Listener = Callable[[str, str, tuple[Endpoint, ...], float], None]


def routable_series_name(namespace: str, name: str) -> str:
    """Trace series of how many endpoints kube-proxy routes a Service's traffic to."""
    return f"endpoints_routable/{namespace}/{name}"


def split_endpoints(endpoints: Iterable[Endpoint]) -> tuple[tuple[Endpoint, ...], tuple[Endpoint, ...]]:
    """(Ready endpoints, endpoints serving while terminating)."""
    endpoints = tuple(endpoints)
    return (tuple(e for e in endpoints if e.ready),
            tuple(e for e in endpoints if e.serving and e.terminating and not e.ready))


def categorize_endpoints(endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    """Cluster-policy endpoints: the Ready ones, else the serving-and-terminating ones."""
    ready, draining = split_endpoints(endpoints)
    return ready or draining


class KubeProxy:
    """The service proxy: what each Service's traffic is routed to, over time."""

    def __init__(self, env: simpy.Environment, api: ApiServer, config: KubeProxyConfig,
                 rng: np.random.Generator, trace: Trace) -> None:
        self.env = env
        self.trace = trace
        self.min_sync_period = config.min_sync_period
        self.mode = config.mode
        self._sync_duration = Sampler(config.sync_duration, rng)
        self._services: set[Key] = set()
        # the EndpointSliceCache: each slice's ready and serving-terminating endpoints
        self._slices = EndpointSliceCache()  # the EndpointSliceCache
        self._dirty: set[Key] = set()
        self._programmed: dict[Key, tuple[Endpoint, ...]] = {}
        self._history: dict[Key, tuple[list[float], list[tuple[Endpoint, ...]]]] = {}
        self._listeners: list[Listener] = []
        self._running = False
        self._queued = False  # a run is requested for when the running one (or the interval) ends
        self._last_end = -float("inf")
        self._run_started = 0.0
        self.runs: list[tuple[float, float]] = []  # (start, end) of every syncProxyRules run
        api.watch("Service", self._on_services)
        api.watch("EndpointSlice", self._on_slices)

    # ------------------------------------------------------------------ queries
    def routable(self, namespace: str, name: str, t: float | None = None) -> tuple[Endpoint, ...]:
        """The endpoints Service ``namespace/name`` routes to at time ``t`` (default: now)."""
        times, values = self._history.get((namespace, name), ([], []))
        at = bisect.bisect_right(times, self.env.now if t is None else t) - 1
        return values[at] if at >= 0 else ()

    def ready_endpoints(self, service: str, t: float | None = None, namespace: str = "default") -> list[str]:
        """Pod names Service ``service`` routes to at time ``t`` (default: now)."""
        return [e.pod for e in self.routable(namespace, service, t)]

    def history(self, namespace: str, name: str) -> list[tuple[float, tuple[Endpoint, ...]]]:
        """Every change of a Service's routed endpoints: (time programmed, endpoints)."""
        times, values = self._history.get((namespace, name), ([], []))
        return list(zip(times, values, strict=True))

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(namespace, name, endpoints, t)`` whenever a Service's routing changes."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ informers
    def _on_services(self, events: list[tuple[str, Any]]) -> None:
        for etype, svc in events:
            key = (svc.meta.namespace, svc.meta.name)
            if etype == DELETED:
                self._services.discard(key)
            else:
                self._services.add(key)
            self._changed(key)

    def _on_slices(self, events: list[tuple[str, Any]]) -> None:
        for key in self._slices.apply(events, DELETED):
            self._changed(key)

    def _changed(self, key: Key) -> None:
        self._dirty.add(key)
        self._request_run()

    # ------------------------------------------------------------------ sync runner
    def _request_run(self) -> None:
        if self._running or self._queued:
            self._queued = True
            return
        wait = self._last_end + self.min_sync_period - self.env.now
        if wait > 0:
            self._queued = True
            call_later(self.env, wait, self._start)
        else:
            self._start()

    def _start(self) -> None:
        self._queued = False
        self._running = True
        changes = {}
        for key in sorted(self._dirty):
            changes[key] = categorize_endpoints(self._slices.endpoints(key)) if key in self._services else ()
        self._dirty.clear()
        self._run_started = self.env.now
        call_later(self.env, self._sync_duration(), self._finish, changes)

    def _finish(self, changes: dict[Key, tuple[Endpoint, ...]]) -> None:
        now = self.env.now
        self.runs.append((self._run_started, now))
        for key, endpoints in changes.items():
            if self._programmed.get(key, ()) == endpoints and key in self._history:
                continue
            self._programmed[key] = endpoints
            times, values = self._history.setdefault(key, ([], []))
            times.append(now)
            values.append(endpoints)
            self.trace.sample(routable_series_name(*key), now, len(endpoints))
            self.trace.record(now, "Service", key[0], key[1], "programmed", "", "",
                              f"kube-proxy routes to {len(endpoints)} endpoint(s)")
            for listener in self._listeners:
                listener(key[0], key[1], endpoints, now)
        self._running = False
        self._last_end = now
        if self._queued:
            self._queued = False
            self._request_run()
