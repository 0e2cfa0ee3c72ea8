"""The real-control-plane column of ``make bench``: the same start-up scenario replayed on
the kwok-kubesim control plane, next to the simulator.

For each benchmark marked ``real`` in ``sim.bench.BENCHMARKS`` it reports

* the simulator's wall time (from the simulation-only row) and the real replay's wall time
  from t = 0 until the last pod was Ready (node registration and clean-up excluded; they
  are reported separately as ``real_total_s``),
* their ratio - how much faster the model replays what the cluster does,
* when the last pod was Ready in simulated and in real time, and startup p50/p99 of both,
  plus those of the simulator with a KWOK-like kubelet (no sandbox or container start, a
  1 ms PLEG relist): KWOK's stages mark a pod Running as soon as it is bound, so the real
  run's startup latency is the control plane's alone, and that is what the KWOK-like
  simulation isolates.

No cluster reachable is not an error: the row says why it was skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["measure_real", "print_side_by_side"]


def _last_ready(trace: Any) -> float | None:
    pods = trace.pods_frame()
    ready = pods["ready"].dropna().to_numpy(dtype=float) if len(pods) else np.zeros(0)
    return round(float(ready.max()), 3) if len(ready) else None


def kwok_like_overrides(scenario: Any) -> list[str]:
    """``--set`` overrides that make the simulated kubelet start pods as KWOK does: at once."""
    overrides = ["controlPlane.kubelet.sandboxStart={dist: constant, value: 0}",
                 "controlPlane.kubelet.plegRelistPeriod=1ms"]
    overrides += [f"workloads.{w.name}.behavior.containerStart={{dist: constant, value: 0}}"
                  for w in scenario.workloads]
    return overrides


def measure_real(bench: Any, sim_row: dict[str, Any], context: str = "kwok-kubesim") -> dict[str, Any]:
    """Replay ``bench.scenario`` on ``context``; a row with both sides (or why it was skipped)."""
    from sim.engine import Simulation
    from sim.scenario import load_scenario

    from labs.cluster import LabError, connect
    from labs.replay import replay

    row: dict[str, Any] = {"name": bench.name, "note": bench.note, "sim_wall_s": sim_row.get("wall_time_s")}
    try:
        connect(context, timeout=3)
    except LabError as exc:
        return {**row, "skipped": str(exc)}
    scenario = load_scenario(bench.scenario)
    sim = Simulation(scenario).run()
    kwok_like = Simulation(load_scenario(bench.scenario, kwok_like_overrides(scenario))).run()
    real = replay(scenario, context, idle=5.0, log=lambda _: None)
    real_wall = _last_ready(real.trace)
    row.update({
        "context": context, "kubernetes_version": real.summary["kubernetes_version"],
        "real_wall_s": real_wall, "real_total_s": real.summary["wall_time_s"],
        "ratio": round(real_wall / row["sim_wall_s"], 1) if real_wall and row["sim_wall_s"] else None,
        "sim_all_ready_s": _last_ready(sim.trace), "real_all_ready_s": real_wall,
        "sim_pods_ready": sim.summary["pods_ready"], "real_pods_ready": real.summary["pods_ready"],
        "sim_startup_p50_s": sim.summary["pod_startup_p50_s"], "real_startup_p50_s": real.summary["pod_startup_p50_s"],
        "sim_startup_p99_s": sim.summary["pod_startup_p99_s"], "real_startup_p99_s": real.summary["pod_startup_p99_s"],
        "kwok_like_startup_p50_s": kwok_like.summary["pod_startup_p50_s"],
        "kwok_like_startup_p99_s": kwok_like.summary["pod_startup_p99_s"],
    })
    return row


def print_side_by_side(rows: list[dict[str, Any]]) -> None:
    """The simulator-vs-real table (skipped rows say why)."""
    from rich.console import Console
    from rich.table import Table

    def f(value: Any, fmt: str = "{:.2f}") -> str:
        return "–" if value is None else fmt.format(value)

    table = Table(title="simulator vs real control plane (kwok nodes): the same scenario")
    for col in ("benchmark", "scenario", "sim wall s", "real wall s", "real/sim", "all Ready sim / real s",
                "pods Ready sim / real", "startup p50 sim / KWOK-like sim / real s",
                "startup p99 sim / KWOK-like sim / real s"):
        table.add_column(col, justify="left" if col in ("benchmark", "scenario") else "right")
    console = Console(width=170)
    for r in rows:
        if "skipped" in r:
            table.add_row(r["name"], r["note"], f(r["sim_wall_s"]), "skipped", "", "", "", "", "")
            continue
        table.add_row(r["name"], r["note"], f(r["sim_wall_s"]), f(r["real_wall_s"], "{:.1f}"),
                      f(r["ratio"], "{:,.0f}x"),
                      f"{f(r['sim_all_ready_s'], '{:.1f}')} / {f(r['real_all_ready_s'], '{:.1f}')}",
                      f"{r['sim_pods_ready']:,} / {r['real_pods_ready']:,}",
                      f"{f(r['sim_startup_p50_s'], '{:.3f}')} / {f(r.get('kwok_like_startup_p50_s'), '{:.3f}')}"
                      f" / {f(r['real_startup_p50_s'], '{:.3f}')}",
                      f"{f(r['sim_startup_p99_s'], '{:.3f}')} / {f(r.get('kwok_like_startup_p99_s'), '{:.3f}')}"
                      f" / {f(r['real_startup_p99_s'], '{:.3f}')}")
    console.print(table)
    for r in rows:
        if "skipped" in r:
            console.print(f"  {r['name']}: real run skipped: {r['skipped']}", highlight=False)
