"""Lab 01, anatomy of a pod start: phase breakdown, component diagram, slow-etcd what-if."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim import Result

from labs.teach.common import close, flow_diagram, run_scenario, scenario_path

__all__ = ["PHASES", "SCENARIO", "SCENARIO_PATH", "breakdown", "components_figure", "etcd_figure", "run_startup"]

SCENARIO = "labs/lab01-pod-startup"
SCENARIO_PATH = scenario_path(SCENARIO)
# (phase, from event, to event): who does the work is in the notebook's diagram.
PHASES = [
    ("scheduling", "created", "scheduled"),     # scheduler watch + filter/score
    ("binding", "scheduled", "bound"),          # pods/binding write through the API server
    ("kubelet notices", "bound", "pulling"),    # kubelet watch + sandbox
    ("image pull", "pulling", "pulled"),
    ("container start", "pulled", "started"),
    ("readiness", "started", "ready"),          # first successful readiness probe
]


def run_startup(fsync_ms: float | None = None, seed: int | None = None) -> Result:
    """The lab's scenario, optionally with every etcd fsync taking ``fsync_ms`` milliseconds."""
    overrides = [f"controlPlane.etcd.fsync={fsync_ms:g}ms"] if fsync_ms is not None else []
    return run_scenario(SCENARIO, overrides, seed=seed)


def breakdown(result: Result, pod: str = "web") -> pd.DataFrame:
    """Seconds spent in each start-up phase of one pod."""
    row = result.pods().set_index("name").loc[pod]
    rows = [(name, row[a], row[b] - row[a]) for name, a, b in PHASES]
    return pd.DataFrame(rows, columns=["phase", "starts_at_s", "seconds"]).round(4)


def etcd_figure(fsync_ms: float = 2.0) -> Any:
    """Stacked phase bars: the default etcd disk against one with ``fsync_ms`` per fsync."""
    import matplotlib.pyplot as plt

    runs = {"default disk": run_startup(), f"fsync = {fsync_ms:g} ms": run_startup(fsync_ms)}
    fig, ax = plt.subplots(figsize=(9, 2.6))
    for y, result in enumerate(runs.values()):
        for _, r in breakdown(result).iterrows():
            ax.barh(y, r["seconds"], left=r["starts_at_s"], label=r["phase"] if y == 0 else None)
    ax.set_yticks(range(len(runs)), list(runs))
    ax.set_xlabel("simulated time (s)")
    ax.set_title("Where a pod's start-up time goes, by etcd fsync latency")
    ax.legend(fontsize=7, ncols=3, loc="lower right")
    fig.tight_layout()
    return close(fig)


_EDGES = [
    ("kubectl", "kube-apiserver", "1 create pod"),
    ("kube-apiserver", "etcd", "2 persist (fsync)"),
    ("kube-scheduler", "kube-apiserver", "3 watch, 4 bind"),
    ("kubelet", "kube-apiserver", "5 watch, 7 status"),
    ("kubelet", "container runtime", "6 pull, start"),
]
_POS = {"kubectl": (0, 1), "kube-apiserver": (1, 1), "etcd": (2, 1), "kube-scheduler": (0.2, 2),
        "kubelet": (0.2, 0), "container runtime": (1.4, -0.4)}


def components_figure() -> Any:
    """The control-plane components a pod start touches, with the numbered steps."""
    fig, _ = flow_diagram(_EDGES, _POS, "Components on a pod's path to Ready (everything goes through the API server)",
                          arrowsize=15)
    return close(fig)
