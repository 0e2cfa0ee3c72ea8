"""networking.k8s.io/v1 Ingress: the object, its manifest, and which Service a request reaches.

Matching follows the Ingress API's rules (``k8s.io/api/networking/v1/types.go`` and the
Ingress concept page): a rule's ``host`` matches exactly, or as ``*.example.com`` matching
exactly one more DNS label, or (empty) every host; an ``Exact`` path matches the whole path,
a ``Prefix`` path matches element-wise on ``/`` (``/v1`` matches ``/v1`` and ``/v1/chat``, not
``/v1beta``). The longest matching path wins, ``Exact`` before ``Prefix`` at equal length,
and an exact host before a wildcard before none. ``ImplementationSpecific`` is matched as
``Prefix`` (what ingress-nginx does without regex annotations). No match: the
``defaultBackend``, else the controller answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.api.objects import ObjectMeta

__all__ = ["Ingress", "IngressPath", "IngressRule", "match_ingress", "parse_ingress", "path_matches"]

PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")


@dataclass(frozen=True, slots=True)
class IngressPath:
    """spec.rules[].http.paths[]: a path and the Service it sends to."""

    path: str
    path_type: str
    service: str
    port: int | str = 0


@dataclass(frozen=True, slots=True)
class IngressRule:
    """spec.rules[]: a host ("" for any) and its paths."""

    host: str
    paths: tuple[IngressPath, ...]


@dataclass(slots=True)
class Ingress:
    """networking.k8s.io/v1 Ingress."""

    meta: ObjectMeta
    rules: tuple[IngressRule, ...] = ()
    default_backend: str = ""  # Service name, "" for none
    ingress_class_name: str = ""
    kind: str = "Ingress"


def _host_rank(rule_host: str, host: str) -> int:
    """2 exact, 1 wildcard, 0 any host, -1 no match."""
    if not rule_host:
        return 0
    if rule_host == host:
        return 2
    if rule_host.startswith("*.") and "." in host:
        label, _, rest = host.partition(".")
        return 1 if label and rest == rule_host[2:] else -1
    return -1


def path_matches(path_type: str, rule_path: str, path: str) -> bool:
    """Whether a request ``path`` matches one Ingress path rule."""
    if path_type == "Exact":
        return path == rule_path
    want = [p for p in rule_path.split("/") if p]
    have = [p for p in path.split("/") if p]
    return have[:len(want)] == want


def match_ingress(ingresses: list[Ingress], host: str, path: str) -> tuple[str, str] | None:
    """(namespace, Service name) a request for ``host`` + ``path`` reaches, or None (404)."""
    best: tuple[tuple[int, int, int], tuple[str, str]] | None = None
    for ing in sorted(ingresses, key=lambda i: (i.meta.namespace, i.meta.name)):
        for rule in ing.rules:
            rank = _host_rank(rule.host, host)
            if rank < 0:
                continue
            for p in rule.paths:
                if path_matches(p.path_type, p.path, path):
                    key = (rank, len(p.path.rstrip("/")), int(p.path_type == "Exact"))
                    if best is None or key > best[0]:
                        best = (key, (ing.meta.namespace, p.service))
    if best is not None:
        return best[1]
    for ing in sorted(ingresses, key=lambda i: (i.meta.namespace, i.meta.name)):
        if ing.default_backend:
            return (ing.meta.namespace, ing.default_backend)
    return None


def _backend(r: Any, value: Any, path: tuple[Any, ...]) -> tuple[str, int | str]:
    m = r.mapping(value, path)
    service = r.mapping(m.get("service"), (*path, "service"))
    if not service:
        raise r.fail((*path, "service"), "required field is missing (resource backends are not modelled)")
    name = r.string(service.get("name"), (*path, "service", "name"), required=True)
    port = r.mapping(service.get("port"), (*path, "service", "port"))
    return name, port.get("number") or port.get("name") or 0


def parse_ingress(r: Any, meta: ObjectMeta, spec: dict[str, Any]) -> Ingress:
    """An Ingress manifest's spec -> ``Ingress``; ``r`` is the manifest reader (located errors)."""
    rules = []
    for i, rule in enumerate(r.sequence(spec.get("rules"), ("spec", "rules"))):
        where = ("spec", "rules", i)
        m = r.mapping(rule, where)
        host = r.string(m.get("host"), (*where, "host"))
        http = r.mapping(m.get("http"), (*where, "http"))
        paths = []
        for j, item in enumerate(r.sequence(http.get("paths"), (*where, "http", "paths"))):
            at = (*where, "http", "paths", j)
            p = r.mapping(item, at)
            path_type = r.string(p.get("pathType"), (*at, "pathType"), required=True)
            if path_type not in PATH_TYPES:
                raise r.fail((*at, "pathType"), f"expected one of {', '.join(PATH_TYPES)}, got {path_type!r}")
            text = r.string(p.get("path"), (*at, "path")) or "/"
            if not text.startswith("/"):
                raise r.fail((*at, "path"), f"must be an absolute path starting with '/', got {text!r}")
            service, port = _backend(r, p.get("backend"), (*at, "backend"))
            paths.append(IngressPath(text, path_type, service, port))
        rules.append(IngressRule(host, tuple(paths)))
    default = spec.get("defaultBackend")
    default_name = _backend(r, default, ("spec", "defaultBackend"))[0] if default is not None else ""
    if not rules and not default_name:
        raise r.fail(("spec",), "an Ingress needs rules or a defaultBackend")
    class_name = r.string(spec.get("ingressClassName"), ("spec", "ingressClassName"))
    return Ingress(meta, tuple(rules), default_name, class_name)
