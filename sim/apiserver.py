"""kube-apiserver: request handling, max-inflight limits, the etcd write path and watches.

Models ``staging/src/k8s.io/apiserver``: a mutating request waits for a seat under
``--max-mutating-requests-inflight`` (excess requests queue), spends its handler time
(authn/z, admission, encoding), is committed by etcd, and its change then reaches every
matching watch after the watch cache's delivery delay. Pod watches are indexed by
``spec.nodeName`` as the watch cache indexes them, so a kubelet only hears of its own pods
(and of its own Node).

``restart`` models a kube-apiserver restart: for its duration new requests wait (clients
retry until it answers) and lease renewals fail; then every watch re-lists, so each
informer gets every object of its kind again as an update (client-go's Replace) and its
handlers resync. Requests already past admission finish (abstracted: their responses
are not lost), and LIST cost is not modelled.
"""

from __future__ import annotations

from array import array
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import simpy

from sim.admission import AdmissionError, PodAdmission
from sim.api.client import Client
from sim.api.objects import Pod
from sim.api.store import Store
from sim.clock import Lane, call_later
from sim.config import ControlPlane
from sim.distributions import Sampler
from sim.etcd import OBJECT_BYTES, Etcd
from sim.rng import Streams
from sim.trace import Trace

__all__ = ["ADDED", "CONTROLLER_MANAGER", "DELETED", "MODIFIED", "ApiServer", "SharedInformers", "Watch"]

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
Done = Callable[[bool], None] | None
Record = tuple[str, str, str]  # (event, reason, message) written to the trace at commit
Handler = Callable[[list[tuple[str, Any]]], None]
Wants = Callable[[str, Any], bool] | None
CONTROLLER_MANAGER = "kube-controller-manager"


class Watch:
    """One informer's watch: a handler called with batches of (type, object) events.

    ``wants`` is client-go's FilteringResourceEventHandler: a test on an event's type and the
    object's immutable fields (its owner, say). A batch none of whose events it wants still
    arrives (its delay is drawn, and later batches come after it) but calls no handler, so
    the simulation schedules nothing for it."""

    __slots__ = ("delay", "handler", "last_delivery", "wants")

    def __init__(self, handler: Callable[[list[tuple[str, Any]]], None], delay: Callable[[], float],
                 wants: Callable[[str, Any], bool] | None = None) -> None:
        self.handler = handler
        self.delay = delay  # the watch cache's delivery delay, drawn per batch
        self.last_delivery = 0.0
        self.wants = wants


class _Informer:
    """One kind's shared informer: a single watch whose batches reach every registered handler."""

    __slots__ = ("handlers", "watch")

    def __init__(self) -> None:
        self.handlers: list[tuple[Handler, Wants]] = []
        self.watch: Watch | None = None

    def add(self, handler: Handler, wants: Wants) -> None:
        self.handlers.append((handler, wants))
        if wants is None and self.watch is not None:
            self.watch.wants = None  # a handler takes every event: every batch is delivered

    def wants_any(self, etype: str, obj: Any) -> bool:
        return any(wants is None or wants(etype, obj) for _, wants in self.handlers)

    def deliver(self, batch: list[tuple[str, Any]]) -> None:
        single = batch[0] if len(batch) == 1 else None  # most batches hold one event
        for handler, wants in self.handlers:
            if wants is None or (wants(*single) if single is not None
                                 else any(wants(etype, obj) for etype, obj in batch)):
                handler(batch)


class SharedInformers:
    """The informers of one client process: client-go's ``SharedInformerFactory``.

    kube-controller-manager starts one factory and every controller asks it for its informers,
    so a kind is watched once (one watch connection, one delivery delay per batch) and each
    event reaches all the controllers' handlers at the same moment, in the order they were
    added (upstream each handler has its own goroutine; here they run one after another at
    that instant). A handler added late sees only later events: upstream it is first handed
    the informer's cached objects, so a controller that adds one late reads what it needs from
    the store itself."""

    def __init__(self, api: ApiServer) -> None:
        self._api = api
        self._informers: dict[str, _Informer] = {}

    def watch(self, kind: str, handler: Handler, wants: Wants = None) -> None:
        """Add ``handler`` (with its client-go FilteringResourceEventHandler test ``wants``) to
        the informer of ``kind``, starting the informer's watch on first use."""
        informer = self._informers.get(kind)
        if informer is None:
            informer = self._informers[kind] = _Informer()
            informer.watch = self._api.watch(kind, informer.deliver, informer.wants_any)
        informer.add(handler, wants)


class _Request:
    __slots__ = ("admitted", "apply", "on_done")

    def __init__(self, apply: Callable[[], tuple[str, Any] | None], on_done: Done) -> None:
        self.apply = apply
        self.on_done = on_done
        self.admitted = 0.0


class ApiServer:
    """The simulated API server in front of a simulated etcd."""

    def __init__(self, env: simpy.Environment, config: ControlPlane, streams: Streams,
                 trace: Trace) -> None:
        self.env = env
        self.trace = trace
        self.store = Store()
        self._pod_admission = PodAdmission(self.store)
        self.rejected = 0
        self.conflicts = 0
        self.etcd = Etcd(env, config.etcd, streams.get("etcd"), self._committed)
        self._lanes: dict[Client, Lane] = {}  # each client's rate-limited requests, waiting for admission
        self._handler_time = Sampler(config.api_server.request_latency, streams.get("apiserver"))
        self._watch_delay = Sampler(config.api_server.watch_latency, streams.get("watch"))
        # kubelets' own-Node watches draw from their own stream, so adding them shifts no other delay
        self._node_watch_delay = Sampler(config.api_server.watch_latency, streams.get("watch-node"))
        self.max_mutating_inflight = config.api_server.max_mutating_requests_inflight
        self.inflight = 0
        self._waiting: deque[_Request] = deque()
        self._kind_watches: dict[str, list[Watch]] = defaultdict(list)
        self._node_watches: dict[str, Watch] = {}
        self._node_self_watches: dict[str, Watch] = {}
        self.down_until = 0.0
        self._held: list[_Request] = []
        self._next_uid = 1
        self.latencies = array("d")
        self.live_bytes = 0
        self.peak_queue = 0
        self._api_services: dict[str, Any] = {}  # aggregated API groups (APIService) -> backend
        self._informer_factories: dict[str, SharedInformers] = {}

    # ------------------------------------------------------------------ watches
    def watch(self, kind: str, handler: Callable[[list[tuple[str, Any]]], None],
              wants: Callable[[str, Any], bool] | None = None) -> Watch:
        """Watch every object of ``kind`` (an informer); ``handler`` sees only batches holding an
        event ``wants`` (if given) accepts: it must ignore the others."""
        w = Watch(handler, self._watch_delay.draw, wants)
        self._kind_watches[kind].append(w)
        return w

    def informers(self, process: str) -> SharedInformers:
        """The shared informers of the client process ``process`` (e.g. ``CONTROLLER_MANAGER``)."""
        factory = self._informer_factories.get(process)
        if factory is None:
            factory = self._informer_factories[process] = SharedInformers(self)
        return factory

    def watch_node_pods(self, node_name: str, handler: Callable[[list[tuple[str, Any]]], None]) -> Watch:
        """Watch the pods bound to one node (``fieldSelector=spec.nodeName=...``)."""
        w = Watch(handler, self._watch_delay.draw)
        self._node_watches[node_name] = w
        return w

    def watch_node(self, node_name: str, handler: Callable[[list[tuple[str, Any]]], None]) -> Watch:
        """Watch one Node object (``fieldSelector=metadata.name=...``, the kubelet's node informer)."""
        w = Watch(handler, self._node_watch_delay.draw)
        self._node_self_watches[node_name] = w
        return w

    @property
    def available(self) -> bool:
        """The server answers (it is not restarting)."""
        return self.env.now >= self.down_until

    def restart(self, duration: float) -> float:
        """Restart for ``duration`` seconds; returns when it serves again."""
        was_up = self.available
        self.down_until = max(self.down_until, self.env.now + duration)
        if was_up:
            call_later(self.env, duration, self._restarted)
        return self.down_until

    def _restarted(self) -> None:
        if not self.available:  # extended meanwhile
            call_later(self.env, self.down_until - self.env.now, self._restarted)
            return
        held, self._held = self._held, []
        for request in held:
            self._seat(request)
        kinds = sorted(set(self._kind_watches) | {"Pod", "Node"})
        self._fan_out([(MODIFIED, obj) for kind in kinds for obj in self.store.list(kind)])

    @property
    def queued(self) -> int:
        """Mutating requests waiting for a seat."""
        return len(self._waiting)

    @property
    def db_size_bytes(self) -> int:
        """Live objects plus history not yet compacted."""
        return self.live_bytes + self.etcd.bytes_since_compaction

    # ------------------------------------------------------------------ aggregation
    def register_api_service(self, group: str, backend: Any) -> None:
        """Serve an aggregated API group (an APIService such as metrics.k8s.io) from ``backend``."""
        self._api_services[group] = backend

    def api_service(self, group: str) -> Any | None:
        """The backend serving an aggregated API group, or None if no APIService is registered."""
        return self._api_services.get(group)

    # ------------------------------------------------------------------ verbs
    def create(self, client: Client, obj: Any, on_done: Done = None) -> None:
        """POST: store a new object; its uid and creationTimestamp are set at commit."""
        def apply() -> tuple[str, Any] | None:
            if self.store.get(obj.kind, obj.meta.namespace, obj.meta.name) is not None:
                return None  # AlreadyExists
            if isinstance(obj, Pod):
                try:
                    self._pod_admission.admit(obj)
                except AdmissionError as exc:
                    self.rejected += 1
                    self._record(obj, "rejected", "FailedCreate", str(exc))
                    return None
            obj.meta.uid = self._next_uid
            self._next_uid += 1
            obj.meta.creation_time = self.env.now
            obj.meta.resource_version = self.etcd.revision
            self.store.add(obj)
            self.live_bytes += OBJECT_BYTES.get(obj.kind, 1024)
            self._record(obj, "created")
            return ADDED, obj
        self._submit(client, apply, on_done, OBJECT_BYTES.get(obj.kind, 1024))

    def update(self, client: Client, obj: Any, mutate: Callable[[Any], None], on_done: Done = None,
               record: Record | list[Record] | None = None, resource_version: int | None = None) -> None:
        """PUT/PATCH: apply ``mutate`` to the stored object at commit (NotFound if it is gone).

        With ``resource_version`` (the version the caller read) the write is a PUT with
        optimistic concurrency: it fails (Conflict) if the object changed since.
        """
        def apply() -> tuple[str, Any] | None:
            if not self.store.exists(obj):
                return None
            if resource_version is not None and obj.meta.resource_version != resource_version:
                self.conflicts += 1
                return None
            mutate(obj)
            obj.meta.resource_version = self.etcd.revision
            for rec in [record] if isinstance(record, tuple) else record or ():
                self._record(obj, *rec)
            return MODIFIED, obj
        self._submit(client, apply, on_done, OBJECT_BYTES.get(obj.kind, 1024))

    def bind(self, client: Client, pod: Pod, node_name: str, on_done: Done = None) -> None:
        """POST pods/binding: set ``spec.nodeName`` (Conflict if already bound or deleted)."""
        def apply() -> tuple[str, Any] | None:
            if not self.store.exists(pod) or pod.node_name or pod.terminating:
                return None
            pod.node_name = node_name
            pod.meta.resource_version = self.etcd.revision
            self._record(pod, "bound", "Scheduled", f"Successfully assigned {pod.meta.namespace}/"
                         f"{pod.meta.name} to {node_name}")
            return MODIFIED, pod
        self._submit(client, apply, on_done, OBJECT_BYTES["Pod"])

    def delete(self, client: Client, obj: Any, grace: float | None = None, on_done: Done = None) -> None:
        """DELETE: a running pod with a grace period only gets its deletionTimestamp set."""
        self._submit(client, self.deletion(obj, grace), on_done, 256)

    def deletion(self, obj: Any, grace: float | None = None) -> Callable[[], tuple[str, Any] | None]:
        """The effect of a DELETE at commit time (for handlers that delete, such as eviction)."""
        def apply() -> tuple[str, Any] | None:
            if not self.store.exists(obj):
                return None
            period = grace if grace is not None else getattr(getattr(obj, "spec", None),
                                                              "termination_grace_period_seconds", 0)
            if isinstance(obj, Pod) and obj.node_name and period > 0 and obj.phase in ("Pending", "Running"):
                if obj.terminating:
                    return None
                obj.meta.deletion_time = self.env.now
                obj.meta.deletion_grace_seconds = period
                self._record(obj, "terminating", "Killing", f"grace period {period:g}s")
                return MODIFIED, obj
            self.store.remove(obj)
            self.live_bytes -= OBJECT_BYTES.get(obj.kind, 1024)
            self._record(obj, "deleted")
            return DELETED, obj
        return apply

    def submit(self, client: Client, apply: Callable[[], Any], on_done: Done, size: int = 256) -> None:
        """A mutating request whose effect ``apply`` makes at commit; it returns the watch
        event, a list of them (a subresource writing several objects), or None if refused."""
        self._submit(client, apply, on_done, size)

    def write_bulk(self, count: int, size: int) -> None:
        """Writes that load etcd but no watcher reads (node leases); they skip workload seats."""
        self.etcd.propose(None, weight=count, size=count * size)

    # ------------------------------------------------------------------ request path
    def _record(self, obj: Any, event: str, reason: str = "", message: str = "") -> None:
        node = getattr(obj, "node_name", "") if obj.kind == "Pod" else ""
        self.trace.record(self.env.now, obj.kind, obj.meta.namespace, obj.meta.name, event,
                          node, reason, message)

    def _submit(self, client: Client, apply: Callable[[], tuple[str, Any] | None], on_done: Done,
                size: int) -> None:
        request = _Request(apply, on_done)
        self.etcd.bytes_since_compaction += size
        wait = client.reserve(self.env.now)
        if wait > 0:  # the client's throttled requests are admitted in order: one lane each
            lane = self._lanes.get(client)
            if lane is None:
                lane = self._lanes[client] = Lane(self.env)
            lane.call_later(wait, self._admit, request)
        else:
            self._admit(request)

    def _admit(self, request: _Request) -> None:
        now = request.admitted = self.env.now
        if now < self.down_until:
            self._held.append(request)
        elif self.inflight < self.max_mutating_inflight:  # _seat and _start, inline: every write comes here
            self.inflight += 1
            call_later(self.env, self._handler_time.draw(), self.etcd.propose, request)
        else:
            self._seat(request)

    def _seat(self, request: _Request) -> None:
        if self.inflight < self.max_mutating_inflight:
            self._start(request)
        else:
            self._waiting.append(request)
            self.peak_queue = max(self.peak_queue, len(self._waiting))

    def _start(self, request: _Request) -> None:
        self.inflight += 1
        call_later(self.env, self._handler_time.draw(), self.etcd.propose, request)

    def _committed(self, batch: list[_Request | None]) -> None:
        now = self.env.now
        events: list[tuple[str, Any]] = []
        finished: list[tuple[_Request, bool]] = []
        for request in batch:
            if request is None:
                continue
            event = request.apply()
            if isinstance(event, list):
                events.extend(event)
            elif event is not None:
                events.append(event)
            finished.append((request, event is not None))
        for request, ok in finished:
            self.inflight -= 1
            self.latencies.append(now - request.admitted)
            if request.on_done is not None:
                request.on_done(ok)
        while self._waiting and self.inflight < self.max_mutating_inflight:
            self._start(self._waiting.popleft())
        if events:
            changed = self.store.changed
            for etype, obj in events:
                if etype == MODIFIED:
                    changed(obj.kind)
            self._fan_out(events)

    def _fan_out(self, events: list[tuple[str, Any]]) -> None:
        targets: dict[Watch, list[tuple[str, Any]]] = {}  # in first-match order
        kind_watches, node_watches, node_self_watches = self._kind_watches, self._node_watches, \
            self._node_self_watches
        for event in events:
            obj = event[1]
            kind = obj.kind
            for watch in kind_watches.get(kind, ()):
                batch = targets.get(watch)
                if batch is None:
                    targets[watch] = [event]
                else:
                    batch.append(event)
            w: Watch | None = None
            if kind == "Pod":
                if obj.node_name:
                    w = node_watches.get(obj.node_name)
            elif kind == "Node":
                w = node_self_watches.get(obj.meta.name)
            if w is not None:
                batch = targets.get(w)
                if batch is None:
                    targets[w] = [event]
                else:
                    batch.append(event)
        now = self.env.now
        for w, batch in targets.items():
            at = now + w.delay()
            if at < w.last_delivery:  # a watch delivers in order
                at = w.last_delivery
            w.last_delivery = at
            wants = w.wants
            if wants is None or (wants(*batch[0]) if len(batch) == 1
                                 else any(wants(etype, obj) for etype, obj in batch)):
                call_later(self.env, at - now, w.handler, batch)
