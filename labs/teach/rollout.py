"""Lab 04, zero-downtime model rollout: surge and unavailability bounds, readiness, the progress deadline."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim import Result

from labs.teach.common import close, flow_diagram, run_scenario, scenario_path

__all__ = ["REAL", "REAL_PATH", "REPLICAS", "SCENARIO", "SCENARIO_PATH", "UNDO_AT", "V2_AT", "V3_AT",
           "available_at", "deployment_events", "rollout_figure", "rollout_summary", "run_real_rollout", "run_rollout",
           "strategy_figure", "surge_bounds", "versions", "what_if_figure"]

SCENARIO = "labs/lab04-rollout"
SCENARIO_PATH = scenario_path(SCENARIO)
REAL = "labs/lab04-rollout-real"  # a short setImage rollout that replays on a real control plane
REAL_PATH = scenario_path(REAL)
DEPLOYMENT = "workloads.model-server.deployment.spec"
REPLICAS = 8
V2_AT, V3_AT, UNDO_AT = 180.0, 600.0, 960.0
VERSION_OF_IMAGE = {"registry.k8s.io/pause:3.9": "v1", "registry.k8s.io/pause:3.10": "v2",
                    "registry.k8s.io/pause:3.10-broken": "v3 (broken)"}


def run_rollout(max_surge: Any = None, max_unavailable: Any = None, deadline_s: float | None = None,
                readiness_probe: bool = True, seed: int | None = None) -> Result:
    """The lab's scenario with the rolling-update bounds, progress deadline or readiness probe changed."""
    overrides = []
    if max_surge is not None:
        overrides.append(f"{DEPLOYMENT}.strategy.rollingUpdate.maxSurge={max_surge}")
    if max_unavailable is not None:
        overrides.append(f"{DEPLOYMENT}.strategy.rollingUpdate.maxUnavailable={max_unavailable}")
    if deadline_s is not None:
        overrides.append(f"{DEPLOYMENT}.progressDeadlineSeconds={int(deadline_s)}")
    if not readiness_probe:
        overrides.append(f"{DEPLOYMENT}.template.spec.containers.0.readinessProbe=null")
    return run_scenario(SCENARIO, overrides, seed=seed)


def run_real_rollout() -> Result:
    """The real-cluster step's scenario in the simulator."""
    return run_scenario(REAL)


def surge_bounds(replicas: int, max_surge: Any, max_unavailable: Any) -> tuple[int, int]:
    """(most pods at once, fewest available) for a rolling update: surge rounds up, unavailable down."""
    def resolve(value: Any, round_up: bool) -> int:
        text = str(value).strip()
        if text.endswith("%"):
            exact = replicas * float(text[:-1]) / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        return int(float(text))
    surge, unavailable = resolve(max_surge, True), resolve(max_unavailable, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # upstream: both zero is invalid; the controller would use 1 unavailable
    return replicas + surge, replicas - unavailable


def versions(result: Result) -> dict[str, str]:
    """ReplicaSet name -> the model version its pods run."""
    store = result.simulation.api.store
    return {rs.meta.name: VERSION_OF_IMAGE.get(rs.template.spec.containers[0].image,
                                               rs.template.spec.containers[0].image)
            for rs in store.list("ReplicaSet")}


def _pods(result: Result) -> pd.DataFrame:
    pods = result.pods()
    pods = pods[pods["name"].str.startswith("model-server-")].copy()
    pods["rs"] = pods["name"].str.rsplit("-", n=1).str[0]
    pods["version"] = pods["rs"].map(versions(result))
    pods["gone"] = pods["terminating"].fillna(pods["deleted"]).fillna(np.inf)
    return pods


def _counts(pods: pd.DataFrame, times: np.ndarray, column: str) -> np.ndarray:
    start = pods[column].fillna(np.inf).to_numpy()
    gone = pods["gone"].to_numpy()
    return ((start[None, :] <= times[:, None]) & (times[:, None] < gone[None, :])).sum(axis=1)


def available_at(result: Result, times: np.ndarray) -> np.ndarray:
    """Ready (available: minReadySeconds is 0) model-server pods at each time."""
    return _counts(_pods(result), times, "ready")


def deployment_events(result: Result) -> pd.DataFrame:
    """The Deployment's and ReplicaSets' events during the rollouts (scaling, conditions, rollback)."""
    events = result.to_frame()
    keep = events["kind"].isin(["Deployment", "ReplicaSet"]) & (events["reason"] != "") & (events["t"] >= V2_AT - 1)
    table = events[keep][["t", "kind", "reason", "message"]].copy()
    table["t"] = table["t"].round(1)
    return table.reset_index(drop=True)


def rollout_summary(result: Result, start: float = V2_AT, end: float = V3_AT) -> dict[str, Any]:
    """For the rollout begun at ``start``: when it completed (s after start, None if not before ``end``),
    the fewest available and the most pods at once, and the serving p99 and drops meanwhile."""
    events = result.to_frame()
    done = events[(events["kind"] == "Deployment") & (events["reason"] == "NewReplicaSetAvailable")
                  & (events["t"] > start) & (events["t"] < end)]
    failed = events[(events["kind"] == "Deployment") & (events["reason"] == "ProgressDeadlineExceeded")
                    & (events["t"] > start) & (events["t"] < end)]
    finished = float(done["t"].iloc[0]) if len(done) else None
    until = finished if finished is not None else end
    times = np.arange(start, until, 0.5)
    pods = _pods(result)
    frame = result.trace.series_frame()
    window = frame[(frame["t"] >= start) & (frame["t"] < until + 10)]
    p99 = window[window["series"] == "serving_latency_p99_s"]["value"].dropna()
    dropped = window[window["series"] == "serving_dropped_rps"]["value"].sum() * result.trace.header.get(
        "sample_interval_s", 10.0)
    return {"completed_after_s": None if finished is None else round(finished - start, 1),
            "deadline_exceeded_after_s": round(float(failed["t"].iloc[0]) - start, 1) if len(failed) else None,
            "min_available": int(_counts(pods, times, "ready").min()) if len(times) else REPLICAS,
            "max_pods": int(_counts(pods, times, "created").max()) if len(times) else REPLICAS,
            "worst_p99_s": round(float(p99.max()), 2) if len(p99) else None,
            "dropped": int(round(dropped))}


def rollout_figure(result: Result, title: str = "Rolling out v2, then a broken v3, then `rollout undo`",
                   bounds: tuple[int, int] | None = None) -> Any:
    """Pods per version (existing and ready) over time, available pods, and p99 latency."""
    import matplotlib.pyplot as plt

    pods = _pods(result)
    end = result.summary["sim_time_s"]
    times = np.arange(0, end, 1.0)
    fig, axes = plt.subplots(2, 1, figsize=(10.5, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    ax = axes[0]
    colors = {"v1": "tab:blue", "v2": "tab:green", "v3 (broken)": "tab:red"}
    for version in sorted(pods["version"].dropna().unique()):
        mine = pods[pods["version"] == version]
        color = colors.get(version)
        ax.plot(times / 60, _counts(mine, times, "created"), color=color, linestyle=":", label=f"{version} pods")
        ax.plot(times / 60, _counts(mine, times, "ready"), color=color, label=f"{version} ready")
    ax.plot(times / 60, _counts(pods, times, "ready"), color="black", linewidth=2, alpha=0.5, label="available (all)")
    if bounds is not None:
        most, fewest = bounds
        ax.axhline(most, color="grey", linestyle="--", linewidth=1, label=f"max pods {most}")
        ax.axhline(fewest, color="grey", linestyle="-.", linewidth=1, label=f"min available {fewest}")
    for at, what in ((V2_AT, "set v2"), (V3_AT, "set v3"), (UNDO_AT, "undo")):
        for a in axes:
            a.axvline(at / 60, color="grey", linewidth=0.8)
        ax.text(at / 60 + 0.1, REPLICAS + 2.3, what, fontsize=8)
    ax.set_ylim(0, REPLICAS + 3)
    ax.set_ylabel("pods")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    frame = result.trace.series_frame()
    p99 = frame[frame["series"] == "serving_latency_p99_s"]
    axes[1].plot(p99["t"] / 60, p99["value"], color="tab:purple")
    axes[1].axhline(3.0, color="red", linestyle="--", linewidth=1, label="SLO 3 s")
    axes[1].set_ylabel("p99 latency (s)\nper 10 s")
    axes[1].set_xlabel("simulated time (min)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return close(fig)


def what_if_figure(max_surge: float = 2, max_unavailable: float = 2) -> Any:
    """The rollouts with these (absolute) bounds, and how the v2 rollout went in the title."""
    surge, unavailable = int(max_surge), int(max_unavailable)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    result = run_rollout(surge, unavailable)
    info = rollout_summary(result)
    took = (f"v2 done in {info['completed_after_s'] / 60:.1f} min" if info["completed_after_s"] is not None
            else "v2 never finished")
    return rollout_figure(result, bounds=surge_bounds(REPLICAS, surge, unavailable),
                          title=f"maxSurge {surge}, maxUnavailable {unavailable}: {took}, "
                                f"at least {info['min_available']} available")


def strategy_figure() -> Any:
    """The cluster as it stands: 2 GPU nodes x 4 GPUs, all 8 taken by the model server."""
    deployment, old, new = "Deployment\nmodel-server", "ReplicaSet v1\n(old)", "ReplicaSet v2\n(new)"
    gpus = [f"gpu-{n}\n4 GPUs" for n in range(2)]
    pos = {deployment: (2, 3), old: (1, 2), new: (3, 2), gpus[0]: (1, 0.4), gpus[1]: (3, 0.4)}
    edges = [(deployment, old, "scale down"), (deployment, new, "scale up"),
             (old, gpus[0], "pods"), (old, gpus[1], ""), (new, gpus[0], ""),
             (new, gpus[1], "pods: only where\na GPU is free")]
    fig, _ = flow_diagram(edges, pos, "A rolling update: two ReplicaSets share 8 GPUs, and there is no ninth",
                          highlight=lambda name: "gpu" in name)
    return close(fig)
