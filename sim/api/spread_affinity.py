"""Pod spread and affinity manifests: models pkg/apis/core/validation/validation.go (Kubernetes 1.36).

Parses spec.topologySpreadConstraints and spec.affinity.podAffinity/podAntiAffinity with the
API server's checks (validateTopologySpreadConstraints, validatePodAffinityTerm,
validateMatchLabelKeys*) for the fields the PodTopologySpread and InterPodAffinity plugins
read. Errors are located like every other manifest error (file, line, field path).
"""

from __future__ import annotations

from typing import Any

from sim.api.objects import PodAffinity, PodAffinityTerm, TopologySpreadConstraint
from sim.api.selectors import Selector

__all__ = ["parse_pod_affinity", "parse_topology_spread"]

Path = tuple[str | int, ...]
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
INCLUSION_POLICIES = ("Honor", "Ignore")


def _selector(r: Any, value: Any, path: Path) -> Selector | None:
    """A metav1.LabelSelector; None when unset (which selects no pod)."""
    from sim.api.manifests import _label_selector  # manifests imports this module's parsers lazily

    return None if value is None else _label_selector(r, value, path)


def _integer(r: Any, value: Any, path: Path, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.fail(path, f"expected an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise r.fail(path, f"must be {bound}, got {value}")
    return value


def _keys(r: Any, value: Any, path: Path) -> tuple[str, ...]:
    return tuple(r.string(k, (*path, i), required=True) for i, k in enumerate(r.sequence(value, path)))


def _check_label_keys(r: Any, keys: tuple[str, ...], selector: Selector | None, path: Path) -> None:
    """matchLabelKeys need a labelSelector, and a key may not also be one of its keys."""
    if not keys:
        return
    if selector is None:
        raise r.fail(path, "must not be specified when labelSelector is not set")
    in_selector = {req.key for req in selector.requirements}
    for i, key in enumerate(keys):
        if key in in_selector:
            raise r.fail((*path, i), f"key {key!r} exists in both {path[-1]} and labelSelector")


def _policy(r: Any, value: Any, path: Path) -> str | None:
    if value is None:
        return None
    policy = r.string(value, path)
    if policy not in INCLUSION_POLICIES:
        raise r.fail(path, f"expected Honor or Ignore, got {policy!r}")
    return policy


def _constraint(r: Any, value: Any, path: Path) -> TopologySpreadConstraint:
    m = r.mapping(value, path)
    for name in ("maxSkew", "topologyKey", "whenUnsatisfiable"):
        if m.get(name) in (None, ""):
            raise r.fail((*path, name), "required field is missing")
    when = r.string(m["whenUnsatisfiable"], (*path, "whenUnsatisfiable"))
    if when not in WHEN_UNSATISFIABLE:
        raise r.fail((*path, "whenUnsatisfiable"), f"expected DoNotSchedule or ScheduleAnyway, got {when!r}")
    min_domains = m.get("minDomains")
    if min_domains is not None:
        min_domains = _integer(r, min_domains, (*path, "minDomains"), 1)
        if when != "DoNotSchedule":
            raise r.fail((*path, "minDomains"), "can only use minDomains if whenUnsatisfiable=DoNotSchedule")
    selector = _selector(r, m.get("labelSelector"), (*path, "labelSelector"))
    match_keys = _keys(r, m.get("matchLabelKeys"), (*path, "matchLabelKeys"))
    _check_label_keys(r, match_keys, selector, (*path, "matchLabelKeys"))
    return TopologySpreadConstraint(
        max_skew=_integer(r, m["maxSkew"], (*path, "maxSkew"), 1),
        topology_key=r.string(m["topologyKey"], (*path, "topologyKey")),
        when_unsatisfiable=when,
        label_selector=selector,
        min_domains=min_domains,
        node_affinity_policy=_policy(r, m.get("nodeAffinityPolicy"), (*path, "nodeAffinityPolicy")),
        node_taints_policy=_policy(r, m.get("nodeTaintsPolicy"), (*path, "nodeTaintsPolicy")),
        match_label_keys=match_keys,
    )


def parse_topology_spread(r: Any, value: Any, path: Path) -> tuple[TopologySpreadConstraint, ...]:
    """spec.topologySpreadConstraints; a (topologyKey, whenUnsatisfiable) pair may appear once."""
    out: list[TopologySpreadConstraint] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(r.sequence(value, path)):
        constraint = _constraint(r, item, (*path, i))
        pair = (constraint.topology_key, constraint.when_unsatisfiable)
        if pair in seen:
            raise r.fail((*path, i), f"duplicate topologyKey {pair[0]!r} with whenUnsatisfiable {pair[1]}")
        seen.add(pair)
        out.append(constraint)
    return tuple(out)


def _term(r: Any, value: Any, path: Path) -> PodAffinityTerm:
    m = r.mapping(value, path)
    key = r.string(m.get("topologyKey"), (*path, "topologyKey"))
    if not key:
        raise r.fail((*path, "topologyKey"), "can not be empty")
    selector = _selector(r, m.get("labelSelector"), (*path, "labelSelector"))
    match_keys = _keys(r, m.get("matchLabelKeys"), (*path, "matchLabelKeys"))
    mismatch_keys = _keys(r, m.get("mismatchLabelKeys"), (*path, "mismatchLabelKeys"))
    _check_label_keys(r, match_keys, selector, (*path, "matchLabelKeys"))
    _check_label_keys(r, mismatch_keys, selector, (*path, "mismatchLabelKeys"))
    for i, k in enumerate(mismatch_keys):
        if k in match_keys:
            raise r.fail((*path, "mismatchLabelKeys", i), f"key {k!r} exists in both matchLabelKeys and "
                                                          "mismatchLabelKeys")
    return PodAffinityTerm(
        topology_key=key,
        label_selector=selector,
        namespaces=_keys(r, m.get("namespaces"), (*path, "namespaces")),
        namespace_selector=_selector(r, m.get("namespaceSelector"), (*path, "namespaceSelector")),
        match_label_keys=match_keys,
        mismatch_label_keys=mismatch_keys,
    )


def parse_pod_affinity(r: Any, value: Any, path: Path) -> PodAffinity:
    """One of spec.affinity.podAffinity / podAntiAffinity (``path`` ends with its name)."""
    m = r.mapping(value, path)
    req_path = (*path, "requiredDuringSchedulingIgnoredDuringExecution")
    required = tuple(_term(r, t, (*req_path, i))
                     for i, t in enumerate(r.sequence(m.get(req_path[-1]), req_path)))
    pref_path = (*path, "preferredDuringSchedulingIgnoredDuringExecution")
    preferred = []
    for i, item in enumerate(r.sequence(m.get(pref_path[-1]), pref_path)):
        w = r.mapping(item, (*pref_path, i))
        if w.get("weight") is None:
            raise r.fail((*pref_path, i, "weight"), "required field is missing")
        weight = _integer(r, w["weight"], (*pref_path, i, "weight"), 1, 100)
        if w.get("podAffinityTerm") is None:
            raise r.fail((*pref_path, i, "podAffinityTerm"), "required field is missing")
        preferred.append((weight, _term(r, w["podAffinityTerm"], (*pref_path, i, "podAffinityTerm"))))
    return PodAffinity(required, tuple(preferred))
