"""VolumeBinding: models pkg/scheduler/framework/plugins/volumebinding (volume_binding.go,
binder.go) for dynamically provisioned claims (Kubernetes 1.36).

PreFilter: every claim a pod names must exist and not be deleting (else
``persistentvolumeclaim "x" not found``), and every claim that is not WaitForFirstConsumer
must already be bound ("pod has unbound immediate PersistentVolumeClaims"); both are
UnschedulableAndUnresolvable. Filter, also UnschedulableAndUnresolvable:

- a bound claim's volume lives in one zone, and its node affinity admits only nodes
  labelled with that zone: "node(s) didn't match PersistentVolume's node affinity" (the
  text since 1.33, kubernetes/kubernetes#129887; before: "had volume node affinity conflict");
- an unbound WaitForFirstConsumer claim fits a node if its class can provision there (a
  provisioner other than kubernetes.io/no-provisioner, allowedTopologies matching the
  node's labels) and, once a node was selected for it, only that node: "node(s) didn't
  find available persistent volumes to bind".

Reserve assumes the pod's unbound claims are headed for the chosen node. PreBind, which
kubesim runs at Permit, writes each claim's ``volume.kubernetes.io/selected-node``
annotation and waits (WAIT) until the provisioner has bound them all, at most
bindTimeoutSeconds (600 s). Not modelled: pre-provisioned PersistentVolumes (so no static
binding and no Score), storage capacity, and PreBind running after the other Permit
plugins (a gang member's claims are annotated while the gang may still be waiting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

from sim.api.objects import SELECTED_NODE_ANNOTATION, StorageClass
from sim.api.storage import NO_PROVISIONER
from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import HOSTNAME, NodeTable
from sim.scheduler.plugins.args import ArgsModel
from sim.scheduler.plugins.names import VOLUME_BINDING
from sim.scheduler.plugins.volume_informer import VolumeInformer, volume_informer

__all__ = ["ERR_BIND_CONFLICT", "ERR_NODE_CONFLICT", "ERR_UNBOUND_IMMEDIATE", "VolumeBinding",
           "VolumeBindingArgs", "ZONE_LABEL", "class_allows"]

ERR_NODE_CONFLICT = "node(s) didn't match PersistentVolume's node affinity"
ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ZONE_LABEL = "topology.kubernetes.io/zone"
UNRESOLVABLE = Code.UNSCHEDULABLE_AND_UNRESOLVABLE


class VolumeBindingArgs(ArgsModel):
    """Args of VolumeBinding (config/v1 VolumeBindingArgs; the scoring shape is not modelled)."""

    bind_timeout_seconds: int = Field(600, ge=0)


def class_allows(sc: StorageClass, table: NodeTable, rows: np.ndarray) -> np.ndarray:
    """Rows where ``sc`` can provision a volume (checkVolumeProvisions): it has a provisioner
    and one of its allowedTopologies terms matches the node's labels (none: every node)."""
    if not sc.provisioner or sc.provisioner == NO_PROVISIONER:
        return np.zeros(len(rows), dtype=bool)
    if not sc.allowed_topologies:
        return np.ones(len(rows), dtype=bool)
    if any(req.key == HOSTNAME for term in sc.allowed_topologies for req in term.requirements):
        return np.array([any(t.matches(table.labels_of(r)) for t in sc.allowed_topologies)
                         for r in rows.tolist()], dtype=bool)
    per_sig = np.array([any(t.matches(labels) for t in sc.allowed_topologies) for labels in table.sig_labels],
                       dtype=bool)
    return per_sig[table.label_sig[rows]]


def in_zone(table: NodeTable, rows: np.ndarray, zone: str) -> np.ndarray:
    """Rows whose node is labelled ``topology.kubernetes.io/zone=zone`` (a volume's node affinity)."""
    ids, values = table.domains(ZONE_LABEL)
    if zone not in values:
        return np.zeros(len(rows), dtype=bool)
    return ids[rows] == values.index(zone)


@dataclass
class _PodClaims:
    """PreFilter's split of the pod's claims (GetPodVolumeClaims)."""

    bound_zones: list[str] = field(default_factory=list)  # one per bound claim ("" = any node)
    delayed: list[str] = field(default_factory=list)  # unbound WaitForFirstConsumer claim names


@dataclass
class VolumeBinding:
    """PreFilter + Filter + Reserve + Permit (as PreBind) plugin."""

    bind_timeout_seconds: float = 600.0
    name: str = VOLUME_BINDING
    handle: Any = None
    informer: VolumeInformer | None = None
    _waiting: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: VolumeBindingArgs) -> VolumeBinding:
        """Build from validated args."""
        return cls(bind_timeout_seconds=float(args.bind_timeout_seconds))

    def bind_handle(self, handle: Any) -> None:
        """Join the scheduler's volume informers and hear when claims change."""
        self.handle = handle
        self.informer = volume_informer(handle)
        self.informer.listeners.append(self._claims_changed)

    # ------------------------------------------------------------------ PreFilter
    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> str | None:
        claims = pod.pod.spec.persistent_volume_claims
        if not claims or self.informer is None:
            state[VOLUME_BINDING] = _PodClaims()
            return None
        namespace = pod.pod.meta.namespace
        views = []
        for name in claims:  # podHasPVCs: every claim must exist and not be deleting
            view = self.informer.claim(namespace, name)
            if view is None:
                return f'persistentvolumeclaim "{name}" not found'
            if view.deleting:
                return f'persistentvolumeclaim "{name}" is being deleted'
            views.append((name, view))
        split = _PodClaims()
        for name, view in views:
            if view.bound:
                split.bound_zones.append(view.zone)
            elif self.informer.is_delayed(view):
                split.delayed.append(name)
            else:
                return ERR_UNBOUND_IMMEDIATE
        state[VOLUME_BINDING] = split
        return None

    def _claims_of(self, state: CycleState, pod: PodInfo, table: NodeTable) -> _PodClaims:
        split = state.get(VOLUME_BINDING)
        if split is None:  # Filter without PreFilter (a preemption dry run on a fresh state)
            self.pre_filter(state, pod, table)
            split = state.get(VOLUME_BINDING, _PodClaims())
        return split

    # ------------------------------------------------------------------ Filter
    def _masks(self, state: CycleState, pod: PodInfo, table: NodeTable,
               rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bound claims satisfied, unbound claims satisfied) per row (FindPodVolumes)."""
        split = self._claims_of(state, pod, table)
        node_ok = np.ones(len(rows), dtype=bool)
        for zone in split.bound_zones:
            if zone:
                node_ok &= in_zone(table, rows, zone)
        bind_ok = np.ones(len(rows), dtype=bool)
        if split.delayed and self.informer is not None:
            namespace = pod.pod.meta.namespace
            for name in split.delayed:
                view = self.informer.claim(namespace, name)
                sc = self.informer.class_of(view) if view is not None else None
                if sc is None:
                    return node_ok, np.zeros(len(rows), dtype=bool)
                selected = self.informer.selected_node(namespace, name)
                if selected:
                    bind_ok &= rows == table.index.get(selected, -1)
                bind_ok &= class_allows(sc, table, rows)
        return node_ok, bind_ok

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreFilter's Skip: the pod uses no claim that constrains placement."""
        split = self._claims_of(state, pod, table)
        return not split.bound_zones and not split.delayed

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        split = self._claims_of(state, pod, table)
        if not split.bound_zones and not split.delayed:
            return np.ones(len(rows), dtype=bool)
        node_ok, bind_ok = self._masks(state, pod, table, rows)
        return node_ok & bind_ok

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        node_ok, bind_ok = self._masks(state, pod, table, rows)
        return [(ERR_NODE_CONFLICT, ~node_ok, UNRESOLVABLE), (ERR_BIND_CONFLICT, ~bind_ok, UNRESOLVABLE)]

    # ------------------------------------------------------------------ Reserve / Unreserve
    def reserve(self, state: CycleState, pod: Any, row: int) -> None:
        """AssumePodVolumes: the pod's unbound claims are headed for this node."""
        split = state.get(VOLUME_BINDING) if state is not None else None
        if not split or not split.delayed or self.informer is None or self.handle is None:
            return
        node = self.handle.table.names[row]
        for name in split.delayed:
            if not self.informer.selected_node(pod.meta.namespace, name):
                self.informer.assume(pod.meta.namespace, name, node, pod.meta.uid)

    def unreserve(self, pod: Any, row: int) -> None:
        """RevertAssumedPodVolumes, and stop waiting for the claims."""
        self._waiting.pop(pod.meta.uid, None)
        if self.informer is not None:
            for name in pod.spec.persistent_volume_claims:
                self.informer.forget(pod.meta.namespace, name, pod.meta.uid)

    # ------------------------------------------------------------------ PreBind (at Permit)
    def permit(self, state: CycleState, pod: Any, row: int) -> tuple[Code, float, str]:
        """BindPodVolumes: annotate the unbound claims with the node, then wait for them."""
        split = state.get(VOLUME_BINDING) if state is not None else None
        if not split or not split.delayed or self.informer is None or self.handle is None:
            return Code.SUCCESS, 0.0, ""
        namespace, node = pod.meta.namespace, self.handle.table.names[row]
        pending = tuple(n for n in split.delayed if not self._bound(namespace, n))
        if not pending:
            return Code.SUCCESS, 0.0, ""
        for name in pending:
            view = self.informer.claim(namespace, name)
            if view is not None and view.selected_node == node:
                continue  # already annotated (another pod sharing the claim)
            pvc = self.handle.api.store.get("PersistentVolumeClaim", namespace, name)
            if pvc is None:
                return Code.ERROR, 0.0, f'binding volumes: persistentvolumeclaim "{name}" not found'
            self.handle.api.update(self.handle.client, pvc, _annotate(node))
        self._waiting[pod.meta.uid] = (namespace, pending)
        return Code.WAIT, self.bind_timeout_seconds, ""

    def _bound(self, namespace: str, name: str) -> bool:
        view = self.informer.claim(namespace, name) if self.informer is not None else None
        return view is not None and view.bound

    def _claims_changed(self) -> None:
        """Let go every waiting pod whose claims the informer now sees bound."""
        done = [uid for uid, (namespace, names) in self._waiting.items()
                if all(self._bound(namespace, n) for n in names)]
        for uid in done:
            del self._waiting[uid]
            self.handle.allow(uid, self.name)


def _annotate(node: str) -> Any:
    def mutate(pvc: Any) -> None:
        pvc.meta.annotations = {**pvc.meta.annotations, SELECTED_NODE_ANNOTATION: node}
    return mutate
