"""Why a pod went where it did: the scheduler's recorded decisions for one pod, in words.

``explain(trace, "model-server-abc12")`` returns the text ``kubesim explain`` prints: each
scheduling attempt with upstream's FailedScheduling message and per-reason node counts,
or the top candidate nodes with each plugin's weighted score.
"""

from __future__ import annotations

from typing import Any

from sim.trace import Trace

__all__ = ["explain", "find_pod"]


def find_pod(trace: Trace, name: str) -> tuple[str, str]:
    """(namespace, name) of the pod called ``name`` (or ``namespace/name``); ValueError if none."""
    namespace = None
    if "/" in name:
        namespace, name = name.split("/", 1)
    pods = trace.pods_frame()
    match = pods[(pods["name"] == name) & ((pods["namespace"] == namespace) if namespace else True)]
    if match.empty:
        prefix = pods[pods["name"].str.startswith(name)]
        if len(prefix) == 1:
            return str(prefix["namespace"].iloc[0]), str(prefix["name"].iloc[0])
        hint = f"; pods starting with it: {', '.join(prefix['name'].head(5))}" if len(prefix) else ""
        raise ValueError(f"no pod {name!r} in the trace{hint}")
    return str(match["namespace"].iloc[0]), name


def _attempt_lines(rec: dict[str, Any]) -> list[str]:
    head = f"  attempt {rec['attempt']} at t={rec['t']:.3f}s: "
    if not rec.get("node"):
        lines = [head + "unschedulable", f"    {rec.get('message', '')}"]
        for reason, count in sorted(rec.get("reasons", {}).items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {count:>6} node(s): {reason}")
        return lines
    lines = [head + f"-> {rec['node']} ({rec['feasible']} feasible of {rec['evaluated']} evaluated)"]
    top = rec.get("top") or []
    if top:
        plugins = sorted({p for cand in top for p in cand["plugins"]})
        width = max(len(c["node"]) for c in top)
        lines.append("    " + "node".ljust(width) + "  total  " + "  ".join(plugins))
        for cand in top:
            cells = "  ".join(str(cand["plugins"].get(p, "")).rjust(len(p)) for p in plugins)
            lines.append(f"    {cand['node'].ljust(width)}  {cand['total']:>5}  {cells}")
        lines.append("    (scores are weighted: plugin score 0-100 x its weight; ties broken at random)")
    return lines


def explain(trace: Trace, pod: str) -> str:
    """A readable account of one pod's scheduling and lifecycle."""
    namespace, name = find_pod(trace, pod)
    out = [f"Pod {namespace}/{name}"]
    decisions = trace.decisions_for(name, namespace)
    if not decisions:
        out.append("  no scheduler decisions recorded (outputs.decisions was off, or the pod never "
                   "reached the scheduler)")
    for rec in decisions:
        out += _attempt_lines(rec)
    row = trace.pods_frame().set_index(["namespace", "name"]).loc[(namespace, name)]
    steps = [(k, row[k]) for k in ("created", "scheduled", "bound", "pulling", "pulled", "started", "ready",
                                   "terminating", "deleted") if row[k] == row[k]]
    out.append("  lifecycle: " + ", ".join(f"{k} {v:.3f}s" for k, v in steps))
    if row["node"]:
        out.append(f"  node: {row['node']}")
    return "\n".join(out)
