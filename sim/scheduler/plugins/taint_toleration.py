"""TaintToleration: models pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go.

Filter: a node passes if the pod tolerates every NoSchedule and NoExecute taint; the
reason names the first untolerated taint. Score: fewer intolerable PreferNoSchedule taints
is better (reverse-normalised). Both run once per taint signature, not per node.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.api.objects import Taint, Toleration
from sim.scheduler.framework import MAX_NODE_SCORE, Code, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.helpers import default_normalize_score
from sim.scheduler.plugins.names import TAINT_TOLERATION

__all__ = ["TaintToleration", "first_untolerated"]


def first_untolerated(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...],
                      effects: tuple[str, ...]) -> Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    for taint in taints:
        if taint.effect in effects and not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


# Per table, (spec, result) by id(spec): pods of one template share their spec, and the verdict
# per taint signature depends only on the spec's tolerations and the signatures so far.
_BY_SPEC: weakref.WeakKeyDictionary[NodeTable, dict[int, tuple[Any, tuple[np.ndarray, list[str]]]]] = \
    weakref.WeakKeyDictionary()


def _per_signature(pod: PodInfo, table: NodeTable) -> tuple[np.ndarray, list[str]]:
    """Per taint signature, whether the pod tolerates its NoSchedule/NoExecute taints, and the
    reason text where not (kept per spec while the signatures stay the same)."""
    spec = pod.pod.spec
    last = _LAST_VERDICTS[0]  # consecutive pods of one template
    if last is not None and last[0] is table and last[1] is spec and len(last[2][1]) == len(table.sig_taints):
        return last[2]
    by_spec = _BY_SPEC.get(table)
    if by_spec is None:
        by_spec = _BY_SPEC[table] = {}
    shared = by_spec.get(id(spec))
    if shared is not None and shared[0] is spec and len(shared[1][1]) == len(table.sig_taints):
        cached = shared[1]
    else:
        ok, texts = [], []
        for taints in table.sig_taints:
            bad = first_untolerated(taints, spec.tolerations, ("NoSchedule", "NoExecute"))
            ok.append(bad is None)
            texts.append("" if bad is None else f"node(s) had untolerated taint {{{bad.key}: {bad.value}}}")
        cached = (np.array(ok, dtype=bool), texts)
        if len(by_spec) > 1024:
            by_spec.clear()
        by_spec[id(spec)] = (spec, cached)
    _LAST_VERDICTS[0] = (table, spec, cached)
    return cached


_LAST_VERDICTS: list[tuple[Any, Any, tuple[np.ndarray, list[str]]] | None] = [None]


_ROWS_BY_VERDICT: weakref.WeakKeyDictionary[NodeTable, dict[int, tuple[np.ndarray, int, np.ndarray]]] = \
    weakref.WeakKeyDictionary()
_PREFERRED_BY_SPEC: weakref.WeakKeyDictionary[NodeTable, dict[int, tuple[Any, np.ndarray]]] = \
    weakref.WeakKeyDictionary()


def _intolerable_preferred(pod: PodInfo, table: NodeTable) -> np.ndarray:
    """Per taint signature: how many PreferNoSchedule taints the pod does not tolerate (kept per
    spec while the signatures stay the same)."""
    spec = pod.pod.spec
    last = _LAST_PREFERRED[0]
    if last is not None and last[0] is table and last[1] is spec and last[2] == len(table.sig_taints):
        return last[3]
    counts = _preferred_counts(pod, table)
    _LAST_PREFERRED[0] = (table, spec, len(table.sig_taints), counts)
    return counts


_LAST_PREFERRED: list[tuple[Any, Any, int, np.ndarray] | None] = [None]  # consecutive pods of one template


def _preferred_counts(pod: PodInfo, table: NodeTable) -> np.ndarray:
    spec = pod.pod.spec
    by_spec = _PREFERRED_BY_SPEC.get(table)
    if by_spec is None:
        by_spec = _PREFERRED_BY_SPEC[table] = {}
    cached = by_spec.get(id(spec))
    if cached is not None and cached[0] is spec and len(cached[1]) == len(table.sig_taints):
        return cached[1]
    prefer = tuple(t for t in spec.tolerations if t.effect in ("", "PreferNoSchedule"))
    counts = np.array([
        sum(1 for taint in taints if taint.effect == "PreferNoSchedule"
            and not any(t.tolerates(taint) for t in prefer))
        for taints in table.sig_taints], dtype=np.int64)
    if len(by_spec) > 1024:
        by_spec.clear()
    by_spec[id(spec)] = (spec, counts)
    return counts


_FULL_SCORES: dict[int, np.ndarray] = {}


def _full_score(n: int) -> np.ndarray:
    """``n`` scores of MAX_NODE_SCORE, shared (read-only)."""
    full = _FULL_SCORES.get(n)
    if full is None:
        if len(_FULL_SCORES) > 64:
            _FULL_SCORES.clear()
        full = _FULL_SCORES[n] = np.full(n, MAX_NODE_SCORE, dtype=np.int64)
        full.flags.writeable = False
    return full


@dataclass
class TaintToleration:
    """Filter + Score plugin (default score weight 3)."""

    name: str = TAINT_TOLERATION
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    _all_ok: tuple[np.ndarray, bool] | None = field(default=None, repr=False, compare=False)
    _any_preferred: tuple[np.ndarray, bool] | None = field(default=None, repr=False, compare=False)

    def all_pass(self, state: CycleState, pod: PodInfo, table: NodeTable) -> bool:
        """The pod tolerates every taint signature's NoSchedule/NoExecute taints."""
        ok, _ = _per_signature(pod, table)
        last = self._all_ok
        if last is None or last[0] is not ok:  # the verdicts are shared by a template's pods
            last = self._all_ok = (ok, bool(ok.all()))
        return last[1]

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        ok, _ = _per_signature(pod, table)
        # per node row, kept with the verdicts (one per template) until the node table changes
        by_verdict = _ROWS_BY_VERDICT.get(table)
        if by_verdict is None:
            by_verdict = _ROWS_BY_VERDICT[table] = {}
        per_row = by_verdict.get(id(ok))
        if per_row is None or per_row[0] is not ok or per_row[1] != table.version or len(per_row[2]) != table.n:
            if len(by_verdict) > 1024:
                by_verdict.clear()
            per_row = by_verdict[id(ok)] = (ok, table.version, ok[table.taint_sig[: table.n]])
        return table.take(per_row[2], rows)

    def reasons(self, state: CycleState, pod: PodInfo, table: NodeTable,
                rows: np.ndarray) -> list[tuple[str, np.ndarray, Code]]:
        _, texts = _per_signature(pod, table)
        sigs = table.taint_sig[rows]
        return [(texts[s], sigs == s, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
                for s in sorted(set(sigs.tolist())) if texts[s]]

    def constant_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> int | None:
        """MAX_NODE_SCORE when no node has a PreferNoSchedule taint the pod does not tolerate."""
        counts = _intolerable_preferred(pod, table)
        last = self._any_preferred
        if last is None or last[0] is not counts:  # the counts are shared by a template's pods
            last = self._any_preferred = (counts, bool(counts.any()))
        return None if last[1] else MAX_NODE_SCORE

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        counts = _intolerable_preferred(pod, table)
        if self.constant_score(state, pod, table) is not None:  # every node scores 100
            return _full_score(len(rows))
        return default_normalize_score(counts[table.taint_sig[rows]], reverse=True)
