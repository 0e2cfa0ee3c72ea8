"""VolumeZone: models pkg/scheduler/framework/plugins/volumezone/volume_zone.go (Kubernetes 1.36).

PreFilter gathers the zone labels of the volumes bound to the pod's claims. A claim that
is missing fails with ``persistentvolumeclaim "x" not found``, a class that is missing
with ``storageclass.storage.k8s.io "x" not found``; an unbound WaitForFirstConsumer claim is
skipped (VolumeBinding places it), any other unbound claim fails ("PersistentVolumeClaim
had no pv name and storageClass name" without a class, else "PersistentVolume had no
name"). All are UnschedulableAndUnresolvable.

Filter: a node with none of the zone/region topology labels passes (a cluster without
zones); otherwise it must carry ``topology.kubernetes.io/zone`` with the volume's zone, else
"node(s) had no available volume zone". kubesim's provisioned volume carries its zone both
as this label and as node affinity, so in the default profile VolumeBinding, which runs
first, is the one that reports the mismatch; this plugin differs on nodes without
topology labels and decides when VolumeBinding is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.names import VOLUME_ZONE
from sim.scheduler.plugins.volume_informer import VolumeInformer, volume_informer

__all__ = ["ERR_REASON_CONFLICT", "TOPOLOGY_LABELS", "VolumeZone"]

ERR_REASON_CONFLICT = "node(s) had no available volume zone"
TOPOLOGY_LABELS = ("failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
                   "topology.kubernetes.io/zone", "topology.kubernetes.io/region")
ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass
class VolumeZone:
    """PreFilter + Filter plugin."""

    name: str = VOLUME_ZONE
    informer: VolumeInformer | None = None

    def bind_handle(self, handle: Any) -> None:
        """Read claims and classes from the scheduler's volume informers."""
        self.informer = volume_informer(handle)

    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> str | None:
        zones: list[str] = []
        state[VOLUME_ZONE] = zones
        if self.informer is None:
            return None
        for name in pod.pod.spec.persistent_volume_claims:
            view = self.informer.claim(pod.pod.meta.namespace, name)
            if view is None:
                return f'persistentvolumeclaim "{name}" not found'
            if not view.bound:
                if not view.storage_class_name:
                    return "PersistentVolumeClaim had no pv name and storageClass name"
                sc = self.informer.class_of(view)
                if sc is None:
                    return f'storageclass.storage.k8s.io "{view.storage_class_name}" not found'
                if sc.volume_binding_mode == "WaitForFirstConsumer":
                    continue
                return "PersistentVolume had no name"
            if view.zone:
                zones.append(view.zone)
        return None

    def _ok(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        zones = state.get(VOLUME_ZONE)
        if zones is None:  # Filter without PreFilter (a preemption dry run on a fresh state)
            self.pre_filter(state, pod, table)
            zones = state.get(VOLUME_ZONE, [])
        if not zones:
            return np.ones(len(rows), dtype=bool)
        per_sig = []
        for labels in table.sig_labels:
            constrained = any(key in labels for key in TOPOLOGY_LABELS)
            per_sig.append(not constrained or all(labels.get(ZONE_LABEL) == zone for zone in zones))
        return np.array(per_sig, dtype=bool)[table.label_sig[rows]]

    def all_pass(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """The pod's bound claims pin it to no zone (PreFilter found none)."""
        return state.get(VOLUME_ZONE) == []

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        return self._ok(state, pod, table, rows)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        return [(ERR_REASON_CONFLICT, ~self._ok(state, pod, table, rows), Code.UNSCHEDULABLE_AND_UNRESOLVABLE)]
