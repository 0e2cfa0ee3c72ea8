"""EndpointSlice controller: models pkg/controller/endpointslice/endpointslice_controller.go
(Kubernetes 1.36).

Handlers only enqueue Service keys: a Service added, changed or deleted; a pod of a Service
added or deleted, or changed in a way that changes its endpoint (readiness, deletion, IP) —
``podEndpointsChanged``. With ``--endpointslice-updates-batch-period`` 0 (the default) a pod
change is queued at once. ``sync`` lists the Service's pods and slices and writes the plan of
``reconciler.reconcile``: creates, then updates, then deletes, one API call at a time.
When a sync changes the Service's count of ready endpoints, the new count is sampled into the
trace as ``endpoints_ready/<namespace>/<service>``; that is what a watch on EndpointSlices reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.discovery import MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, Endpoint, EndpointSlice
from sim.api.names import NameSuffixes
from sim.api.objects import ObjectMeta, OwnerReference, Pod, Service
from sim.apiserver import DELETED, ApiServer
from sim.controllers.endpointslice.reconciler import (
    Key as EndpointKey,
)
from sim.controllers.endpointslice.reconciler import (
    endpoint_key,
    pod_to_endpoint,
    reconcile,
    should_pod_be_in_endpoints,
)
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler
from sim.trace import Trace

__all__ = ["EndpointSliceController", "endpoint_state", "ready_series_name", "summarize_endpoints"]

ZONE_LABEL = "topology.kubernetes.io/zone"


def ready_series_name(namespace: str, name: str) -> str:
    """Trace series of a Service's ready endpoints as its EndpointSlices list them."""
    return f"endpoints_ready/{namespace}/{name}"


def endpoint_state(pod: Pod) -> tuple[bool, bool, bool, bool]:
    """What of a pod its endpoint depends on: readiness, deletion, IP, terminal phase."""
    return (pod.ready, pod.terminating, pod.start_time is not None, pod.phase in ("Succeeded", "Failed"))


def summarize_endpoints(endpoints: tuple[Endpoint, ...]) -> str:
    """Event message for a slice write: counts by condition."""
    ready = sum(e.ready for e in endpoints)
    serving = sum(e.serving for e in endpoints)
    terminating = sum(e.terminating for e in endpoints)
    return f"endpoints={len(endpoints)} ready={ready} serving={serving} terminating={terminating}"


@dataclass(slots=True)
class _ServiceState:
    """The controller's memory of one Service between syncs (upstream recomputes it each sync;
    kubesim carries it over so a sync costs the endpoints that changed, not all of them)."""

    desired: dict[EndpointKey, Endpoint] = field(default_factory=dict)
    by_uid: dict[int, EndpointKey] = field(default_factory=dict)  # pod -> its endpoint in desired
    touched: set[int] = field(default_factory=set)  # pods changed since the last sync
    where: dict[EndpointKey, str] = field(default_factory=dict)  # endpoint -> slice holding it
    ready: int = 0
    full: bool = True  # recompute everything (first sync, Service change, failed write)


class EndpointSliceController(Controller):
    """Keeps each selector Service's EndpointSlices equal to its pods' endpoints."""

    name = "endpointslice"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler, max_endpoints_per_slice: int, batch_period: float,
                 rng: np.random.Generator, trace: Trace) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.batch_period = batch_period
        self.name_suffix = NameSuffixes(rng)  # generateName suffixes: the stream serves nothing else
        self.trace = trace
        # informer views: Services by namespace, pods by namespace, each Service's pods
        self._services: dict[str, dict[str, Service]] = defaultdict(dict)
        self._pods: dict[str, dict[int, Pod]] = defaultdict(dict)
        self._members: dict[Key, dict[int, Pod]] = defaultdict(dict)
        self._pod_state: dict[int, tuple[bool, bool, bool, bool]] = {}
        self._svc_state: dict[Key, _ServiceState] = defaultdict(_ServiceState)
        self._ready_sampled: dict[Key, int] = {}
        self._watching_pods = False
        self.informers.watch("Service", self._on_services)

    # ------------------------------------------------------------------ informers
    def _watch_pods(self) -> None:
        """Add the pod handler (after reading the pods it missed, as an informer's late handler
        is first handed its cache) when the first Service appears; until then no pod can be an
        endpoint, and a cluster without Services pays nothing for it."""
        self._watching_pods = True
        for pod in self.api.store.list("Pod"):
            self._pods[pod.meta.namespace][pod.meta.uid] = pod
            self._pod_state[pod.meta.uid] = endpoint_state(pod)
        self.informers.watch("Pod", self._on_pods)

    def _on_services(self, events: list[tuple[str, Any]]) -> None:
        if not self._watching_pods:
            self._watch_pods()
        for etype, svc in events:
            ns, key = svc.meta.namespace, (svc.meta.namespace, svc.meta.name)
            if etype == DELETED:
                self._services[ns].pop(svc.meta.name, None)
                self._members.pop(key, None)
                self._svc_state.pop(key, None)
            else:
                self._services[ns][svc.meta.name] = svc
                self._members[key] = {uid: p for uid, p in self._pods[ns].items() if _selects(svc, p)}
                self._svc_state[key].full = True
            self.queue.add(key)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            ns, uid = pod.meta.namespace, pod.meta.uid
            services = [(ns, name) for name, svc in sorted(self._services[ns].items()) if _selects(svc, pod)]
            if etype == DELETED:
                self._pods[ns].pop(uid, None)
                self._pod_state.pop(uid, None)
                for key in services:
                    self._members[key].pop(uid, None)
            else:
                state = endpoint_state(pod)
                if uid in self._pods[ns] and self._pod_state.get(uid) == state:
                    continue  # podEndpointsChanged: nothing an endpoint shows has changed
                self._pod_state[uid] = state
                self._pods[ns][uid] = pod
                for key in services:
                    self._members[key][uid] = pod
            for key in services:
                self._svc_state[key].touched.add(uid)
                if self.batch_period > 0:
                    self.queue.add_after(key, self.batch_period)
                else:
                    self.queue.add(key)

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        svc: Service | None = self.api.store.get("Service", *key)
        if svc is None or svc.selector.empty or svc.type == "ExternalName":
            return  # deleted (the garbage collector removes its slices) or no selector
        st = self._svc_state[key]
        full, touched = st.full, self._refresh(st, key, svc)
        slices = {s.meta.name: s for s in self._slices(svc)}
        plan = reconcile([(name, s.endpoints) for name, s in sorted(slices.items())], st.desired,
                         self.max_endpoints_per_slice, None if full else touched, None if full else st.where)
        ok = True
        written: list[tuple[str, tuple[Endpoint, ...]]] = []
        for endpoints in plan.create:
            new = self._new_slice(svc, endpoints)
            ok &= yield self.call(self.api.create, new)
            written.append((new.meta.name, endpoints))
        for name, endpoints in plan.update:
            ok &= yield self.call(self.api.update, slices[name], _set_endpoints(endpoints),
                                  record=("updated", "", summarize_endpoints(endpoints)))
            written.append((name, endpoints))
        for name in plan.delete:
            ok &= yield self.call(self.api.delete, slices[name])
        self._remember(st, svc, full, touched, written, ok)
        if self._ready_sampled.get(key) != st.ready:
            self._ready_sampled[key] = st.ready
            self.trace.sample(ready_series_name(*key), self.env.now, st.ready)

    def _refresh(self, st: _ServiceState, key: Key, svc: Service) -> list[EndpointKey]:
        """Bring ``st.desired`` up to date from the pod informer; the endpoints that changed."""
        members = self._members[key]
        uids = sorted(members) if st.full else sorted(st.touched)
        if st.full:
            st.desired, st.by_uid, st.ready = {}, {}, 0
        st.touched = set()
        touched = []
        for uid in uids:
            old = st.by_uid.pop(uid, None)
            if old is not None:
                st.ready -= st.desired.pop(old).ready
                touched.append(old)
            pod = members.get(uid)
            if pod is not None and should_pod_be_in_endpoints(pod):
                endpoint = pod_to_endpoint(pod, self._zone(pod.node_name), svc.publish_not_ready_addresses)
                ep_key = endpoint_key(endpoint)
                st.desired[ep_key], st.by_uid[uid] = endpoint, ep_key
                st.ready += endpoint.ready
                touched.append(ep_key)
        return touched

    def _remember(self, st: _ServiceState, svc: Service, full: bool, touched: list[EndpointKey],
                  written: list[tuple[str, tuple[Endpoint, ...]]], ok: bool) -> None:
        """Record where each endpoint now is; after a failed write, start afresh next time."""
        st.full = not ok
        if not ok:
            return
        if full:
            st.where = {endpoint_key(e): s.meta.name for s in self._slices(svc) for e in s.endpoints}
            return
        for ep_key in touched:
            if ep_key not in st.desired:
                st.where.pop(ep_key, None)
        for name, endpoints in written:
            for endpoint in endpoints:
                st.where[endpoint_key(endpoint)] = name

    def _slices(self, svc: Service) -> list[EndpointSlice]:
        return [s for s in self.api.store.owned_by(svc.meta.uid)
                if isinstance(s, EndpointSlice) and s.meta.deletion_time is None]

    def _zone(self, node_name: str) -> str:
        node = self.api.store.get("Node", "", node_name) if node_name else None
        return node.meta.labels.get(ZONE_LABEL, "") if node is not None else ""

    def _new_slice(self, svc: Service, endpoints: tuple[Endpoint, ...]) -> EndpointSlice:
        suffix = self.name_suffix()
        labels = {**svc.meta.labels, SERVICE_NAME_LABEL: svc.meta.name, MANAGED_BY_LABEL: MANAGED_BY}
        meta = ObjectMeta(name=f"{svc.meta.name}-{suffix}", namespace=svc.meta.namespace, labels=labels,
                          owner=OwnerReference("Service", svc.meta.name, svc.meta.uid))
        return EndpointSlice(meta, endpoints, svc.ports)


def _selects(svc: Service, pod: Pod) -> bool:
    return not svc.selector.empty and svc.selector.matches(pod.meta.labels)


def _set_endpoints(endpoints: tuple[Endpoint, ...]) -> Any:
    def mutate(obj: EndpointSlice) -> None:
        obj.endpoints = endpoints
        obj.meta.generation += 1
    return mutate
