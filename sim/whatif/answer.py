"""The answer of ``kubesim plan``: the configuration chosen, why, and what just misses.

An answer a capacity planner can check: the cheapest configuration meeting every
requirement, each requirement's figure against its limit, the *binding* constraint (the one
the cheaper neighbours fail), those neighbours with what they fail, and how the search went.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.whatif.requirements import Check, Requirement
from sim.whatif.space import Point

__all__ = ["Candidate", "PlanResult"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One evaluated configuration with its requirement checks and objective."""

    point: Point
    row: dict[str, Any]
    checks: tuple[Check, ...]
    objective: float

    @property
    def feasible(self) -> bool:
        """Every requirement met."""
        return all(c.met for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        """The requirements not met here."""
        return [c for c in self.checks if not c.met]

    def label(self) -> str:
        """``cluster.nodePools.gpu.count=2, ...``."""
        return ", ".join(f"{k}={v}" for k, v in self.point.items())


@dataclass
class PlanResult:
    """What ``sim.whatif.plan`` found; ``explain()`` says it in words."""

    best: Candidate | None
    requirements: list[Requirement]
    minimize: str
    confidence: float
    replications: int
    method: str
    space_size: int
    evaluated: list[Candidate] = field(default_factory=list)
    neighbours: list[Candidate] = field(default_factory=list)
    runs_simulated: int = 0

    @property
    def binding(self) -> Requirement | None:
        """The requirement the cheaper neighbours fail most (else the tightest one at the answer)."""
        counts = Counter(c.requirement.text for n in self.neighbours for c in n.failed)
        if counts:
            text = counts.most_common(1)[0][0]
            return next(r for r in self.requirements if r.text == text)
        if self.best is None or not self.best.checks:
            return None
        return min(self.best.checks, key=lambda c: _relative(c)).requirement

    def to_frame(self) -> pd.DataFrame:
        """Every evaluated configuration: parameters, objective, feasibility, per-requirement figure."""
        rows = []
        for cand in self.evaluated:
            row: dict[str, Any] = {**cand.point, self.minimize: cand.objective, "feasible": cand.feasible,
                                   "chosen": cand is self.best}
            row.update({f"{c.requirement.text} [figure]": c.figure for c in cand.checks})
            rows.append(row)
        return pd.DataFrame(rows)

    def explain(self) -> str:
        """The answer, its binding constraint, the neighbours that just fail, and the search."""
        lines = self._answer_lines() if self.best else self._no_answer_lines()
        lines += ["", f"Search: {self.method}; {len(self.evaluated)} of {self.space_size} configurations "
                      f"evaluated, {self.replications} runs each ({self.runs_simulated} simulated, the rest "
                      "from the cache)."]
        return "\n".join(lines)

    def _answer_lines(self) -> list[str]:
        best = self.best
        assert best is not None
        pct = f"{self.confidence:.0%}"
        lines = [f"Cheapest configuration meeting every requirement ({pct} confidence, "
                 f"{self.replications} runs each):"]
        lines += [f"  {k} = {v}" for k, v in best.point.items()]
        lines += [f"  {self.minimize} = {best.objective:.6g} (mean)", "", "Requirements there:"]
        lines += [f"  {c.describe()}" for c in best.checks]
        binding = self.binding
        lines.append("")
        if self.neighbours and binding is not None:
            lines.append(f"Binding constraint: {binding.text} (the cheaper neighbours fail it):")
            for cand in self.neighbours:
                fails = "; ".join(c.describe() for c in cand.failed)
                lines.append(f"  {cand.label()}: {fails}")
        elif binding is not None:
            lines.append(f"No cheaper neighbour in the range fails; closest to its limit: {binding.text}. "
                         "The range itself may bind: try smaller values.")
        return lines

    def _no_answer_lines(self) -> list[str]:
        lines = ["No evaluated configuration meets every requirement "
                 f"({self.confidence:.0%} confidence, {self.replications} runs each)."]
        if self.evaluated:
            closest = min(self.evaluated, key=lambda c: (len(c.failed), -min(_relative(k) for k in c.checks)))
            lines.append(f"Closest: {closest.label()}:")
            lines += [f"  {c.describe()}" for c in closest.checks]
            lines.append("Widen the ranges (e.g. more nodes) or relax a requirement.")
        return lines


def _relative(check: Check) -> float:
    """Margin relative to the limit (so seconds and counts compare)."""
    if math.isnan(check.margin):
        return -math.inf
    scale = abs(check.requirement.limit) or 1.0
    return check.margin / scale
