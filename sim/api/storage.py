"""Parses StorageClass, PersistentVolumeClaim and a pod's spec.volumes.

Models the decoding, defaulting and checks of ``pkg/apis/storage/validation/validation.go``
(ValidateStorageClass) and ``pkg/apis/core/validation/validation.go``
(ValidatePersistentVolumeClaimSpec, validateVolumes) for the fields the volume controller
and the VolumeBinding and VolumeZone plugins read. Errors are located like every other
manifest error (file, line, field path).
"""

from __future__ import annotations

from typing import Any

from sim.api.objects import ObjectMeta, PersistentVolumeClaim, StorageClass
from sim.api.quantity import QuantityError, resource_value
from sim.api.selectors import Requirement, Selector

__all__ = ["ACCESS_MODES", "BINDING_MODES", "NO_PROVISIONER", "parse_persistent_volume_claim",
           "parse_pod_volumes", "parse_storage_class"]

Path = tuple[str | int, ...]
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
RECLAIM_POLICIES = ("Delete", "Retain")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
NO_PROVISIONER = "kubernetes.io/no-provisioner"  # static volumes only: never provisioned


def _one_of(r: Any, value: Any, path: Path, allowed: tuple[str, ...], default: str) -> str:
    text = r.string(value, path) or default
    if text not in allowed:
        raise r.fail(path, f"unsupported value {text!r}; supported values: {', '.join(allowed)}")
    return text


def _allowed_topologies(r: Any, value: Any, path: Path) -> tuple[Selector, ...]:
    """allowedTopologies: ORed terms; each term ANDs ``key In values`` expressions."""
    terms = []
    for i, term in enumerate(r.sequence(value, path)):
        where = (*path, i, "matchLabelExpressions")
        exprs = r.sequence(r.mapping(term, (*path, i)).get("matchLabelExpressions"), where)
        if not exprs:
            raise r.fail(where, "must contain at least one label expression")
        reqs = []
        for j, expr in enumerate(exprs):
            e = r.mapping(expr, (*where, j))
            key = r.string(e.get("key"), (*where, j, "key"), required=True)
            values = tuple(str(v) for v in r.sequence(e.get("values"), (*where, j, "values")))
            if not values:
                raise r.fail((*where, j, "values"), "must specify at least one value")
            reqs.append(Requirement(key, "In", values))
        terms.append(Selector(tuple(reqs)))
    return tuple(terms)


def parse_storage_class(r: Any, meta: ObjectMeta, m: dict[str, Any]) -> StorageClass:
    """A storage.k8s.io/v1 StorageClass (its fields are top-level, not under spec)."""
    meta.namespace = ""
    return StorageClass(
        meta=meta,
        provisioner=r.string(m.get("provisioner"), ("provisioner",), required=True),
        volume_binding_mode=_one_of(r, m.get("volumeBindingMode"), ("volumeBindingMode",), BINDING_MODES,
                                    "Immediate"),
        allowed_topologies=_allowed_topologies(r, m.get("allowedTopologies"), ("allowedTopologies",)),
        reclaim_policy=_one_of(r, m.get("reclaimPolicy"), ("reclaimPolicy",), RECLAIM_POLICIES, "Delete"),
    )


def parse_persistent_volume_claim(r: Any, meta: ObjectMeta, spec: dict[str, Any]) -> PersistentVolumeClaim:
    """A core/v1 PersistentVolumeClaim asking for a dynamically provisioned volume."""
    modes_path = ("spec", "accessModes")
    modes = tuple(r.string(v, (*modes_path, i), required=True)
                  for i, v in enumerate(r.sequence(spec.get("accessModes"), modes_path)))
    if not modes:
        raise r.fail(modes_path, "at least 1 access mode is required")
    for i, mode in enumerate(modes):
        if mode not in ACCESS_MODES:
            raise r.fail((*modes_path, i), f"unsupported value {mode!r}; supported values: {', '.join(ACCESS_MODES)}")
    requests_path = ("spec", "resources", "requests")
    requests = r.mapping(r.mapping(spec.get("resources"), ("spec", "resources")).get("requests"), requests_path)
    if "storage" not in requests:
        raise r.fail(requests_path, "storage is required")
    try:
        storage = resource_value("storage", requests["storage"])
    except QuantityError as exc:
        raise r.fail((*requests_path, "storage"), str(exc)) from None
    if storage <= 0:
        raise r.fail((*requests_path, "storage"), "must be greater than zero")
    if spec.get("volumeName"):
        raise r.fail(("spec", "volumeName"), "claims pre-bound to a PersistentVolume are not modelled; "
                     "kubesim provisions every claim dynamically")
    class_name = spec.get("storageClassName")
    return PersistentVolumeClaim(
        meta=meta,
        storage_class_name=None if class_name is None else r.string(class_name, ("spec", "storageClassName")),
        storage=storage,
        access_modes=modes,
    )


def parse_pod_volumes(r: Any, value: Any, path: Path) -> tuple[str, ...]:
    """spec.volumes -> the claim names of its persistentVolumeClaim volumes (others ignored)."""
    claims = []
    seen: set[str] = set()
    for i, vol in enumerate(r.sequence(value, path)):
        v = r.mapping(vol, (*path, i))
        name = r.string(v.get("name"), (*path, i, "name"), required=True)
        if name in seen:
            raise r.fail((*path, i, "name"), f"duplicate volume name {name!r}")
        seen.add(name)
        source = v.get("persistentVolumeClaim")
        if source is not None:
            where = (*path, i, "persistentVolumeClaim")
            claims.append(r.string(r.mapping(source, where).get("claimName"), (*where, "claimName"), required=True))
    return tuple(claims)
