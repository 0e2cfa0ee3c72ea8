"""Dynamic provisioning: models the claim side of pkg/controller/volume/persistentvolume
(pv_controller.go syncUnboundClaim, provisionClaim, the retroactive default StorageClass)
together with a CSI driver's external-provisioner, which creates the volume.

A claim without a class gets the default class (the newest one marked default). A claim
whose class binds Immediate is provisioned at once, in a zone the provisioner picks at
random (this controller's stream) among the class's allowed zones, else among the zones
of the cluster's nodes. A WaitForFirstConsumer claim waits until the scheduler writes
its ``volume.kubernetes.io/selected-node`` annotation, then is provisioned in that node's
zone. Provisioning takes ``controllerManager.volumeProvisioning``; one write then binds the
claim (it stands for creating the PersistentVolume and the two-way bind). Claims whose
class is missing or uses ``kubernetes.io/no-provisioner`` wait forever, as they would for a
static volume that never comes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.api.client import Client
from sim.api.objects import PersistentVolumeClaim, StorageClass
from sim.api.storage import NO_PROVISIONER
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler
from sim.trace import Trace

__all__ = ["PersistentVolumeController", "allowed_zones"]

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def allowed_zones(sc: StorageClass) -> list[str]:
    """The zone values a class's allowedTopologies name, sorted (empty: not restricted)."""
    return sorted({v for term in sc.allowed_topologies for req in term.requirements
                   if req.key in ZONE_LABELS for v in req.values})


class PersistentVolumeController(Controller):
    """Binds claims to freshly provisioned volumes (one claim worker, as upstream)."""

    name = "persistentvolume-binder"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, sync_latency: Sampler,
                 provisioning: Sampler, rng: np.random.Generator, trace: Trace) -> None:
        super().__init__(env, api, client, 1, sync_latency)
        self.provisioning = provisioning
        self.rng = rng
        self.trace = trace
        self.provisioned = 0
        self._in_flight: set[int] = set()
        self._noted: set[tuple[int, str]] = set()  # (claim uid, reason) already recorded
        self.informers.watch("PersistentVolumeClaim", self._on_claims)
        self.informers.watch("StorageClass", self._on_classes)

    # ------------------------------------------------------------------ informers
    def _on_claims(self, events: list[tuple[str, Any]]) -> None:
        for etype, pvc in events:
            if etype != DELETED:
                self.queue.add((pvc.meta.namespace, pvc.meta.name))

    def _on_classes(self, events: list[tuple[str, Any]]) -> None:
        for pvc in self.api.store.list("PersistentVolumeClaim"):
            if not pvc.volume_name:
                self.queue.add((pvc.meta.namespace, pvc.meta.name))

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        pvc: PersistentVolumeClaim | None = self.api.store.get("PersistentVolumeClaim", *key)
        if pvc is None or pvc.volume_name or pvc.meta.deletion_time is not None or pvc.meta.uid in self._in_flight:
            return
        if pvc.storage_class_name is None:
            default = self._default_class()
            if default is not None:
                def set_class(obj: PersistentVolumeClaim, name: str = default.meta.name) -> None:
                    obj.storage_class_name = name
                yield self.call(self.api.update, pvc, set_class)
            return
        sc: StorageClass | None = self.api.store.get("StorageClass", "", pvc.storage_class_name)
        if sc is None:
            if pvc.storage_class_name:
                self._note(pvc, "ProvisioningFailed",
                           f'storageclass.storage.k8s.io "{pvc.storage_class_name}" not found')
            return
        if not sc.provisioner or sc.provisioner == NO_PROVISIONER:
            return
        if sc.volume_binding_mode == "WaitForFirstConsumer":
            node = pvc.selected_node
            if not node:
                self._note(pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
                return
            selected = self.api.store.get("Node", "", node)
            zone = selected.meta.labels.get(ZONE_LABELS[0], "") if selected is not None else ""
        else:
            zone = self._pick_zone(sc)
        self._provision(pvc, sc, zone)

    def _default_class(self) -> StorageClass | None:
        defaults = [sc for sc in self.api.store.list("StorageClass") if sc.is_default]
        return max(defaults, key=lambda sc: (sc.meta.creation_time, sc.meta.name)) if defaults else None

    def _pick_zone(self, sc: StorageClass) -> str:
        zones = allowed_zones(sc) or sorted({n.meta.labels[ZONE_LABELS[0]] for n in self.api.store.list("Node")
                                             if ZONE_LABELS[0] in n.meta.labels})
        return zones[int(self.rng.integers(len(zones)))] if zones else ""

    def _provision(self, pvc: PersistentVolumeClaim, sc: StorageClass, zone: str) -> None:
        self._in_flight.add(pvc.meta.uid)
        self.trace.record(self.env.now, pvc.kind, pvc.meta.namespace, pvc.meta.name, "provisioning", "",
                          "ExternalProvisioning", f'waiting for a volume to be created by "{sc.provisioner}"'
                          + (f" in {zone}" if zone else ""))
        call_later(self.env, self.provisioning(), self._provisioned, pvc, zone)

    def _provisioned(self, pvc: PersistentVolumeClaim, zone: str) -> None:
        volume = f"pvc-{pvc.meta.uid}"

        def bind(obj: PersistentVolumeClaim) -> None:
            obj.volume_name, obj.zone, obj.phase = volume, zone, "Bound"

        def done(ok: bool) -> None:
            self._in_flight.discard(pvc.meta.uid)
            self.provisioned += ok

        self.api.update(self.client, pvc, bind, on_done=done,
                        record=("bound", "ProvisioningSucceeded", f"Successfully provisioned volume {volume}"))

    def _note(self, pvc: PersistentVolumeClaim, reason: str, message: str) -> None:
        if (pvc.meta.uid, reason) not in self._noted:
            self._noted.add((pvc.meta.uid, reason))
            self.trace.record(self.env.now, pvc.kind, pvc.meta.namespace, pvc.meta.name, "pending", "",
                              reason, message)
