"""Parses apps/v1 StatefulSet: models the defaulting of ``pkg/apis/apps/v1/defaults.go``
(SetDefaults_StatefulSet) and the checks of ``pkg/apis/apps/validation/validation.go``
(ValidateStatefulSetSpec) for the fields the StatefulSet controller reads, Kubernetes 1.36.5.

Each volumeClaimTemplate is read as a PersistentVolumeClaim (``sim/api/storage.py``); the
controller stamps one claim per pod out of it, named ``<template>-<set>-<ordinal>``.
"""

from __future__ import annotations

from typing import Any

from sim.api.objects import ObjectMeta, PersistentVolumeClaim, PodTemplate, StatefulSet
from sim.api.selectors import Selector
from sim.api.storage import parse_persistent_volume_claim

__all__ = ["parse_stateful_set", "update_strategy"]

Path = tuple[str | int, ...]


def _claim_templates(r: Any, value: Any, namespace: str) -> tuple[PersistentVolumeClaim, ...]:
    claims = []
    names: set[str] = set()
    for i, item in enumerate(r.sequence(value, ("spec", "volumeClaimTemplates"))):
        at = ("spec", "volumeClaimTemplates", i)
        sub = type(r)(r.doc, (*r.base, *at))  # errors name the template's own fields
        c = sub.mapping(item, ())
        m = sub.mapping(c.get("metadata"), ("metadata",))
        name = sub.string(m.get("name"), ("metadata", "name"), required=True)
        if name in names:
            raise sub.fail(("metadata", "name"), f"duplicate volumeClaimTemplate name {name!r}")
        names.add(name)
        meta = ObjectMeta(name=name, namespace=namespace, labels=sub.labels(m.get("labels"), ("metadata", "labels")))
        claims.append(parse_persistent_volume_claim(sub, meta, sub.mapping(c.get("spec"), ("spec",))))
    return tuple(claims)


def _retention_policy(r: Any, value: Any) -> None:
    """persistentVolumeClaimRetentionPolicy: only the default (Retain when deleted and scaled) is modelled."""
    path = ("spec", "persistentVolumeClaimRetentionPolicy")
    for key, policy in r.mapping(value, path).items():
        if key not in ("whenDeleted", "whenScaled"):
            raise r.fail((*path, key), "expected whenDeleted or whenScaled")
        if policy not in ("Retain", "Delete"):
            raise r.fail((*path, key), f"expected Retain or Delete, got {policy!r}")
        if policy == "Delete":
            raise r.fail((*path, key), "Delete is not modelled yet; claims are retained (the default)")


def update_strategy(r: Any, spec: dict[str, Any]) -> tuple[str, dict[str, Any], Path]:
    """spec.updateStrategy of a StatefulSet or DaemonSet: (type, defaulting to RollingUpdate;
    the rollingUpdate mapping; its path)."""
    us = r.mapping(spec.get("updateStrategy"), ("spec", "updateStrategy"))
    strategy = r.string(us.get("type"), ("spec", "updateStrategy", "type")) or "RollingUpdate"
    if strategy not in ("RollingUpdate", "OnDelete"):
        raise r.fail(("spec", "updateStrategy", "type"), f"expected RollingUpdate or OnDelete, got {strategy!r}")
    ru_path: Path = ("spec", "updateStrategy", "rollingUpdate")
    return strategy, r.mapping(us.get("rollingUpdate"), ru_path), ru_path


def _positive_int_or_percent(r: Any, value: Any, path: Path) -> None:
    if value is None:
        return
    ok = (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and value.endswith("%") and value[:-1].isdigit() and int(value[:-1]) > 0)
    if not ok:
        raise r.fail(path, f"expected a positive integer or a percentage like '50%', got {value!r}")


def parse_stateful_set(r: Any, meta: ObjectMeta, spec: dict[str, Any], replicas: int, selector: Selector,
                       template: PodTemplate, min_ready: float) -> StatefulSet:
    """The StatefulSet-specific fields of a manifest (the common ones are already read)."""
    policy = r.string(spec.get("podManagementPolicy"), ("spec", "podManagementPolicy")) or "OrderedReady"
    if policy not in ("OrderedReady", "Parallel"):
        raise r.fail(("spec", "podManagementPolicy"), f"expected OrderedReady or Parallel, got {policy!r}")
    strategy, ru, ru_path = update_strategy(r, spec)
    # maxUnavailable is validated but, as upstream with MaxUnavailableStatefulSet off (1.36's
    # default), dropped: the rolling update replaces one pod at a time.
    _positive_int_or_percent(r, ru.get("maxUnavailable"), (*ru_path, "maxUnavailable"))
    _retention_policy(r, spec.get("persistentVolumeClaimRetentionPolicy"))
    return StatefulSet(
        meta=meta, replicas=replicas, selector=selector, template=template,
        service_name=r.string(spec.get("serviceName"), ("spec", "serviceName")),
        pod_management_policy=policy, update_strategy=strategy,
        partition=int(r.number(ru.get("partition"), (*ru_path, "partition"), 0)),
        min_ready_seconds=min_ready,
        revision_history_limit=int(r.number(spec.get("revisionHistoryLimit"), ("spec", "revisionHistoryLimit"), 10)),
        volume_claim_templates=_claim_templates(r, spec.get("volumeClaimTemplates"), meta.namespace),
        raw_template=spec.get("template") or {},
    )
