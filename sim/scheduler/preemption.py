"""DefaultPreemption (PostFilter): models pkg/scheduler/framework/plugins/defaultpreemption/
default_preemption.go and pkg/scheduler/framework/preemption/preemption.go.

When a pod fits nowhere, look for nodes where evicting lower-priority pods would make room:
only nodes whose failure could be resolved (Unschedulable, not UnschedulableAndUnresolvable)
are tried, from a random offset, until enough candidates are found. On each, all
lower-priority pods are removed, then re-admitted most important first (those whose
eviction would violate a PodDisruptionBudget first, judged by the PDB's status as the
disruption controller writes it) as long as the pod still fits; the rest are the victims.
One node is picked by successive tie-breaks, its victims get the DisruptionTarget condition
and are then deleted through the API server with their grace period, and the pod is
nominated to the node.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.api.objects import Pod, PodDisruptionBudget
from sim.controllers.disruption import pdb_selects
from sim.scheduler.framework import Code, CycleState, PodInfo, ScheduleResult, diagnose
from sim.scheduler.nodetable import NodeTable, PodEntry
from sim.scheduler.plugins.args import ArgsModel
from sim.scheduler.plugins.names import DEFAULT_PREEMPTION

__all__ = ["Candidate", "DefaultPreemption", "DefaultPreemptionArgs", "num_candidates", "pick_one_node"]

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_PRIORITY_OFFSET = 2**31  # sums are taken over priority + MaxInt32 + 1, so negatives still compare


class DefaultPreemptionArgs(ArgsModel):
    """Args of DefaultPreemption (defaults 10% / 100 nodes)."""

    min_candidate_nodes_percentage: int = 10
    min_candidate_nodes_absolute: int = 100


@dataclass(slots=True)
class Candidate:
    """A node where preemption would work, with the victims it needs."""

    row: int
    victims: list[PodEntry]
    pdb_violations: int


def num_candidates(num_nodes: int, percentage: int = 10, absolute: int = 100) -> int:
    """How many candidate nodes the dry run looks for."""
    n = num_nodes * percentage // 100
    return min(num_nodes, max(n, absolute))


def _more_important(entry: PodEntry) -> tuple[int, float]:
    """Sort key: higher priority first, then the pod that started earlier."""
    start = entry.pod.start_time if entry.pod.start_time is not None else float("inf")
    return (-entry.pod.spec.priority, start)


def pick_one_node(candidates: list[Candidate]) -> Candidate:
    """Upstream's tie-breaks: fewest PDB violations, lowest highest-victim priority, smallest
    priority sum, fewest victims, latest start among the highest-priority victims, first."""
    def highest(c: Candidate) -> int:
        return max((v.pod.spec.priority for v in c.victims), default=-_PRIORITY_OFFSET)

    def earliest_top_start(c: Candidate) -> float:
        top = highest(c)
        starts = [v.pod.start_time or 0.0 for v in c.victims if v.pod.spec.priority == top]
        return min(starts, default=0.0)

    keys = [
        lambda c: c.pdb_violations,
        highest,
        lambda c: sum(v.pod.spec.priority + _PRIORITY_OFFSET for v in c.victims),
        lambda c: len(c.victims),
        lambda c: -earliest_top_start(c),
    ]
    remaining = candidates
    for key in keys:
        best = min(key(c) for c in remaining)
        remaining = [c for c in remaining if key(c) == best]
        if len(remaining) == 1:
            break
    return remaining[0]


class DefaultPreemption:
    """PostFilter plugin; needs the framework handle (the Scheduler)."""

    name = DEFAULT_PREEMPTION

    def __init__(self, args: DefaultPreemptionArgs | None = None) -> None:
        self.args = args or DefaultPreemptionArgs()
        self.handle: Any = None

    def bind_handle(self, handle: Any) -> None:
        """Receive the scheduler (cache, API client, profiles, RNG)."""
        self.handle = handle

    # ------------------------------------------------------------------ PostFilter
    def post_filter(self, state: CycleState, pod: PodInfo,
                    result: ScheduleResult) -> Generator[Any, Any, tuple[int | None, str]]:
        """Try to make room; returns (nominated row or None, message suffix)."""
        if False:  # pragma: no cover - a generator, so a time cost can be yielded later
            yield
        eligible, why = self._eligible(pod.pod)
        if not eligible:
            return None, f"preemption: {why}"
        table: NodeTable = self.handle.table
        # The cycle's own node list: nodes may have joined or left while it ran.
        rows = result.rows if result.rows is not None else np.flatnonzero(table.present[: table.n])
        codes = result.codes if result.codes is not None else np.zeros(len(rows), dtype=np.int8)
        potential = rows[(codes == int(Code.UNSCHEDULABLE)) & table.present[rows]]
        reasons: dict[str, int] = {}
        not_helpful = len(rows) - len(potential)
        if not_helpful:
            reasons[NOT_HELPFUL] = not_helpful
        candidates = self._dry_run(state, pod, potential, reasons)
        if not candidates:
            parts = ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
            return None, f"preemption: 0/{len(rows)} nodes are available: {parts}."
        chosen = pick_one_node(candidates)
        self._prepare(pod.pod, chosen)
        return chosen.row, ""

    def _eligible(self, pod: Pod) -> tuple[bool, str]:
        if pod.spec.preemption_policy == "Never":
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = self.handle.table.index.get(pod.nominated_node_name) if pod.nominated_node_name else None
        if nominated is not None:
            for entry in self.handle.table.pods_on[nominated].values():
                if entry.pod.terminating and entry.pod.spec.priority < pod.spec.priority:
                    return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    # ------------------------------------------------------------------ dry run
    def _dry_run(self, state: CycleState, pod: PodInfo, potential: np.ndarray,
                 reasons: dict[str, int]) -> list[Candidate]:
        if len(potential) == 0:
            return []
        table: NodeTable = self.handle.table
        want = num_candidates(len(potential), self.args.min_candidate_nodes_percentage,
                              self.args.min_candidate_nodes_absolute)
        offset = int(self.handle.rng.integers(len(potential)))
        pdbs = self._pdb_budgets()
        candidates: list[Candidate] = []
        violating_found = 0
        for row in np.roll(potential, -offset).tolist():
            candidate = self._select_victims(state, pod, table, row, pdbs, reasons)
            if candidate is None:
                continue
            candidates.append(candidate)
            violating_found += candidate.pdb_violations > 0
            if len(candidates) - violating_found > 0 and len(candidates) >= want:
                break
        return candidates

    def _fits(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> bool:
        rows = np.array([row])
        profile = self.handle.profiles[pod.pod.spec.scheduler_name]
        return all(bool(plugin.filter(state, pod, table, rows)[0]) for plugin in profile.filters)

    def _select_victims(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int,
                        pdbs: list[tuple[PodDisruptionBudget, int]], reasons: dict[str, int]) -> Candidate | None:
        lower = [e for e in table.pods_on[row].values()
                 if e.pod.spec.priority < pod.pod.spec.priority and not e.pod.terminating]
        if not lower:
            reasons[NO_VICTIMS] = reasons.get(NO_VICTIMS, 0) + 1
            return None
        for entry in lower:
            table.forget(entry)
        # pods already nominated here (e.g. an earlier preemptor) keep the room they were promised
        held = self.handle.hold_nominated(pod.pod, row)
        try:
            if not self._fits(state, pod, table, row):
                profile = self.handle.profiles[pod.pod.spec.scheduler_name]
                counts, _ = diagnose(profile, state, pod, table, np.array([row]))
                for reason, n in counts.items():
                    reasons[reason] = reasons.get(reason, 0) + n
                return None
            lower.sort(key=_more_important)
            violating, safe = self._split_by_pdb(lower, pdbs)
            victims: list[PodEntry] = []
            violations = 0
            for group, violates in ((violating, True), (safe, False)):
                for entry in group:
                    readded = table.assume(row, entry.pod, entry.request, entry.nonzero)
                    if self._fits(state, pod, table, row):
                        continue
                    table.forget(readded)
                    victims.append(entry)
                    violations += violates
            return Candidate(row, victims, violations)
        finally:
            for entry in held:
                table.forget(entry)
            on_node = table.pods_on[row]
            for entry in lower:
                if entry.pod.meta.uid not in on_node:
                    table.assume(row, entry.pod, entry.request, entry.nonzero)

    # ------------------------------------------------------------------ PDBs
    def _pdb_budgets(self) -> list[tuple[PodDisruptionBudget, int]]:
        """(PDB, status.disruptionsAllowed), as the disruption controller last wrote it."""
        return [(pdb, pdb.disruptions_allowed) for pdb in self.handle.api.store.list("PodDisruptionBudget")]

    @staticmethod
    def _split_by_pdb(victims: list[PodEntry],
                      pdbs: list[tuple[PodDisruptionBudget, int]]) -> tuple[list[PodEntry], list[PodEntry]]:
        """filterPodsWithPDBViolation: a victim counts against each PDB selecting it, unless the
        API server already approved its disruption (it is in the PDB's disruptedPods)."""
        allowed = [budget for _, budget in pdbs]
        violating, safe = [], []
        for entry in victims:
            violates = False
            for i, (pdb, _) in enumerate(pdbs):
                if pdb_selects(pdb, entry.pod) and entry.pod.meta.name not in pdb.disrupted_pods:
                    allowed[i] -= 1
                    violates |= allowed[i] < 0
            (violating if violates else safe).append(entry)
        return violating, safe

    # ------------------------------------------------------------------ act
    def _prepare(self, preemptor: Pod, chosen: Candidate) -> None:
        handle = self.handle
        node = handle.table.names[chosen.row]
        for entry in chosen.victims:
            victim = entry.pod
            handle.trace.record(handle.env.now, "Pod", victim.meta.namespace, victim.meta.name, "preempted",
                                node, "Preempted", f"Preempted by pod {preemptor.meta.namespace}/"
                                f"{preemptor.meta.name} on node {node}")
            # DisruptionTarget first (a Job's podFailurePolicy can Ignore it), then the delete
            handle.api.update(handle.client, victim, _disruption_target,
                              on_done=lambda _ok, v=victim: handle.api.delete(handle.client, v))
        for other_uid, other_row in list(handle.nominated.items()):
            other = handle.api.store.by_uid(other_uid)
            if other_row == chosen.row and other is not None and other.spec.priority < preemptor.spec.priority:
                handle.clear_nomination(other)
        handle.nominate(preemptor, chosen.row)


def _disruption_target(pod: Pod) -> None:
    """Condition DisruptionTarget=True (reason PreemptionByScheduler) on a victim."""
    pod.conditions = {**pod.conditions, "DisruptionTarget": "True"}
