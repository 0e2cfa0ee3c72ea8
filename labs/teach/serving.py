"""Lab 02, serving a model: the GPU-serving scenario, its manifest, Pending pods, readiness."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from sim import Result
from sim.explain import explain

from labs.teach.common import SCENARIOS, close, run_scenario, run_with_manifests, scenario_path

__all__ = ["SCENARIO", "SCENARIO_PATH", "explain_first_pending", "load_manifests", "ready_figure", "readiness_figure",
           "run_serving", "show_yaml"]

SCENARIO = "labs/lab02-gpu-serving"
SCENARIO_PATH = scenario_path(SCENARIO)
MANIFEST = SCENARIOS / "labs" / "manifests" / "lab02-model-server.yaml"


def load_manifests() -> list[dict[str, Any]]:
    """The lab's Deployment and Service as dicts (a fresh copy to edit)."""
    return copy.deepcopy(list(yaml.safe_load_all(MANIFEST.read_text())))


def show_yaml(obj: Any) -> None:
    """Print a manifest (or part of one) as YAML."""
    print(yaml.safe_dump(obj, sort_keys=False))  # noqa: T201 - notebook-facing


def run_serving(manifests: list[dict[str, Any]] | None = None) -> Result:
    """The lab's scenario, with the model-server manifests replaced if given."""
    if manifests is None:
        return run_scenario(SCENARIO)
    return run_with_manifests(SCENARIO, "model-server", manifests)


def explain_first_pending(result: Result) -> str:
    """The scheduler's account of the first pod that never got a node ('' if none)."""
    pods = result.pods()
    pending = pods[pods["node"] == ""]
    return explain(result.trace, pending["name"].iloc[0]) if len(pending) else ""


def ready_figure(results: dict[str, Result], prefix: str = "model-server") -> Any:
    """Ready replicas (Service endpoints) over time, one line per labelled run."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 3))
    for label, result in results.items():
        pods = result.pods()
        ready = np.sort(pods.loc[pods["name"].str.startswith(prefix), "ready"].dropna().to_numpy())
        end = result.summary["sim_time_s"]
        ax.step(np.r_[0, ready, end], np.r_[0, np.arange(1, len(ready) + 1), len(ready)],
                where="post", label=label)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("ready replicas (endpoints)")
    ax.set_title("Replicas the Service can send traffic to")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return close(fig)


def readiness_figure(median_s: float = 40.0) -> Any:
    """serving-basic's model server with its model-load (readiness) median set to ``median_s``."""
    over = [f"workloads.0.behavior.readiness.median={median_s:g}s",
            f"workloads.0.behavior.readiness.p99={2.25 * median_s:g}s"]
    return ready_figure({"default (40 s)": run_scenario("serving-basic"),
                         f"median {median_s:g} s": run_scenario("serving-basic", over)})
