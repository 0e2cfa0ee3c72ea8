"""The markdown report of one run, and atomic writing of a run's output folder.

Outputs are written to a temporary folder beside the target and moved into place file by
file, so an interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.metrics import DEFAULT_REPORT_METRICS, METRICS, SERVING_REPORT_METRICS
from sim.scheduler.plugins.registry import not_modelled
from sim.trace import Trace

__all__ = ["render_report", "summary_rows", "write_atomically", "write_outputs"]

def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "bytes":
        from sim.api.quantity import format_bytes

        return format_bytes(value)
    if isinstance(value, float):
        text = f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip() if unit and unit != "$" else (f"${text}" if unit == "$" else text)


def summary_rows(summary: dict[str, Any], metrics: list[str] | None = None) -> list[tuple[str, str]]:
    """(label, formatted value) for the chosen metrics (default: the standard set)."""
    keys = metrics or (DEFAULT_REPORT_METRICS + SERVING_REPORT_METRICS if "requests_offered" in summary
                       else DEFAULT_REPORT_METRICS)
    return [(METRICS[k][0], _fmt(summary[k], METRICS[k][1])) for k in keys if k in summary]


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


def _cron_jobs(trace: Trace) -> list[str]:
    """Per CronJob: the Jobs it created and deleted, the runs it skipped, its warnings."""
    df = trace.to_frame()
    cron = df[df["kind"] == "CronJob"]
    if cron.empty:
        return []
    lines = ["| CronJob | Jobs created | runs skipped (Forbid) | Jobs deleted (history) | warnings |",
             "|---|---:|---:|---:|---|"]
    for (namespace, name), rows in cron.groupby(["namespace", "name"], observed=True, sort=True):
        events = rows["event"].astype(str)
        warnings = rows[events == "warning"]["reason"].astype(str).value_counts()
        said = ", ".join(f"{reason} x{n}" for reason, n in warnings.items()) or "–"
        label = f"{namespace}/{name}" if namespace and namespace != "default" else str(name)
        lines.append(f"| {label} | {(events == 'jobCreated').sum()} | {(events == 'jobAlreadyActive').sum()} | "
                     f"{(events == 'jobDeleted').sum()} | {said} |")
    return lines


def render_report(trace: Trace, summary: dict[str, Any], description: str, plots: list[str],
                  metrics: list[str] | None = None) -> str:
    """Markdown text of the report."""
    name = summary.get("scenario", "run")
    out = [f"# {name}: kubesim report", ""]
    if description:
        out += [description.strip(), ""]
    out += [f"Seed {summary.get('seed')} · simulated {_fmt(summary.get('sim_time_s'), 's')} in "
            f"{_fmt(summary.get('wall_time_s'), 's')} of wall time · {summary.get('nodes', '?')} nodes · "
            f"model of Kubernetes {summary.get('kubernetes_version')}", ""]
    out += ["## Summary", "", "| Figure | Value |", "|---|---:|"]
    out += [f"| {label} | {value} |" for label, value in summary_rows(summary, metrics)]
    phases = _phase_table(trace)
    if phases:
        out += ["", "## Where the start-up time goes", "", *phases]
    cron = _cron_jobs(trace)
    if cron:
        out += ["", "## CronJobs", "", "What the CronJob controller did (its events, counted).", "", *cron]
    failed = _failed_scheduling(trace)
    if failed:
        out += ["", "## Pods the scheduler could not place", "",
                "Messages as kube-scheduler writes them in the pod's FailedScheduling event.", "", *failed]
    titles = {"timeline.png": "Pod lifecycle", "pods.png": "Pods over time",
              "allocation.png": "Node allocation", "controlplane.png": "Control plane",
              "serving.png": "Serving: requests, latency and replicas"}
    if plots:
        out += ["", "## Figures", ""]
        for file in plots:
            out += [f"### {titles.get(file, file)}", "", f"![{titles.get(file, file)}]({file})", ""]
    out += ["## What this model leaves out", "",
            "Scheduler plugins of the default profile not modelled yet: " + ", ".join(not_modelled()) + ".",
            "Informer caches read the committed state (no stale reads): a write conflicts only when another "
            "writer changed the object between its read and its commit.", ""]
    if "requests_offered" in summary:
        out[-1:] = ["Serving: one kube-proxy's view stands for every node's; requests already at a pod finish "
                    "even if it is deleted (graceful drain); the fluid mode uses steady-state queueing per tick "
                    "(no backlog carried between ticks).", ""]
    return "\n".join(out)


def write_outputs(out_dir: str | Path, trace: Trace, summary: dict[str, Any], description: str,
                  plots: list[str], timeline_pods: int = 40, metrics: list[str] | None = None) -> dict[str, Path]:
    """Write trace.jsonl, summary.json, report.md and plots atomically into ``out_dir``."""
    from sim.plots import save_all

    def write(tmp: Path) -> None:
        trace.write_jsonl(tmp / "trace.jsonl")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        written = save_all(trace, tmp, plots, timeline_pods)
        (tmp / "report.md").write_text(render_report(trace, summary, description, written, metrics))

    return write_atomically(out_dir, write)


def write_atomically(out_dir: str | Path, write: Callable[[Path], None]) -> dict[str, Path]:
    """Let ``write`` fill a temporary folder inside ``out_dir``, then move each file into place.

    Used for every output folder (runs, real replays, comparisons): if ``write`` fails or is
    interrupted, ``out_dir`` keeps its previous files and no half-written one."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kubesim-", dir=out))
    try:
        write(tmp)
        paths = {}
        for file in sorted(os.listdir(tmp)):
            os.replace(tmp / file, out / file)
            paths[file] = out / file
        return paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
