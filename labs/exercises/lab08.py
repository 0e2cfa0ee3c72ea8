"""Checks for notebooks/08-control-plane-under-load.ipynb: each runs the lab's simulation."""

from __future__ import annotations

from typing import Any

from sim.scheduler.framework import num_feasible_nodes_to_find

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.controlplane import (
    API_SLO_S,
    SCORING_NODES,
    STARTUP_SLO_S,
    burst_window,
    mystery,
    run_fast,
    run_scoring,
    scheduler_capacity,
)

__all__ = ["check"]

CAPACITY_TARGET = 800.0  # pods/s the scheduler must sustain in exercise 8.4
COMPONENTS = {
    "apiserver": "kube-apiserver", "kube-apiserver": "kube-apiserver", "api server": "kube-apiserver",
    "api": "kube-apiserver", "etcd": "etcd", "scheduler": "kube-scheduler", "kube-scheduler": "kube-scheduler",
    "controller-manager": "kube-controller-manager", "kube-controller-manager": "kube-controller-manager",
    "controller manager": "kube-controller-manager", "kcm": "kube-controller-manager",
    "kubelet": "kubelet", "kubelets": "kubelet",
}


def _in_range(value: float, low: float, high: float, what: str) -> Feedback | None:
    if not low <= value <= high:
        return Feedback(False, f"pick {what} between {low:g} and {high:g} (got {value:g}).")
    return None


def _scheduler_qps(answer: Any) -> Feedback:
    qps = number(answer, "the scheduler's client QPS")
    bad = _in_range(qps, 1, 1000, "a QPS")
    if bad is not None:
        return bad
    p99 = run_fast(scheduler_qps=qps).summary["pod_startup_p99_s"]
    if p99 >= STARTUP_SLO_S:
        return Feedback(False, f"at {qps:g} QPS the scheduler binds at most {qps:g} pods/s while the "
                        f"controller-manager creates them at 200/s: start-up p99 is {p99:.1f} s, over the "
                        f"{STARTUP_SLO_S:g} s SLO. Go higher.")
    lower = round(qps * 0.8, 1)
    p99_lower = run_fast(scheduler_qps=lower).summary["pod_startup_p99_s"]
    if p99_lower < STARTUP_SLO_S:
        return Feedback(False, f"{qps:g} QPS meets the SLO (p99 {p99:.1f} s), but so does {lower:g} QPS "
                        f"(p99 {p99_lower:.1f} s): find the smallest value, within 25%.")
    return Feedback(True, f"at {qps:g} QPS start-up p99 is {p99:.1f} s (at {lower:g} QPS it is {p99_lower:.1f} s). "
                    "Binding is one API write per pod, so the scheduler's client limit caps pods/s however "
                    "fast the scheduling cycles are.")


def _bottleneck(answer: Any) -> Feedback:
    if not isinstance(answer, str):
        raise ValueError("name one component as a string, e.g. 'etcd' or 'scheduler'")
    name = COMPONENTS.get(answer.strip().lower())
    if name is None:
        return Feedback(False, f"name one of kube-apiserver, etcd, kube-scheduler, kube-controller-manager, "
                        f"kubelet (got {answer!r}).")
    run, healthy = mystery(), run_fast(scheduler_qps=200)
    s, h = run.summary, healthy.summary
    etcd_ms, healthy_etcd_ms = s["etcd_commit_p99_s"] * 1000, h["etcd_commit_p99_s"] * 1000
    api_ms = s["apiserver_request_p99_s"] * 1000
    start, end = burst_window(run)
    pods = run.pods()
    if name == "etcd":
        return Feedback(True, f"etcd's commit p99 is {etcd_ms:.0f} ms, {etcd_ms / healthy_etcd_ms:.0f}x a healthy "
                        f"disk's {healthy_etcd_ms:.0f} ms (the hidden change: a slow fsync). Every write holds an "
                        f"API seat until etcd commits it, so the seats filled ({s['apiserver_peak_queued']} queued) "
                        f"and API p99 reached {api_ms:.0f} ms.")
    if name == "kube-apiserver":
        return Feedback(False, f"its seats did fill up ({s['apiserver_peak_queued']} requests queued), but that is "
                        f"a symptom: each request held its seat while waiting for etcd, whose commit p99 is "
                        f"{etcd_ms:.0f} ms against {healthy_etcd_ms:.0f} ms on a healthy disk. What is slow?")
    if name == "kube-scheduler":
        _, pending = run.trace.series_array("scheduler_pending")
        return Feedback(False, f"the scheduling queue never held more than {int(max(pending, default=0))} pods and "
                        "every pod was scheduled within moments of its creation: look at the latency panels.")
    if name == "kube-controller-manager":
        created = pods["created"].max() - start
        return Feedback(False, f"it created all {len(pods)} pods within {created:.1f} s, as its 200 QPS allows; "
                        "pods then waited further down the chain. Which panel is far from its healthy value?")
    started = (pods["started"] - pods["bound"]).median()
    hp = healthy.pods()
    healthy_started = (hp["started"] - hp["bound"]).median()
    return Feedback(False, f"kubelets started each pod a median {started:.1f} s after it was bound "
                    f"({healthy_started:.1f} s in a healthy run, and a kubelet's status writes go through etcd too); "
                    f"the burst took {end - start:.1f} s because of something all writes share.")


def _inflight(answer: Any) -> Feedback:
    seats = number(answer, "a number of seats (max-mutating-requests-inflight)")
    bad = _in_range(seats, 1, 2000, "a seat count")
    if bad is not None:
        return bad
    if seats != int(seats):
        return Feedback(False, f"the flag takes a whole number of seats (got {seats:g}).")
    p99 = run_fast(scheduler_qps=200, inflight=int(seats), fsync_ms=50).summary["apiserver_request_p99_s"]
    if p99 >= API_SLO_S:
        return Feedback(False, f"with {int(seats)} seats and 50 ms fsyncs the API request p99 is {p99:.2f} s, "
                        f"over the {API_SLO_S:g} s SLO: requests wait in the queue for a seat. Go higher.")
    lower = max(1, round(seats * 0.8))
    p99_lower = run_fast(scheduler_qps=200, inflight=lower, fsync_ms=50).summary["apiserver_request_p99_s"]
    if p99_lower < API_SLO_S:
        return Feedback(False, f"{int(seats)} seats meet the SLO (p99 {p99:.2f} s), and so do {lower} "
                        f"(p99 {p99_lower:.2f} s): find the smallest value, within 25%.")
    return Feedback(True, f"{int(seats)} seats give an API p99 of {p99:.2f} s ({lower} seats: {p99_lower:.2f} s). "
                    "Seats needed = write rate x time a write holds its seat (about 2 fsyncs): a slow disk "
                    "multiplies the seats a burst needs.")


def _percentage(answer: Any) -> Feedback:
    pct = number(answer, "a percentage (0 to 100)")
    bad = _in_range(pct, 0, 100, "a percentage")
    if bad is not None:
        return bad
    if pct != int(pct):
        return Feedback(False, f"percentageOfNodesToScore is a whole number (got {pct:g}).")
    pct = int(pct)
    if pct == 0:
        adaptive = num_feasible_nodes_to_find(SCORING_NODES, 0)
        return Feedback(False, f"0 means adaptive: at {SCORING_NODES} nodes the scheduler looks at {adaptive} nodes "
                        f"({100 * adaptive // SCORING_NODES} %). Give an explicit percentage instead.")
    cap = scheduler_capacity(run_scoring(pct))
    scored = num_feasible_nodes_to_find(SCORING_NODES, pct)
    if cap < CAPACITY_TARGET:
        return Feedback(False, f"at {pct} % the scheduler scores {scored} nodes per pod and places at most "
                        f"{cap:.0f} pods/s, under the {CAPACITY_TARGET:g} target. Score fewer nodes.")
    more = min(pct + 10, 100)
    cap_more = scheduler_capacity(run_scoring(more))
    if cap_more >= CAPACITY_TARGET and more > pct:
        return Feedback(False, f"{pct} % meets the target ({cap:.0f} pods/s), but so does {more} % "
                        f"({cap_more:.0f} pods/s), which looks at more nodes for a better one: find the largest, "
                        "within 10 points.")
    return Feedback(True, f"at {pct} % the scheduler scores {scored} of {SCORING_NODES} nodes and places "
                    f"{cap:.0f} pods/s; at {more} % only {cap_more:.0f}. The adaptive default (0) picks "
                    f"{num_feasible_nodes_to_find(SCORING_NODES, 0) * 100 // SCORING_NODES} % here, by the same logic.")


check = checker({
    "8.1": _scheduler_qps,
    "8.2": _bottleneck,
    "8.3": _inflight,
    "8.4": _percentage,
    "8.5": multiple_choice(
        "a", "fewer nodes scored make each cycle cheaper, but the scheduler may miss the best node "
        "(placement quality): fine for identical nodes, costly for tight bin-packing or spreading.",
        {"b": "the setting changes CPU time per pod, not the memory the scheduler uses.",
         "c": "scoring happens inside the scheduler: it writes the same one Binding per pod either way.",
         "d": "every pod is scored the same way; namespaces play no part."}),
    "8.6": multiple_choice(
        "b", "pods were created at 200/s but bound at 50/s: the scheduler's client limit became the "
        "queue, so the last pods waited seconds for their Binding.",
        {"a": "etcd's commit latency stayed at a few ms in both runs: look at the control-plane panels.",
         "c": "nothing is rejected in the model: requests over the seat limit queue, and none queued here.",
         "d": "kubelets start a pod as soon as it is bound; the gap in the figure is between 'scheduled' and "
              "'bound'."}),
})
