"""InterPodAffinity: models pkg/scheduler/framework/plugins/interpodaffinity (plugin.go, filtering.go,
scoring.go), Kubernetes 1.36.

Filter, in upstream's order: (1) every required podAffinity term must find, in the node's
domain, an existing pod matching *all* the terms, unless no such pod exists anywhere and the
pod matches its own terms (the first pod of a self-affine group); (2) no existing pod in the
node's domain may match a required podAntiAffinity term; (3) symmetry: the pod may not land in
the domain of an existing pod whose required anti-affinity term matches it. Namespaces default
to the term owner's namespace; a namespaceSelector sees ``kubernetes.io/metadata.name``.

Score: per topology domain, sum +weight for each existing pod matching a preferred affinity
term, -weight for a preferred anti-affinity term, and symmetrically the existing pods' terms
that match this pod (their required affinity terms with ``hardPodAffinityWeight``, 1 by default).
A node's raw score is the sum over its domains; raw scores are min-max scaled to 0..100, e.g.
raws -5, 0, 15 become 0, 25, 100.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.api.objects import Pod, PodAffinity, PodAffinityTerm
from sim.scheduler.framework import MAX_NODE_SCORE, Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.args import InterPodAffinityArgs
from sim.scheduler.plugins.names import INTER_POD_AFFINITY
from sim.scheduler.plugins.pod_events import register_pod_added_hint
from sim.scheduler.plugins.pod_matching import (
    PodMatcher,
    domain_totals,
    matching_per_row,
    matching_sigs,
    resolve_term,
    sig_rows,
)

__all__ = ["ERR_REASON_AFFINITY_RULES_NOT_MATCH", "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
           "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH", "InterPodAffinity"]

ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"
ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"


@dataclass(frozen=True, slots=True)
class _Terms:
    """One pod's terms as matchers (framework.PodInfo's Required/Preferred(Anti)AffinityTerms)."""

    required: tuple[PodMatcher, ...]
    anti: tuple[PodMatcher, ...]
    preferred: tuple[tuple[int, PodMatcher], ...]
    preferred_anti: tuple[tuple[int, PodMatcher], ...]


def _terms(affinity: PodAffinity, anti: PodAffinity, namespace: str, labels: dict[str, str]) -> _Terms:
    def one(term: PodAffinityTerm) -> PodMatcher:
        return resolve_term(term, namespace, labels)
    return _Terms(
        tuple(one(t) for t in affinity.required),
        tuple(one(t) for t in anti.required),
        tuple((w, one(t)) for w, t in affinity.preferred),
        tuple((w, one(t)) for w, t in anti.preferred),
    )


_NO_TERMS = _Terms((), (), (), ())
# Existing pods' terms, per affinity group of a table (groups are append-only).
_GROUP_TERMS: weakref.WeakKeyDictionary[NodeTable, list[_Terms]] = weakref.WeakKeyDictionary()


def _group_terms(table: NodeTable) -> list[_Terms]:
    done = _GROUP_TERMS.setdefault(table, [])
    for sig, affinity, anti in table.affinity_groups[len(done):]:
        namespace, labels = table.pod_sig_labels[sig]
        done.append(_terms(affinity, anti, namespace, labels))
    return done


@dataclass(slots=True)
class _GroupMatches:
    """What the existing affinity groups' terms say about one incoming pod (only the groups
    with a matching term are listed, so a cycle skips the others)."""

    scanned: int = 0
    anti: list[tuple[int, str]] = field(default_factory=list)  # (group, key) of required anti terms
    weights: list[tuple[int, str, int]] = field(default_factory=list)  # (group, key, score weight)


class InterPodAffinity:
    """PreFilter + Filter + Score plugin (default score weight 2)."""

    name = INTER_POD_AFFINITY
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)

    def __init__(self, hard_pod_affinity_weight: int = 1, ignore_preferred_terms_of_existing_pods: bool = False):
        self.hard_pod_affinity_weight = hard_pod_affinity_weight
        self.ignore_preferred_terms_of_existing_pods = ignore_preferred_terms_of_existing_pods

    @classmethod
    def from_args(cls, args: InterPodAffinityArgs) -> InterPodAffinity:
        """Build from validated args."""
        return cls(args.hard_pod_affinity_weight, args.ignore_preferred_terms_of_existing_pods)

    def bind_handle(self, handle: Any) -> None:
        """Register the AssignedPodAdd hint with the scheduler's pod informer."""
        register_pod_added_hint(handle, self.pod_added_may_help)

    @staticmethod
    def pod_added_may_help(pending: Pod, added: Pod) -> bool:
        """QueueingHint for an assigned pod's arrival: it matches all of the pending pod's
        required affinity terms (a new pod never lifts an anti-affinity rejection)."""
        terms = pending.spec.pod_affinity.required
        return bool(terms) and all(resolve_term(t, pending.meta.namespace, pending.meta.labels).matches_pod(added)
                                   for t in terms)

    # ------------------------------------------------------------------ per-pod caches
    def _own_terms(self, pod: PodInfo) -> _Terms:
        p = pod.pod
        if not p.spec.has_pod_affinity:
            return _NO_TERMS
        key = self.name + "/terms"
        if key not in pod.cache:
            pod.cache[key] = _terms(p.spec.pod_affinity, p.spec.pod_anti_affinity, p.meta.namespace, p.meta.labels)
        return pod.cache[key]

    def _group_matches(self, pod: PodInfo, table: NodeTable) -> _GroupMatches:
        """The existing pods' terms that match this pod, per affinity group (extended as groups appear)."""
        key = f"{self.name}/groups/{self.hard_pod_affinity_weight}"
        done: _GroupMatches = pod.cache.setdefault(key, _GroupMatches())
        hard = self.hard_pod_affinity_weight
        groups = _group_terms(table)
        for group in range(done.scanned, len(groups)):
            terms, p = groups[group], pod.pod
            done.anti += [(group, t.topology_key) for t in terms.anti if t.matches_pod(p)]
            done.weights += [(group, t.topology_key, hard) for t in terms.required if hard > 0 and t.matches_pod(p)]
            done.weights += [(group, t.topology_key, w) for w, t in terms.preferred if t.matches_pod(p)]
            done.weights += [(group, t.topology_key, -w) for w, t in terms.preferred_anti if t.matches_pod(p)]
        done.scanned = len(groups)
        return done

    # ------------------------------------------------------------------ filter
    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> str | None:
        self._filter_state(state, pod, table)
        return None

    def _filter_state(self, state: CycleState, pod: PodInfo, table: NodeTable) -> tuple[np.ndarray, ...] | None:
        """(affinity ok, anti-affinity violated, existing anti-affinity violated) per node row, or
        None when nothing applies (PreFilter's Skip); recomputed if the cache changed since."""
        stamp = (table.version, table.pods_version)
        cached = state.get(self.name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        terms = self._own_terms(pod)
        result = None
        # without affinity groups on the table no existing pod's anti-affinity can apply
        if terms.required or terms.anti or (table.affinity_groups and self._group_matches(pod, table).anti):
            present = table.present[: table.n]
            result = (self._affinity_ok(terms, pod, table, present),
                      self._anti_violated(terms, table, present),
                      self._existing_anti_violated(pod, table, present))
        state[self.name] = (stamp, result)
        return result

    def _affinity_ok(self, terms: _Terms, pod: PodInfo, table: NodeTable, present: np.ndarray) -> np.ndarray:
        if not terms.required:
            return np.ones(table.n, dtype=bool)
        # An existing pod counts only if it matches every term (podMatchesAllAffinityTerms).
        sigs = set(matching_sigs(table, terms.required[0]))
        for t in terms.required[1:]:
            sigs &= set(matching_sigs(table, t))
        matching = sig_rows(table, sorted(sigs))
        has_keys = np.ones(table.n, dtype=bool)
        pods_exist = np.ones(table.n, dtype=bool)
        any_match = False
        for t in terms.required:
            ids, sums = domain_totals(table, t.topology_key, matching, present)
            has_keys &= ids >= 0
            pods_exist &= np.append(sums, 0)[ids] > 0
            any_match |= bool(sums.any())
        # The first pod of a group with affinity to itself may go to any node with the keys.
        first_of_group = not any_match and all(t.matches_pod(pod.pod) for t in terms.required)
        return has_keys & (pods_exist | first_of_group)

    def _anti_violated(self, terms: _Terms, table: NodeTable, present: np.ndarray) -> np.ndarray:
        violated = np.zeros(table.n, dtype=bool)
        for t in terms.anti:
            ids, sums = domain_totals(table, t.topology_key, matching_per_row(table, t), present)
            violated |= np.append(sums, 0)[ids] > 0
        return violated

    def _existing_anti_violated(self, pod: PodInfo, table: NodeTable, present: np.ndarray) -> np.ndarray:
        per_key: dict[str, np.ndarray] = {}
        for group, key in self._group_matches(pod, table).anti:
            rows = per_key.setdefault(key, np.zeros(table.n, dtype=np.int64))
            rows += table.affinity_group_counts[group][: table.n]
        violated = np.zeros(table.n, dtype=bool)
        for key in sorted(per_key):
            ids, sums = domain_totals(table, key, per_key[key], present)
            violated |= np.append(sums, 0)[ids] > 0
        return violated

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreFilter's Skip: no required terms of its own and no existing pod's anti-affinity applies."""
        return self._filter_state(state, pod, table) is None

    def skip_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreScore's Skip: no preferred terms either way."""
        return not self._weighted_rows(pod, table)

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        result = self._filter_state(state, pod, table)
        if result is None:
            return np.ones(len(rows), dtype=bool)
        affinity_ok, anti, existing = result
        return (affinity_ok & ~anti & ~existing)[rows]

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        result = self._filter_state(state, pod, table)
        if result is None:
            return []
        affinity_ok, anti, existing = (a[rows] for a in result)
        return [(ERR_REASON_AFFINITY_RULES_NOT_MATCH, ~affinity_ok, Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
                (ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH, affinity_ok & anti, Code.UNSCHEDULABLE),
                (ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH, affinity_ok & ~anti & existing,
                 Code.UNSCHEDULABLE)]

    # ------------------------------------------------------------------ score
    def _weighted_rows(self, pod: PodInfo, table: NodeTable) -> dict[str, np.ndarray]:
        """Per topology key, the summed term weights of the existing pods on each node row."""
        terms = self._own_terms(pod)
        if not (terms.preferred or terms.preferred_anti or table.affinity_groups):
            return {}  # no term either way
        per_key: dict[str, np.ndarray] = {}

        def add(key: str, weight: int, counts: np.ndarray) -> None:
            rows = per_key.setdefault(key, np.zeros(table.n, dtype=np.int64))
            rows += weight * counts

        for w, t in terms.preferred:
            add(t.topology_key, w, matching_per_row(table, t))
        for w, t in terms.preferred_anti:
            add(t.topology_key, -w, matching_per_row(table, t))
        if terms.preferred or terms.preferred_anti or not self.ignore_preferred_terms_of_existing_pods:
            for group, key, w in self._group_matches(pod, table).weights:
                add(key, w, table.affinity_group_counts[group][: table.n])
        return per_key

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        per_key = self._weighted_rows(pod, table)
        if not per_key:  # PreScore returns Skip
            return np.zeros(len(rows), dtype=np.int64)
        present = table.present[: table.n]
        raw = np.zeros(len(rows), dtype=np.int64)
        for key in sorted(per_key):
            ids, sums = domain_totals(table, key, per_key[key], present)
            raw += np.append(sums, 0)[ids[rows]]
        low, high = int(raw.min()), int(raw.max())
        if high == low:
            return np.zeros(len(rows), dtype=np.int64)
        return (float(MAX_NODE_SCORE) * ((raw - low) / float(high - low))).astype(np.int64)
