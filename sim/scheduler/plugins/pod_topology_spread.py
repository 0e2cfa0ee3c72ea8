"""PodTopologySpread: models pkg/scheduler/framework/plugins/podtopologyspread (plugin.go, common.go,
filtering.go, scoring.go), Kubernetes 1.36.

Filter (``whenUnsatisfiable: DoNotSchedule``): for each constraint, count the pods its selector
matches (same namespace, not terminating) over the *eligible* nodes, i.e. nodes carrying every
constraint's topology key, matching the pod's node affinity (nodeAffinityPolicy Honor, the
default) and, with nodeTaintsPolicy Honor, tolerated. A node passes when
``count(its domain) + (1 if the pod matches the selector) - global minimum <= maxSkew``, the
global minimum being 0 when fewer than ``minDomains`` domains exist. Example: zones a/b/c hold
2/1/0 matching pods and maxSkew is 1, so zone c passes (0+1-0 = 1), zone b fails (1+1-0 = 2).

Score (``ScheduleAnyway``): a candidate scores, per constraint, ``count * ln(domains + 2) +
maxSkew - 1`` and the totals are reversed so the emptiest domain gets 100. Pods with no
constraints that belong to a Service, ReplicaSet, ReplicationController or StatefulSet get the
system defaults: hostname maxSkew 3 and zone maxSkew 5, both ScheduleAnyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.api.objects import Pod, TopologySpreadConstraint
from sim.api.selectors import Selector
from sim.scheduler.framework import MAX_NODE_SCORE, Code, CycleState, PodInfo
from sim.scheduler.nodetable import HOSTNAME, NodeTable
from sim.scheduler.plugins.args import PodTopologySpreadArgs
from sim.scheduler.plugins.names import POD_TOPOLOGY_SPREAD
from sim.scheduler.plugins.node_affinity import NodeAffinity
from sim.scheduler.plugins.pod_events import register_pod_added_hint
from sim.scheduler.plugins.pod_matching import (
    PodMatcher,
    domain_totals,
    domains_seen,
    live_cache,
    live_counts,
    live_domain_sums,
    live_spread,
    with_label_keys,
)
from sim.scheduler.plugins.taint_toleration import TaintToleration

__all__ = ["ERR_REASON_CONSTRAINTS_NOT_MATCH", "ERR_REASON_NODE_LABEL_NOT_MATCH", "SYSTEM_DEFAULT_CONSTRAINTS",
           "PodTopologySpread", "default_selector"]

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
ZONE = "topology.kubernetes.io/zone"
SYSTEM_DEFAULT_CONSTRAINTS = (
    TopologySpreadConstraint(max_skew=3, topology_key=HOSTNAME, when_unsatisfiable="ScheduleAnyway"),
    TopologySpreadConstraint(max_skew=5, topology_key=ZONE, when_unsatisfiable="ScheduleAnyway"),
)
_NO_DOMAIN_MIN = 2**31 - 1  # no eligible domain: every skew is negative, every node passes
_SELECTOR_OWNERS = ("ReplicaSet", "ReplicationController", "StatefulSet")
_MAX, _MIN = np.maximum.reduce, np.minimum.reduce  # the ufuncs' reductions, without the methods' wrappers
_FEW_DOMAINS = 64  # a topology key with at most this many domains has its spread terms tabulated
_NO_INTS = np.zeros(0, dtype=np.int64)  # a term the pod's constraints lack
_STATE_KEYS = {action: f"{POD_TOPOLOGY_SPREAD}/constraints/{action}"
               for action in ("DoNotSchedule", "ScheduleAnyway")}


@dataclass(frozen=True, slots=True)
class _Constraint:
    """A constraint with its selector resolved for one pod (common.go's topologySpreadConstraint)."""

    max_skew: int
    key: str
    selector: Selector | None  # with matchLabelKeys merged; None matches nothing
    matcher: PodMatcher  # the pod's namespace; an empty selector counts no pod
    self_match: bool
    min_domains: int
    honor_affinity: bool
    honor_taints: bool


def default_selector(pod: Pod, store: Any) -> Selector | None:
    """helper.DefaultSelector: the selectors of the pod's Services merged, plus its
    ReplicaSet/ReplicationController/StatefulSet owner's selector; None when that is empty."""
    labels: dict[str, str] = {}
    for svc in store.list("Service"):
        if svc.meta.namespace == pod.meta.namespace and not svc.selector.empty \
                and svc.selector.matches(pod.meta.labels):
            labels.update({req.key: req.values[0] for req in svc.selector.requirements})
    requirements = Selector.from_labels(labels).requirements
    owner = pod.meta.owner
    if owner is not None and owner.kind in _SELECTOR_OWNERS:
        selector = getattr(store.by_uid(owner.uid), "selector", None)
        if selector is not None:
            requirements += selector.requirements
    return Selector(requirements) if requirements else None


def _resolve(c: TopologySpreadConstraint, pod: Pod, selector: Selector | None, label_keys: bool,
             matchers: dict[PodMatcher, PodMatcher]) -> _Constraint:
    if label_keys:
        selector = with_label_keys(selector, pod.meta.labels, c.match_label_keys)
    counted = None if selector is None or selector.empty else selector  # countPodsMatchSelector
    matcher = PodMatcher(frozenset((pod.meta.namespace,)), counted)
    return _Constraint(
        max_skew=c.max_skew, key=c.topology_key, selector=selector,
        # one object per distinct matcher: the per-selector caches find theirs by identity
        matcher=matchers.setdefault(matcher, matcher),
        self_match=selector is not None and selector.matches(pod.meta.labels),
        min_domains=c.min_domains or 1,
        honor_affinity=c.node_affinity_policy != "Ignore",
        honor_taints=c.node_taints_policy == "Honor",
    )


@dataclass
class PodTopologySpread:
    """PreFilter + Filter + Score plugin (default score weight 2)."""

    default_constraints: tuple[TopologySpreadConstraint, ...] = SYSTEM_DEFAULT_CONSTRAINTS
    system_defaulted: bool = True
    name: str = POD_TOPOLOGY_SPREAD
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    handle: Any = field(default=None, repr=False)
    _cache: dict[tuple[Any, ...], list[_Constraint]] = field(default_factory=dict, repr=False)
    _matchers: dict[PodMatcher, PodMatcher] = field(default_factory=dict, repr=False)
    _eligible_cache: dict[tuple[Any, ...], tuple[Any, np.ndarray]] = field(default_factory=dict, repr=False)
    _layouts: dict[tuple[Any, ...], tuple[Any, _ScoreLayout]] = field(default_factory=dict, repr=False)
    _defaults: dict[tuple[Any, ...], tuple[Any, list[_Constraint]]] = field(default_factory=dict, repr=False)
    _last_default: dict[str, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    _default_actions: frozenset[str] | None = field(default=None, repr=False)
    _last_eligible: tuple[Any, ...] | None = field(default=None, repr=False)
    _last_layout: tuple[Any, ...] | None = field(default=None, repr=False)
    _last_inputs: _KeptInputs | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: PodTopologySpreadArgs) -> PodTopologySpread:
        """Build from validated args (defaultingType System or List)."""
        if args.defaulting_type == "System":
            return cls()
        listed = tuple(TopologySpreadConstraint(
            max_skew=c.max_skew, topology_key=c.topology_key, when_unsatisfiable=c.when_unsatisfiable,
            min_domains=c.min_domains, node_affinity_policy=c.node_affinity_policy,
            node_taints_policy=c.node_taints_policy, match_label_keys=tuple(c.match_label_keys))
            for c in args.default_constraints)
        return cls(default_constraints=listed, system_defaulted=False)

    def bind_handle(self, handle: Any) -> None:
        """The scheduler: its API store lists the Services and owners of default spreading, and
        its pod informer delivers AssignedPodAdd."""
        self.handle = handle
        register_pod_added_hint(handle, self.pod_added_may_help)

    def pod_added_may_help(self, pending: Pod, added: Pod) -> bool:
        """QueueingHint for an assigned pod's arrival: same namespace, and its labels match a
        selector of the pending pod's hard constraints (it may raise the global minimum)."""
        if added.meta.namespace != pending.meta.namespace:
            return False
        return any(c.selector is not None and c.selector.matches(added.meta.labels)
                   for c in self._constraints(CycleState(), pending, "DoNotSchedule"))

    # ------------------------------------------------------------------ constraints
    def _constraints(self, state: CycleState, pod: Pod, action: str) -> list[_Constraint]:
        """The pod's own constraints for ``action``, or the defaults with the deduced selector
        (kept in the cycle state: PreFilter, Filter, PreScore and Score all ask)."""
        key = _STATE_KEYS[action]
        resolved = state.get(key)
        if resolved is None or resolved[0] is not pod:
            resolved = state[key] = (pod, self._constraints_of(state, pod, action))
        return resolved[1]

    def _constraints_of(self, state: CycleState, pod: Pod, action: str) -> list[_Constraint]:
        own = pod.spec.topology_spread_constraints
        if own:
            return self._resolved(pod, action, own, None)
        if self._default_actions is None:
            self._default_actions = frozenset(c.when_unsatisfiable for c in self.default_constraints)
        if action not in self._default_actions or self.handle is None:
            return []
        # The defaults' selector comes from the pod's Services and owner (read from the listers
        # in PreFilter/PreScore): pods of one template share it while no Service changes (an
        # owner's selector is immutable), so it is kept per template and Services revision.
        store = self.handle.api.store
        meta = pod.meta
        owner = meta.owner
        owner_uid = owner.uid if owner is not None else None
        revision = (store.revision("Service"), owner is not None and store.by_uid(owner_uid) is not None,
                    store.revision(owner.kind) if owner is not None and owner.kind == "ReplicationController" else 0)
        last = self._last_default.get(action)  # consecutive pods of one template: no key to build
        if last is not None and last[0] == revision and last[1] == owner_uid and last[2] == meta.namespace \
                and last[3] == meta.labels:
            return last[4]
        key = (action, meta.namespace, tuple(sorted(meta.labels.items())), owner_uid)
        cached = self._defaults.get(key)
        if cached is None or cached[0] != revision:
            if len(self._defaults) > 1024:
                self._defaults.clear()
            selector = default_selector(pod, store)
            resolved = [] if selector is None else self._resolved(pod, action, self.default_constraints, selector)
            cached = self._defaults[key] = (revision, resolved)
        self._last_default[action] = (revision, owner_uid, meta.namespace, dict(meta.labels), cached[1])
        return cached[1]

    def _resolved(self, pod: Pod, action: str, constraints: tuple[TopologySpreadConstraint, ...],
                  selector: Selector | None) -> list[_Constraint]:
        """Constraints resolved for a pod, shared by the pods of one template (same namespace,
        labels and constraints); ``selector`` replaces each constraint's own when given."""
        key = (action, pod.meta.namespace, tuple(sorted(pod.meta.labels.items())), constraints, selector)
        resolved = self._cache.get(key)
        if resolved is None:
            if len(self._matchers) > 1024:
                self._matchers.clear()
            # A default constraint's selector is replaced outright (matchLabelKeys have no effect).
            resolved = self._cache[key] = [
                _resolve(c, pod, c.label_selector, True, self._matchers) if selector is None
                else _resolve(c, pod, selector, False, self._matchers)
                for c in constraints if c.when_unsatisfiable == action]
        return resolved

    def _eligible(self, c: _Constraint, pod: PodInfo, table: NodeTable, base: np.ndarray,
                  tag: Any = None) -> np.ndarray:
        """Nodes whose pods count for ``c``: matchNodeInclusionPolicies on top of ``base``.

        ``base`` derives from the node set alone, so the answer depends only on the pod's spec,
        the nodes and the caller (``tag``): it is kept until the node table changes, and pods of
        one template share it across cycles."""
        last = self._last_eligible
        if last is not None and last[0] is pod.pod.spec and last[1] is c and last[2] is table \
                and last[3] == table.version and last[4] == table.n and last[5] == tag:
            return last[6]  # consecutive pods of one template
        key = (id(pod.pod.spec), c.key, c.honor_affinity, c.honor_taints, table.version, table.n, tag)
        cached = self._eligible_cache.get(key)
        if cached is None or cached[0] is not pod.pod.spec:  # the spec is kept: its id stays unique
            if len(self._eligible_cache) > 1024:
                self._eligible_cache.clear()
            cached = self._eligible_cache[key] = (pod.pod.spec, self._compute_eligible(c, pod, table, base))
        self._last_eligible = (pod.pod.spec, c, table, table.version, table.n, tag, cached[1])
        return cached[1]

    def _compute_eligible(self, c: _Constraint, pod: PodInfo, table: NodeTable, base: np.ndarray) -> np.ndarray:
        rows = np.arange(table.n)
        out = base.copy()
        if c.honor_affinity:
            out &= NodeAffinity().filter(CycleState(), pod, table, rows)
        if c.honor_taints:
            out &= TaintToleration().filter(CycleState(), pod, table, rows)
        return out

    # ------------------------------------------------------------------ filter
    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> str | None:
        if self._constraints(state, pod.pod, "DoNotSchedule"):  # without any, Filter is skipped and
            self._filter_state(state, pod, table)  # its all-pass state is made only if asked for
        return None

    def _filter_state(self, state: CycleState, pod: PodInfo, table: NodeTable) -> tuple[np.ndarray, ...]:
        """(passed, missing label, skew too large) per node row, recomputed if the cache changed
        (preemption's dry run removes victims from the table between Filter calls)."""
        stamp = (table.version, table.pods_version)
        cached = state.get(self.name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        n = table.n
        passed = np.ones(n, dtype=bool)
        missing = np.zeros(n, dtype=bool)
        skewed = np.zeros(n, dtype=bool)
        constraints = self._constraints(state, pod.pod, "DoNotSchedule")
        if constraints:
            has_key = [table.domains(c.key)[0] >= 0 for c in constraints]
            base = table.present[:n] & np.logical_and.reduce(has_key)
            for c, keyed in zip(constraints, has_key, strict=True):
                ok = self._skew_ok(c, pod, table, base)
                missing |= passed & ~keyed
                passed &= keyed
                skewed |= passed & ~ok
                passed &= ok
        result = (passed, missing, skewed)
        state[self.name] = (stamp, result)
        return result

    def _skew_ok(self, c: _Constraint, pod: PodInfo, table: NodeTable, base: np.ndarray) -> np.ndarray:
        counts = live_counts(table, c.matcher)
        eligible = self._eligible(c, pod, table, base, "filter")
        ids, sums = domain_totals(table, c.key, counts, eligible)
        seen = domains_seen(table, c.key, eligible)
        domains = int(seen.sum())
        minimum = int(sums[seen].min()) if domains else _NO_DOMAIN_MIN
        if domains < c.min_domains:
            minimum = 0
        in_domain = np.append(sums, 0)[ids]  # a node without the key reads the appended 0
        return in_domain + int(c.self_match) - minimum <= c.max_skew

    def skip_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreFilter's Skip: no DoNotSchedule constraint (own or default)."""
        return not self._constraints(state, pod.pod, "DoNotSchedule")

    def skip_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """PreScore's Skip: no ScheduleAnyway constraint."""
        return not self._constraints(state, pod.pod, "ScheduleAnyway")

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        return self._filter_state(state, pod, table)[0][rows]

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        _, missing, skewed = self._filter_state(state, pod, table)
        return [(ERR_REASON_NODE_LABEL_NOT_MATCH, missing[rows], Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
                (ERR_REASON_CONSTRAINTS_NOT_MATCH, skewed[rows], Code.UNSCHEDULABLE)]

    # ------------------------------------------------------------------ score
    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        constraints = self._constraints(state, pod.pod, "ScheduleAnyway")
        if not constraints:  # PreScore returns Skip
            return np.zeros(len(rows), dtype=np.int64)
        require_all, layout = self._layout(constraints, pod, table)
        if layout.ignores_none:
            ignored, scored = None, rows
        else:
            ignored = ~layout.all_keys[rows] if require_all else np.zeros(len(rows), dtype=bool)
            scored = rows[~ignored]
        raw: np.ndarray | None = None  # the sum of the constraints' spreads (all >= 0: 0.0 + x is x); a fresh array
        for c, has_key, keyed_everywhere, base in zip(constraints, layout.keyed, layout.keyed_everywhere,
                                                      layout.bases, strict=True):
            if c.key == HOSTNAME:
                # count * ln(candidates + 2) + maxSkew - 1, kept per node as pods come and go
                spread = live_spread(table, c.matcher, math.log(len(scored) + 2), float(c.max_skew - 1))[rows]
                if not keyed_everywhere:
                    spread = np.where(has_key[rows], spread, 0.0)
                raw = spread if raw is None else np.add(raw, spread, out=raw)
                continue
            else:
                ids = table.domains(c.key)[0]
                eligible = self._eligible(c, pod, table, base, ("score", require_all))
                sums = live_domain_sums(table, c.matcher, c.key, eligible)
                if keyed_everywhere and ignored is None:  # every candidate is scored and has a domain
                    candidate_ids = ids[rows]
                    size = int(np.count_nonzero(np.bincount(candidate_ids)))
                    if len(sums) <= _FEW_DOMAINS:
                        # Few domains (zones): each domain's spread term once, in Python floats (the
                        # same operations as per candidate), then one gather.
                        weight, skew = math.log(size + 2), float(c.max_skew - 1)
                        terms = np.array([total * weight + skew for total in sums.tolist()])
                        spread = terms[candidate_ids]
                        raw = spread if raw is None else np.add(raw, spread, out=raw)
                        continue
                    per_row = sums[candidate_ids]
                else:
                    # A candidate without the key seeds the "" domain (counted, never read),
                    # and reads an appended 0.
                    size = int(np.count_nonzero(np.bincount(ids[scored] + 1)))
                    per_row = sums[ids[rows]] if keyed_everywhere else np.append(sums, 0)[ids[rows]]
            weight = math.log(size + 2)
            spread = per_row * weight + float(c.max_skew - 1)
            if not keyed_everywhere:
                spread = np.where(has_key[rows], spread, 0.0)
            raw = spread if raw is None else np.add(raw, spread, out=raw)
        assert raw is not None
        return _normalize(_round_half_away(raw), ignored)

    def spread_inputs(self, state: CycleState, pod: PodInfo,
                      table: NodeTable) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float] | None:
        """What the compiled weighted sum (``sim.scheduler.kernels``) needs to compute ``score``
        itself, whichever the candidates: (the hostname constraint's matching pods per row, or
        empty, and its maxSkew - 1; the other constraint's domain per row and matching pods per
        domain, or empty, and its maxSkew - 1). Only for at most one hostname and one other
        constraint, with every node carrying every key (two terms add up alike in either order);
        None otherwise, or when there is nothing to score (``score`` then)."""
        constraints = self._constraints(state, pod.pod, "ScheduleAnyway")
        kept = self._last_inputs
        if kept is not None and kept.constraints is constraints and kept.spec is pod.pod.spec \
                and kept.table is table and kept.version == table.version and kept.n == table.n:
            inputs = kept.current(table)
            if inputs is not None:  # consecutive pods of one template: the same arrays, caught up
                return inputs
        inputs = self._spread_inputs(pod, table, constraints)
        self._last_inputs = None if inputs is None else _KeptInputs(
            constraints, pod.pod.spec, table, table.version, table.n, inputs[0], inputs[1])
        return None if inputs is None else inputs[0]

    def _spread_inputs(self, pod: PodInfo, table: NodeTable, constraints: list[_Constraint]) \
            -> tuple[tuple[np.ndarray, float, np.ndarray, np.ndarray, float], list[tuple[Any, ...]]] | None:
        """``spread_inputs``' answer, with the live-count caches it reads: (matcher, cache, and
        the domain sums' key and entry or None) each."""
        if not constraints or len(constraints) > 2:
            return None
        require_all, layout = self._layout(constraints, pod, table)
        if not layout.ignores_none or not all(layout.keyed_everywhere):
            return None
        counts, host_skew, ids, sums, skew = _NO_INTS, 0.0, _NO_INTS, _NO_INTS, 0.0
        reads: list[tuple[Any, ...]] = []
        for c, base in zip(constraints, layout.bases, strict=True):
            if c.key == HOSTNAME:
                if len(counts):
                    return None
                live = live_cache(table, c.matcher)
                counts, host_skew = live.counts, float(c.max_skew - 1)
                reads.append((c.matcher, live, None, None))
            else:
                domain_ids, values = table.domains(c.key)
                if len(sums) or not values:
                    return None
                ids = domain_ids
                eligible = self._eligible(c, pod, table, base, ("score", require_all))
                sums = live_domain_sums(table, c.matcher, c.key, eligible)
                live = live_cache(table, c.matcher)
                reads.append((c.matcher, live, (c.key, id(eligible)), live.sums[(c.key, id(eligible))]))
        return (counts, host_skew, ids, sums, skew), reads

    def _layout(self, constraints: list[_Constraint], pod: PodInfo, table: NodeTable) -> tuple[bool, _ScoreLayout]:
        """Whether every key is required of a node, and the key layout for the pod's constraints."""
        # Only non-default constraints require every key; system defaults let nodes without a
        # zone label still be spread by hostname.
        require_all = bool(pod.pod.spec.topology_spread_constraints) or not self.system_defaulted
        last = self._last_layout
        if last is not None and last[0] is constraints and last[1] is table and last[2] == table.version \
                and last[3] == table.n and last[4] == require_all:
            return require_all, last[5]  # consecutive pods of one template
        layout = self._score_layout(table, tuple(c.key for c in constraints), require_all)
        self._last_layout = (constraints, table, table.version, table.n, require_all, layout)
        return require_all, layout

    def _score_layout(self, table: NodeTable, keys: tuple[str, ...], require_all: bool) -> _ScoreLayout:
        """Which rows carry each topology key, and the base node sets, until the node table changes."""
        cache_key = (id(table), keys, require_all, table.version, table.n)
        kept = self._layouts.get(cache_key)
        layout = kept[1] if kept is not None and kept[0] is table else None  # the table is kept: its id stays unique
        if layout is None:
            if len(self._layouts) > 64:
                self._layouts.clear()
            n = table.n
            keyed = [table.domains(key)[0] >= 0 for key in keys]
            all_keys = np.logical_and.reduce(keyed)
            base = table.present[:n] & (all_keys if require_all else True)
            layout = _ScoreLayout(
                keyed=keyed, keyed_everywhere=[bool(k.all()) for k in keyed], all_keys=all_keys,
                ignores_none=not require_all or bool(all_keys.all()), bases=[base & k for k in keyed])
            self._layouts[cache_key] = (table, layout)
        return layout


@dataclass(frozen=True, slots=True)
class _KeptInputs:
    """``spread_inputs``' answer for one template at one node-table version. Its arrays are the
    live-count caches' own, which keep them current in place, so it holds while each cache it
    read is the same object (no recount) and still holds the same domain sums entry."""

    constraints: list[_Constraint]
    spec: Any
    table: NodeTable
    version: int
    n: int
    inputs: tuple[np.ndarray, float, np.ndarray, np.ndarray, float]
    reads: list[tuple[Any, ...]]  # (matcher, its live-count cache, domain sums key or None, that entry)

    def current(self, table: NodeTable) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float] | None:
        """The answer with every cache caught up, or None if one was rebuilt meanwhile."""
        for matcher, live, sums_key, entry in self.reads:
            if live_cache(table, matcher) is not live:
                return None
            if sums_key is not None and live.sums.get(sums_key) is not entry:
                return None
        return self.inputs


@dataclass(frozen=True, slots=True)
class _ScoreLayout:
    """Per topology key of a pod's constraints: which rows have it (and whether all do), the
    eligible-node base with it; and whether any candidate can lack a required key."""

    keyed: list[np.ndarray]
    keyed_everywhere: list[bool]
    all_keys: np.ndarray
    ignores_none: bool
    bases: list[np.ndarray]


def _round_half_away(raw: np.ndarray) -> np.ndarray:
    """Go's math.Round for the non-negative raw scores (numpy's round goes half to even).
    ``raw`` is the caller's scratch array: it is overwritten."""
    whole = raw.astype(np.int64)  # truncation is floor for non-negative scores
    np.subtract(raw, whole, out=raw)  # the fractions
    whole += raw >= 0.5
    return whole


def _normalize(raw: np.ndarray, ignored: np.ndarray | None) -> np.ndarray:
    """Fewer matching pods is better: 100 * (max + min - score) // max; ignored nodes get 0.
    ``raw`` (integers) is the caller's scratch array: without ``ignored`` it becomes the result."""
    if ignored is None:  # every candidate is scored
        top, low = int(_MAX(raw)), int(_MIN(raw))
        if top == 0:
            return np.full(len(raw), MAX_NODE_SCORE, dtype=np.int64)
        np.subtract(top + low, raw, out=raw)
        raw *= MAX_NODE_SCORE
        raw //= top
        return raw
    out = np.zeros(len(raw), dtype=np.int64)
    kept = ~ignored
    if not kept.any():
        return out
    top, low = int(raw[kept].max()), int(raw[kept].min())
    if top == 0:
        out[kept] = MAX_NODE_SCORE
    else:
        out[kept] = MAX_NODE_SCORE * (top + low - raw[kept]) // top
    return out
