"""discovery.k8s.io/v1 EndpointSlice: models ``k8s.io/api/discovery/v1`` types.go.

A slice holds at most ``maxEndpointsPerSlice`` endpoints of one Service, each a pod with its
three conditions: ``ready`` (route new connections here), ``serving`` (the pod's readiness,
even while terminating) and ``terminating`` (deletionTimestamp set). kubesim models one
address type (IPv4) and one port set per Service, so a Service's slices differ only in which
endpoints they hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sim.api.objects import ObjectMeta

__all__ = ["MANAGED_BY", "MANAGED_BY_LABEL", "SERVICE_NAME_LABEL", "Endpoint", "EndpointSlice", "EndpointSliceCache"]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """endpoints[]: one pod's address with its conditions, node and zone."""

    pod: str  # targetRef.name
    uid: int  # targetRef.uid: a recreated pod of the same name is another endpoint
    node: str = ""
    zone: str = ""
    ready: bool = False
    serving: bool = False
    terminating: bool = False


@dataclass(slots=True)
class EndpointSlice:
    """An EndpointSlice owned by a Service; ``endpoints`` is replaced, never mutated."""

    meta: ObjectMeta
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[int, ...] = ()
    address_type: str = "IPv4"
    kind: str = "EndpointSlice"

    @property
    def service(self) -> str:
        """The name of the Service this slice belongs to."""
        return self.meta.labels.get(SERVICE_NAME_LABEL, "")


class EndpointSliceCache:
    """An EndpointSlice informer's view: each Service's slices as last seen, by slice name."""

    def __init__(self) -> None:
        self._slices: dict[tuple[str, str], dict[str, tuple[Endpoint, ...]]] = {}

    def apply(self, events: Iterable[tuple[str, Any]], deleted: str) -> list[tuple[str, str]]:
        """Take watch events (``deleted`` is the DELETED event type); the Services they touched, in order."""
        touched: list[tuple[str, str]] = []
        for etype, eps in events:
            assert isinstance(eps, EndpointSlice)
            key = (eps.meta.namespace, eps.service)
            slices = self._slices.setdefault(key, {})
            if etype == deleted:
                slices.pop(eps.meta.name, None)
            else:
                slices[eps.meta.name] = eps.endpoints
            touched.append(key)
        return touched

    def endpoints(self, key: tuple[str, str]) -> tuple[Endpoint, ...]:
        """A Service's endpoints over all its slices, in slice-name order."""
        slices = self._slices.get(key, {})
        return tuple(e for name in sorted(slices) for e in slices[name])

