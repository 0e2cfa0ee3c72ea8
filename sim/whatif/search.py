"""Capacity search: the cheapest configuration that meets every requirement.

Two strategies, chosen per axis:

* **Bisection over a monotone axis.** Adding nodes to a pool never makes a pod *more*
  pending and never makes the cluster cheaper, so along ``cluster.nodePools.<pool>.count``
  feasibility flips once, from fails to meets, and the first value that meets is the cheapest.
  Bisection finds it in ``log2(n) + 1`` evaluations instead of ``n``. Other axes can be
  declared monotone with ``monotone=[path]`` (``--monotone PATH``) when the same holds.
  The remaining axes are enumerated, and every combination bisects in lockstep, so one
  round's probes run in parallel.
* **Budgeted search otherwise.** When the grid fits in ``budget`` configurations, all are
  evaluated; if not, a seeded random half of the budget is evaluated, then the search climbs
  from the best configuration found to its untried grid neighbours until the budget is spent.
  This answer may not be the cheapest; the explanation says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.whatif.answer import Candidate, PlanResult
from sim.whatif.requirements import Requirement, parse_requirement
from sim.whatif.space import Axis, Point, axes_of
from sim.whatif.study import Study, write_tables

__all__ = ["MONOTONE", "plan"]

MONOTONE = re.compile(r"^cluster\.nodePools\.[^.]+\.count$")
"""Paths assumed monotone without being told: more nodes never hurt and never cost less."""

DEFAULT_BUDGET = 64


class _Search:
    """Evaluates configurations once each (memoised), keeping their requirement checks."""

    def __init__(self, study: Study, axes: list[Axis], requirements: list[Requirement], minimize: str) -> None:
        self.study, self.axes, self.requirements, self.minimize = study, axes, requirements, minimize
        self.values = [a.grid_values() for a in axes]
        self.memo: dict[tuple[int, ...], Candidate] = {}
        self.order: list[tuple[int, ...]] = []
        self.metrics = sorted({r.metric for r in requirements} | {minimize})
        self.runs: list[Any] = []
        self.tables: list[Any] = []

    def point(self, index: tuple[int, ...]) -> Point:
        return {a.path: self.values[i][j] for i, (a, j) in enumerate(zip(self.axes, index, strict=True))}

    def evaluate(self, indices: Sequence[tuple[int, ...]]) -> list[Candidate]:
        """Candidates at these grid indices, running (in one parallel batch) those not yet seen."""
        new = list(dict.fromkeys(i for i in indices if i not in self.memo))
        if new:
            runs, table = self.study.evaluate([self.point(i) for i in new], self.metrics)
            runs["point"] += len(self.order)  # number configurations in evaluation order
            self.runs.append(runs)
            self.tables.append(table)
            for index, row in zip(new, table.to_dict("records"), strict=True):
                checks = tuple(r.check(row, self.study.confidence) for r in self.requirements)
                objective = float(row[f"{self.minimize}_mean"])
                self.memo[index] = Candidate(self.point(index), row, checks,
                                             math.inf if math.isnan(objective) else objective)
                self.order.append(index)
        return [self.memo[i] for i in indices]

    def best(self) -> tuple[tuple[int, ...], Candidate] | None:
        feasible = [(i, c) for i, c in self.memo.items() if c.feasible]
        return min(feasible, key=lambda ic: (ic[1].objective, ic[0])) if feasible else None


def _bisect_all(search: _Search, mono: int, combos: list[tuple[int, ...]]) -> None:
    """For every combination of the other axes, the smallest feasible index on axis ``mono``."""
    top = len(search.values[mono]) - 1

    def at(combo: tuple[int, ...], j: int) -> tuple[int, ...]:
        return (*combo[:mono], j, *combo[mono:])

    tops = search.evaluate([at(c, top) for c in combos])
    state = {c: [-1, top] for c, cand in zip(combos, tops, strict=True) if cand.feasible}  # (fails, meets)
    while any(hi - lo > 1 for lo, hi in state.values()):
        probes = {c: (lo + hi) // 2 for c, (lo, hi) in state.items() if hi - lo > 1}
        results = search.evaluate([at(c, j) for c, j in probes.items()])
        for (combo, j), cand in zip(probes.items(), results, strict=True):
            state[combo][1 if cand.feasible else 0] = j


def _budgeted(search: _Search, budget: int, seed: int) -> None:
    """Random half of the budget, then climb to untried neighbours of the best so far."""
    shape = [len(v) for v in search.values]
    everything = [tuple(int(x) for x in i) for i in np.ndindex(*shape)]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x91A7,)))
    first = rng.choice(len(everything), size=max(1, budget // 2), replace=False)
    search.evaluate([everything[i] for i in sorted(first)])
    while len(search.memo) < budget:
        anchor = search.best() or (min(search.memo.items(), key=lambda ic: (len(ic[1].failed), ic[0])))
        untried = [n for n in _neighbours(anchor[0], shape) if n not in search.memo]
        if not untried:
            rest = [i for i in everything if i not in search.memo]
            if not rest:
                break
            untried = [rest[int(rng.integers(len(rest)))]]
        search.evaluate(untried[: budget - len(search.memo)])


def _neighbours(index: tuple[int, ...], shape: Sequence[int], monotone: int | None = None) -> list[tuple[int, ...]]:
    """Grid neighbours one step away on each axis (only the cheaper side of a monotone axis)."""
    out = []
    for axis in range(len(index)):
        for step in (-1, 1):
            j = index[axis] + step
            if 0 <= j < shape[axis] and not (axis == monotone and step > 0):
                out.append((*index[:axis], j, *index[axis + 1:]))
    return out


def plan(scenario: str | Path, vary: Mapping[str, Any] | Sequence[str], require: Sequence[str | Requirement],
         minimize: str = "cost_per_hour", *, confidence: float = 0.95, replications: int = 3,
         jobs: int | None = None, out: str | Path | None = None, sets: Sequence[str] = (),
         seed: int | None = None, budget: int = DEFAULT_BUDGET, monotone: Sequence[str] = (),
         progress: bool | None = None) -> PlanResult:
    """The cheapest configuration of the ``vary`` grid meeting every requirement.

    Args:
        require: ``"pods_pending_at_end == 0"``, ``"pod_ready_p99_s < 2m"``, ...
        minimize: the summary figure to minimise (its mean over the replications).
        confidence: each requirement must hold at this one-sided confidence.
        replications: runs per configuration (at least 2, to state a confidence).
        budget: most configurations to evaluate when no axis is monotone.
        monotone: extra paths along which more never hurts (node pool counts already are).
    """
    if replications < 2:
        raise ValueError("plan needs at least 2 replications to state a confidence")
    requirements = [r if isinstance(r, Requirement) else parse_requirement(r) for r in require]
    parse_requirement(f"{minimize} >= 0")  # the objective must be a known metric too
    axes = axes_of(vary)
    unknown = sorted(set(monotone) - {a.path for a in axes})
    if unknown:
        raise ValueError(f"--monotone {unknown[0]} is not one of the --vary paths")
    with Study(scenario, sets, replications, seed, out, jobs, confidence, progress) as study:
        return _plan(study, axes, requirements, minimize, budget, monotone)


def _plan(study: Study, axes: list[Axis], requirements: list[Requirement], minimize: str, budget: int,
          monotone: Sequence[str]) -> PlanResult:
    mono = next((i for i, a in enumerate(axes) if MONOTONE.match(a.path) or a.path in monotone), None)
    if mono is not None:
        axes[mono] = Axis(axes[mono].path, tuple(sorted(axes[mono].grid_values(), key=_number)))
    search = _Search(study, axes, requirements, minimize)
    shape = [len(v) for v in search.values]
    size = math.prod(shape)
    method = _search(search, mono, shape, budget, study.seed)
    best = search.best()
    neighbours: list[Candidate] = []
    if best is not None:
        cheaper = search.evaluate(_neighbours(best[0], shape, mono))
        neighbours = [c for c in cheaper if not c.feasible and c.objective <= best[1].objective]
    result = PlanResult(best[1] if best else None, requirements, minimize, study.confidence, len(study.seeds),
                        method, size,
                        [search.memo[i] for i in search.order], neighbours, study.ran)
    _write(study, search, result)
    return result


def _search(search: _Search, mono: int | None, shape: list[int], budget: int, seed: int) -> str:
    """Run the search; return how it was done, in words."""
    size = math.prod(shape)
    if mono is not None:
        path = search.axes[mono].path
        combos = [tuple(int(x) for x in c) for c in np.ndindex(*[s for k, s in enumerate(shape) if k != mono])]
        per_combo = math.ceil(math.log2(max(shape[mono], 2))) + 1
        if len(combos) * per_combo > budget:
            keep = max(1, budget // per_combo)
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x91A8,)))
            combos = [combos[i] for i in sorted(rng.choice(len(combos), size=keep, replace=False))]
            how = f"bisection over {path} (monotone) for {keep} random combinations of the other axes (budget)"
        else:
            how = f"bisection over {path} (monotone: more never hurts)" + \
                  (f" for each of {len(combos)} combinations of the other axes" if len(combos) > 1 else "")
        _bisect_all(search, mono, combos)
        return how
    if size <= budget:
        search.evaluate([tuple(int(x) for x in i) for i in np.ndindex(*shape)])
        return "exhaustive (no monotone axis)"
    _budgeted(search, budget, seed)
    return f"budgeted search (no monotone axis, {size} configurations > budget {budget}): may miss the cheapest"


def _write(study: Study, search: _Search, result: PlanResult) -> None:
    """``plan.csv|parquet`` (evaluated configurations), ``runs.*`` and ``plan.txt``."""
    import pandas as pd

    runs = pd.concat(search.runs, ignore_index=True) if search.runs else pd.DataFrame()
    spec = {"scenario": study.scenario, "sets": list(study.sets), "require": [r.text for r in result.requirements],
            "minimize": result.minimize, "confidence": result.confidence, "replications": result.replications,
            "seed": study.seed, "method": result.method}
    write_tables(study.out, "plan", runs, result.to_frame(), spec)
    (study.out / "plan.txt").write_text(result.explain() + "\n")


def _number(value: Any) -> float:
    """Sort key for a monotone axis: numbers as numbers, ``8Gi``-like values by their digits."""
    if isinstance(value, int | float):
        return float(value)
    match = re.match(r"-?\d+(\.\d*)?", str(value))
    return float(match.group()) if match else math.inf

