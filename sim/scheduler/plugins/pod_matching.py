"""Pod matching for inter-pod plugins: models pkg/scheduler/framework/types.go (AffinityTerm) and
podtopologyspread/common.go (countPodsMatchSelector).

Shared by PodTopologySpread and InterPodAffinity: which existing pods a selector picks, per
node and per topology domain. Pods are matched once per label signature (namespace +
labels), not once per pod: the matching signatures of a selector are cached per NodeTable
and extended as new signatures appear, and counting is a sum of the signatures' per-node
count arrays. PodTopologySpread's counts (and their domain sums) are kept current from the
table's pod log (``live_counts``), so a cycle reads them rather than adding them up.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.api.objects import Pod, PodAffinityTerm
from sim.api.selectors import Requirement, Selector
from sim.scheduler.nodetable import NodeTable

__all__ = ["NAMESPACE_NAME_LABEL", "PodMatcher", "domain_totals", "domains_seen", "live_cache", "live_counts",
           "live_domain_sums", "live_spread", "matching_per_row", "matching_sigs", "namespace_labels", "resolve_term",
           "sig_rows", "with_label_keys"]

# Set by the API server on every namespace since 1.22; kubesim has no Namespace objects, so
# this is the only label a namespaceSelector can see.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

_SIG_CACHE: weakref.WeakKeyDictionary[NodeTable, dict[PodMatcher, tuple[int, list[int]]]] = \
    weakref.WeakKeyDictionary()


def namespace_labels(namespace: str) -> dict[str, str]:
    """The labels a namespace carries in kubesim."""
    return {NAMESPACE_NAME_LABEL: namespace}


@dataclass(frozen=True, slots=True)
class PodMatcher:
    """Pods in ``namespaces`` (or in namespaces matching ``namespace_selector``) whose labels match
    ``selector``; a None selector matches no pod, a None namespace selector no namespace."""

    namespaces: frozenset[str]
    selector: Selector | None
    namespace_selector: Selector | None = None
    topology_key: str = ""
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # matchers key the per-table caches on every cycle: hash the nested selectors once
        object.__setattr__(self, "_hash", hash((self.namespaces, self.selector, self.namespace_selector,
                                                self.topology_key)))

    def __hash__(self) -> int:
        return self._hash

    def matches(self, namespace: str, labels: Mapping[str, str]) -> bool:
        """AffinityTerm.Matches: the namespace is chosen, then the labels must match."""
        if self.selector is None:
            return False
        chosen = namespace in self.namespaces or (
            self.namespace_selector is not None and self.namespace_selector.matches(namespace_labels(namespace)))
        return chosen and self.selector.matches(labels)

    def matches_pod(self, pod: Pod) -> bool:
        """Whether ``pod`` itself matches."""
        return self.matches(pod.meta.namespace, pod.meta.labels)


def with_label_keys(selector: Selector | None, labels: Mapping[str, str], match_keys: tuple[str, ...],
                    mismatch_keys: tuple[str, ...] = ()) -> Selector | None:
    """matchLabelKeys add ``key in (pod's value)``, mismatchLabelKeys ``key notin (...)``; keys the
    pod lacks are skipped, and an unset selector stays unset."""
    if selector is None:
        return None
    extra = [Requirement(k, "In", (labels[k],)) for k in match_keys if k in labels]
    extra += [Requirement(k, "NotIn", (labels[k],)) for k in mismatch_keys if k in labels]
    return Selector(tuple(extra) + selector.requirements) if extra else selector


def resolve_term(term: PodAffinityTerm, namespace: str, labels: Mapping[str, str]) -> PodMatcher:
    """The affinity term of a pod in ``namespace`` with ``labels`` as a matcher: namespaces
    default to the pod's own when neither ``namespaces`` nor ``namespaceSelector`` is set, and
    match/mismatchLabelKeys take the pod's values."""
    namespaces = frozenset(term.namespaces)
    if not term.namespaces and term.namespace_selector is None:
        namespaces = frozenset((namespace,))
    selector = with_label_keys(term.label_selector, labels, term.match_label_keys, term.mismatch_label_keys)
    return PodMatcher(namespaces, selector, term.namespace_selector, term.topology_key)


def matching_sigs(table: NodeTable, matcher: PodMatcher) -> list[int]:
    """The pod label signatures ``matcher`` picks (cached per table, extended incrementally)."""
    cache = _SIG_CACHE.setdefault(table, {})
    scanned, sigs = cache.get(matcher, (0, []))
    total = len(table.pod_sig_labels)
    if scanned < total:
        sigs = sigs + [s for s in range(scanned, total) if matcher.matches(*table.pod_sig_labels[s])]
        cache[matcher] = (total, sigs)
    return sigs


def matching_per_row(table: NodeTable, matcher: PodMatcher, skip_terminating: bool = False) -> np.ndarray:
    """Per node row, how many pods ``matcher`` picks (optionally not counting terminating pods)."""
    n = table.n
    total = np.zeros(n, dtype=np.int64)
    for sig in matching_sigs(table, matcher):
        total += table.pod_sig_counts[sig][:n]
        if skip_terminating and sig in table.terminating_sig_counts:
            total -= table.terminating_sig_counts[sig][:n]
    return total


class _LiveCounts:
    """A selector's non-terminating pods per node row, and per (topology key, eligible rows) its
    domain sums, kept current from the table's logs of the signatures it selects (a cycle reads
    them, not recounts)."""

    __slots__ = ("counts", "n", "positions", "scanned", "seen", "spreads", "sums")

    def __init__(self, counts: np.ndarray, n: int, positions: dict[int, int], scanned: int, seen: int) -> None:
        self.counts = counts
        self.n = n
        self.seen = seen  # the table's pods_version when last caught up (every logged change bumps it)
        self.positions = positions  # selected signature -> absolute position read up to in its log
        self.scanned = scanned  # signatures checked against the selector
        # (key, id(eligible)) -> (eligible, table version, domain id per row or -1 where not counted, sums)
        self.sums: dict[tuple[str, int], tuple[np.ndarray, int, list[int], np.ndarray]] = {}
        # (weight, offset) -> count * weight + offset per row (PodTopologySpread's hostname term)
        self.spreads: dict[tuple[float, float], np.ndarray] = {}


def _live(table: NodeTable, matcher: PodMatcher) -> _LiveCounts:
    live = table.pod_caches.get(matcher)
    if live is None or live.n != table.n:
        return _count_live(table, matcher)
    if live.seen == table.pods_version:  # no pod change logged since: nothing to catch up on
        return live
    logs, bases = table.sig_logs, table.sig_log_bases
    if live.scanned < len(logs):  # label signatures seen since: the selector may pick them
        for sig in matching_sigs(table, matcher):
            live.positions.setdefault(sig, 0)  # new since: its every change is to count (or, dropped, a recount)
        live.scanned = len(logs)
    counts, sums, spreads = live.counts, live.sums, live.spreads
    for sig, position in live.positions.items():
        log = logs[sig]
        start = position - bases[sig]
        if start == len(log):
            continue
        if start < 0:  # the log was dropped meanwhile
            return _count_live(table, matcher)
        for i in range(start, len(log)):
            row, delta = log[i]
            counts[row] += delta
            for _, _, domain_of, domain_sums in sums.values():
                domain = domain_of[row]
                if domain >= 0:
                    domain_sums[domain] += delta
            if spreads:
                count = int(counts[row])
                for (weight, offset), spread in spreads.items():
                    spread[row] = count * weight + offset  # the float operations numpy does per element
        live.positions[sig] = bases[sig] + len(log)
    live.seen = table.pods_version
    return live


def _count_live(table: NodeTable, matcher: PodMatcher) -> _LiveCounts:
    if len(table.pod_caches) > 1024:
        table.pod_caches.clear()
    sigs = matching_sigs(table, matcher)
    counts = matching_per_row(table, matcher, skip_terminating=True)
    positions = {sig: table.sig_log_bases[sig] + len(table.sig_logs[sig]) for sig in sigs}
    live = table.pod_caches[matcher] = _LiveCounts(counts, table.n, positions, len(table.sig_logs),
                                                   table.pods_version)
    return live


def live_cache(table: NodeTable, matcher: PodMatcher) -> _LiveCounts:
    """The selector's live-count cache, caught up: the object behind ``live_counts`` and
    ``live_domain_sums``, whose arrays it keeps current in place (a new object after a recount)."""
    return _live(table, matcher)


def live_counts(table: NodeTable, matcher: PodMatcher) -> np.ndarray:
    """``matching_per_row(table, matcher, skip_terminating=True)``, kept current incrementally.
    The array is the cache's own: read it, never write it."""
    return _live(table, matcher).counts


def live_spread(table: NodeTable, matcher: PodMatcher, weight: float, offset: float) -> np.ndarray:
    """``live_counts(table, matcher) * weight + offset`` per row, kept current incrementally (the
    cache's own array: read it, never write it)."""
    live = _live(table, matcher)
    spread = live.spreads.get((weight, offset))
    if spread is None:
        if len(live.spreads) > 16:
            live.spreads.clear()
        spread = live.spreads[(weight, offset)] = live.counts * weight + offset
    return spread


def live_domain_sums(table: NodeTable, matcher: PodMatcher, key: str, eligible: np.ndarray) -> np.ndarray:
    """Per domain of topology key ``key``, the non-terminating pods ``matcher`` picks on the
    ``eligible`` rows (``domain_totals``' sums), kept current incrementally (the cache's own
    array: read it, never write it)."""
    live = _live(table, matcher)
    cached = live.sums.get((key, id(eligible)))
    if cached is None or cached[0] is not eligible or cached[1] != table.version:
        if len(live.sums) > 64:
            live.sums.clear()
        ids, values = table.domains(key)
        counted = np.where(eligible & (ids >= 0), ids, -1)
        sums = np.bincount(counted[counted >= 0], weights=live.counts[counted >= 0], minlength=len(values))
        totals = np.rint(sums).astype(np.int64)
        # the domain of each row (-1: not counted) as a list: the pod log updates it a row at a time
        cached = live.sums[(key, id(eligible))] = (eligible, table.version, counted.tolist(), totals)
    return cached[3]


def sig_rows(table: NodeTable, sigs: list[int]) -> np.ndarray:
    """Per node row, how many pods of these label signatures it runs."""
    total = np.zeros(table.n, dtype=np.int64)
    for sig in sigs:
        total += table.pod_sig_counts[sig][: table.n]
    return total


def domain_totals(table: NodeTable, key: str, per_row: np.ndarray,
                  eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(domain id per row or -1, sum of ``per_row`` over the eligible rows of each domain) for
    topology key ``key``."""
    ids, values = table.domains(key)
    ok = eligible & (ids >= 0)
    sums = np.bincount(ids[ok], weights=per_row[ok], minlength=len(values))
    return ids, np.rint(sums).astype(np.int64)


def domains_seen(table: NodeTable, key: str, eligible: np.ndarray) -> np.ndarray:
    """Per domain of ``key``, whether any eligible row lies in it."""
    ids, values = table.domains(key)
    return np.bincount(ids[eligible & (ids >= 0)], minlength=len(values)) > 0
