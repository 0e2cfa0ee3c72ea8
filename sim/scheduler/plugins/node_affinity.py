"""NodeAffinity: models pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go.

Filter: ``nodeSelector`` (every pair) and required node affinity (any term) must match the
node's labels; an empty nodeSelectorTerm matches no node. Score: the sum of weights of
matching preferred terms, scaled so the best node gets 100. Evaluated per label signature
unless a term names the hostname label or the node's name (``matchFields`` metadata.name, as
a DaemonSet's pods do: then only the named nodes are looked at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.api.objects import PodSpec
from sim.api.selectors import NODE_NAME_FIELD, Selector
from sim.scheduler.framework import Code, CycleState, PodInfo
from sim.scheduler.nodetable import HOSTNAME, NodeTable
from sim.scheduler.plugins.helpers import default_normalize_score
from sim.scheduler.plugins.names import NODE_AFFINITY

__all__ = ["NodeAffinity", "required_match"]


def required_match(spec: PodSpec, labels: Mapping[str, str]) -> bool:
    """nodeSelector AND (any required term); no terms means no constraint."""
    if any(labels.get(k) != v for k, v in spec.node_selector):
        return False
    terms = spec.required_node_affinity
    return not terms or any(_term_matches(term, labels) for term in terms)


def _term_matches(term: Selector, labels: Mapping[str, str]) -> bool:
    """A nodeSelectorTerm; unlike a label selector, an empty term matches no node."""
    return bool(term.requirements) and term.matches(labels)


def _uses_hostname(spec: PodSpec) -> bool:
    keys = [k for k, _ in spec.node_selector]
    keys += [r.key for t in spec.required_node_affinity for r in t.requirements]
    keys += [r.key for _, t in spec.preferred_node_affinity for r in t.requirements]
    return HOSTNAME in keys or NODE_NAME_FIELD in keys


def _named_nodes(spec: PodSpec) -> set[str] | None:
    """The only nodes the required terms can match, when every term names its node
    (``matchFields: metadata.name In [x]``); None otherwise."""
    names: set[str] = set()
    for term in spec.required_node_affinity:
        named = [r.values for r in term.requirements if r.key == NODE_NAME_FIELD and r.operator == "In"]
        if not named:
            return None
        names.update(*named)
    return names if spec.required_node_affinity else None


@dataclass
class NodeAffinity:
    """Filter + Score plugin (default score weight 2)."""

    name: str = NODE_AFFINITY
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)

    def _required(self, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        spec = pod.pod.spec
        if not spec.node_selector and not spec.required_node_affinity:
            return np.ones(len(rows), dtype=bool)
        named = _named_nodes(spec)
        if named is not None:  # a few nodes by name: only those can pass
            out = np.zeros(len(rows), dtype=bool)
            for name in named:
                row = table.index.get(name)
                if row is not None and required_match(spec, table.labels_of(row)):
                    out |= rows == row
            return out
        if _uses_hostname(spec):
            return np.array([required_match(spec, table.labels_of(r)) for r in rows], dtype=bool)
        key = self.name + "/required"
        cached = pod.cache.get(key)
        if cached is None or len(cached) != len(table.sig_labels):
            cached = np.array([required_match(spec, {**labels, HOSTNAME: ""}) for labels in table.sig_labels],
                              dtype=bool)
            pod.cache[key] = cached
        return cached[table.label_sig[rows]]

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreFilter's Skip: no nodeSelector and no required node affinity."""
        spec = pod.pod.spec
        return not spec.node_selector and not spec.required_node_affinity

    def skip_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreScore's Skip: no preferred node affinity terms."""
        return not pod.pod.spec.preferred_node_affinity

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        return self._required(pod, table, rows)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        return [("node(s) didn't match Pod's node affinity/selector", ~self._required(pod, table, rows),
                 Code.UNSCHEDULABLE_AND_UNRESOLVABLE)]

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        preferred = pod.pod.spec.preferred_node_affinity
        if not preferred:
            return np.zeros(len(rows), dtype=np.int64)
        raw = np.array([sum(w for w, term in preferred if _term_matches(term, table.labels_of(r))) for r in rows],
                       dtype=np.int64)
        return default_normalize_score(raw, reverse=False)
