"""Which pods a Service's traffic reaches now: the proxies' programmed endpoints.

Serving requests follow the cluster's own chain, not a shortcut from pod readiness:

    readiness probe passes -> kubelet status write -> EndpointSlice controller write
      -> kube-proxy sync (``sim/kubeproxy.py``)          for traffic sent to a Service
      -> ingress controller backend sync (here)          for traffic through an Ingress

kube-proxy is the cluster's (``Simulation.kube_proxy``); the serving system subscribes to it
and programs the same endpoint set, so its ``minSyncPeriod`` and sync time count. The ingress
controller (ingress-nginx) watches EndpointSlices itself and reconfigures its backends at most
``syncRateLimit`` times a second (its ``--sync-rate-limit``, 0.3), routing to Ready endpoints
only. Until a proxy syncs, requests keep going to the old set: a pod that just became Ready
gets no traffic yet, one being deleted still does.

Proxies know endpoints (pod name and uid); the serving models need the pods themselves (their
behaviour, node and GPU), which ``EndpointTracker`` keeps from its pod informer, including the
last version of a deleted pod that a proxy may still route to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import simpy

from sim.api.discovery import Endpoint, EndpointSliceCache
from sim.api.objects import Pod, Service
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later

__all__ = ["EndpointTracker", "ProgrammedEndpoints", "ServiceKey"]

ServiceKey = tuple[str, str]  # (namespace, name)


class ProgrammedEndpoints:
    """One proxy's programmed rules: the pods it sends each Service's traffic to.

    ``program`` changes the rules now (a sync that already happened elsewhere, kube-proxy's);
    ``observe`` queues a change for the next sync, never sooner than ``min_sync_period`` after
    the previous one (the ingress controller's rate limit). ``before_sync`` runs just before
    the rules change, so the exact serving mode can first play every request up to that instant.
    """

    def __init__(self, env: simpy.Environment, min_sync_period: float,
                 before_sync: Callable[[], None] | None = None) -> None:
        self.env = env
        self.min_sync_period = min_sync_period
        self.before_sync = before_sync
        self._programmed: dict[ServiceKey, tuple[Pod, ...]] = {}
        self._pending: dict[ServiceKey, tuple[Pod, ...]] = {}
        self._last_sync = -float("inf")
        self._sync_scheduled = False
        self.sync_times: list[float] = []

    def endpoints(self, key: ServiceKey) -> tuple[Pod, ...]:
        """The endpoints requests to this Service go to now."""
        return self._programmed.get(key, ())

    def program(self, key: ServiceKey, endpoints: tuple[Pod, ...]) -> None:
        """Change the rules for one Service now."""
        if self.before_sync is not None:
            self.before_sync()
        self._programmed[key] = endpoints
        self._last_sync = self.env.now
        self.sync_times.append(self.env.now)

    def observe(self, key: ServiceKey, endpoints: tuple[Pod, ...]) -> None:
        """The proxy's informer saw a new endpoint set; it is programmed at the next sync."""
        self._pending[key] = endpoints
        if not self._sync_scheduled:
            self._sync_scheduled = True
            at = max(self.env.now, self._last_sync + self.min_sync_period)
            call_later(self.env, at - self.env.now, self._sync)

    def _sync(self) -> None:
        if self.before_sync is not None:
            self.before_sync()
        for key in sorted(self._pending):
            self._programmed[key] = self._pending[key]
        self._pending.clear()
        self._last_sync = self.env.now
        self._sync_scheduled = False
        self.sync_times.append(self.env.now)


class EndpointTracker:
    """Pod and EndpointSlice informers of the serving data path.

    Keeps every pod (and Service membership) for the serving models, feeds the ingress proxy
    the Ready endpoints of each Service's EndpointSlices, and turns kube-proxy's routed
    endpoints into pods (``from_kube_proxy``).
    """

    def __init__(self, env: simpy.Environment, api: ApiServer) -> None:
        self.env = env
        self.ingress_proxies: list[ProgrammedEndpoints] = []
        self._pods: dict[int, Pod] = {}
        self._gone: dict[int, Pod] = {}  # deleted pods, as last seen: a proxy may still route to them
        self._services: dict[ServiceKey, Service] = {}
        self._members: dict[ServiceKey, dict[int, Pod]] = {}  # pods each selector matches
        self._slices = EndpointSliceCache()
        self._current: dict[ServiceKey, tuple[int, ...]] = {}  # uids last sent to the ingress proxies
        self.version = 0  # counts pod events, so readers can cache what they derive from pods()
        api.watch("Pod", self._on_pods)
        api.watch("Service", self._on_services)
        api.watch("EndpointSlice", self._on_slices)

    def add_ingress_proxy(self, proxy: ProgrammedEndpoints) -> None:
        """Keep this proxy informed of every Service's Ready endpoints."""
        self.ingress_proxies.append(proxy)

    def pods(self) -> list[Pod]:
        """Every pod the informer knows, in the order it first saw them."""
        return list(self._pods.values())

    def members(self, key: ServiceKey) -> list[Pod]:
        """Pods the Service's selector matches (ready or not), in uid order."""
        members = self._members.get(key, {})
        return [members[uid] for uid in sorted(members)]

    def as_pods(self, endpoints: Iterable[Endpoint]) -> tuple[Pod, ...]:
        """The pods behind endpoints (a pod the informer never saw is skipped)."""
        out = []
        for e in endpoints:
            pod = self._pods.get(e.uid) or self._gone.get(e.uid)
            if pod is not None:
                out.append(pod)
        return tuple(out)

    def from_kube_proxy(self, proxy: ProgrammedEndpoints) -> Callable[[str, str, tuple[Endpoint, ...], float], None]:
        """A ``KubeProxy.subscribe`` listener that programs ``proxy`` as kube-proxy does."""
        def listener(namespace: str, name: str, endpoints: tuple[Endpoint, ...], _t: float) -> None:
            proxy.program((namespace, name), self.as_pods(endpoints))
        return listener

    # ------------------------------------------------------------------ informers
    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        self.version += 1
        for etype, pod in events:
            uid = pod.meta.uid
            if etype == DELETED:
                self._pods.pop(uid, None)
                self._gone[uid] = pod
            else:
                self._pods[uid] = pod
            for key, service in self._services.items():
                members = self._members[key]
                if etype != DELETED and _selects(service, pod):
                    members[uid] = pod
                else:
                    members.pop(uid, None)

    def _on_services(self, events: list[tuple[str, Any]]) -> None:
        for etype, service in events:
            key = (service.meta.namespace, service.meta.name)
            if etype == DELETED:
                self._services.pop(key, None)
                self._members[key] = {}
            else:
                self._services[key] = service
                self._members[key] = {uid: p for uid, p in self._pods.items() if _selects(service, p)}

    def _on_slices(self, events: list[tuple[str, Any]]) -> None:
        for key in sorted(set(self._slices.apply(events, DELETED))):
            ready = [e for e in self._slices.endpoints(key) if e.ready]
            uids = tuple(e.uid for e in ready)
            if uids != self._current.get(key, ()):
                self._current[key] = uids
                pods = self.as_pods(ready)
                for proxy in self.ingress_proxies:
                    proxy.observe(key, pods)


def _selects(service: Service, pod: Pod) -> bool:
    return (pod.meta.namespace == service.meta.namespace and not service.selector.empty
            and service.selector.matches(pod.meta.labels))
