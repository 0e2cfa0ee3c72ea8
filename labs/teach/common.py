"""Scenario paths, runs with overrides, and figure display shared by every lab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim import Result, load_scenario, run
from sim.scenario import scenario_from_text

__all__ = ["REPO", "SCENARIOS", "close", "run_scenario", "run_with_manifests", "scenario_path"]

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"


def scenario_path(name: str) -> Path:
    """``scenarios/<name>.yaml`` (``labs/…`` for the labs' own), whatever the working directory."""
    return SCENARIOS / f"{name}.yaml"


def run_scenario(name: str, overrides: list[str] | None = None, seed: int | None = None) -> Result:
    """Run a shipped scenario with ``--set``-style overrides (``"controlPlane.etcd.fsync=20ms"``)."""
    return run(load_scenario(scenario_path(name), overrides), seed=seed)


def run_with_manifests(name: str, workload: str, manifests: list[dict[str, Any]],
                       seed: int | None = None) -> Result:
    """Run a scenario with one workload's manifests replaced (a learner's edited manifest)."""
    path = scenario_path(name)
    data = yaml.safe_load(path.read_text())
    for item in data["workloads"]:
        if item["name"] == workload:
            item["manifests"] = manifests
    scenario = scenario_from_text(yaml.safe_dump(data), name=str(path), base_dir=path.parent)
    return run(scenario, seed=seed)


def flow_diagram(edges: list[tuple[str, str, str]], pos: dict[str, tuple[float, float]], title: str, *,
                 figsize: tuple[float, float] = (8, 4), node_size: int = 2600, font_size: int = 8,
                 arrowsize: int = 14, margins: float = 0.15, highlight: Any = None,
                 connectionstyle: str | None = None) -> tuple[Any, Any]:
    """A diagram of components (square nodes at ``pos``) and labelled arrows (source, target,
    label); nodes ``highlight(name)`` is true for are drawn red. Returns (figure, axes), still
    open so the caller can annotate it before ``close``."""
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_edges_from((a, b, {"step": s}) for a, b, s in edges)
    fig, ax = plt.subplots(figsize=figsize)
    colors = ["#f4cccc" if highlight is not None and highlight(n) else "#cfe2f3" for n in graph]
    curve = {} if connectionstyle is None else {"connectionstyle": connectionstyle}
    nx.draw_networkx(graph, pos, ax=ax, node_color=colors, node_size=node_size, font_size=font_size,
                     arrowsize=arrowsize, node_shape="s", **curve)
    nx.draw_networkx_edge_labels(graph, pos, nx.get_edge_attributes(graph, "step"), ax=ax, font_size=7,
                                 rotate=False, **curve)
    ax.set_title(title)
    ax.axis("off")
    ax.margins(margins)
    return fig, ax


def close(fig: Any) -> Any:
    """Detach a figure from pyplot so it is shown once (by the cell), never twice."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig
