"""The markdown report of a real replay (``kubesim replay --out DIR`` -> ``DIR/report.md``).

Same figures as a simulated run's report where the trace has them (the summary comes
from ``sim.metrics.trace_metrics`` for both), plus what makes a real run different: the
cluster it ran on, how its times were measured, and notes such as foreign nodes that
could also receive pods.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sim.report import summary_rows, write_atomically
from sim.scenario import Scenario
from sim.trace import Trace

__all__ = ["PLOTS", "phase_rows", "render_replay_report", "write_replay"]

PLOTS = ("timeline", "pods")  # the others need control-plane series a replay does not sample

PHASES = (
    ("Scheduling (created → scheduled)", "scheduled", "created"),
    ("Binding (scheduled → bound)", "bound", "scheduled"),
    ("Image pull (pulling → pulled)", "pulled", "pulling"),
    ("Container start (bound → started)", "started", "bound"),
    ("Warm-up (started → ready)", "ready", "started"),
)


def phase_rows(trace: Trace) -> list[tuple[str, float, float, int]]:
    """(phase, p50 s, p99 s, pods) for each lifecycle span the trace has."""
    pods = trace.pods_frame()
    rows = []
    for label, end, start in PHASES:
        if pods.empty:
            break
        values = (pods[end] - pods[start]).dropna().to_numpy(dtype=float)
        if len(values):
            rows.append((label, float(np.percentile(values, 50)), float(np.percentile(values, 99)), len(values)))
    return rows


def _failed_scheduling(trace: Trace) -> list[str]:
    counts: dict[str, set[str]] = {}
    for rec in trace.events():
        if rec["event"] == "failedScheduling":
            counts.setdefault(rec["message"], set()).add(rec["name"])
    if not counts:
        return []
    lines = ["| Pods | FailedScheduling message (kube-scheduler's, verbatim) |", "|---:|---|"]
    for message, names in sorted(counts.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"| {len(names)} | {message} |")
    return lines


def render_replay_report(trace: Trace, summary: dict[str, Any], description: str, plots: list[str],
                         notes: list[str]) -> str:
    """Markdown text of a replay's report."""
    header = trace.header
    out = [f"# {summary.get('scenario', 'replay')}: replay on a real cluster", ""]
    if description:
        out += [description.strip(), ""]
    out += [f"Context `{summary.get('context')}` ({summary.get('cluster')}, Kubernetes "
            f"{summary.get('kubernetes_version')}) · namespace `{summary.get('namespace')}` · "
            f"{summary.get('nodes') or 'existing'} nodes · replayed {header.get('replayed_s', 0):g} s "
            f"in {summary.get('wall_time_s', 0):g} s of wall time (set-up and clean-up included)", ""]
    out += ["## Summary", "", "| Figure | Value |", "|---|---:|"]
    out += [f"| {label} | {value} |" for label, value in summary_rows(summary)]
    phases = phase_rows(trace)
    if phases:
        out += ["", "## Where the start-up time goes", "",
                "| Phase | p50 (s) | p99 (s) | pods |", "|---|---:|---:|---:|"]
        out += [f"| {label} | {p50:.3f} | {p99:.3f} | {n} |" for label, p50, p99, n in phases]
    failed = _failed_scheduling(trace)
    if failed:
        out += ["", "## Pods the scheduler could not place", "", *failed]
    if plots:
        out += ["", "## Figures", ""]
        out += [f"![{file}]({file})\n" for file in plots]
    out += ["", "## How this was measured", "",
            "Times are when kubesim's watches received each change, in seconds after the scenario's nodes were "
            "Ready (t = 0); the API server's own timestamps are kept in each trace event's `upstream` field "
            "(one-second resolution, except Events' eventTime). On KWOK nodes there are no image pulls and "
            "containers start the moment kwok's pod-ready stage runs, so start-up is the control plane's part "
            "alone: API server, scheduler, binding and the status write.", ""]
    if notes:
        out += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(out)


def write_replay(out: str | Path, trace: Trace, summary: dict[str, Any], scenario: Scenario,
                 notes: list[str]) -> None:
    """trace.jsonl, summary.json, report.md and the plots, written atomically into ``out``."""
    from sim.plots import save_all

    def write(tmp: Path) -> None:
        trace.write_jsonl(tmp / "trace.jsonl")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        plots = [p for p in scenario.outputs.plots if p in PLOTS]
        written = save_all(trace, tmp, plots, scenario.outputs.timeline_pods)
        (tmp / "report.md").write_text(render_replay_report(trace, summary, scenario.description, written, notes))

    write_atomically(out, write)
