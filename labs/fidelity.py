"""``kubesim fidelity``: run scenarios in the simulator and on a real control plane, and
print how far their scheduling agrees.

Three agreement figures per scenario (see ``labs.compare.placement``):

* **same node** - of the pods bound in both runs, how many went to the same node. Only
  meaningful when the scheduler never has to break a tie (ties are broken at random, in
  both), so only for scenarios built for it, such as ``scenarios/fidelity-placement.yaml``:
  bare Pods with fixed names, one node per size, pods created one at a time.
* **pending identical** - the same pods are left unscheduled at the end.
* **sorted counts identical** - the nodes, ranked by how many pods they hold, hold the same
  numbers (the shape of the packing, whichever node is which).

Disagreement is a finding, not an error: the exit status is non-zero only when a run fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, load_scenario

from labs.compare import Placement, compare, write_compare

__all__ = ["DEFAULT_SCENARIOS", "FidelityRow", "fidelity", "print_table"]

DEFAULT_SCENARIOS = ("scenarios/fidelity-placement.yaml",)


@dataclass
class FidelityRow:
    """One scenario's agreement figures."""

    scenario: str
    placement: Placement
    sim_summary: dict[str, Any]
    real_summary: dict[str, Any]
    differences: list[str]

    def as_dict(self) -> dict[str, Any]:
        p = self.placement
        return {"scenario": self.scenario, "pods_compared": p.compared, "same_node": p.same_node,
                "same_node_fraction": p.same_node_fraction, "pending_identical": p.pending_identical,
                "pending_sim": p.pending_sim, "pending_real": p.pending_real,
                "sorted_counts_identical": p.counts_identical,
                "sorted_counts_sim": p.sorted_counts[0], "sorted_counts_real": p.sorted_counts[1],
                "startup_p50_sim_s": self.sim_summary.get("pod_startup_p50_s"),
                "startup_p50_real_s": self.real_summary.get("pod_startup_p50_s"),
                "differences": self.differences}


def fidelity(scenarios: list[str | Path | Scenario], context: str, allow_context: str | None = None,
             kubeconfig: str | Path | None = None, idle: float | None = 3.0, until: float | None = None,
             out: str | Path | None = None, log: Callable[[str], None] | None = None) -> list[FidelityRow]:
    """Simulate and replay each scenario; returns one ``FidelityRow`` each.

    With ``out``, each scenario gets ``out/<name>/{sim,real}/`` (the two runs' outputs) and
    ``out/<name>/compare.{md,json,png}``."""
    from sim.engine import Simulation
    from sim.report import write_outputs

    from labs.replay import replay

    rows = []
    for item in scenarios:
        scenario = item if isinstance(item, Scenario) else load_scenario(item)
        sim = Simulation(scenario).run()
        kwargs: dict[str, Any] = {"allow_context": allow_context, "until": until, "idle": idle,
                                  "kubeconfig": kubeconfig}
        if log is not None:
            kwargs["log"] = log
        base = Path(out) / scenario.name if out is not None else None
        real = replay(scenario, context, out=base / "real" if base else None, **kwargs)
        result = compare(sim.trace, real.trace)
        if base is not None:
            write_outputs(base / "sim", sim.trace, sim.summary, scenario.description, [],
                          scenario.outputs.timeline_pods, scenario.outputs.metrics)
            write_compare(base, sim.trace, real.trace, result)
        rows.append(FidelityRow(scenario.name, result.placement, sim.summary, real.summary, result.differences))
    return rows


def print_table(rows: list[FidelityRow], context: str) -> None:
    """The agreement figures as a terminal table, then each scenario's named differences."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"kubesim fidelity: simulator vs {context}")
    for col in ("scenario", "pods", "same node", "pending identical", "sorted counts identical",
                "startup p50 sim / real"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for row in rows:
        p = row.placement
        frac = p.same_node_fraction
        same = f"{p.same_node}/{p.compared} ({frac:.0%})" if frac is not None else "–"
        p50s, p50r = row.sim_summary.get("pod_startup_p50_s"), row.real_summary.get("pod_startup_p50_s")
        p50 = f"{p50s:.2f} s / {p50r:.2f} s" if p50s is not None and p50r is not None else "–"
        table.add_row(row.scenario, f"{row.sim_summary.get('pods_created')} / {row.real_summary.get('pods_created')}",
                      same, "yes" if p.pending_identical else "no", "yes" if p.counts_identical else "no", p50)
    console = Console(width=140)
    console.print(table)
    for row in rows:
        for line in row.differences:
            console.print(f"  {row.scenario}: {line}", highlight=False)
