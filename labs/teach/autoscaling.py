"""Lab 03, autoscaling under a traffic spike: the HPA scenario, its windows, cold starts and cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim import Result

from labs.teach.common import close, flow_diagram, run_scenario, scenario_path

__all__ = ["HPA", "SCALE_OUT", "SCALE_OUT_PATH", "SCENARIO", "SCENARIO_PATH", "SECOND_BURST", "SLO_S", "SPIKE",
           "flaps", "loop_figure", "reaction_figure", "reaction_stages", "rescales", "run_autoscaling",
           "run_scale_out", "scaling_figure", "stage_of", "traffic_figure", "what_if_figure", "window_attainment",
           "window_figures"]

SCENARIO = "labs/lab03-autoscaling"
SCENARIO_PATH = scenario_path(SCENARIO)
SCALE_OUT = "labs/lab03-scale-out"  # the HPA's decision as a plain scale: replays on a real control plane
SCALE_OUT_PATH = scenario_path(SCALE_OUT)
HPA = "workloads.llm-server.horizontalpodautoscaler.spec"
SPIKE = (360.0, 540.0)         # 6 to 9 min: the rate triples
SECOND_BURST = (690.0, 810.0)  # 11:30 to 13:30
SLO_S = 3.0
STAGES = ("HPA reacts", "scheduling", "image pull", "container start", "model load", "endpoints + proxy")


def run_autoscaling(target: float | None = None, window_s: float | None = None, seed: int | None = None) -> Result:
    """The lab's scenario, with the HPA's in-flight target and scale-down stabilisation window if given."""
    overrides = []
    if target is not None:
        overrides.append(f"{HPA}.metrics.0.pods.target.averageValue={target:g}")
    if window_s is not None:
        overrides.append(f"{HPA}.behavior.scaleDown.stabilizationWindowSeconds={int(window_s)}")
    return run_scenario(SCENARIO, overrides, seed=seed)


def run_scale_out() -> Result:
    """The real-cluster step's scenario in the simulator: 2 -> 6 replicas at 20 s, with cold starts."""
    return run_scenario(SCALE_OUT)


def _series(result: Result, name: str) -> pd.DataFrame:
    frame = result.trace.series_frame()
    return frame[frame["series"] == name][["t", "value"]]


def window_attainment(result: Result, window: tuple[float, float]) -> tuple[float, float]:
    """(share of the window's requests served within the SLO, worst 10 s p99 latency in it)."""
    start, end = window
    offered = _series(result, "serving_offered_rps")
    met = _series(result, "serving_slo_attainment")
    p99 = _series(result, "serving_latency_p99_s")
    both = offered.merge(met, on="t", suffixes=("_offered", "_met"))
    both = both[(both["t"] >= start) & (both["t"] < end)].dropna()
    weights = both["value_offered"].to_numpy()
    share = float(np.sum(weights * both["value_met"].to_numpy()) / np.sum(weights)) if weights.sum() else 1.0
    inside = p99[(p99["t"] >= start) & (p99["t"] < end)]["value"].dropna()
    return share, float(inside.max()) if len(inside) else 0.0


def rescales(result: Result) -> pd.DataFrame:
    """The HPA's SuccessfulRescale events: when, the new size and upstream's reason."""
    events = result.to_frame()
    events = events[(events["kind"] == "HorizontalPodAutoscaler") & (events["reason"] == "SuccessfulRescale")]
    sizes = events["message"].astype(str).str.extract(r"New size: (\d+); reason: (.*)")
    return pd.DataFrame({"t (s)": events["t"].round(1).to_numpy(), "replicas": sizes[0].astype(int).to_numpy(),
                         "reason": sizes[1].to_numpy()})


def flaps(result: Result) -> list[tuple[float, float]]:
    """Each scale-down the HPA later undid: (time of the scale-down, time of the next scale-up)."""
    table = rescales(result)
    out, size, down_at = [], None, None
    for t, replicas in zip(table["t (s)"], table["replicas"], strict=True):
        if size is not None and replicas < size and down_at is None:
            down_at = t
        elif size is not None and replicas > size and down_at is not None:
            out.append((down_at, t))
            down_at = None
        size = replicas
    return out


def reaction_stages(result: Result, since: float = SPIKE[0]) -> pd.DataFrame:
    """For each pod the HPA added after ``since``: seconds spent in each stage before it got traffic."""
    events = result.to_frame()
    rescaled = events[(events["kind"] == "HorizontalPodAutoscaler") & (events["reason"] == "SuccessfulRescale")
                      & (events["t"] >= since)]
    programmed = events[(events["kind"] == "Service") & (events["event"] == "programmed")]["t"].to_numpy()
    pods = result.pods()
    pods = pods[pods["name"].str.startswith("llm-server") & (pods["created"] >= since) & pods["ready"].notna()]
    first_rescale = float(rescaled["t"].iloc[0]) if len(rescaled) else since
    rows = []
    for _, pod in pods.iterrows():
        pulled = pod["pulled"] if pd.notna(pod["pulling"]) else pod["bound"]
        routed = programmed[programmed >= pod["ready"]]
        routed_at = float(routed[0]) if len(routed) else float(pod["ready"])
        rows.append({"pod": pod["name"], "node": pod["node"],
                     "HPA reacts": first_rescale - since,
                     "scheduling": pod["bound"] - pod["created"],
                     "image pull": pulled - pod["bound"],
                     "container start": pod["started"] - pulled,
                     "model load": pod["ready"] - pod["started"],
                     "endpoints + proxy": routed_at - pod["ready"]})
    table = pd.DataFrame(rows, columns=["pod", "node", *STAGES])
    table["total"] = table[list(STAGES)].sum(axis=1)
    return table.round(1).reset_index(drop=True)


def stage_of(text: Any) -> str | None:
    """The stage a learner's words name (``"image pull"``, ``"pull"``, ``"model"``...), or None."""
    words = str(text).lower()
    keys = [("HPA reacts", ("hpa", "sync", "autoscal", "metric")), ("scheduling", ("schedul", "bind")),
            ("image pull", ("pull", "image", "registry")), ("container start", ("container", "start")),
            ("model load", ("model", "load", "readiness", "weights", "warm")),
            ("endpoints + proxy", ("endpoint", "proxy", "ingress", "service"))]
    found = [stage for stage, hints in keys if any(h in words for h in hints)]
    return found[0] if len(found) == 1 else None


def _plot_run(axes: Any, result: Result, label: str, color: str | None = None) -> None:
    minutes = lambda frame: frame["t"] / 60  # noqa: E731 - a tiny local unit change
    rate = _series(result, "serving_offered_rps")
    ready = _series(result, "serving_replicas_ready")
    p99 = _series(result, "serving_latency_p99_s")
    line = axes[0].plot(minutes(rate), rate["value"], label=label, color=color)[0]
    axes[1].step(minutes(ready), ready["value"], where="post", label=label, color=line.get_color())
    axes[2].plot(minutes(p99), p99["value"], label=label, color=line.get_color())


def scaling_figure(results: dict[str, Result], title: str = "Autoscaling under a traffic spike") -> Any:
    """Offered load, ready replicas and p99 latency over time, one line per labelled run."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 6.5), sharex=True)
    for label, result in results.items():
        _plot_run(axes, result, label)
    for ax in axes:
        for start, end in (SPIKE, SECOND_BURST):
            ax.axvspan(start / 60, end / 60, color="tab:orange", alpha=0.08)
    axes[0].set_ylabel("offered load\n(requests/s)")
    axes[1].set_ylabel("ready replicas")
    axes[2].set_ylabel("p99 latency (s)\nper 10 s")
    axes[2].axhline(SLO_S, color="red", linestyle="--", linewidth=1, label=f"SLO {SLO_S:g} s")
    axes[2].set_xlabel("simulated time (min)")
    axes[0].set_title(title + " (shaded: bursts)")
    axes[2].legend(fontsize=8, loc="upper right")
    if len(results) > 1:
        axes[1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return close(fig)


def reaction_figure(table: pd.DataFrame) -> Any:
    """Stacked bars: where each new replica's time went between the spike and its first request."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.6))
    left = np.zeros(len(table))
    for stage in STAGES:
        values = table[stage].to_numpy(dtype=float)
        ax.barh(table["pod"] + " (" + table["node"] + ")", values, left=left, label=stage)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("seconds after the spike began")
    ax.set_title("From the spike to traffic on each new replica")
    ax.legend(fontsize=8, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    return close(fig)


def what_if_figure(target: float = 8, window_s: float = 300) -> Any:
    """One run with this HPA target and window: load, replicas and p99, with the cost in the title."""
    result = run_autoscaling(target, window_s)
    share, _ = window_attainment(result, SPIKE)
    hours = result.summary["serving_replica_hours"]
    return scaling_figure({f"target {target:g}, window {window_s:g} s": result},
                          title=f"target {target:g}: {share:.1%} of spike requests within {SLO_S:g} s, "
                                f"{hours:.2f} replica-hours")


def window_figures(windows: tuple[float, ...] = (60, 300), target: float = 3) -> Any:
    """Ready replicas and p99 for a few scale-down stabilisation windows at one target."""
    return scaling_figure({f"window {w:g} s": run_autoscaling(target, w) for w in windows},
                          title=f"Scale-down stabilisation windows (target {target:g})")


def traffic_figure() -> Any:
    """The Azure LLM inference trace replayed in serving-trace-replay: requests per second and p99."""
    import matplotlib.pyplot as plt

    result = run_scenario("serving-trace-replay")
    fig, axes = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
    rate = _series(result, "serving_offered_rps")
    p99 = _series(result, "serving_latency_p99_s")
    axes[0].plot(rate["t"] / 60, rate["value"], color="tab:blue")
    axes[0].set_ylabel("requests/s\n(20 s means)")
    axes[0].set_title("Azure LLM inference trace (conversation, first 20 min): real traffic is bursty")
    axes[1].plot(p99["t"] / 60, p99["value"], color="tab:red")
    axes[1].set_ylabel("p99 latency (s)")
    axes[1].axvline(8, color="grey", linestyle=":", label="3rd replica added")
    axes[1].set_xlabel("simulated time (min)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return close(fig)


_LOOP = [
    ("users", "ingress-nginx", "requests"),
    ("ingress-nginx", "llm-server pods", "routes to Ready\nendpoints"),
    ("llm-server pods", "metrics adapter", "in-flight\nrequests"),
    ("metrics adapter", "HPA", "every 15 s"),
    ("HPA", "Deployment", "scale"),
    ("Deployment", "scheduler", "new pods"),
    ("scheduler", "kubelet", "bind to a\nGPU node"),
    ("kubelet", "llm-server pods", "pull 7 GiB, load\nmodel, Ready"),
    ("llm-server pods", "EndpointSlice", "Ready"),
    ("EndpointSlice", "ingress-nginx", "proxy sync"),
]
_LOOP_POS = {"users": (0, 2), "ingress-nginx": (2, 2), "llm-server pods": (4.5, 2), "metrics adapter": (6.5, 1.2),
             "HPA": (6.5, 0), "Deployment": (4.5, 0), "scheduler": (2.2, 0), "kubelet": (3.2, 1),
             "EndpointSlice": (3.2, 3.1)}


def loop_figure() -> Any:
    """The autoscaling loop: traffic in, metrics to the HPA, new pods through the cold start, back to routing."""
    fig, _ = flow_diagram(_LOOP, _LOOP_POS,
                          "The autoscaling loop: a spike is absorbed only when new pods are Ready *and* routed",
                          figsize=(10, 4.6), node_size=1500, margins=0.12, connectionstyle="arc3,rad=0.08")
    return close(fig)
