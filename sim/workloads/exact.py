"""The exact serving mode: every request, routed and queued one by one, without SimPy events.

A window's arrivals are drawn per source as arrays; each source's route gives its ready
endpoints now, the balancer picks one per request (vectorised), service times are drawn for
all of them at once, and then one loop in arrival order passes the ingress controller's
token bucket and offers each request to its replica (``serving.Replica.offer``), which
decides its fate on the spot. The system calls ``advance`` at every tick and just before a
proxy reprograms its endpoints, so a window never straddles a routing change.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.api.objects import Pod
from sim.workloads.serving import INGRESS_OVERLOAD, NO_ENDPOINTS, NO_ROUTE, SERVED, Outcomes, Replica

if TYPE_CHECKING:
    from sim.workloads.system import ServingSystem

__all__ = ["ExactMode"]


class ExactMode:
    """Per-request simulation of a serving system, up to the current simulated time."""

    def __init__(self, system: ServingSystem) -> None:
        self.system = system
        self.outcomes = Outcomes()
        self.done_until = 0.0
        self._bucket = (0.0, -math.inf)  # ingress token bucket: (tokens, last refill)

    def advance(self, now: float) -> None:
        """Decide every request that arrived in [done_until, now)."""
        t0 = self.done_until
        if now <= t0:
            return
        self.done_until = now
        sys = self.system
        times, targets, service, extra, codes, via_ingress = [], [], [], [], [], []
        for source in sys.sources:
            arrivals = source.take(t0, now)
            m = len(arrivals)
            if not m:
                continue
            times.append(arrivals.times)
            route = sys.route(source)
            endpoints = route.proxy.endpoints(route.key) if route is not None else ()
            via_ingress.append(np.full(m, route is not None and route.ingress))
            if route is None or not endpoints:
                targets += [None] * m
                codes.append(np.full(m, NO_ROUTE if route is None else NO_ENDPOINTS))
                service.append(np.zeros(m))
                extra.append(np.zeros(m))
                continue
            chosen = sys.choose(route, len(endpoints), m)
            replicas = [sys.replica(p) for p in endpoints]
            targets += [replicas[i] for i in chosen.tolist()]
            codes.append(np.full(m, SERVED))
            service.append(self._service_times(endpoints, chosen, arrivals.context, arrivals.generated))
            extra.append(sys.ingress_latency.many(m) if route.ingress else np.zeros(m))
        if times:
            self._play(np.concatenate(times), targets, np.concatenate(service), np.concatenate(extra),
                       np.concatenate(codes), np.concatenate(via_ingress))

    def _service_times(self, endpoints: tuple[Pod, ...], chosen: np.ndarray, context: np.ndarray,
                       generated: np.ndarray) -> np.ndarray:
        rng, m = self.system.rng, len(chosen)
        z, e, u = rng.standard_normal(m), rng.standard_exponential(m), rng.random(m)
        models = [self.system.model(p) for p in endpoints]
        distinct = list(dict.fromkeys(models))
        if len(distinct) == 1:
            return distinct[0].draw(z, e, u, context, generated)
        group = np.array([distinct.index(model) for model in models])[chosen]
        out = np.empty(m)
        for g, model in enumerate(distinct):
            mask = group == g
            out[mask] = model.draw(z[mask], e[mask], u[mask], context[mask], generated[mask])
        return out

    def _play(self, times: np.ndarray, targets: list[Replica | None], service: np.ndarray, extra: np.ndarray,
              codes: np.ndarray, via_ingress: np.ndarray) -> None:
        log = self.outcomes
        capacity = self.system.ingress_capacity() if via_ingress.any() else 0.0
        tokens, last = self._bucket
        t, s, x, c, ing = times.tolist(), service.tolist(), extra.tolist(), codes.tolist(), via_ingress.tolist()
        for i in np.argsort(times, kind="stable").tolist():
            at = t[i]
            if ing[i]:  # the ingress controller's pods proxy at most `capacity` req/s, 1 s of burst
                tokens = capacity if last == -math.inf else min(capacity, tokens + (at - last) * capacity)
                last = at
                if tokens < 1.0:
                    log.add(at, 0.0, INGRESS_OVERLOAD)
                    continue
                tokens -= 1.0
            replica = targets[i]
            if replica is None:
                log.add(at, 0.0, c[i])
            else:
                replica.offer(at, s[i], x[i], log)
        self._bucket = (tokens, last)

    def sample(self, uid: int, now: float) -> tuple[float, float, float]:
        """(in flight, busy, arrived so far) of a pod's replica at ``now``."""
        replica = self.system.replicas.get(uid)
        if replica is None:
            return 0.0, 0.0, 0.0
        return float(replica.in_flight(now)), float(replica.busy(now)), float(replica.arrived)

    def finish(self) -> Outcomes:
        """Decide requests still waiting for a batch, and hand over every outcome."""
        for uid in sorted(self.system.replicas):
            self.system.replicas[uid].flush(self.outcomes)
        return self.outcomes
