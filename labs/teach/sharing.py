"""Lab 07, sharing GPUs: priority and preemption between serving and training, and the cluster autoscaler."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import yaml

from sim import Result
from sim.explain import explain
from sim.metrics import ready_over_time

from labs.teach.common import REPO, close, run_scenario

__all__ = ["PREEMPT", "SCENARIO", "explain_preemptor", "figures", "load_classes", "peak_figure", "placement_figure",
           "pool_size", "preemptions", "run_sharing", "story"]

SCENARIO = "labs/lab07-sharing"  # mixed-priority in fluid serving mode
PREEMPT = "labs/lab07-preempt"  # preemption alone, for the real-cluster replay
CLASSES = REPO / "scenarios" / "manifests" / "priority-classes.yaml"
STEP_RATES = (20, 40, 90, 20)  # requests/s from 0, 6, 9 and 30 minutes


def load_classes() -> list[dict[str, Any]]:
    """The two PriorityClass manifests (serving-high, training-low) as dicts to edit."""
    return [doc for doc in yaml.safe_load_all(CLASSES.read_text()) if doc]


def run_sharing(classes: list[dict[str, Any]] | None = None, max_nodes: int | None = None,
                peak_rps: float | None = None, training_pdb: int | None = None) -> Result:
    """The lab scenario, optionally with other PriorityClasses, pool maximum or peak traffic, or a
    PodDisruptionBudget keeping ``training_pdb`` training workers available."""
    over = []
    if classes is not None or training_pdb is not None:
        docs = copy.deepcopy(classes) if classes is not None else load_classes()
        if training_pdb is not None:
            docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "finetune"},
                         "spec": {"minAvailable": int(training_pdb),
                                  "selector": {"matchLabels": {"batch.kubernetes.io/job-name": "finetune"}}}})
        over.append(f"workloads.priorities.manifests={docs}")
    if max_nodes is not None:
        over.append(f"cluster.nodePools.gpu.autoscaling={{min: 3, max: {int(max_nodes)}}}")
    if peak_rps is not None:
        steps = [f"{{at: {at}, rate: {rate:g}}}" for at, rate in
                 zip(("0s", "6m", "9m", "30m"), (*STEP_RATES[:2], peak_rps, STEP_RATES[3]), strict=True)]
        over.append("traffic.0.rate={pattern: steps, steps: [" + ", ".join(steps) + "]}")
    return run_scenario(SCENARIO, over)


def preemptions(result: Result) -> pd.DataFrame:
    """Each preemption: when, the victim, its node, and the pod it made room for."""
    df = result.to_frame()
    rows = df[df["event"] == "preempted"]
    by = rows["message"].astype(str).str.extract(r"Preempted by pod [^/]+/(\S+) on node (\S+)")
    return pd.DataFrame({"t (s)": rows["t"].round(1).to_numpy(), "victim": rows["name"].astype(str).to_numpy(),
                         "node": by[1].to_numpy(), "for": by[0].to_numpy()})


def pool_size(result: Result) -> tuple[list[float], list[int]]:
    """GPU nodes in the pool over time: (times, counts), from node registrations and removals."""
    df = result.to_frame()
    nodes = df[df["kind"] == "Node"]
    changes = [(0.0, 0)]
    for t, event, message in zip(nodes["t"], nodes["event"].astype(str), nodes["message"].astype(str), strict=True):
        if event == "created":
            changes.append((float(t), 1))
        elif message == "node removed by cluster autoscaler":
            changes.append((float(t), -1))
    changes.sort()
    times, counts, total = [], [], 0
    for t, delta in changes:
        total += delta
        times.append(t)
        counts.append(total)
    times.append(float(result.summary["sim_time_s"]))
    counts.append(total)
    return times, counts


def story(result: Result) -> pd.DataFrame:
    """The trade-off in one table: what serving got, what training paid, what the pool did."""
    s = result.summary
    df = result.to_frame()
    jobs = df[df["kind"] == "TrainingJob"]
    stopped = jobs.loc[jobs["event"] == "stopped", "t"]
    resumed = jobs.loc[jobs["event"] == "resumed", "t"]
    stalled = float(resumed.min() - stopped.min()) if len(stopped) and len(resumed) else 0.0
    jct = s.get("training_jct_mean_s")
    rows = [("serving: request latency p99", f"{s['latency_p99_s']:.2f} s"),
            ("serving: requests within the 3 s SLO", f"{100 * s['slo_attainment']:.2f} %"),
            ("training workers preempted", str(len(preemptions(result)))),
            ("training: steps lost", str(s.get("training_lost_steps", 0))),
            ("training: time stopped waiting for GPUs", f"{stalled:.0f} s"),
            ("training: job completion time", f"{jct / 60:.1f} min" if jct else "not done in 1 h"),
            ("GPU nodes (start / most)", f"3 / {max(pool_size(result)[1])}")]
    return pd.DataFrame(rows, columns=["figure", "value"]).set_index("figure")


def explain_preemptor(result: Result) -> str:
    """The scheduler's account of the first serving pod that had to preempt."""
    table = preemptions(result)
    return explain(result.trace, table["for"].iloc[0]) if len(table) else "no pod preempted anything"


def figures(result: Result, title: str = "") -> Any:
    """Ready serving replicas and training workers, and GPU nodes in the pool, over time."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    end = float(result.summary["sim_time_s"])
    for prefix, label, color in (("llm-server-", "serving replicas Ready", "#3d85c6"),
                                 ("finetune-", "training workers Ready", "#e69138")):
        times, counts = ready_over_time(result.trace, prefix)
        top.step([t / 60 for t in [*times.tolist(), end]], [*counts.tolist(), counts[-1] if len(counts) else 0],
                 where="post", label=label, color=color)
    for t in preemptions(result)["t (s)"]:
        top.axvline(t / 60, color="#cc0000", linewidth=0.6, linestyle=":")
    top.set(ylabel="pods Ready", title=title or "Serving and training on one GPU pool (red: preemptions)")
    top.legend(fontsize=8, loc="upper right")
    times, counts = pool_size(result)
    bottom.step([t / 60 for t in times], counts, where="post", color="#6aa84f")
    bottom.set(xlabel="simulated time (min)", ylabel="GPU nodes", ylim=(0, max(counts) + 1),
               title="Nodes in the pool (cluster-autoscaler: ~3 min to boot; removed after 10 min unneeded)")
    fig.tight_layout()
    return close(fig)


def peak_figure(peak_rps: float = 90) -> Any:
    """The run with the 9-minute traffic step at ``peak_rps``, titled with its trade-off."""
    result = run_sharing(peak_rps=peak_rps)
    s = result.summary
    jct = s.get("training_jct_mean_s")
    title = (f"peak {peak_rps:g} req/s: {len(preemptions(result))} preempted, serving p99 {s['latency_p99_s']:.2f} s, "
             f"training done at {jct / 60:.1f} min" if jct else "training not done in 1 h")
    return figures(result, title)


def placement_figure(result: Result, at_s: float) -> Any:
    """Which pods hold the GPUs of each node at ``at_s`` seconds (a bipartite drawing)."""
    import matplotlib.pyplot as plt
    import networkx as nx

    pods = result.pods()
    alive = pods[(pods["node"] != "") & (pods["bound"] <= at_s)
                 & ~(pods["deleted"] <= at_s) & ~(pods["succeeded"] <= at_s)]
    graph = nx.Graph()
    nodes = sorted(set(alive["node"]))
    for i, node in enumerate(nodes):
        graph.add_node(node, pos=(i * 4 + 1.5, 1.0), color="#d9d9d9", kind="node")
        for j, name in enumerate(sorted(alive.loc[alive["node"] == node, "name"])):
            serving = name.startswith("llm-server-")
            label = name.rsplit("-", 1)[0] if not serving else "llm-server"
            graph.add_node(name, pos=(i * 4 + j, 0.0), color="#9fc5e8" if serving else "#f9cb9c",
                           label=label.replace("finetune-", "worker "), kind="pod")
            graph.add_edge(node, name)
    pos = nx.get_node_attributes(graph, "pos")
    fig, ax = plt.subplots(figsize=(10, 2.8))
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="#999999")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_shape="s", node_size=[1800 if graph.nodes[n]["kind"] == "node"
                                                                          else 700 for n in graph],
                           node_color=[graph.nodes[n]["color"] for n in graph])
    labels = {n: (n if graph.nodes[n]["kind"] == "node" else graph.nodes[n]["label"]) for n in graph}
    nx.draw_networkx_labels(graph, pos, labels, ax=ax, font_size=6)
    ax.set_title(f"GPU nodes and the pods on them at {at_s / 60:.1f} min (blue: serving, high priority; "
                 "orange: training, low priority)")
    ax.axis("off")
    ax.margins(0.05, 0.3)
    return close(fig)
