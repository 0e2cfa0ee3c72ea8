"""Figures of a trace (simulated or real): pod lifecycle, pod counts, allocation, control plane.

Every function takes a ``Trace`` and returns a matplotlib ``Figure`` with a title and
labelled axes; ``save_all`` writes the ones a scenario asks for as PNG files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.metrics import pod_state_series  # noqa: E402
from sim.trace import Trace  # noqa: E402

__all__ = ["PHASE_COLORS", "allocation_figure", "controlplane_figure", "pods_figure", "save_all",
           "serving_figure", "timeline_figure"]

PHASE_COLORS = {
    "pending": "#f4a261",
    "pulling": "#457b9d",
    "starting": "#a8dadc",
    "warming up": "#e9c46a",
    "ready": "#2a9d8f",
    "terminating": "#9d9d9d",
}
FAILED_COLOR = "#e63946"  # the cross where a pod ended Failed


def _end_time(trace: Trace, pods: Any) -> float:
    duration = trace.header.get("duration_s")
    if duration:
        return float(duration)
    return float(np.nanmax(pods[["created", "ready", "deleted"]].to_numpy())) if len(pods) else 1.0


def _segments(row: Any, end: float) -> list[tuple[str, float, float]]:
    """(phase, start, stop) bars of one pod's life."""
    t = {k: row[k] for k in ("created", "bound", "pulling", "pulled", "started", "ready", "terminating", "deleted")}
    ended = np.fmin(np.fmin(t["deleted"], row["succeeded"]), row["failed"])  # first of the three
    stop = ended if not np.isnan(ended) else end
    marks = [("pending", t["created"], t["bound"]),
             ("pulling", t["pulling"], t["pulled"]),
             ("starting", t["pulled"] if not np.isnan(t["pulled"]) else t["bound"], t["started"]),
             ("warming up", t["started"], t["ready"]),
             ("ready", t["ready"], t["terminating"] if not np.isnan(t["terminating"]) else stop),
             ("terminating", t["terminating"], stop)]
    out = []
    for phase, a, b in marks:
        if np.isnan(a):
            continue
        b = stop if np.isnan(b) else b
        if phase == "pending" and np.isnan(t["bound"]):
            b = stop
        if b > a:
            out.append((phase, a, b))
    return out


def timeline_figure(trace: Trace, max_pods: int = 40) -> Figure:
    """Gantt chart: each pod's pending, pulling, starting, warming-up and ready spans (x: Failed)."""
    pods = trace.pods_frame()
    end = _end_time(trace, pods)
    shown = pods.head(max_pods)
    fig, ax = plt.subplots(figsize=(11, 0.28 * max(len(shown), 4) + 1.6))
    for i, (_, row) in enumerate(shown.iterrows()):
        for phase, a, b in _segments(row, end):
            ax.barh(i, b - a, left=a, height=0.7, color=PHASE_COLORS[phase], linewidth=0)
        if not np.isnan(row["failed"]):
            ax.plot(row["failed"], i, marker="x", color=FAILED_COLOR, markersize=6, linestyle="")
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([f"{n} ({node})" if node else f"{n} (unscheduled)"
                        for n, node in zip(shown["name"], shown["node"], strict=True)], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, end)
    ax.set_xlabel("time (s)")
    more = f" (first {len(shown)} of {len(pods)})" if len(pods) > len(shown) else ""
    ax.set_title(f"Pod lifecycle{more}: {trace.header.get('scenario', '')}")
    handles: list[Any] = [Patch(color=c, label=p) for p, c in PHASE_COLORS.items()]
    if shown["failed"].notna().any():
        handles.append(Line2D([], [], marker="x", color=FAILED_COLOR, linestyle="", label="failed"))
    ax.legend(handles=handles, loc="lower right", fontsize=7, ncols=3)
    fig.tight_layout()
    return fig


def pods_figure(trace: Trace) -> Figure:
    """Pending, running and ready pods over time."""
    series = pod_state_series(trace)
    end = float(trace.header.get("duration_s") or 0)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    colors = {"pending": PHASE_COLORS["pending"], "running": PHASE_COLORS["starting"], "ready": PHASE_COLORS["ready"]}
    for name, (t, v) in series.items():
        if len(t):
            ax.step(np.append(t, max(end, t[-1])), np.append(v, v[-1]), where="post", label=name,
                    color=colors[name], linewidth=2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pods")
    ax.set_title("Pods pending, running and ready")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def allocation_figure(trace: Trace) -> Figure | None:
    """Heatmap of requested / allocatable per node over time (CPU, and GPU if any)."""
    names = [n for n in ("node_cpu_allocation", "node_gpu_allocation") if n in trace.matrices]
    if not names:
        return None
    fig, axes = plt.subplots(len(names), 1,
                             figsize=(10, 1.2 + 0.25 * len(trace.matrices[names[0]].columns) * len(names)),
                             squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        m = trace.matrices[name]
        values = np.array(m.rows).T * 100
        keep = ~np.isnan(values).all(axis=1)
        columns = [c for c, k in zip(m.columns, keep, strict=True) if k]
        data = np.ma.masked_invalid(values[keep])
        t = np.array(m.t)
        step = t[1] - t[0] if len(t) > 1 else 1.0
        im = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=100,
                       extent=(t[0], t[-1] + step, len(columns) - 0.5, -0.5))
        ax.set_yticks(range(len(columns)))
        ax.set_yticklabels(columns if len(columns) <= 40 else [""] * len(columns), fontsize=7)
        resource = "CPU" if "cpu" in name else "GPU"
        ax.set_title(f"{resource} requested / allocatable per node")
        ax.set_xlabel("time (s)")
        fig.colorbar(im, ax=ax, label="allocated (%)")
    fig.tight_layout()
    return fig


def controlplane_figure(trace: Trace) -> Figure:
    """API server inflight/queued requests, request and etcd commit p99, scheduler queue."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    panels = [
        (axes[0, 0], ["apiserver_inflight", "apiserver_queued"], 1, "requests", "API server mutating requests"),
        (axes[0, 1], ["apiserver_request_p99_s"], 1000, "ms", "API request latency p99 (per sample)"),
        (axes[1, 0], ["etcd_commit_p99_s"], 1000, "ms", "etcd commit latency p99 (per sample)"),
        (axes[1, 1], ["scheduler_pending"], 1, "pods", "Pods in the scheduling queue"),
    ]
    for ax, series, scale, unit, title in panels:
        for name in series:
            t, v = trace.series_array(name)
            ax.plot(t, v * scale, label=name.replace("_", " "), linewidth=1.2, marker="." if scale != 1 else None,
                    markersize=3)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("time (s)")
    fig.suptitle("Control plane")
    fig.tight_layout()
    return fig


def serving_figure(trace: Trace, slo_latency: float | None = None) -> Figure | None:
    """Requests per second by fate, latency percentiles against the SLO, and replicas over time."""
    if "serving_offered_rps" not in trace.series:
        return None
    fig, axes = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True)
    rates, latency, replicas = axes
    for name, color in (("offered", "#457b9d"), ("served", "#2a9d8f"), ("dropped", "#e63946"),
                        ("timed_out", "#f4a261")):
        t, v = trace.series_array(f"serving_{name}_rps")
        if len(t) and (name in ("offered", "served") or np.nansum(v) > 0):
            rates.step(t, v, where="post", label=name.replace("_", " "), color=color, linewidth=1.4)
    rates.set_ylabel("requests/s")
    rates.set_title("Requests per second")
    for name, color in (("p50", "#2a9d8f"), ("p95", "#e9c46a"), ("p99", "#e63946")):
        t, v = trace.series_array(f"serving_latency_{name}_s")
        latency.step(t, v * 1000, where="post", label=name, color=color, linewidth=1.4)
    if slo_latency:
        latency.axhline(slo_latency * 1000, color="#6c757d", linestyle="--", linewidth=1, label="SLO")
    latency.set_yscale("log")
    latency.set_ylabel("ms")
    latency.set_title("Latency of served requests (per sample interval)")
    for name, label, color in (("serving_replicas", "desired (spec.replicas)", "#6c757d"),
                               ("serving_replicas_ready", "ready pods", "#2a9d8f"),
                               ("serving_endpoints", "endpoints the proxy routes to", "#457b9d")):
        t, v = trace.series_array(name)
        replicas.step(t, v, where="post", label=label, color=color, linewidth=1.6)
    replicas.set_ylabel("replicas")
    replicas.set_title("Model-server replicas")
    replicas.set_xlabel("time (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Serving: {trace.header.get('scenario', '')}")
    fig.tight_layout()
    return fig


def save_all(trace: Trace, out_dir: Path, plots: list[str], timeline_pods: int = 40) -> list[str]:
    """Write the requested figures as PNG into ``out_dir``; returns the file names."""
    makers = {
        "timeline": lambda: timeline_figure(trace, timeline_pods),
        "pods": lambda: pods_figure(trace),
        "allocation": lambda: allocation_figure(trace),
        "controlplane": lambda: controlplane_figure(trace),
        "serving": lambda: serving_figure(trace, trace.header.get("slo_latency_s")),
    }
    written = []
    for name in plots:
        fig = makers[name]()
        if fig is None:
            continue
        file = f"{name}.png"
        fig.savefig(out_dir / file, dpi=110)
        plt.close(fig)
        written.append(file)
    return written
