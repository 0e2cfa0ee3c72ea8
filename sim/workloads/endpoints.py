"""Which pods a Service's traffic can reach, and when a proxy learns of a change.

A small stand-in for the EndpointSlice controller and kube-proxy (models the data path of
``pkg/controller/endpointslice`` and ``pkg/proxy``): a pod is a ready endpoint of a Service
when the Service's selector matches it, it is Ready and it is not terminating (EndpointSlice
``conditions.ready``). A change reaches a proxy after ``endpointPropagation`` (controller
sync, the EndpointSlice write, the watch) and is programmed at the proxy's next sync, never
sooner than ``minSyncPeriod`` after the previous one (kube-proxy's BoundedFrequencyRunner:
1 s; ingress-nginx: 1 / ``--sync-rate-limit``). Until then requests keep going to the old
set: a pod that just became Ready gets no traffic yet, one being deleted still does.

Pods and Services are read through informers (watches on the simulated API server), so
the watch delay counts too. Each proxy calls ``before_sync`` just before it changes its
rules, so the exact serving mode can first play every request up to that instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from sim.api.objects import Pod, Service
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.distributions import Sampler

__all__ = ["EndpointTracker", "ProgrammedEndpoints", "ServiceKey", "ready_endpoints"]

ServiceKey = tuple[str, str]  # (namespace, name)


def ready_endpoints(service: Service, pods: list[Pod]) -> tuple[Pod, ...]:
    """The Service's ready endpoints among ``pods``, ordered by name (as in an EndpointSlice)."""
    if service.selector.empty:  # a Service without a selector gets no managed EndpointSlices
        return ()
    ready = [p for p in pods if p.meta.namespace == service.meta.namespace and p.ready and not p.terminating
             and p.phase == "Running" and service.selector.matches(p.meta.labels)]
    return tuple(sorted(ready, key=lambda p: p.meta.name))


class ProgrammedEndpoints:
    """One proxy's programmed rules: the endpoints it sends each Service's traffic to."""

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
    """Watches Pods and Services and tells each proxy of endpoint changes after propagation."""

    def __init__(self, env: simpy.Environment, api: ApiServer, propagation: Sampler) -> None:
        self.env = env
        self.propagation = propagation
        self.proxies: list[ProgrammedEndpoints] = []
        self._pods: dict[int, Pod] = {}
        self._services: dict[ServiceKey, Service] = {}
        self._members: dict[ServiceKey, dict[int, Pod]] = {}  # pods each selector matches
        self._current: dict[ServiceKey, tuple[int, ...]] = {}  # uids of the last endpoint set sent
        self.version = 0  # counts pod events, so readers can cache what they derive from pods()
        api.watch("Pod", self._on_pods)
        api.watch("Service", self._on_services)

    def add_proxy(self, proxy: ProgrammedEndpoints) -> None:
        """Keep this proxy informed."""
        self.proxies.append(proxy)

    def pods(self) -> list[Pod]:
        """Every pod the informer knows, in the order it first saw them."""
        return list(self._pods.values())

    def members(self, key: ServiceKey) -> list[Pod]:
        """Pods the Service's selector matches (ready or not), in uid order."""
        members = self._members.get(key, {})
        return [members[uid] for uid in sorted(members)]

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        self.version += 1
        dirty: set[ServiceKey] = set()
        for etype, pod in events:
            uid = pod.meta.uid
            if etype == DELETED:
                self._pods.pop(uid, None)
            else:
                self._pods[uid] = pod
            for key, service in self._services.items():
                members = self._members[key]
                matches = etype != DELETED and _selects(service, pod)
                if matches or uid in members:
                    dirty.add(key)
                if matches:
                    members[uid] = pod
                else:
                    members.pop(uid, None)
        self._publish(sorted(dirty))

    def _on_services(self, events: list[tuple[str, Any]]) -> None:
        changed = []
        for etype, service in events:
            key = (service.meta.namespace, service.meta.name)
            if etype == DELETED:
                self._services.pop(key, None)
                self._members[key] = {}
            else:
                self._services[key] = service
                self._members[key] = {uid: p for uid, p in self._pods.items() if _selects(service, p)}
            changed.append(key)
        self._publish(sorted(set(changed)))

    def _publish(self, keys: list[ServiceKey]) -> None:
        for key in keys:
            service = self._services.get(key)
            endpoints = ready_endpoints(service, self.members(key)) if service is not None else ()
            uids = tuple(p.meta.uid for p in endpoints)
            if uids != self._current.get(key, ()):
                self._current[key] = uids
                delay = self.propagation()
                for proxy in self.proxies:
                    call_later(self.env, delay, proxy.observe, key, endpoints)


def _selects(service: Service, pod: Pod) -> bool:
    return (pod.meta.namespace == service.meta.namespace and not service.selector.empty
            and service.selector.matches(pod.meta.labels))
