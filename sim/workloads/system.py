"""The serving data path: traffic → ingress controller → Service (kube-proxy) → model servers.

Each traffic source's requests reach a Service either directly (kube-proxy: iptables picks
a ready endpoint uniformly at random, IPVS round-robin) or through the ingress controller
(its Ingress rules pick the Service; it adds its latency, sheds what exceeds its pods'
capacity, and balances round-robin). Both proxies route only to the endpoints they have
programmed, which lag the pods' readiness by the cluster's own chain (status write, EndpointSlice
controller, proxy sync: ``endpoints.py``); cold starts (image pull,
model load before Ready) come from the kubelet.

Two modes share this routing: exact (``exact.py``, every request) and fluid
(``fluidmode.py``, queueing formulas per tick); ``auto`` picks fluid when the total peak
rate exceeds ``exactMaxRate``. One SimPy process ticks either mode, scrapes every serving
pod's signals for the autoscalers (``podmetrics.py``) and samples replica counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.api.networking import Ingress, match_ingress
from sim.api.objects import Deployment, Pod, Service
from sim.apiserver import DELETED, ApiServer
from sim.distributions import Sampler
from sim.kubeproxy import KubeProxy
from sim.rng import Streams
from sim.scenario import Scenario
from sim.trace import Trace
from sim.workloads.endpoints import EndpointTracker, ProgrammedEndpoints, ServiceKey
from sim.workloads.exact import ExactMode
from sim.workloads.fluidmode import FluidMode
from sim.workloads.podmetrics import PodSample, PodSignals, cpu_per_request
from sim.workloads.requestlog import RequestLog
from sim.workloads.serving import BatchingReplica, Replica, ServiceTimeModel, service_time_for
from sim.workloads.spec import ServingConfig
from sim.workloads.traffic import ArrivalSource

__all__ = ["ServingSystem", "choose_mode"]

SIGNAL_KEEP_S = 180.0  # how long pod samples are kept for scrapers
SCRAPE_PERIOD_S = 5.0  # pod signals are sampled this often (cAdvisor / metrics-server resolution is 10-15 s)


def choose_mode(config: ServingConfig, peak_rate: float) -> str:
    """exact or fluid: as forced, else fluid above ``exactMaxRate`` requests per second."""
    if config.mode != "auto":
        return config.mode
    return "fluid" if peak_rate > config.exact_max_rate else "exact"


class _Route:
    """Where one source's requests go now: a proxy's view of a Service, and how it balances."""

    __slots__ = ("ingress", "key", "proxy", "round_robin")

    def __init__(self, key: ServiceKey, proxy: ProgrammedEndpoints, round_robin: bool, ingress: bool) -> None:
        self.key, self.proxy, self.round_robin, self.ingress = key, proxy, round_robin, ingress


class ServingSystem:
    """All traffic of a scenario and the model-server pods it reaches."""

    def __init__(self, env: simpy.Environment, api: ApiServer, scenario: Scenario, streams: Streams,
                 trace: Trace, sample_interval: float, kube_proxy: KubeProxy) -> None:
        self.env, self.api, self.trace = env, api, trace
        self.config = cfg = scenario.serving
        self.duration = scenario.duration
        self.sources = [ArrivalSource(s, streams.get(f"traffic/{s.name}"), scenario.duration, scenario.base_dir)
                        for s in scenario.traffic]
        self.peak_rate = sum(s.peak_rate(scenario.duration) for s in self.sources)
        self.mode = choose_mode(cfg, self.peak_rate)
        trace.header.update({"serving_mode": self.mode, "slo_latency_s": cfg.slo_latency})
        self.rng = streams.get("serving")
        self.tracker = EndpointTracker(env, api)
        self.kube_proxy = ProgrammedEndpoints(env, kube_proxy.min_sync_period, self.advance)
        kube_proxy.subscribe(self.tracker.from_kube_proxy(self.kube_proxy))
        self.round_robin = kube_proxy.mode == "ipvs"
        self.ingress_proxy = ProgrammedEndpoints(env, 1.0 / cfg.ingress_controller.sync_rate_limit, self.advance)
        self.tracker.add_ingress_proxy(self.ingress_proxy)
        self._ingresses: dict[tuple[str, str], Ingress] = {}
        api.watch("Ingress", self._on_ingresses)
        self.ingress_latency = Sampler(cfg.ingress_controller.latency, streams.get("ingress"))
        self.replicas: dict[int, Replica] = {}
        self._models: dict[int, ServiceTimeModel] = {}
        self._rr: dict[tuple[bool, ServiceKey], int] = {}
        self.scrape_period = max(cfg.tick, SCRAPE_PERIOD_S)
        self.signals = PodSignals(SIGNAL_KEEP_S, self.scrape_period)
        self._next_scrape = 0.0
        self.log = RequestLog(sample_interval, scenario.duration, cfg.slo_latency)
        self.sample_interval = sample_interval
        self.exact = ExactMode(self) if self.mode == "exact" else None
        self.fluid = FluidMode(self, streams.get("serving-fluid")) if self.mode == "fluid" else None
        self.targets = _targets(scenario)
        self.cost = 0.0
        self.replica_seconds = 0.0
        self._fluid_until = 0.0
        self._summary: dict[str, Any] | None = None
        self.on_scrape: list[Callable[[], None]] = []  # e.g. metrics-server re-reading CPU usage
        env.process(self._run())

    # ------------------------------------------------------------------ routing
    def _on_ingresses(self, events: list[tuple[str, Any]]) -> None:
        self.advance()
        for etype, ing in events:
            key = (ing.meta.namespace, ing.meta.name)
            if etype == DELETED:
                self._ingresses.pop(key, None)
            else:
                self._ingresses[key] = ing

    def route(self, source: ArrivalSource) -> _Route | None:
        """Where ``source``'s requests go now (None: no Ingress rule matches, a 404)."""
        spec = source.spec
        if spec.service is not None:
            return _Route((spec.namespace, spec.service), self.kube_proxy, self.round_robin, False)
        assert spec.host is not None
        backend = match_ingress([self._ingresses[k] for k in sorted(self._ingresses)], spec.host, spec.path)
        return None if backend is None else _Route(backend, self.ingress_proxy, True, True)

    def ingress_capacity(self) -> float:
        """Requests per second the ready ingress-controller pods can proxy."""
        ic = self.config.ingress_controller
        if ic.selector is None:
            return ic.replicas * ic.capacity_per_pod
        ready = sum(1 for p in self.tracker.pods() if p.ready and not p.terminating
                    and all(p.meta.labels.get(k) == v for k, v in ic.selector.items()))
        return ready * ic.capacity_per_pod

    def model(self, pod: Pod) -> ServiceTimeModel:
        """The service-time model of a pod (by its workload and whether it has a GPU)."""
        spec = service_time_for(pod.spec.behavior.serving, pod)
        model = self._models.get(id(spec))
        if model is None:
            model = self._models[id(spec)] = ServiceTimeModel(spec)
        return model

    def replica(self, pod: Pod) -> Replica:
        """The exact-mode queue of a pod, made on its first request."""
        replica = self.replicas.get(pod.meta.uid)
        if replica is None:
            behavior = pod.spec.behavior.serving
            kind = BatchingReplica if behavior.batching is not None else Replica
            replica = self.replicas[pod.meta.uid] = kind(pod.meta.uid, pod.meta.name, behavior, 0.0)
        return replica

    def choose(self, route: _Route, n_endpoints: int, m: int) -> np.ndarray:
        """Endpoint indices for ``m`` requests: round-robin, or uniformly random (iptables)."""
        if route.round_robin:
            key = (route.ingress, route.key)
            start = self._rr.get(key, 0)
            self._rr[key] = (start + m) % n_endpoints
            return (start + np.arange(m)) % n_endpoints
        return np.minimum((self.rng.random(m) * n_endpoints).astype(np.int64), n_endpoints - 1)

    def advance(self) -> None:
        """Exact mode: decide every request up to now (called before any routing change)."""
        if self.exact is not None:
            self.exact.advance(min(self.env.now, self.duration))

    # ------------------------------------------------------------------ signals for autoscalers
    def in_flight_now(self, uids: list[int]) -> float:
        """Requests present now in these pods (queued or in service)."""
        if self.fluid is not None:
            pods = self.fluid.pods
            return sum(pods[uid][0] for uid in uids if uid in pods)
        self.advance()
        assert self.exact is not None
        return sum(self.exact.sample(uid, self.env.now)[0] for uid in uids)

    def arrived(self, uids: list[int]) -> float:
        """Requests these pods have received so far."""
        self.advance()
        mode = self.exact or self.fluid
        assert mode is not None
        return sum(mode.sample(uid, self.env.now)[2] for uid in uids)

    def usage(self, pod: Pod, metric: str, window: float) -> float:
        """A pod's ``cpu`` (cores), ``requests_per_second`` or ``inflight_requests`` over ``window``."""
        uid, now = pod.meta.uid, self.env.now
        if metric == "cpu":
            behavior = pod.spec.behavior.serving
            if behavior is None:
                return 0.0
            return self.signals.cpu_cores(uid, now, window, behavior.idle_cpu, cpu_per_request(behavior, pod))
        if metric == "requests_per_second":
            return self.signals.requests_per_second(uid, now, window)
        if metric == "inflight_requests":
            return self.signals.in_flight(uid, now, window)
        raise ValueError(f"unknown serving metric {metric!r}")

    # ------------------------------------------------------------------ the loop
    def _run(self):  # type: ignore[no-untyped-def]
        tick, next_sample = self.config.tick, 0.0
        while True:
            if self.env.now >= next_sample - 1e-9:
                self._sample(self.env.now)
                next_sample += self.sample_interval
            yield self.env.timeout(tick)
            self._step(self.env.now)

    def _step(self, now: float) -> None:
        now = min(now, self.duration)
        if self.fluid is not None and now > self._fluid_until:
            self.fluid.step(self._fluid_until, now)
            self._fluid_until = now
        self.advance()
        if now < self._next_scrape - 1e-9:
            return
        self._next_scrape = now + self.scrape_period
        mode = self.exact or self.fluid
        assert mode is not None
        known = self.replicas if self.exact is not None else self.fluid.pods  # type: ignore[union-attr]
        for uid in sorted(known):
            in_flight, busy, arrived = mode.sample(uid, now)
            self.signals.record(uid, PodSample(now, in_flight, busy, arrived))
        for callback in self.on_scrape:
            callback()

    def _sample(self, now: float) -> None:
        """Replica counts, programmed endpoints and in-flight requests; cost since the last sample."""
        store = self.api.store
        desired = sum(d.replicas for ns, name in self.targets[1]
                      if (d := store.get("Deployment", ns, name)) is not None)
        pods = {p.meta.uid: p for key in self.targets[0] for p in self.tracker.members(key)}
        ready = sum(1 for p in pods.values() if p.ready and not p.terminating)
        proxy = {False: self.kube_proxy, True: self.ingress_proxy}
        endpoints = sum(len(proxy[via].endpoints(k)) for k, via in sorted(self.targets[2]))
        self.trace.sample("serving_replicas", now, desired)
        self.trace.sample("serving_replicas_ready", now, ready)
        self.trace.sample("serving_endpoints", now, endpoints)
        mode = self.exact or self.fluid
        assert mode is not None
        self.advance()
        self.trace.sample("serving_in_flight", now, sum(mode.sample(uid, now)[0] for uid in sorted(pods)))
        width = min(self.sample_interval, max(0.0, self.duration - now))
        self.replica_seconds += ready * width
        self.cost += width / 3600 * sum(self._price_share(p) for p in pods.values())

    def _price_share(self, pod: Pod) -> float:
        """Hourly price of the part of its node a pod holds (its dominant resource share)."""
        node = self.api.store.get("Node", "", pod.node_name)  # also nodes the cluster-autoscaler added
        if node is None or pod.terminating:
            return 0.0
        shares = [amount / node.allocatable[r] for r, amount in pod.spec.requests if node.allocatable.get(r)]
        return node.price_per_hour * min(1.0, max(shares, default=0.0))

    def finish(self) -> dict[str, Any]:
        """Close the run: decide the last requests, write the series, return the summary figures."""
        if self._summary is not None:
            return self._summary
        self._step(self.duration)
        if self.exact is not None:
            self.log.add_exact(self.exact.finish())
        else:
            assert self.fluid is not None
            self.fluid.flush()
        self.log.write_series(self.trace)
        summary = self.log.summary()
        served = summary["requests_served"]
        summary.update({
            "serving_mode": self.mode,
            "serving_replica_hours": round(self.replica_seconds / 3600, 4),
            "serving_cost": round(self.cost, 4),
            "serving_cost_per_1k_requests": round(1000 * self.cost / served, 6) if served else None,
        })
        self._summary = summary
        return summary


def _targets(scenario: Scenario) -> tuple[list[ServiceKey], list[tuple[str, str]], set[tuple[ServiceKey, bool]]]:
    """Services the traffic reaches, the Deployments behind them, and (Service, via the Ingress) routes."""
    ingresses = [o for _, o in scenario.objects if isinstance(o, Ingress)]
    keys: list[ServiceKey] = []
    routes: set[tuple[ServiceKey, bool]] = set()
    for source in scenario.traffic:
        key = ((source.namespace, source.service) if source.service is not None
               else match_ingress(ingresses, source.host or "", source.path))
        if key is not None:
            routes.add((key, source.service is None))
        if key is not None and key not in keys:
            keys.append(key)
    services = [o for _, o in scenario.objects if isinstance(o, Service)
                and (o.meta.namespace, o.meta.name) in keys]
    deployments = [(o.meta.namespace, o.meta.name) for _, o in scenario.objects if isinstance(o, Deployment)
                   and any(s.meta.namespace == o.meta.namespace and not s.selector.empty
                           and s.selector.matches(dict(o.template.labels)) for s in services)]
    return keys, deployments, routes
