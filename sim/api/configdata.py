"""ConfigMap and Secret objects, and a pod's references to them.

Models ``k8s.io/api/core/v1`` ConfigMap/Secret and the checks of
``pkg/apis/core/validation/validation.go`` (ValidateConfigMap, ValidateSecret, validateEnv,
validateVolumes) for the fields the kubelet reads: which objects and keys a pod needs for its
environment (``env[].valueFrom``, ``envFrom``) and for its volumes (``configMap``, ``secret``).
As the API server does, a Secret's ``stringData`` is merged into ``data`` on write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.api.objects import ConfigRef, ObjectMeta

__all__ = ["ConfigMap", "Secret", "config_keys", "parse_config_map", "parse_config_refs", "parse_secret"]

Path = tuple[str | int, ...]


@dataclass(slots=True)
class ConfigMap:
    """core/v1 ConfigMap; ``data`` holds data and binaryData keys (replaced on update, never mutated)."""

    meta: ObjectMeta
    data: dict[str, str] = field(default_factory=dict)
    immutable: bool = False
    kind: str = "ConfigMap"


@dataclass(slots=True)
class Secret:
    """core/v1 Secret; ``data`` holds data and stringData keys (replaced on update, never mutated)."""

    meta: ObjectMeta
    data: dict[str, str] = field(default_factory=dict)
    type: str = "Opaque"
    immutable: bool = False
    kind: str = "Secret"


def config_keys(obj: ConfigMap | Secret) -> frozenset[str]:
    """The keys a consumer of the object can reference."""
    return frozenset(obj.data)


def _strings(r: Any, value: Any, path: Path) -> dict[str, str]:
    out = {}
    for key, val in r.mapping(value, path).items():
        if not isinstance(val, str):
            raise r.fail((*path, key), f"values are strings; quote {val!r} to make it one")
        out[str(key)] = val
    return out


def parse_config_map(r: Any, meta: ObjectMeta, m: dict[str, Any]) -> ConfigMap:
    """A ConfigMap: data and binaryData (no key in both), optionally immutable."""
    data = _strings(r, m.get("data"), ("data",))
    binary = _strings(r, m.get("binaryData"), ("binaryData",))
    for key in sorted(binary):
        if key in data:
            raise r.fail(("binaryData", key), f"duplicate of key {key!r} present in data")
    return ConfigMap(meta, {**data, **binary}, bool(m.get("immutable", False)))


def parse_secret(r: Any, meta: ObjectMeta, m: dict[str, Any]) -> Secret:
    """A Secret: stringData overrides data key by key, as the API server merges them."""
    data = {**_strings(r, m.get("data"), ("data",)), **_strings(r, m.get("stringData"), ("stringData",))}
    return Secret(meta, data, r.string(m.get("type"), ("type",)) or "Opaque", bool(m.get("immutable", False)))


def _optional(r: Any, value: Any, path: Path) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise r.fail(path, f"expected true or false, got {value!r}")
    return value


def _source(r: Any, source: Any, path: Path, name_field: str) -> tuple[str, bool]:
    m = r.mapping(source, path)
    return (r.string(m.get(name_field), (*path, name_field), required=True),
            _optional(r, m.get("optional"), (*path, "optional")))


_KEY_REFS = (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret"))
_ENV_FROM = (("configMapRef", "ConfigMap"), ("secretRef", "Secret"))
_VOLUMES = (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName"))


def _container_refs(r: Any, container: Any, path: Path) -> list[ConfigRef]:
    c = r.mapping(container, path)
    name = str(c.get("name") or "")
    refs = []
    for i, env in enumerate(r.sequence(c.get("env"), (*path, "env"))):
        value_from = r.mapping(r.mapping(env, (*path, "env", i)).get("valueFrom"), (*path, "env", i, "valueFrom"))
        for field_name, kind in _KEY_REFS:
            if value_from.get(field_name) is not None:
                where = (*path, "env", i, "valueFrom", field_name)
                ref_name, optional = _source(r, value_from[field_name], where, "name")
                key = r.string(r.mapping(value_from[field_name], where).get("key"), (*where, "key"), required=True)
                refs.append(ConfigRef(kind, ref_name, "env", name, (key,), optional))
    for i, env_from in enumerate(r.sequence(c.get("envFrom"), (*path, "envFrom"))):
        e = r.mapping(env_from, (*path, "envFrom", i))
        for field_name, kind in _ENV_FROM:
            if e.get(field_name) is not None:
                ref_name, optional = _source(r, e[field_name], (*path, "envFrom", i, field_name), "name")
                refs.append(ConfigRef(kind, ref_name, "env", name, (), optional))
    return refs


def parse_config_refs(r: Any, spec: dict[str, Any], path: Path) -> tuple[ConfigRef, ...]:
    """Every ConfigMap and Secret a pod spec uses, in spec order: init containers, containers,
    then volumes (a volume's ``items`` are the keys it needs)."""
    refs: list[ConfigRef] = []
    for group in ("initContainers", "containers"):
        for i, container in enumerate(r.sequence(spec.get(group), (*path, group))):
            refs += _container_refs(r, container, (*path, group, i))
    for i, vol in enumerate(r.sequence(spec.get("volumes"), (*path, "volumes"))):
        v = r.mapping(vol, (*path, "volumes", i))
        for field_name, kind, name_field in _VOLUMES:
            if v.get(field_name) is None:
                continue
            where = (*path, "volumes", i, field_name)
            ref_name, optional = _source(r, v[field_name], where, name_field)
            items = r.sequence(r.mapping(v[field_name], where).get("items"), (*where, "items"))
            keys = tuple(r.string(r.mapping(item, (*where, "items", j)).get("key"), (*where, "items", j, "key"),
                                  required=True) for j, item in enumerate(items))
            refs.append(ConfigRef(kind, ref_name, "volume", str(v.get("name") or ""), keys, optional))
    return tuple(refs)
