"""A stand-in scheduler handle for the volume plugins: an API with watches and a store, a
queue that records moves, and the Permit allow/reject calls."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from builders import make_node, pod_info

from sim.api.objects import ObjectMeta, PersistentVolumeClaim, StorageClass
from sim.api.selectors import Requirement, Selector
from sim.scheduler.framework import CycleState
from sim.scheduler.nodetable import NodeTable

ZONE = "topology.kubernetes.io/zone"


class FakeApi:
    """Watches by kind, a dict store, and recorded updates (applied at once)."""

    def __init__(self) -> None:
        self.handlers: dict[str, list[Any]] = defaultdict(list)
        self.objects: dict[tuple[str, str, str], Any] = {}
        self.updates: list[Any] = []
        self.store = self

    def watch(self, kind: str, handler: Any) -> None:
        self.handlers[kind].append(handler)

    def get(self, kind: str, namespace: str, name: str) -> Any:
        return self.objects.get((kind, namespace, name))

    def update(self, client: Any, obj: Any, mutate: Any, **_: Any) -> None:
        mutate(obj)
        self.updates.append(obj)

    def send(self, etype: str, obj: Any) -> None:
        """Store ``obj`` and deliver one watch event for it."""
        self.objects[(obj.kind, obj.meta.namespace, obj.meta.name)] = obj
        for handler in self.handlers[obj.kind]:
            handler([(etype, obj)])


class FakeQueue:
    def __init__(self) -> None:
        self.moves: list[str] = []

    def move_all_to_active_or_backoff(self, event: str, hint: Any = None) -> int:
        self.moves.append(event)
        return 0


class FakeHandle:
    """What VolumeBinding and VolumeZone read of the Scheduler."""

    def __init__(self, table: NodeTable) -> None:
        self.api = FakeApi()
        self.queue = FakeQueue()
        self.table = table
        self.client = object()
        self.allowed: list[tuple[int, str]] = []

    def allow(self, uid: int, plugin: str) -> None:
        self.allowed.append((uid, plugin))


def zoned_node(name: str, zone: str | None = None, labels: dict[str, str] | None = None):
    """A node in ``zone`` (None: no zone label) with extra ``labels``."""
    wrapper = make_node(name).capacity(cpu="4", memory="8Gi")
    if zone is not None:
        wrapper.label(ZONE, zone)
    for key, value in (labels or {}).items():
        wrapper.label(key, value)
    return wrapper.obj()


def storage_class(name: str, mode: str = "Immediate", zones: tuple[str, ...] = (),
                  provisioner: str = "ebs.csi.aws.com") -> StorageClass:
    topologies = (Selector((Requirement(ZONE, "In", zones),)),) if zones else ()
    return StorageClass(ObjectMeta(name, ""), provisioner, mode, topologies)


def claim(name: str, class_name: str | None = "fast", zone: str | None = None,
          selected: str = "", deleting: bool = False) -> PersistentVolumeClaim:
    """A claim; ``zone`` not None means bound to a volume in that zone ("" = no zone)."""
    meta = ObjectMeta(name, "default", annotations={"volume.kubernetes.io/selected-node": selected} if selected else {})
    meta.deletion_time = 1.0 if deleting else None
    pvc = PersistentVolumeClaim(meta, class_name, 1 << 30)
    if zone is not None:
        pvc.volume_name, pvc.zone, pvc.phase = f"pvc-{name}", zone, "Bound"
    return pvc


def run_filters(plugin: Any, table: NodeTable, pod: Any) -> tuple[str | None, dict[str, list[str]]]:
    """PreFilter's rejection (or None), then each node's Filter reasons from the same cycle state."""
    info, state = pod_info(table, pod), CycleState()
    rejected = plugin.pre_filter(state, info, table)
    if rejected is not None:
        return rejected, {}
    rows = np.flatnonzero(table.present[: table.n])
    passed = plugin.filter(state, info, table, rows)
    out: dict[str, list[str]] = {table.names[r]: [] for r in rows}
    for text, mask, _code in plugin.reasons(state, info, table, rows):
        for i in np.flatnonzero(mask & ~passed):
            out[table.names[rows[i]]].append(text)
    return None, out
