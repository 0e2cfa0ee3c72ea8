"""Lab 08, the control plane under load: client QPS, API server seats, etcd, scheduler scoring."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from sim import Result
from sim.api.objects import PodSpec
from sim.config import SchedulerConfig
from sim.scheduler.framework import num_feasible_nodes_to_find
from sim.scheduler.timing import cycle_cost

from labs.teach.common import close, flow_diagram, run_scenario, scenario_path

__all__ = ["BURST", "BURST_PATH", "FAST", "STARTUP_SLO_S", "API_SLO_S", "burst_window", "ceiling_figure",
           "components_figure", "controlplane_figure", "limits_table", "mystery", "progress_figure", "run_burst",
           "run_fast",
           "run_scoring", "SCORING_NODES", "scheduler_capacity", "scoring_figure", "startup_figure", "inflight_figure"]

BURST = "labs/lab08-startup-burst"        # 100 nodes, 300 pods, default limits: replays on KWOK
BURST_PATH = scenario_path(BURST)
FAST = "labs/lab08-fast-clients"          # 100 nodes, 500 pods, controller-manager at 200 QPS
STARTUP_SLO_S = 5.0  # SIG Scalability: stateless pod start-up p99 <= 5 s (image pull excluded)
API_SLO_S = 1.0      # SIG Scalability: mutating API call p99 <= 1 s
SCORING_NODES = 1000
_MYSTERY = ["controlPlane.scheduler.qps=200", "controlPlane.scheduler.burst=400", "controlPlane.etcd.fsync=150ms"]


def run_burst(seed: int | None = None) -> Result:
    """The default-limits burst: 300 pods on 100 nodes."""
    return run_scenario(BURST, seed=seed)


@lru_cache(maxsize=32)  # runs are deterministic: a slider or check re-using a setting need not re-run it
def run_fast(scheduler_qps: float | None = None, inflight: int | None = None, fsync_ms: float | None = None,
             controller_qps: float | None = None, percentage: int | None = None, nodes: int | None = None,
             pods: int | None = None, seed: int | None = None) -> Result:
    """The fast-clients burst with any of its limits changed (burst = 2 x QPS for a client)."""
    over: list[str] = []
    if scheduler_qps is not None:
        over += [f"controlPlane.scheduler.qps={scheduler_qps:g}",
                 f"controlPlane.scheduler.burst={max(1, round(2 * scheduler_qps))}"]
    if controller_qps is not None:
        over += [f"controlPlane.controllerManager.qps={controller_qps:g}",
                 f"controlPlane.controllerManager.burst={max(1, round(1.5 * controller_qps))}"]
    if inflight is not None:
        over.append(f"controlPlane.apiServer.maxMutatingRequestsInflight={int(inflight)}")
    if fsync_ms is not None:
        over.append(f"controlPlane.etcd.fsync={fsync_ms:g}ms")
    if percentage is not None:
        over.append(f"controlPlane.scheduler.percentageOfNodesToScore={int(percentage)}")
    if nodes is not None:
        over.append(f"cluster.nodePools.node.count={int(nodes)}")
    if pods is not None:
        over.append(f"workloads.burst.spec.replicas={int(pods)}")
    return run_scenario(FAST, over, seed=seed)


@lru_cache(maxsize=1)
def mystery() -> Result:
    """A run of the fast-clients burst with one hidden change: find the bottleneck from its plots."""
    return run_scenario(FAST, _MYSTERY)


def run_scoring(percentage: int, nodes: int = SCORING_NODES) -> Result:
    """300 pods on ``nodes`` nodes with every client limit raised, so the scheduler's own CPU is the limit."""
    return run_fast(scheduler_qps=1000, controller_qps=1000, percentage=percentage, nodes=nodes, pods=300)


def scheduler_capacity(result: Result) -> float:
    """Pods per second the scheduler could place back to back: attempts / time spent in cycles."""
    sched = result.simulation.scheduler
    return sched.attempts / sched.busy_s if sched.busy_s > 0 else float("nan")


def burst_window(result: Result) -> tuple[float, float]:
    """From the first pod created to the last one Ready (seconds)."""
    pods = result.pods()
    return float(pods["created"].min()), float(pods["ready"].max())


# ------------------------------------------------------------------ figures
def progress_figure(results: dict[str, Result]) -> Any:
    """Pods created, bound to a node and Ready over time, one panel per labelled run."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 3.2), squeeze=False, sharey=True)
    for ax, (label, result) in zip(axes[0], results.items(), strict=True):
        pods = result.pods()
        end = float(np.nanmax(pods["ready"])) + 1 if pods["ready"].notna().any() else result.summary["sim_time_s"]
        for event, style in (("created", "-"), ("scheduled", ":"), ("bound", "--"), ("ready", "-")):
            times = np.sort(pods[event].dropna().to_numpy())
            ax.step(np.r_[0, times, end], np.r_[0, np.arange(1, len(times) + 1), len(times)], where="post",
                    linestyle=style, label=event)
        p99 = result.summary.get("pod_startup_p99_s")
        ax.set_title(f"{label}\nstart-up p99 {p99:.1f} s" if p99 is not None else label, fontsize=10)
        ax.set_xlabel("simulated time (s)")
        ax.set_xlim(0, end)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("pods (cumulative)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Pods through the control plane: created, scheduled, bound, Ready", fontsize=11)
    fig.tight_layout()
    return close(fig)


def controlplane_figure(result: Result, title: str = "Control plane") -> Any:
    """API server seats and queue, API and etcd latency p99, scheduling queue, over the burst."""
    import matplotlib.pyplot as plt

    trace = result.trace
    start, end = burst_window(result)
    fig, axes = plt.subplots(1, 4, figsize=(14, 2.9))
    panels = [
        (["apiserver_inflight", "apiserver_queued"], 1, "requests", "API server: seats in use, queued"),
        (["apiserver_request_p99_s"], 1000, "ms", "API request latency p99"),
        (["etcd_commit_p99_s"], 1000, "ms", "etcd commit latency p99"),
        (["scheduler_pending"], 1, "pods", "Pods in the scheduling queue"),
    ]
    for ax, (series, scale, unit, name) in zip(axes, panels, strict=True):
        for key in series:
            t, v = trace.series_array(key)
            keep = (t >= start - 2) & (t <= end + 2)
            ax.plot(t[keep], v[keep] * scale, marker=".", markersize=3, linewidth=1.2,
                    label=key.replace("apiserver_", ""))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return close(fig)


def startup_figure(scheduler_qps: float = 50.0) -> Any:
    """What-if: the fast-clients burst at the default scheduler QPS and at ``scheduler_qps``."""
    return progress_figure({"scheduler 50 QPS (default)": run_fast(),
                            f"scheduler {scheduler_qps:g} QPS": run_fast(scheduler_qps=scheduler_qps)})


def inflight_figure(inflight: float = 200, fsync_ms: float = 50.0) -> Any:
    """What-if: the fast-clients burst (scheduler at 200 QPS) with an inflight limit and etcd fsync."""
    result = run_fast(scheduler_qps=200, inflight=int(inflight), fsync_ms=fsync_ms)
    s = result.summary
    return controlplane_figure(result, f"max-mutating-requests-inflight {int(inflight)}, fsync {fsync_ms:g} ms: "
                               f"API p99 {s['apiserver_request_p99_s'] * 1000:.0f} ms, "
                               f"pod start-up p99 {s['pod_startup_p99_s']:.1f} s")


def _ceiling(nodes: int, percentage: int, config: SchedulerConfig) -> float:
    found = num_feasible_nodes_to_find(nodes, percentage)
    return 1.0 / cycle_cost(config, PodSpec(containers=[]), found, found)


def ceiling_figure(max_nodes: int = 5000) -> Any:
    """The timing model's throughput ceiling (empty, identical nodes) against cluster size."""
    import matplotlib.pyplot as plt

    config = SchedulerConfig()
    sizes = np.arange(100, max_nodes + 1, 100)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for pct, label in ((100, "100 % (score every node)"), (0, "0 = adaptive (default)"), (10, "10 %")):
        ax.plot(sizes, [_ceiling(int(n), pct, config) for n in sizes], label=f"percentageOfNodesToScore {label}")
    ax.set_xlabel("nodes in the cluster")
    ax.set_ylabel("pods per second")
    ax.set_title("Scheduler throughput ceiling in the model (one pod at a time, all nodes feasible)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return close(fig)


def scoring_figure(percentage: float = 0) -> Any:
    """What-if: the scheduler's measured capacity and how many nodes it scored per pod."""
    import matplotlib.pyplot as plt

    result = run_scoring(int(percentage))
    cap = scheduler_capacity(result)
    scored = num_feasible_nodes_to_find(SCORING_NODES, int(percentage))
    fig, ax = plt.subplots(figsize=(7, 2.4))
    ax.barh(["nodes scored per pod", "capacity (pods/s)"], [scored, cap], color=["#9fc5e8", "#f6b26b"])
    for y, value in enumerate([scored, cap]):
        ax.text(value, y, f" {value:.0f}", va="center", fontsize=9)
    ax.set_xlim(0, max(SCORING_NODES, cap) * 1.2)
    ax.set_xlabel("nodes / pods per second")
    ax.set_title(f"{SCORING_NODES} nodes, percentageOfNodesToScore = {int(percentage)}"
                 f"{' (adaptive)' if int(percentage) == 0 else ''}")
    fig.tight_layout()
    return close(fig)


_EDGES = [
    ("kube-controller-manager", "kube-apiserver", "create pods\n(client QPS 20)"),
    ("kube-scheduler", "kube-apiserver", "bind\n(client QPS 50)"),
    ("kubelets", "kube-apiserver", "status\n(QPS 50 each)"),
    ("kube-apiserver", "etcd", "commit\n(fsync + RTT)"),
]
_POS = {"kube-controller-manager": (0, 2), "kube-scheduler": (0, 1), "kubelets": (0, 0),
        "kube-apiserver": (1.6, 1), "etcd": (3, 1)}


def components_figure() -> Any:
    """Who writes to the API server under a burst, each behind its own rate limit and the server's seats."""
    fig, ax = flow_diagram(_EDGES, _POS,
                           "Three queues under a burst: client rate limits, API server seats, etcd commits",
                           figsize=(9, 3.6), node_size=3200, font_size=7, margins=0.18)
    ax.annotate("200 mutating seats\n(--max-mutating-requests-inflight);\nthe rest wait in a queue",
                _POS["kube-apiserver"], xytext=(1.25, 1.55), fontsize=7, ha="left")
    return close(fig)


def limits_table(result: Result) -> pd.DataFrame:
    """The headline figures of a run, as a small table."""
    s = result.summary
    rows = [("pod start-up p99 (s)", s["pod_startup_p99_s"]), ("pod start-up p50 (s)", s["pod_startup_p50_s"]),
            ("API request p99 (ms)", s["apiserver_request_p99_s"] * 1000),
            ("etcd commit p99 (ms)", s["etcd_commit_p99_s"] * 1000),
            ("API requests queued (peak)", s["apiserver_peak_queued"]),
            ("scheduling throughput (pods/s)", s["scheduling_throughput_pods_per_s"])]
    return pd.DataFrame(rows, columns=["figure", "value"]).round(2)
