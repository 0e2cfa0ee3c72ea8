"""The scheduler's PersistentVolumeClaim and StorageClass informers, shared by VolumeBinding
and VolumeZone: models the listers those plugins read and the PVC assume cache of
pkg/scheduler/framework/plugins/volumebinding (assume_cache.go, binder.go AssumePodVolumes).

A claim is kept as it was when its watch event arrived (a snapshot, not the live object,
so the scheduler sees a change only after the watch delay). Reserve *assumes* a claim is
headed for a node before the API write that says so lands; Filter then treats it as if
the ``volume.kubernetes.io/selected-node`` annotation were already set. A claim or class
change moves the unschedulable pods that use such a claim back into the queue (the
plugins' PersistentVolumeClaim and StorageClass events, with a hint that skips pods
without claims).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.api.objects import PersistentVolumeClaim, Pod, StorageClass
from sim.apiserver import DELETED

__all__ = ["ClaimView", "VolumeInformer", "volume_informer"]

Key = tuple[str, str]  # (namespace, claim name)


@dataclass(frozen=True, slots=True)
class ClaimView:
    """What the PVC lister holds of one claim."""

    storage_class_name: str | None
    volume_name: str
    zone: str
    selected_node: str
    deleting: bool

    @property
    def bound(self) -> bool:
        """spec.volumeName is set: the claim has its volume."""
        return bool(self.volume_name)

    @classmethod
    def of(cls, pvc: PersistentVolumeClaim) -> ClaimView:
        """Snapshot the fields the volume plugins read."""
        return cls(pvc.storage_class_name, pvc.volume_name, pvc.zone, pvc.selected_node,
                   pvc.meta.deletion_time is not None)


class VolumeInformer:
    """Claims and classes as the scheduler last heard of them, plus assumed claims."""

    def __init__(self, handle: Any) -> None:
        self.queue = handle.queue
        self.claims: dict[Key, ClaimView] = {}
        self.classes: dict[str, StorageClass] = {}
        self.assumed: dict[Key, tuple[str, int]] = {}  # claim -> (node name, uid of the pod that reserved it)
        self.listeners: list[Callable[[], None]] = []
        handle.api.watch("PersistentVolumeClaim", self._on_claims)
        handle.api.watch("StorageClass", self._on_classes)

    # ------------------------------------------------------------------ reads
    def claim(self, namespace: str, name: str) -> ClaimView | None:
        """The claim, or None if the lister does not have it."""
        return self.claims.get((namespace, name))

    def selected_node(self, namespace: str, name: str) -> str:
        """The node a delayed claim is headed for: its annotation, else an assumption."""
        view = self.claims.get((namespace, name))
        if view is not None and view.selected_node:
            return view.selected_node
        return self.assumed.get((namespace, name), ("", 0))[0]

    def class_of(self, view: ClaimView) -> StorageClass | None:
        """The claim's StorageClass, or None if unset or unknown."""
        return self.classes.get(view.storage_class_name) if view.storage_class_name else None

    def is_delayed(self, view: ClaimView) -> bool:
        """WaitForFirstConsumer binding (volume.IsDelayBindingMode); no class means immediate."""
        sc = self.class_of(view)
        return sc is not None and sc.volume_binding_mode == "WaitForFirstConsumer"

    # ------------------------------------------------------------------ assume cache
    def assume(self, namespace: str, name: str, node: str, uid: int) -> None:
        """Reserve: this claim will be provisioned for ``node`` (pod ``uid`` reserved it)."""
        self.assumed[(namespace, name)] = (node, uid)

    def forget(self, namespace: str, name: str, uid: int) -> None:
        """Unreserve: drop the assumption if pod ``uid`` made it."""
        if self.assumed.get((namespace, name), ("", -1))[1] == uid:
            del self.assumed[(namespace, name)]

    # ------------------------------------------------------------------ watch events
    def _on_claims(self, events: list[tuple[str, Any]]) -> None:
        changed: set[Key] = set()
        for etype, pvc in events:
            key = (pvc.meta.namespace, pvc.meta.name)
            if etype == DELETED:
                self.claims.pop(key, None)
                self.assumed.pop(key, None)
                continue
            view = self.claims[key] = ClaimView.of(pvc)
            if view.bound or view.selected_node:
                self.assumed.pop(key, None)  # the informer caught up with the assumption
            changed.add(key)
        if changed:
            self.queue.move_all_to_active_or_backoff(
                "PersistentVolumeClaimChange",
                lambda pod: any((pod.meta.namespace, c) in changed for c in pod.spec.persistent_volume_claims))
        for listener in self.listeners:
            listener()

    def _on_classes(self, events: list[tuple[str, Any]]) -> None:
        for etype, sc in events:
            if etype == DELETED:
                self.classes.pop(sc.meta.name, None)
            else:
                self.classes[sc.meta.name] = sc
        self.queue.move_all_to_active_or_backoff("StorageClassChange", _uses_claims)


def _uses_claims(pod: Pod) -> bool:
    return bool(pod.spec.persistent_volume_claims)


_INFORMERS: weakref.WeakKeyDictionary[Any, VolumeInformer] = weakref.WeakKeyDictionary()


def volume_informer(handle: Any) -> VolumeInformer:
    """The informer of this scheduler (one per handle, shared by its volume plugins)."""
    informer = _INFORMERS.get(handle)
    if informer is None:
        informer = _INFORMERS[handle] = VolumeInformer(handle)
    return informer
