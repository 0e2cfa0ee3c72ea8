"""The markdown report of one run, and atomic writing of a run's output folder.

Outputs are written to a temporary folder beside the target and moved into place file by
file, so an interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from sim.scheduler.plugins.registry import NOT_MODELLED
from sim.trace import Trace

__all__ = ["render_report", "write_outputs"]

SUMMARY_ROWS = [
    ("pods_created", "Pods created", ""),
    ("pods_ready", "Pods ready", ""),
    ("pods_pending_at_end", "Pods still pending at the end", ""),
    ("pod_startup_p50_s", "Pod startup p50 (SLI, excl. image pulls)", "s"),
    ("pod_startup_p99_s", "Pod startup p99 (SLO: <= 5 s)", "s"),
    ("pod_ready_p50_s", "Created to Ready p50", "s"),
    ("pod_ready_p99_s", "Created to Ready p99", "s"),
    ("scheduling_throughput_pods_per_s", "Scheduling throughput (avg of busy seconds)", "pods/s"),
    ("apiserver_request_p99_s", "API request latency p99", "s"),
    ("etcd_commit_p99_s", "etcd commit latency p99", "s"),
    ("cost_per_hour", "Cluster cost per hour", "$"),
    ("cost_total", "Cluster cost of this run", "$"),
]


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip() if unit and unit != "$" else (f"${text}" if unit == "$" else text)


def _phase_table(trace: Trace) -> list[str]:
    pods = trace.pods_frame()
    if pods.empty:
        return []
    spans = {
        "Scheduling (created → scheduled)": pods["scheduled"] - pods["created"],
        "Binding (scheduled → bound)": pods["bound"] - pods["scheduled"],
        "Image pull (pulling → pulled)": pods["pulled"] - pods["pulling"],
        "Container start (→ started)": pods["started"] - pods[["pulled", "bound"]].max(axis=1),
        "Warm-up (started → ready)": pods["ready"] - pods["started"],
    }
    lines = ["| Phase | p50 (s) | p99 (s) | pods |", "|---|---:|---:|---:|"]
    for name, values in spans.items():
        v = values.dropna().to_numpy(dtype=float)
        if len(v):
            lines.append(f"| {name} | {np.percentile(v, 50):.3f} | {np.percentile(v, 99):.3f} | {len(v)} |")
    return lines


def _failed_scheduling(trace: Trace) -> list[str]:
    df = trace.to_frame()
    failed = df[df["event"] == "failedScheduling"]
    if failed.empty:
        return []
    counts = failed.groupby("message", observed=True)["name"].nunique().sort_values(ascending=False)
    lines = ["| Pods | FailedScheduling message |", "|---:|---|"]
    lines += [f"| {n} | {msg} |" for msg, n in counts.items()]
    return lines


def render_report(trace: Trace, summary: dict[str, Any], description: str, plots: list[str]) -> str:
    """Markdown text of the report."""
    name = summary.get("scenario", "run")
    out = [f"# {name}: kubesim report", ""]
    if description:
        out += [description.strip(), ""]
    out += [f"Seed {summary.get('seed')} · simulated {_fmt(summary.get('sim_time_s'), 's')} in "
            f"{_fmt(summary.get('wall_time_s'), 's')} of wall time · {summary.get('nodes', '?')} nodes · "
            f"model of Kubernetes {summary.get('kubernetes_version')}", ""]
    out += ["## Summary", "", "| Figure | Value |", "|---|---:|"]
    out += [f"| {label} | {_fmt(summary.get(key), unit)} |" for key, label, unit in SUMMARY_ROWS if key in summary]
    phases = _phase_table(trace)
    if phases:
        out += ["", "## Where the start-up time goes", "", *phases]
    failed = _failed_scheduling(trace)
    if failed:
        out += ["", "## Pods the scheduler could not place", "",
                "Messages as kube-scheduler writes them in the pod's FailedScheduling event.", "", *failed]
    titles = {"timeline.png": "Pod lifecycle", "pods.png": "Pods over time",
              "allocation.png": "Node allocation", "controlplane.png": "Control plane"}
    if plots:
        out += ["", "## Figures", ""]
        for file in plots:
            out += [f"### {titles.get(file, file)}", "", f"![{titles.get(file, file)}]({file})", ""]
    out += ["## What this model leaves out", "",
            "Scheduler plugins of the default profile not modelled yet: " + ", ".join(NOT_MODELLED) + ".",
            "Informer caches read the committed state (no stale reads); optimistic-concurrency conflicts "
            "are not modelled.", ""]
    return "\n".join(out)


def write_outputs(out_dir: str | Path, trace: Trace, summary: dict[str, Any], description: str,
                  plots: list[str], timeline_pods: int = 40) -> dict[str, Path]:
    """Write trace.jsonl, summary.json, report.md and plots atomically into ``out_dir``."""
    from sim.plots import save_all

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kubesim-", dir=out))
    try:
        trace.write_jsonl(tmp / "trace.jsonl")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        written = save_all(trace, tmp, plots, timeline_pods)
        (tmp / "report.md").write_text(render_report(trace, summary, description, written))
        paths = {}
        for file in sorted(os.listdir(tmp)):
            os.replace(tmp / file, out / file)
            paths[file] = out / file
        return paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
