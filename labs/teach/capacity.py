"""Lab 09, capacity planning: a GPU pool shared by a model server and a training job with a deadline.

Everything here goes through ``sim.whatif`` (replications with seeds derived from the
scenario's, t confidence intervals, the run cache, the plan's search), so the lab's numbers
are the ones ``kubesim sweep`` and ``kubesim plan`` print for the same scenario.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim import Result
from sim.whatif import parse_requirement, plan, sweep

from labs.teach.common import close, run_scenario, scenario_path

__all__ = ["BASE_RATE", "CHEAPEST_AT_3X", "DEADLINE_S", "FIT_PATH", "GPUS_PER_NODE", "NODES", "PRICE_PER_NODE",
           "REPLICAS", "REQUIREMENTS",
           "SCENARIO", "SCENARIO_PATH", "SLO_TARGET", "TRAINING_WORKERS", "evaluate", "headline", "plan_cluster",
           "plan_nodes", "replicas_figure", "run_cluster", "run_fit", "sweep_table",
           "serving_figure", "sweep_replicas", "topology_figure", "what_if_figure"]

SCENARIO = "labs/lab09-capacity"
SCENARIO_PATH = scenario_path(SCENARIO)
FIT_PATH = scenario_path("labs/lab09-gpu-fit")   # the pods alone, for the real-cluster cell
NODES, REPLICAS = "cluster.nodePools.gpu.count", "workloads.model-server.spec.replicas"
RATE = "traffic.chat.rate.mean"
BASE_RATE = 60.0        # requests/s today (1x)
GPUS_PER_NODE = 4
PRICE_PER_NODE = 12.29  # $/hour, the pool's pricePerHour
TRAINING_WORKERS = 4
DEADLINE_S = 900.0      # the fine-tuning job must finish within the 15-minute run
SLO_TARGET = 0.95       # at least 95 % of requests answered within the 1 s SLO latency
REQUIREMENTS = [f"slo_attainment > {SLO_TARGET}", "training_jobs_completed == 1"]
CHEAPEST_AT_3X = (3, 6)  # (GPU nodes, replicas): what plan_nodes / plan_cluster find at 3x (a test re-checks it)
OUT = Path("runs") / "whatif" / "lab09-capacity"  # the run cache, shared by sweeps, plans and checks


def _sets(multiplier: float) -> list[str]:
    return [f"{RATE}={BASE_RATE * multiplier:g}"]


def run_cluster(nodes: int = 3, replicas: int = 2, multiplier: float = 1.0, seed: int | None = None) -> Result:
    """One run of the lab's scenario at a cluster size, replica count and traffic multiplier."""
    return run_scenario(SCENARIO, [f"{NODES}={int(nodes)}", f"{REPLICAS}={int(replicas)}", *_sets(multiplier)],
                        seed=seed)


def headline(result: Result) -> pd.DataFrame:
    """What the capstone asks of one run: SLO attainment, latency, the job against its deadline, cost."""
    s = result.summary
    done = s.get("training_jobs_completed") or 0
    jct = s.get("training_jct_max_s")
    rows = [("SLO attainment (share of requests within 1 s)", s.get("slo_attainment")),
            ("request latency p99 (s)", s.get("latency_p99_s")),
            ("requests dropped (share)", s.get("drop_rate")),
            ("training job finished", bool(done)),
            ("training job time (min)", round(jct / 60, 1) if jct else "did not finish"),
            ("training deadline (min)", DEADLINE_S / 60),
            ("GPU pods left Pending", s.get("pods_pending_at_end")),
            ("cluster cost ($/hour)", s.get("cost_per_hour"))]
    return pd.DataFrame(rows, columns=["figure", "value"])


def evaluate(nodes: int, replicas: int, multiplier: float = 3.0, replications: int = 3) -> dict[str, Any]:
    """A cluster run with several seeds: the aggregated row (mean, std, CI per figure) and its checks."""
    table = sweep(SCENARIO_PATH, {NODES: [int(nodes)], REPLICAS: [int(replicas)]}, sets=_sets(multiplier),
                  replications=replications, jobs=1, out=OUT, progress=False)
    row = table.iloc[0].to_dict()
    checks = [parse_requirement(r).check(row, 0.95) for r in REQUIREMENTS]
    return {"row": row, "checks": checks, "feasible": all(c.met for c in checks)}


def plan_cluster(multiplier: float = 3.0, nodes: str = "2..4", replicas: tuple[int, ...] = (4, 5, 6, 7, 8),
                 replications: int = 2) -> Any:
    """The plan's cheapest cluster meeting the SLO and the deadline (sim.whatif.plan)."""
    return plan(SCENARIO_PATH, {NODES: nodes, REPLICAS: list(replicas)}, REQUIREMENTS, minimize="cost_per_hour",
                sets=_sets(multiplier), replications=replications, jobs=1, out=OUT, progress=False)


def plan_nodes(replicas: int = 6, multiplier: float = 3.0, nodes: str = "1..6", replications: int = 2) -> Any:
    """The plan's cheapest node count for a replica count (bisection: more nodes never hurt)."""
    return plan(SCENARIO_PATH, {NODES: nodes}, REQUIREMENTS, minimize="cost_per_hour",
                sets=[f"{REPLICAS}={int(replicas)}", *_sets(multiplier)], replications=replications, jobs=1,
                out=OUT, progress=False)


def sweep_replicas(nodes: int = 4, multiplier: float = 3.0, replicas: tuple[int, ...] = (4, 5, 6, 7),
                   replications: int = 2) -> pd.DataFrame:
    """SLO attainment (mean and CI) against replicas on a fixed cluster."""
    return sweep(SCENARIO_PATH, {REPLICAS: list(replicas)}, sets=[f"{NODES}={nodes}", *_sets(multiplier)],
                 replications=replications, jobs=1, out=OUT, progress=False)


def run_fit() -> Result:
    """The real-cluster step's scenario: 6 replicas and 4 workers on today's 2 GPU nodes, no traffic."""
    return run_scenario("labs/lab09-gpu-fit")


def sweep_table(table: pd.DataFrame) -> pd.DataFrame:
    """A sweep's SLO attainment per replica count: mean, CI and whether it meets the target."""
    req = parse_requirement(REQUIREMENTS[0])
    out = pd.DataFrame({
        "replicas": table[REPLICAS],
        "runs": table["replications"],
        "SLO attainment (mean)": table["slo_attainment_mean"].round(3),
        "95% CI low": table["slo_attainment_ci_lo"].round(3),
        "95% CI high": table["slo_attainment_ci_hi"].clip(upper=1).round(3),
    })
    out[f"meets > {SLO_TARGET}"] = [req.check(row, 0.95).met for row in table.to_dict("records")]
    return out


def replicas_figure(table: pd.DataFrame) -> Any:
    """SLO attainment against replicas with its confidence band and the target (sim.whatif.plots)."""
    from sim.whatif.plots import metric_figure

    fig = metric_figure(table, REPLICAS, "slo_attainment", requirements=[parse_requirement(REQUIREMENTS[0])])
    ax = fig.axes[0]
    ax.set_xlabel("model-server replicas (one GPU each)")
    ax.set_ylabel("SLO attainment (share of requests within 1 s)")
    ax.set_ylim(top=1.05)  # a share: the interval may reach past 1, the figure cannot
    return fig


# ------------------------------------------------------------------ figures
def serving_figure(result: Result, title: str) -> Any:
    """Request latency p99 against the 1 s SLO, and requests served per second, over time."""
    import matplotlib.pyplot as plt

    trace = result.trace
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3))
    for key, label in (("serving_latency_p50_s", "p50"), ("serving_latency_p99_s", "p99")):
        if key in trace.series:
            t, v = trace.series_array(key)
            left.plot(t / 60, v, label=label, linewidth=1.2)
    left.axhline(1.0, color="red", linestyle="--", linewidth=1, label="SLO latency (1 s)")
    left.set(xlabel="simulated time (min)", ylabel="latency (s)", title="Request latency")
    left.legend(fontsize=8)
    for key, label in (("serving_offered_rps", "offered"), ("serving_served_rps", "served")):
        if key in trace.series:
            t, v = trace.series_array(key)
            right.plot(t / 60, v, label=label, linewidth=1.2)
    right.set(xlabel="simulated time (min)", ylabel="requests per second", title="Traffic")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return close(fig)


def what_if_figure(multiplier: float = 3.0, replicas: float = 2, nodes: float = 3) -> Any:
    """One run at the sliders' setting, with its SLO attainment, job outcome and cost in the title."""
    result = run_cluster(int(nodes), int(replicas), multiplier)
    s = result.summary
    done = "job done" if s.get("training_jobs_completed") else "job NOT done"
    return serving_figure(result, f"{multiplier:g}x traffic, {int(nodes)} GPU nodes, {int(replicas)} replicas: "
                          f"SLO attainment {s.get('slo_attainment', math.nan):.3f}, {done}, "
                          f"${s['cost_per_hour']:.2f}/h")


def topology_figure(nodes: int = 3, replicas: int = 6) -> Any:
    """The GPU pool as a graph: each node's 4 GPUs, taken by model-server replicas, then by training workers."""
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.Graph()
    pos: dict[str, tuple[float, float]] = {"traffic": (-1.2, 1.4), "Service": (0.2, 1.4), "fine-tune job": (-1.2, -1.4)}
    colors = {}
    owners = ["serving"] * replicas + ["training"] * TRAINING_WORKERS
    for n in range(nodes):
        node = f"gpu-{n}"
        pos[node] = (n * 1.6 + 1.0, 0.0)
        colors[node] = "#d9d9d9"
        graph.add_node(node)
        for g in range(GPUS_PER_NODE):
            gpu = f"{node}/{g}"
            pos[gpu] = (n * 1.6 + 0.55 + g * 0.3, -0.7 if g % 2 else 0.7)
            owner = owners[n * GPUS_PER_NODE + g] if n * GPUS_PER_NODE + g < len(owners) else "free"
            colors[gpu] = {"serving": "#9fc5e8", "training": "#f6b26b", "free": "#ffffff"}[owner]
            graph.add_edge(node, gpu)
            if owner == "serving":
                graph.add_edge("Service", gpu)
            elif owner == "training":
                graph.add_edge("fine-tune job", gpu)
    graph.add_edge("traffic", "Service")
    for name in ("traffic", "Service", "fine-tune job"):
        colors[name] = "#cfe2f3"
    fig, ax = plt.subplots(figsize=(9, 3.6))
    order = list(graph.nodes)
    nx.draw_networkx(graph, pos, ax=ax, nodelist=order, node_color=[colors[n] for n in order], edgecolors="#666666",
                     node_size=[1500 if "/" not in n else 260 for n in order], font_size=7,
                     labels={n: n if "/" not in n else "" for n in order}, edge_color="#bbbbbb")
    short = max(0, replicas + TRAINING_WORKERS - nodes * GPUS_PER_NODE)
    ax.set_title(f"{nodes} GPU nodes x {GPUS_PER_NODE} GPUs: blue = model-server replicas, orange = training workers"
                 + (f" ({short} worker(s) left without a GPU)" if short else ""), fontsize=9)
    ax.axis("off")
    ax.margins(0.1)
    return close(fig)
