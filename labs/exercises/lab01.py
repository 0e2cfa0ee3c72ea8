"""Checks for notebooks/01-pod-startup.ipynb: each runs the lab's simulation."""

from __future__ import annotations

from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.startup import PHASES, breakdown, run_startup

__all__ = ["check"]

EVENTS = ["created", "scheduled", "bound", "pulling", "pulled", "started", "ready"]
SLO_S = 1.0  # upstream SLO: mutating API call p99 <= 1 s (SIG Scalability)


def _order(answer: Any) -> Feedback:
    if not isinstance(answer, list | tuple) or not all(isinstance(a, str) for a in answer):
        raise ValueError("give a list of event names, e.g. ['created', 'scheduled', ...]")
    unknown = sorted(set(answer) - set(EVENTS))
    if unknown or len(answer) != len(EVENTS):
        return Feedback(False, f"use each of {EVENTS} exactly once (unknown: {unknown or 'none'}).")
    row = run_startup().pods().set_index("name").loc["web"]
    times = {e: row[e] for e in EVENTS}
    for a, b in zip(answer, answer[1:], strict=False):
        if times[a] > times[b]:
            return Feedback(False, f"in the simulation '{b}' happens at {times[b]:.3f} s, before "
                            f"'{a}' at {times[a]:.3f} s. Who must act first?")
    return Feedback(True, "that is the order the trace shows: API server, scheduler, kubelet.")


def _slowest(answer: Any) -> Feedback:
    table = breakdown(run_startup()).set_index("phase")["seconds"]
    phase = str(answer).strip().lower()
    if phase not in table.index:
        return Feedback(False, f"name one phase of {[p for p, _, _ in PHASES]} (got {answer!r}).")
    top = table.idxmax()
    if phase == top:
        return Feedback(True, f"{top} takes {table[top]:.2f} s of {table.sum():.2f} s; "
                        "the control plane's share is milliseconds.")
    return Feedback(False, f"{phase} takes {table[phase]:.3f} s; one phase takes "
                    f"{table.max() / max(table[phase], 1e-9):.0f}x as long. Look at the breakdown table.")


def _fsync_budget(answer: Any) -> Feedback:
    ms = number(answer, "an fsync latency in milliseconds")
    if not 0 < ms <= 5000:
        return Feedback(False, f"pick a latency between 0 and 5000 ms (got {ms:g}).")
    p99 = run_startup(ms).summary["apiserver_request_p99_s"]
    if p99 > SLO_S:
        return Feedback(False, f"at {ms:g} ms the API server's p99 is {p99:.2f} s, over the "
                        f"{SLO_S:g} s SLO. Go lower.")
    headroom = run_startup(ms * 1.25).summary["apiserver_request_p99_s"]
    if headroom <= SLO_S:
        return Feedback(False, f"at {ms:g} ms the p99 is {p99:.2f} s, within the SLO, and "
                        f"{ms * 1.25:g} ms still meets it ({headroom:.2f} s): find the largest value.")
    return Feedback(True, f"at {ms:g} ms the p99 is {p99:.2f} s: in this model a write costs about "
                    "two fsync latencies, so the disk budget is about half the SLO.")


check = checker({
    "1.1": _order,
    "1.2": _slowest,
    "1.3": _fsync_budget,
    "1.4": multiple_choice(
        "b", "the scheduler only writes a Binding; the API server sets spec.nodeName.",
        {"a": "the kubelet only reads spec.nodeName: it watches for pods bound to its node.",
         "c": "etcd stores bytes; it does not decide anything about pods.",
         "d": "kubectl only creates the pod; it never picks a node."}),
    "1.5": multiple_choice(
        "c", "the kubelet learns about its pod through a watch on the API server.",
        {"a": "the scheduler never talks to kubelets; everything goes through the API server.",
         "b": "etcd is only ever talked to by the API server.",
         "d": "kubelets do not poll nodes; they watch the API server for pods bound to them."}),
})
