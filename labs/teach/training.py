"""Lab 05, distributed training: gang scheduling, all-reduce over the topology, checkpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim import Result, load_scenario
from sim.engine import build_nodes
from sim.network import Network, NetworkConfig

from labs.teach.common import close, run_scenario, scenario_path

__all__ = ["FAILURE_TIMES", "allreduce_seconds", "checkpoint_figure", "gpu_holders", "network",
           "nodes_table", "run_checkpointed", "topology_figure"]

GIB = 1024**3
FAILURE_TIMES = ("10m", "17m", "25m")  # when the worker is lost in the checkpoint what-if


def network(name: str = "labs/lab05-topology") -> Network:
    """The network of a scenario's cluster (zones, racks, NICs, NVLink)."""
    scenario = load_scenario(scenario_path(name))
    config = NetworkConfig(**scenario.cluster.network.model_dump())
    return Network(build_nodes(scenario.cluster.node_pools), config)


def nodes_table(net: Network) -> pd.DataFrame:
    """Each node's rack and zone, as the network sees them."""
    rows = [(n, r, next(z for z in net.graph[r] if z.startswith("zone:")))
            for n in net.graph if not n.startswith(("rack:", "zone:", "core"))
            for r in net.graph[n]]
    return pd.DataFrame(rows, columns=["node", "rack", "zone"]).sort_values("node", ignore_index=True)


def allreduce_seconds(placement: Mapping[str, int], gradient_gib: float = 2.0, net: Network | None = None) -> float:
    """Ring all-reduce time of a ``gradient_gib`` gradient for ranks placed as {node: GPUs}."""
    net = net or network()
    unknown = sorted(set(placement) - set(net.graph))
    if unknown:
        raise ValueError(f"no node(s) {unknown} in the cluster")
    return net.allreduce_time(dict(placement), gradient_gib * GIB)


def topology_figure(net: Network | None = None) -> Any:
    """The cluster's network tree: core, zone spines, racks, nodes."""
    import matplotlib.pyplot as plt
    import networkx as nx

    net = net or network()
    layers = nx.bfs_layers(net.graph, "core")
    pos = {n: ((i + 0.5) / len(layer), -depth) for depth, layer in enumerate(layers)
           for i, n in enumerate(sorted(layer, key=lambda n: _tree_order(net.graph, n)))}
    fig, ax = plt.subplots(figsize=(10, 3.5))
    nx.draw_networkx(net.graph, pos, ax=ax, node_size=250, font_size=6, node_color="#cfe2f3")
    ax.set_title("Cluster network: core - zone spines (100 Gb/s) - racks (1.6 Tb/s) - node NICs (200 Gb/s)")
    ax.axis("off")
    return close(fig)


def _tree_order(graph: Any, name: str) -> tuple[str, int]:
    """Parent switch, then node number: keeps each subtree together left to right."""
    _, _, tail = name.rpartition("-")
    if not tail.isdigit():
        return (name, 0)
    return (next(iter(graph[name])), int(tail))


def gpu_holders(result: Result) -> pd.DataFrame:
    """Per job: pods holding a GPU (bound) at the end, and whether the job trained to completion."""
    pods = result.pods()
    pods["job"] = pods["name"].str.rsplit("-", n=2).str[0]
    held = pods[(pods["node"] != "") & pods["succeeded"].isna() & pods["deleted"].isna()]
    return pd.DataFrame({
        "pods": pods.groupby("job").size(),
        "holding_gpu_at_end": held.groupby("job").size(),
        "succeeded": pods.groupby("job")["succeeded"].count(),
    }).fillna(0).astype(int)


def run_checkpointed(interval: int, failure_at: str = "10m", seed: int | None = None) -> Result:
    """training-distributed with checkpoints every ``interval`` steps and the worker lost at ``failure_at``."""
    over = [f"workloads.{w}.behavior.training.checkpointInterval={interval}" for w in (0, 1)]
    over += [f"timeline.0.at={failure_at}", f"workloads.1.at={failure_at}"]
    return run_scenario("training-distributed", over, seed=seed)


def checkpoint_figure(interval: float = 100) -> Any:
    """Lost steps and goodput for one checkpoint interval, at each failure time."""
    import matplotlib.pyplot as plt

    runs = {at: run_checkpointed(int(interval), at).summary for at in FAILURE_TIMES}
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8))
    left.bar(list(runs), [s["training_lost_steps"] for s in runs.values()], color="#e06666")
    left.set(xlabel="worker lost at", ylabel="steps lost", title=f"Lost work, checkpoint every {int(interval)} steps")
    right.bar(list(runs), [s["training_goodput"] or 0 for s in runs.values()], color="#6aa84f")
    right.set(xlabel="worker lost at", ylabel="goodput (useful / job time)", ylim=(0, 1),
              title="Goodput (0 = did not finish in 1 h)")
    fig.tight_layout()
    return close(fig)
