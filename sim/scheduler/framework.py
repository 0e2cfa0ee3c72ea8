"""The scheduling framework: status codes, cycle state, profiles and one scheduling cycle.

Models ``pkg/scheduler/framework`` (interface.go, runtime/framework.go) and the parts of
``pkg/scheduler/schedule_one.go`` that pick a node: Filter over nodes starting at a
round-robin index until ``numFeasibleNodesToFind`` pass, Score with each plugin's weight,
then a uniformly random choice among the top scores. Plugins work on numpy arrays of node
rows; a plugin only implements the extension points it needs.

Speed without changing a decision: the filters run over a window of nodes from the
round-robin start before (if it comes up short) every node; filters every node passes and
scores every node shares are left out; scores that depend on a node's own row are summed
per row once. Which plugins those are is worked out once per pod template and kept until the
cluster changes (``Profile.plan_for``). A cycle that explains itself scores each plugin on its own.
On large runs the search and the weighted sum run as compiled loops (``sim.scheduler.kernels``,
``_compiled_cycle``) that decide as the numpy code here does.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sim.api.objects import Pod
from sim.rng import BoundedDraws
from sim.scheduler import kernels
from sim.scheduler.nodetable import NodeTable

__all__ = [
    "MAX_NODE_SCORE",
    "Code",
    "CycleState",
    "FilterPlugin",
    "PodInfo",
    "Profile",
    "ScheduleResult",
    "ScorePlugin",
    "diagnose",
    "fit_error_message",
    "num_feasible_nodes_to_find",
    "schedule_pod",
]

MAX_NODE_SCORE = 100
_MAX = np.maximum.reduce  # the ufunc's reduction, without ndarray.max's wrapper
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
_NO_INTS = np.zeros(0, dtype=np.int64)
_NO_SPREAD = (_NO_INTS, 0.0, _NO_INTS, _NO_INTS, 0.0, 0)  # no PodTopologySpread score in the compiled sum


class Code(enum.IntEnum):
    """A plugin's verdict, and what the scheduling queue does with the pod next."""

    SUCCESS = 0
    ERROR = 1  # internal error: retried with backoff
    UNSCHEDULABLE = 2  # may fit after preemption or a cluster change
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3  # preemption cannot help on this node
    WAIT = 4  # Permit: hold the pod before binding
    SKIP = 5  # the plugin has nothing to do for this pod
    PENDING = 6  # waiting for an external condition (e.g. gates)


@dataclass(slots=True)
class PodInfo:
    """What the cycle needs of a pod, computed once per shared spec (PreFilter's work)."""

    pod: Pod
    request: np.ndarray
    nonzero: np.ndarray
    unknown_resources: list[str]
    cache: dict[str, Any] = field(default_factory=dict)


class CycleState(dict[str, Any]):
    """Per-cycle scratch space; plugins prefix their keys with their name."""


@runtime_checkable
class FilterPlugin(Protocol):
    """Filter: which nodes can run the pod; reasons only when the cycle needs to explain.

    Optional, for speed only: ``skip_filter(state, pod, table)`` (PreFilter returned Skip) and
    ``all_pass(state, pod, table)`` (every node would pass: the cycle need not ask). A plugin
    whose answers to these (and to ScorePlugin's optional checks) depend on nothing but the
    pod's spec, namespace, labels and owner, the nodes in the table, the table's pod-affinity
    groups and non-Pod API objects sets ``STABLE_CHECKS = True``: the cycle then asks once per
    pod template until one of those changes (see ``Profile.plan_for``). A plugin whose verdict
    depends on a node's own row alone may offer ``row_local_filter(state, pod, table)``: the
    (key, compute) of its verdicts for ``NodeTable.row_values`` (or None), which lets the
    compiled search run over every row's verdict; with ``STABLE_CHECKS``, that hook too must
    read nothing else (a template's plan keeps it)."""

    name: str

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        """Boolean mask over ``rows``: True where the node passes."""

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        """(upstream reason text, mask of rows it applies to, code) for failing rows."""


@runtime_checkable
class ScorePlugin(Protocol):
    """Score (with NormalizeScore folded in): integers in [0, MAX_NODE_SCORE] per row.

    Optional, for speed only (a cycle that explains itself calls ``score`` regardless):
    ``skip_score`` (PreScore returned Skip), ``constant_score(state, pod, table)`` (the score
    every node gets, or None) and ``row_local_score(state, pod, table)`` ((key, compute) such
    that ``score`` is ``table.row_values(key, compute)[rows]``, or None)."""

    name: str

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        """Normalised scores for the feasible ``rows``."""


@dataclass(slots=True)
class Profile:
    """A scheduler profile: its name (``spec.schedulerName``) and enabled plugins per extension point."""

    scheduler_name: str
    filters: list[Any]
    scores: list[tuple[Any, int]]
    percentage_of_nodes_to_score: int = 0
    pre_filters: list[Any] = field(default_factory=list)
    post_filters: list[Any] = field(default_factory=list)
    permits: list[Any] = field(default_factory=list)
    reserves: list[Any] = field(default_factory=list)
    queue_sort: Any = None
    # A counter that moves whenever a non-Pod API object changes (the scheduler sets it to its
    # store's): with it, a template's plan is kept across cycles (``plan_for``); without, never.
    objects_revision: Any = None
    _plans: tuple[Any, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _template_plans: dict[int, _TemplatePlan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def filter_plan(self) -> list[tuple[Any, Any, Any]]:
        """(plugin, its PreFilter-Skip check or None, its all-nodes-pass check or None) per
        Filter plugin, in order."""
        return self._plan()[0]

    def score_plan(self) -> list[tuple[Any, int, Any, Any, Any]]:
        """(plugin, weight, its PreScore-Skip check, its constant-score check, its per-row-values
        hook; each None if the plugin has none) per Score plugin, in order."""
        return self._plan()[1]

    def _plan(self) -> tuple[Any, ...]:
        # built on first use: a profile's plugin lists are fixed once it schedules
        if self._plans is None:
            self._plans = ([(p, getattr(p, "skip_filter", None), getattr(p, "all_pass", None)) for p in self.filters],
                           [(p, w, getattr(p, "skip_score", None), getattr(p, "constant_score", None),
                             getattr(p, "row_local_score", None)) for p, w in self.scores])
        return self._plans

    def plan_for(self, state: CycleState, pod: PodInfo, table: NodeTable) -> _TemplatePlan:
        """The pod's filter and score plan (``filter_plan`` and ``score_plan`` with the answers
        of plugins with ``STABLE_CHECKS`` settled), after PreFilter ran.

        Pods of one template share a spec object (specs are replaced, never changed in place),
        so the settled answers are kept per spec, checked against the pod's namespace, labels
        and owner, and against a stamp of everything such answers may read: the node table's
        nodes and pod-affinity groups, and the non-Pod API objects. Whatever moves the stamp
        drops every kept plan; the other plugins' checks run each cycle."""
        spec, meta = pod.pod.spec, pod.pod.meta
        owner = meta.owner.uid if meta.owner is not None else None
        stamp = (table.version, table.n, len(table.affinity_groups),
                 -1 if self.objects_revision is None else self.objects_revision())
        plan = self._template_plans.get(id(spec))
        if plan is not None and plan.spec is spec and plan.stamp == stamp and plan.table is table \
                and plan.namespace == meta.namespace and plan.owner == owner and plan.labels == meta.labels:
            return plan
        if len(self._template_plans) > 256 or (plan is not None and plan.stamp != stamp):
            self._template_plans.clear()
        plan = _TemplatePlan(*_settle(self, state, pod, table), spec, stamp, table, meta.namespace, owner,
                             dict(meta.labels))
        if self.objects_revision is not None:
            self._template_plans[id(spec)] = plan
        return plan


@dataclass(slots=True)
class _TemplatePlan:
    """One template's plan: the filters to run and the scores to add, each either settled (a
    plugin with ``STABLE_CHECKS``) or with its checks still to ask (as ``filter_plan`` and
    ``score_plan`` entries); the settled row-local scores as (key, compute, weight)."""

    filters: list[tuple[Any, Any, Any]]
    scores: list[tuple[Any, int, Any, Any, Any]]
    row_local: list[tuple[Any, Any, int]]
    # what it was settled for (``plan_for`` checks them)
    spec: Any
    stamp: tuple[Any, ...]
    table: Any
    namespace: str
    owner: int | None  # its uid
    labels: dict[str, str]
    # the compiled cycle's mask-and-values hook for the filters and row-local scores it was made
    # for: (filters, row-local scores, their row_local_filter hooks or None, (key, compute) or None)
    scored: tuple[Any, ...] | None = None


def _settle(profile: Profile, state: CycleState, pod: PodInfo,
            table: NodeTable) -> tuple[list[Any], list[Any], list[Any]]:
    """(filters, scores, row-local scores) of a ``_TemplatePlan``: the plugins with
    ``STABLE_CHECKS`` asked their checks now, the others' checks kept to ask each cycle."""
    filters: list[tuple[Any, Any, Any]] = []
    for plugin, skip, all_pass in profile.filter_plan():
        if skip is None and all_pass is None:
            filters.append((plugin, None, None))
        elif not getattr(plugin, "STABLE_CHECKS", False):
            filters.append((plugin, skip, all_pass))
        elif (skip is None or not skip(state, pod, table)) and (all_pass is None or not all_pass(state, pod, table)):
            filters.append((plugin, None, None))
    scores: list[tuple[Any, int, Any, Any, Any]] = []
    row_local: list[tuple[Any, Any, int]] = []
    for plugin, weight, skip, constant, local in profile.score_plan():
        if (skip is None and constant is None and local is None) or not getattr(plugin, "STABLE_CHECKS", False):
            scores.append((plugin, weight, skip, constant, local))
        elif skip is not None and skip(state, pod, table):
            continue  # PreScore returned Skip: scores 0
        elif constant is not None and constant(state, pod, table) is not None:
            continue  # every node scores the same
        else:
            hook = local(state, pod, table) if local is not None else None
            if hook is None:
                scores.append((plugin, weight, None, None, None))
            else:
                row_local.append((*hook, weight))
    return filters, scores, row_local


@dataclass(slots=True)
class ScheduleResult:
    """The outcome of one cycle (and, when asked, why)."""

    node_row: int = -1
    evaluated: int = 0
    feasible: int = 0
    message: str = ""
    scores: dict[str, np.ndarray] | None = None
    candidates: np.ndarray | None = None
    reasons: dict[str, int] | None = None
    codes: np.ndarray | None = None  # per present row: worst filter code (failures only)
    state: CycleState | None = None
    rows: np.ndarray | None = None  # the node rows this cycle considered (``codes`` follow them)


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int) -> int:
    """How many feasible nodes to look for before scoring (adaptive when percentage is 0)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = 50 - num_all_nodes // 125
        if percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    found = num_all_nodes * percentage // 100
    return max(found, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error_message(num_nodes: int, reasons: dict[str, int]) -> str:
    """Upstream's FitError text: ``0/6 nodes are available: 2 Insufficient cpu, ...``."""
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{num_nodes} nodes are available: " + ", ".join(parts) + "."


def diagnose(profile: Profile, state: CycleState, pod: PodInfo, table: NodeTable,
             rows: np.ndarray) -> tuple[dict[str, int], np.ndarray]:
    """Each node's reasons from the first filter it fails, counted over nodes, and each row's
    status code (UNSCHEDULABLE_AND_UNRESOLVABLE if any of its reasons is)."""
    counts: dict[str, int] = {}
    codes = np.full(len(rows), int(Code.SUCCESS), dtype=np.int8)
    remaining = np.ones(len(rows), dtype=bool)
    for plugin in profile.filters:
        if not remaining.any():
            break
        sub = rows[remaining]
        passed = plugin.filter(state, pod, table, sub)
        failed_sub = ~passed
        idx = np.flatnonzero(remaining)
        if failed_sub.any():
            for reason, mask, code in plugin.reasons(state, pod, table, sub):
                hit = mask & failed_sub
                n = int(hit.sum())
                if n:
                    counts[reason] = counts.get(reason, 0) + n
                    codes[idx[hit]] = np.maximum(codes[idx[hit]], int(code))
            failing = idx[failed_sub]
            codes[failing] = np.maximum(codes[failing], int(Code.UNSCHEDULABLE))
        remaining[idx[failed_sub]] = False
    return counts, codes


def _filter_window(want: int, n: int) -> int:
    """How many nodes, from the round-robin start, a cycle filters first: enough to find
    ``want`` feasible nodes when most nodes fit, so a large cluster's cycle does not filter
    every node (the rest are filtered only if the window comes up short)."""
    return want + (want >> 2) + 16


def _run_filters(filters: list[Any], state: CycleState, pod: PodInfo, table: NodeTable,
                 rows: np.ndarray) -> np.ndarray:
    """Every filter over ``rows`` at once (vectorised; a node must pass them all)."""
    if not filters:
        return np.ones(len(rows), dtype=bool)
    feasible = filters[0].filter(state, pod, table, rows)
    if len(filters) > 1:
        feasible = feasible.copy()  # a plugin may hand out an array it keeps
        for plugin in filters[1:]:
            if not feasible.any():
                break
            feasible &= plugin.filter(state, pod, table, rows)
    return feasible


def _row_local_values(table: NodeTable, hooks: list[tuple[Any, Any, int]]) -> tuple[np.ndarray, int]:
    """Every row's weighted sum of the scores that depend on a node's own row alone, as (values,
    weight to apply): kept per row by the table like each score is (pods of one shape reuse it;
    changed rows are recomputed)."""
    if len(hooks) == 1:
        key, compute, weight = hooks[0]
        return table.row_values(key, compute), weight
    return table.row_values(("weighted", tuple((key, weight) for key, _, weight in hooks)),
                            lambda rows: _weighted_rows(hooks, rows)), 1


def _weighted_rows(hooks: list[tuple[Any, Any, int]], rows: np.ndarray) -> np.ndarray:
    """For ``rows``, the weighted sum of row-local scores (``hooks``: (key, compute, weight))."""
    total = np.zeros(len(rows), dtype=np.int64)
    for _, compute, weight in hooks:
        values = compute(rows)
        total += values if weight == 1 else values * weight
    return total


def _row_local_verdicts(filters: list[Any], state: CycleState, pod: PodInfo,
                        table: NodeTable) -> list[tuple[Any, Any]] | None:
    """Each filter's ``row_local_filter`` (key, compute), or None unless every filter has one."""
    hooks = []
    for plugin in filters:
        hook = getattr(plugin, "row_local_filter", None)
        found = hook(state, pod, table) if hook is not None else None
        if found is None:
            return None
        hooks.append(found)
    return hooks


def _scored_hook(verdicts: list[tuple[Any, Any]],
                 hooks: list[tuple[Any, Any, int]]) -> tuple[Any, Callable[[np.ndarray], np.ndarray]]:
    """(key, compute) for ``NodeTable.row_values``: per row, the weighted row-local score sum
    plus one where every verdict passes, and 0 where one fails: the compiled search's mask and
    the compiled sum's values at once (one per-row cache to keep current instead of two; the +1
    is the same for every candidate, so it moves no candidate ahead of another)."""
    def compute(rows: np.ndarray) -> np.ndarray:
        fits = np.ones(len(rows), dtype=bool)
        for _, verdict in verdicts:
            fits &= verdict(rows)
        return np.where(fits, _weighted_rows(hooks, rows) + 1, 0)
    return ("scored", tuple(key for key, _ in verdicts), tuple((key, weight) for key, _, weight in hooks)), compute


def _verdicts_and_scored(plan: _TemplatePlan, filters: list[Any], row_local: list[tuple[Any, Any, int]],
                         state: CycleState, pod: PodInfo, table: NodeTable) -> tuple[Any, Any]:
    """The filters' row-local verdicts (or None) and, with them, ``_scored_hook``. Kept on the
    plan while the same filters and row-local scores come (every filter with ``STABLE_CHECKS``:
    its verdict hook reads only what the plan is kept for), as consecutive pods of a template ask."""
    kept = plan.scored
    if kept is not None and len(kept[0]) == len(filters) and all(map(operator.is_, kept[0], filters)) \
            and kept[1] == row_local:
        return kept[2], kept[3]
    verdicts = _row_local_verdicts(filters, state, pod, table)
    scored = None if verdicts is None else _scored_hook(verdicts, row_local)
    if all(getattr(plugin, "STABLE_CHECKS", False) for plugin in filters):
        plan.scored = (filters, row_local, verdicts, scored)
    return verdicts, scored


def _row_local_total(table: NodeTable, hooks: list[tuple[Any, Any, int]], rows: np.ndarray) -> np.ndarray:
    """For ``rows``, the weighted sum of the scores that depend on a node's own row alone."""
    values, weight = _row_local_values(table, hooks)
    values = values[rows]
    return values if weight == 1 else values * weight


def _sum(parts: list[np.ndarray]) -> np.ndarray:
    """The element-wise sum of the score arrays (a new array)."""
    if len(parts) == 1:
        return parts[0].copy()
    total = parts[0] + parts[1]
    for part in parts[2:]:
        total += part
    return total


def schedule_pod(profile: Profile, pod: PodInfo, table: NodeTable, start: int,
                 rng: np.random.Generator | BoundedDraws, explain: bool = False,
                 only_rows: np.ndarray | None = None) -> ScheduleResult:
    """One scheduling cycle over the present nodes (or ``only_rows``), from row ``start`` (round robin)."""
    state = CycleState()
    all_rows = table.present_rows() if only_rows is None else only_rows
    n = len(all_rows)
    if n == 0:
        return ScheduleResult(message="0/0 nodes are available: no nodes available to schedule pods.")
    for plugin in profile.pre_filters:
        rejected = plugin.pre_filter(state, pod, table)
        if rejected is not None:
            return ScheduleResult(message=f"0/{n} nodes are available: {rejected}.", state=state,
                                  codes=np.full(n, int(Code.UNSCHEDULABLE_AND_UNRESOLVABLE), dtype=np.int8),
                                  rows=all_rows)
    # PreFilter's Skip: a plugin with nothing to check for this pod does not Filter. A plugin
    # that knows every node passes (``all_pass``, e.g. no node is cordoned) is left out too:
    # its verdicts would change nothing.
    plan = profile.plan_for(state, pod, table)
    filters = [plugin for plugin, skip, all_pass in plan.filters
               if (skip is None or not skip(state, pod, table))
               and (all_pass is None or not all_pass(state, pod, table))]
    want = num_feasible_nodes_to_find(n, profile.percentage_of_nodes_to_score)
    if not profile.scores:
        want = 1
    first = start % n if only_rows is None else 0
    # On a large run, compiled loops search and sum (``sim.scheduler.kernels``); they decide as
    # the code below does, which runs on smaller runs and explains.
    if not explain and only_rows is None:
        jit = kernels.active(n)
        if jit is not None:
            return _compiled_cycle(jit, profile, plan, filters, state, pod, table, all_rows, first, want, rng)
    candidates, evaluated = _search(filters, state, pod, table, all_rows, first, want)
    if len(candidates) == 0:
        return _fit_error(profile, state, pod, table, all_rows)
    if len(candidates) == 1:
        return ScheduleResult(int(candidates[0]), evaluated, 1, candidates=candidates, state=state)
    parts: list[np.ndarray] = []  # weighted scores to add up (arrays a plugin may keep: read only)
    per_plugin: dict[str, np.ndarray] = {}
    if explain:  # every plugin scored on its own
        for plugin, weight, skip, _, _ in profile.score_plan():
            if skip is not None and skip(state, pod, table):  # PreScore returned Skip: scores 0
                per_plugin[plugin.name] = np.zeros(len(candidates), dtype=np.int64)
                continue
            scores = plugin.score(state, pod, table, candidates)
            parts.append(scores if weight == 1 else scores * weight)
            per_plugin[plugin.name] = scores * weight
    else:  # the winner alone is wanted: the shortcuts that cannot change it
        row_local, _, rest = _resolve_scores(plan, state, pod, table, spread=False)
        parts = _weighted_scores(rest, state, pod, table, candidates)
        if row_local:
            parts.append(_row_local_total(table, row_local, candidates))
    if not parts:
        total = np.zeros(len(candidates), dtype=np.int64)
    elif len(parts) == 1:
        total = parts[0] if not explain else parts[0].copy()
    else:
        total = _sum(parts)
    best = (total == _MAX(total)).nonzero()[0]
    pick = best[0] if len(best) == 1 else best[int(rng.integers(len(best)))]
    return ScheduleResult(int(candidates[pick]), evaluated, len(candidates),
                          scores=(per_plugin | {"total": total}) if explain else None,
                          candidates=candidates, state=state)


def _fit_error(profile: Profile, state: CycleState, pod: PodInfo, table: NodeTable,
               all_rows: np.ndarray) -> ScheduleResult:
    """No node fits: upstream's FitError, each node's reasons counted and its status code."""
    reasons, codes = diagnose(profile, state, pod, table, all_rows)
    return ScheduleResult(evaluated=len(all_rows), message=fit_error_message(len(all_rows), reasons),
                          reasons=reasons, codes=codes, state=state, rows=all_rows)


def _weighted_scores(plugins: list[tuple[Any, int]], state: CycleState, pod: PodInfo, table: NodeTable,
                     candidates: np.ndarray) -> list[np.ndarray]:
    """Each (plugin, weight)'s scores for ``candidates``, weighted (arrays a plugin may keep: read only)."""
    parts = []
    for plugin, weight in plugins:
        scores = plugin.score(state, pod, table, candidates)
        parts.append(scores if weight == 1 else scores * weight)
    return parts


def _search(filters: list[Any], state: CycleState, pod: PodInfo, table: NodeTable, all_rows: np.ndarray,
            first: int, want: int) -> tuple[np.ndarray, int]:
    """The round-robin search (findNodesThatPassFilters): up to ``want`` feasible rows in order
    from position ``first`` of ``all_rows``, and how many nodes it looked at.

    A node's verdict does not depend on which other nodes are filtered, so the filters run first
    over a window from ``first`` that usually holds enough feasible nodes, and over every node
    only if it does not."""
    n = len(all_rows)
    window = _filter_window(want, n)
    if window < n:
        end = first + window
        rows = all_rows[first:end] if end <= n else np.concatenate((all_rows[first:], all_rows[: end - n]))
        local = _run_filters(filters, state, pod, table, rows).nonzero()[0]
        if len(local) >= want:
            local = local[:want]
            return rows[local], int(local[-1]) + 1
    positions = _run_filters(filters, state, pod, table, all_rows).nonzero()[0]
    if len(positions) == 0:
        return positions, n
    cut = int(positions.searchsorted(first))
    chosen = np.concatenate((positions[cut:], positions[:cut]))[:want] if cut else positions[:want]
    evaluated = (int(chosen[-1]) - first) % n + 1 if len(chosen) == want else n
    return all_rows[chosen], evaluated


def _resolve_scores(plan: _TemplatePlan, state: CycleState, pod: PodInfo, table: NodeTable,
                    spread: bool) -> tuple[list[tuple[Any, Any, int]], tuple[Any, ...] | None, list[tuple[Any, int]]]:
    """The scores a cycle that does not explain must add up, after the shortcuts that cannot
    change the winner: (row-local scores as (key, compute, weight); with ``spread``, the compiled
    sum's PodTopologySpread inputs and weight, or None; the (plugin, weight) left to score)."""
    row_local = list(plan.row_local)
    spread_inputs: tuple[Any, ...] | None = None
    rest: list[tuple[Any, int]] = []
    for plugin, weight, skip, constant, local in plan.scores:
        if skip is not None and skip(state, pod, table):  # PreScore returned Skip: scores 0
            continue
        if constant is not None and constant(state, pod, table) is not None:
            continue  # every node scores the same: no candidate gains on another
        if local is not None:
            hook = local(state, pod, table)
            if hook is not None:  # a node's score depends on its own row alone: summed once
                row_local.append((*hook, weight))
                continue
        if spread and spread_inputs is None and hasattr(plugin, "spread_inputs"):
            inputs = plugin.spread_inputs(state, pod, table)
            if inputs is not None:
                spread_inputs = (*inputs, weight)
                continue
        rest.append((plugin, weight))
    return row_local, spread_inputs, rest


def _compiled_cycle(jit: Any, profile: Profile, plan: _TemplatePlan, filters: list[Any], state: CycleState,
                    pod: PodInfo, table: NodeTable, all_rows: np.ndarray, first: int, want: int,
                    rng: np.random.Generator | BoundedDraws) -> ScheduleResult:
    """The cycle on the compiled loops: one call searches and sums when every filter's verdict is
    a per-row value and every score is row-local or PodTopologySpread's; otherwise the numpy
    search and the other scores feed the compiled sum."""
    row_local, spread, rest = _resolve_scores(plan, state, pod, table, spread=True)
    verdicts, scored = _verdicts_and_scored(plan, filters, row_local, state, pod, table)
    if verdicts is not None:  # one per-row array is the search's mask and the row-local sum
        mask = values = table.row_values(*scored)
        values_weight = 1
    else:  # a filter's verdict needs more than its node's row: the numpy search finds the candidates
        mask = None
        values, values_weight = _row_local_values(table, row_local) if row_local else (_NO_INTS, 0)
    counts, host_skew, ids, sums, skew, spread_weight = spread if spread is not None else _NO_SPREAD
    logs = kernels.log_table(max(want, len(sums)))
    if mask is not None and not rest:
        candidates, evaluated, ties = jit.search_and_select(all_rows, mask, first, want, values, values_weight,
                                                            counts, host_skew, ids, sums, logs, skew, spread_weight)
    else:
        if mask is not None:
            candidates, evaluated = jit.first_feasible(all_rows, mask, first, want)
        else:
            candidates, evaluated = _search(filters, state, pod, table, all_rows, first, want)
        ties = None
        if len(candidates) > 1:
            parts = _weighted_scores(rest, state, pod, table, candidates)
            other = (parts[0] if len(parts) == 1 else _sum(parts)).astype(np.int64, copy=False) if parts \
                else _NO_INTS
            ties = jit.select(candidates, other, values, values_weight, counts, host_skew, ids, sums, logs, skew,
                              spread_weight)
    if len(candidates) == 0:
        return _fit_error(profile, state, pod, table, all_rows)
    if len(candidates) == 1:
        return ScheduleResult(int(candidates[0]), evaluated, 1, candidates=candidates, state=state)
    pick = ties[0] if len(ties) == 1 else ties[int(rng.integers(len(ties)))]
    return ScheduleResult(int(candidates[pick]), evaluated, len(candidates), candidates=candidates, state=state)
