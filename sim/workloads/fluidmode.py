"""The fluid serving mode: each tick, expected arrivals meet queueing formulas; no requests.

Per tick, every source contributes its expected rate; the ingress controller sheds what its
ready pods cannot carry; each Service's rate is split evenly over its programmed endpoints
(uniform random and round-robin both give each replica 1/n of the traffic), and identical
replicas share one ``fluid.fluid_tick``. Outcome counts go to the request log per tick;
latency is kept as wait-time histograms per latency class (source, model, batch size), and
convolved with that class's service-time points once per sample interval, not per tick.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.workloads.fluid import FluidTick, ServiceStats, fluid_tick
from sim.workloads.latency import BINS, Points, add, convolve, stratified
from sim.workloads.serving import (
    INGRESS_OVERLOAD,
    NO_ENDPOINTS,
    NO_ROUTE,
    OUTCOMES,
    QUEUE_FULL,
    SERVED,
    TIMED_OUT,
    ServiceTimeModel,
    batch_factor,
    service_time_for,
)

if TYPE_CHECKING:
    from sim.workloads.system import ServingSystem, _Route

__all__ = ["FluidMode"]

SERVICE_DRAWS = 1 << 17  # draws behind one service-time distribution (its tail to about 1e-5)
TICK_CACHE = 4096  # replica states remembered, by load rounded to 0.1% of capacity


class FluidMode:
    """Tick-by-tick mean-field simulation of a serving system."""

    def __init__(self, system: ServingSystem, rng: np.random.Generator) -> None:
        self.system = system
        self.rng = rng
        self.pods: dict[int, tuple[float, float, float]] = {}  # uid -> (in flight, busy, arrived)
        self._stats: dict[tuple[int, int], ServiceStats] = {}
        self._classes: dict[tuple[Any, ...], list[Any]] = {}
        self._slot = 0
        self._ingress_points: Points | None = None
        self._ticks: OrderedDict[tuple[Any, ...], FluidTick] = OrderedDict()
        self._grouped: dict[int, tuple[tuple[Any, ...], list[Any]]] = {}

    def _tick(self, lam: float, stats: ServiceStats, behavior: Any, ca2: float) -> FluidTick:
        """``fluid_tick`` with the load rounded to 0.1% of capacity, remembered (loads drift slowly)."""
        if behavior.batching is not None:
            return fluid_tick(lam, stats, behavior, ca2)
        capacity = behavior.concurrency / max(stats.mean, 1e-12)
        rho_milli = round(lam / capacity * 1000)
        key = (id(stats), id(behavior), round(ca2 * 1e6), rho_milli)
        tick = self._ticks.get(key)
        if tick is None:
            tick = self._ticks[key] = fluid_tick(rho_milli / 1000 * capacity, stats, behavior, ca2)
            if len(self._ticks) > TICK_CACHE:
                self._ticks.popitem(last=False)
        else:
            self._ticks.move_to_end(key)
        return tick

    def _service_stats(self, k: int, spec: Any) -> ServiceStats:
        """Service times of the model ``spec`` for the requests of source ``k``."""
        key = (k, id(spec))
        stats = self._stats.get(key)
        if stats is None:
            context, generated = self.system.sources[k].token_sample(SERVICE_DRAWS, self.rng)
            draws = ServiceTimeModel(spec).sample(self.rng, context, generated)
            stats = self._stats[key] = ServiceStats.of(draws)
        return stats

    def _latency_points(self, k: int, spec: Any, batching: Any, b: int, ingress: bool) -> Points:
        """Time from reaching the replica's slot to the reply, plus the ingress hop if taken."""
        stats = self._service_stats(k, spec)
        values, weights = stats.longest_of(b)
        points = (values if b <= 1 else batch_factor(batching, b) * values, weights)
        if ingress:
            if self._ingress_points is None:
                self._ingress_points = stratified(self.system.ingress_latency.many(SERVICE_DRAWS))
            points = add(points, self._ingress_points)
        return points

    def step(self, t0: float, t1: float) -> None:
        """Advance the fluid state over [t0, t1) and log its expected outcomes."""
        sys, dt = self.system, t1 - t0
        slot = sys.log.slot(t0)
        if slot != self._slot:
            self.flush()
            self._slot = slot
        counts = np.zeros(len(OUTCOMES))
        rates = [src.expected(t0, t1) / dt for src in sys.sources]
        routes = [sys.route(src) for src in sys.sources]
        via_ingress = sum(r for r, route in zip(rates, routes, strict=True) if route is not None and route.ingress)
        shed = max(0.0, 1.0 - sys.ingress_capacity() / via_ingress) if via_ingress > 0 else 0.0  # ingress sheds
        by_route: dict[tuple[bool, Any], list[int]] = {}
        for k, (rate, route) in enumerate(zip(rates, routes, strict=True)):
            if rate <= 0:
                continue
            if route is None:
                counts[NO_ROUTE] += rate * dt
                continue
            if route.ingress:
                counts[INGRESS_OVERLOAD] += rate * shed * dt
                rates[k] = rate * (1.0 - shed)
            by_route.setdefault((route.ingress, route.key), []).append(k)
        touched: set[int] = set()
        for group_key in sorted(by_route):
            ks = by_route[group_key]
            self._serve(routes[ks[0]], ks, rates, dt, counts, touched)  # type: ignore[arg-type]
        for uid, (_, _, arrived) in list(self.pods.items()):
            if uid not in touched:
                self.pods[uid] = (0.0, 0.0, arrived)
        sys.log.add_fluid(t0, counts, np.zeros(BINS))

    def _serve(self, route: _Route, ks: list[int], rates: list[float], dt: float, counts: np.ndarray,
               touched: set[int]) -> None:
        endpoints = route.proxy.endpoints(route.key)
        total = sum(rates[k] for k in ks)
        if not endpoints:
            counts[NO_ENDPOINTS] += total * dt
            return
        n = len(endpoints)
        ca2 = 1.0 / n if route.round_robin else 1.0
        per_replica = total / n
        for behavior, spec, pods in self._groups(endpoints):
            parts = [self._service_stats(k, spec) for k in ks]
            stats = parts[0] if len(ks) == 1 else ServiceStats.mixture(parts, [rates[k] for k in ks])
            tick = self._tick(per_replica, stats, behavior, ca2)
            share = len(pods) / n
            for k in ks:
                arrived = rates[k] * share * dt
                served = arrived * (1.0 - tick.blocked - tick.timed_out)
                counts[QUEUE_FULL] += arrived * tick.blocked
                counts[TIMED_OUT] += arrived * tick.timed_out
                counts[SERVED] += served
                key = (k, id(spec), tick.batch_size, route.ingress)
                entry = self._classes.get(key)
                if entry is None:
                    points = self._latency_points(k, spec, behavior.batching, tick.batch_size, route.ingress)
                    entry = self._classes[key] = [0.0, np.zeros(BINS), points]
                entry[0] += served * tick.zero_wait
                entry[1] += served * tick.wait_hist
            add = per_replica * dt
            state = self.pods
            for uid in pods:
                state[uid] = (tick.in_flight, tick.busy, state.get(uid, (0.0, 0.0, 0.0))[2] + add)
            touched.update(pods)

    def _groups(self, endpoints: tuple[Any, ...]) -> list[tuple[Any, Any, list[int]]]:
        """Endpoints grouped by model and device: (behavior, service time, pod uids); remembered
        for the last endpoint tuple seen (proxies keep one tuple until their next sync)."""
        cached = self._grouped.get(id(endpoints))
        if cached is not None and cached[0] is endpoints:
            return cached[1]
        groups: dict[int, tuple[Any, Any, list[int]]] = {}
        for pod in endpoints:
            spec = service_time_for(pod.spec.behavior.serving, pod)
            groups.setdefault(id(spec), (pod.spec.behavior.serving, spec, []))[2].append(pod.meta.uid)
        result = list(groups.values())
        if len(self._grouped) > 64:
            self._grouped.clear()
        self._grouped[id(endpoints)] = (endpoints, result)
        return result

    def flush(self) -> None:
        """Turn the interval's wait histograms into its latency histogram."""
        hist = np.zeros(BINS)
        for key in sorted(self._classes):
            zero, waits, points = self._classes[key]
            hist += convolve(zero, waits, points)
        self.system.log.hist[self._slot] += hist
        self._classes.clear()

    def sample(self, uid: int, now: float) -> tuple[float, float, float]:
        """(in flight, busy, arrived so far) of a pod at the last tick."""
        return self.pods.get(uid, (0.0, 0.0, 0.0))
