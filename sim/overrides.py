"""``--set PATH=VALUE``: change one field of a scenario, or of a workload's manifest, by path.

In the spirit of ``helm --set`` and ``kubectl patch``: the change is made to the YAML as
read, *before* validation, so a bad value is reported exactly as the same mistake written in
the file would be (file, line, field). A path is dot-separated; each part is a mapping key
(camelCase or snake_case), a list index, or a list item's ``name`` (or ``metadata.name``);
a dot inside a key is escaped as ``\\.``::

    cluster.nodePools.gpu.count=8                      the node pool named gpu
    controlPlane.etcd.fsync=10ms                       a control-plane knob
    workloads.model-server.behavior.readiness=30s      a field of the workload entry itself
    workloads.model-server.spec.replicas=4             a field of the workload's manifest object
    workloads.model-server.deployment.spec.replicas=4  ... choosing among its objects by kind,
                                                       name or kind/name
    workloads.api-gateway.spec.template.spec.containers.gateway.image=nginx:1.27
    cluster.nodePools.gpu.capacity.nvidia\\.com/gpu=8   a key with dots in it

After ``workloads.<W>``, a part that is not a field of a workload (``name``, ``manifests``,
``namespace``, ``at``, ``behavior``) starts a path inside one of W's manifest objects, whether
inline or in a file. ``<W>`` may also be the name of a manifest object in any workload. When a
workload holds several objects (a Deployment and its Service), the path picks the one object
in which the field already exists; otherwise a kind or name part must choose.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from sim.yamlio import Located, SourceError

__all__ = ["ManifestOverride", "apply_manifest_overrides", "apply_override", "format_override",
           "parse_override", "split_overrides"]

Source = tuple[str, Located, tuple[Any, ...]]
"""(workload name, document, path of the manifest inside the document)."""

_KIND_ALIASES = {"deploy": "deployment", "rs": "replicaset", "svc": "service", "po": "pod",
                 "pvc": "persistentvolumeclaim", "pdb": "poddisruptionbudget", "pc": "priorityclass",
                 "sts": "statefulset", "hpa": "horizontalpodautoscaler", "cj": "cronjob"}


@dataclass(frozen=True, slots=True)
class ManifestOverride:
    """An override aimed inside a manifest object, resolved once the manifests are read."""

    text: str
    target: str  # a workload name (in_workload) or a manifest object's name
    in_workload: bool
    parts: tuple[str, ...]
    value: Any


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a","b","c"], value parsed as a YAML scalar)."""
    if "=" not in text:
        raise SourceError(f"override {text!r} must look like path=value", "--set")
    path, _, raw = text.partition("=")
    parts = [p.replace("\0", ".") for p in path.strip().replace("\\.", "\0").split(".") if p]
    if not parts:
        raise SourceError(f"override {text!r} has an empty path", "--set")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def format_override(path: str, value: Any) -> str:
    """The ``path=value`` text that ``parse_override`` reads back as (path, value)."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return f"{path}={text.removesuffix('...').strip()}"


def split_overrides(doc: Located, texts: list[str]) -> tuple[list[tuple[list[str], Any, str]],
                                                            list[ManifestOverride]]:
    """Overrides of the scenario document itself, and those aimed inside manifest objects."""
    from sim.scenario import Workload

    fields = {info.alias or name for name, info in Workload.model_fields.items()} | set(Workload.model_fields)
    plain, inside = [], []
    for text in texts:
        parts, value = parse_override(text)
        if parts[0] != "workloads" or len(parts) < 3:
            plain.append((parts, value, text))
            continue
        workloads = doc.data.get("workloads")
        names = [w.get("name") for w in workloads if isinstance(w, dict)] if isinstance(workloads, list) else []
        known = parts[1] in names or (parts[1].isdigit() and int(parts[1]) < len(names))
        if known and (parts[2] in fields or _camel(parts[2]) in fields):
            plain.append((parts, value, text))
        else:
            target = names[int(parts[1])] if known and parts[1].isdigit() else parts[1]
            inside.append(ManifestOverride(text, str(target), known, tuple(parts[2:]), value))
    return plain, inside


def apply_override(doc: Located, parts: list[str], value: Any, text: str,
                   base: tuple[Any, ...] = (), strict_keys: bool = False) -> None:
    """Set ``value`` at ``parts`` below ``base`` in ``doc``, creating missing mappings.

    With ``strict_keys``, a new key that looks like a misspelling of an existing one is an
    error (manifests are read leniently, so a typo would otherwise be silently ignored)."""
    node = doc.data
    for part in base:
        node = node[part]
    path: list[Any] = list(base)
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            key: Any = _list_index(node, part, text, doc, tuple(path))
        elif isinstance(node, dict):
            key = _camel_key(node, part)
            if strict_keys and key not in node:
                _check_new_key(node, key, text, doc, tuple(path))
            if not last:
                node.setdefault(key, {})
        else:
            raise doc.error(tuple(path), f"is a value, so --set {text} cannot set a field inside it")
        if last:
            node[key] = value
            return
        node = node[key]
        path.append(key)


def apply_manifest_overrides(overrides: list[ManifestOverride], sources: list[Source], doc: Located) -> None:
    """Apply each override to the one manifest object it names (see the module docstring)."""
    for override in overrides:
        mdoc, base, parts = _resolve(override, sources, doc)
        apply_override(mdoc, list(parts), override.value, override.text, base, strict_keys=True)


# ---------------------------------------------------------------------------- resolution

def _object_of(mdoc: Located, base: tuple[Any, ...]) -> dict[str, Any]:
    data = mdoc.data
    for part in base:
        data = data[part]
    return data if isinstance(data, dict) else {}


def _label(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _selects(part: str, obj: dict[str, Any]) -> bool:
    """Whether a path part names this object by kind, name or kind/name."""
    kind = str(obj.get("kind", "")).lower()
    name = str((obj.get("metadata") or {}).get("name", ""))
    wanted_kind, _, wanted_name = part.partition("/")
    wanted_kind = _KIND_ALIASES.get(wanted_kind.lower(), wanted_kind.lower())
    if wanted_name:
        return wanted_kind == kind and wanted_name == name
    return part == name or wanted_kind == kind


def _has_path(node: Any, parts: tuple[str, ...]) -> bool:
    for part in parts:
        if isinstance(node, dict) and _camel_key(node, part) in node:
            node = node[_camel_key(node, part)]
        elif isinstance(node, list):
            hits = [i for i, item in enumerate(node) if isinstance(item, dict)
                    and part in (item.get("name"), (item.get("metadata") or {}).get("name"))]
            if part.isdigit() and int(part) < len(node):
                hits = [int(part)]
            if not hits:
                return False
            node = node[hits[0]]
        else:
            return False
    return True


def _resolve(override: ManifestOverride, sources: list[Source],
             doc: Located) -> tuple[Located, tuple[Any, ...], tuple[str, ...]]:
    """The (document, object path, field path) an override aims at, or a clear error."""
    if override.in_workload:
        candidates = [(m, b) for w, m, b in sources if w == override.target]
    else:
        candidates = [(m, b) for _, m, b in sources if _selects(override.target, _object_of(m, b))]
        if not candidates:
            raise _no_target(override, sources, doc)
    parts = override.parts
    chosen = [(m, b) for m, b in candidates if _selects(parts[0], _object_of(m, b))
              and parts[0] not in _object_of(m, b)]
    if chosen and len(parts) > 1:
        candidates, parts = chosen, parts[1:]
    if len(candidates) > 1:
        having = [(m, b) for m, b in candidates if _has_path(_object_of(m, b), parts)]
        candidates = having if len(having) == 1 else candidates
    if len(candidates) > 1:
        _raise_if_misspelt(override, candidates, parts)
    if len(candidates) != 1:
        labels = ", ".join(_label(_object_of(m, b)) for m, b in candidates) or "none"
        kind = str(_object_of(*candidates[0]).get("kind", "kind")).lower() if candidates else "kind"
        raise SourceError(f"{override.target!r} has {len(candidates)} manifest objects that could take "
                          f"{'.'.join(parts)} ({labels}); name one, e.g. "
                          f"workloads.{override.target}.{kind}.{'.'.join(parts)}", "--set")
    mdoc, base = candidates[0]
    return mdoc, base, parts


def _raise_if_misspelt(override: ManifestOverride, candidates: list[tuple[Located, tuple[Any, ...]]],
                       parts: tuple[str, ...]) -> None:
    """A path that no candidate has, but one nearly has, is a typo rather than an ambiguity."""
    for mdoc, base in candidates:
        node: Any = _object_of(mdoc, base)
        for depth, part in enumerate(parts):
            if not isinstance(node, dict):
                break
            key = _camel_key(node, part)
            if key not in node:
                close = difflib.get_close_matches(key, [str(k) for k in node], n=1, cutoff=0.8)
                if close:
                    where = ".".join((*parts[:depth], close[0]))
                    raise SourceError(f"{_label(_object_of(mdoc, base))} has no field "
                                      f"{'.'.join(parts[:depth + 1])}; did you mean {where!r}? "
                                      f"(from --set {override.text})", "--set")
                break
            node = node[key]


def _no_target(override: ManifestOverride, sources: list[Source], doc: Located) -> SourceError:
    workloads = sorted({w for w, _, _ in sources})
    objects = sorted({str((_object_of(m, b).get("metadata") or {}).get("name")) for _, m, b in sources})
    close = difflib.get_close_matches(override.target, workloads + objects, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return doc.error(("workloads",), f"no workload or manifest object named {override.target!r} "
                     f"(from --set {override.text}){hint}; workloads: {', '.join(workloads) or 'none'}")


# ---------------------------------------------------------------------------- path steps

def _camel(part: str) -> str:
    head, *rest = part.split("_")
    return head + "".join(w.title() for w in rest)


def _camel_key(node: dict[str, Any], part: str) -> str:
    return part if part in node else _camel(part)


def _check_new_key(node: dict[str, Any], key: str, text: str, doc: Located, path: tuple[Any, ...]) -> None:
    close = difflib.get_close_matches(key, [str(k) for k in node], n=1, cutoff=0.8)
    if close:
        raise doc.error(path, f"has no field {key!r}; did you mean {close[0]!r}? (from --set {text})")


def _list_index(node: list[Any], part: str, text: str, doc: Located, path: tuple[Any, ...]) -> int:
    if part.isdigit() and int(part) < len(node):
        return int(part)
    for i, item in enumerate(node):
        if isinstance(item, dict) and (item.get("name") == part or
                                       (item.get("metadata") or {}).get("name") == part):
            return i
    names = [str(item.get("name")) for item in node if isinstance(item, dict) and "name" in item]
    close = difflib.get_close_matches(part, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise doc.error(path, f"no list item named {part!r} (from --set {text}){hint}"
                    + (f"; names: {', '.join(names)}" if names else ""))
