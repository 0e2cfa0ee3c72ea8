"""Checks for notebooks/04-rollout.ipynb: each runs the lab's simulation with the answer."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.rollout import UNDO_AT, V2_AT, V3_AT, rollout_summary, run_rollout

__all__ = ["check"]

MIN_AVAILABLE = 6      # what the traffic needs (at 4 the p99 breaks the 3 s SLO)
CHANGE_WINDOW_S = 300  # the v2 rollout must be done within 5 minutes
STUCK_PENDING_S = 60   # a pod Pending this long would make a cluster-autoscaler buy a GPU node
REPORT_WITHIN_S = 180  # exercise 4.3: the broken v3 must be reported within 3 minutes


def _bound(value: Any, name: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number of pods (e.g. 1) or a percentage string (e.g. '25%')")
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?%", text):
        return text
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    raise ValueError(f"{name} must be a number of pods (e.g. 1) or a percentage string (e.g. '25%'), got {value!r}")


def _strategy(answer: Any) -> tuple[int | str, int | str]:
    if not isinstance(answer, dict) or set(answer) != {"maxSurge", "maxUnavailable"}:
        raise ValueError('answer with a dict like {"maxSurge": 1, "maxUnavailable": "25%"}')
    surge, unavailable = _bound(answer["maxSurge"], "maxSurge"), _bound(answer["maxUnavailable"], "maxUnavailable")
    if str(surge).rstrip("%") in ("0", "0.0") and str(unavailable).rstrip("%") in ("0", "0.0"):
        raise ValueError("maxSurge and maxUnavailable cannot both be 0: the API server rejects that Deployment")
    return surge, unavailable


def _stuck_pending(result: Any) -> int:
    pods = result.pods()
    pods = pods[pods["name"].str.startswith("model-server-") & (pods["created"] >= V2_AT) & (pods["created"] < V3_AT)]
    scheduled = pods["scheduled"].fillna(V3_AT).to_numpy()
    return int(np.sum(scheduled - pods["created"].to_numpy() > STUCK_PENDING_S))


def _bounds_check(answer: Any) -> Feedback:
    surge, unavailable = _strategy(answer)
    result = run_rollout(surge, unavailable)
    info = rollout_summary(result)
    stuck = _stuck_pending(result)
    said = f"maxSurge {surge}, maxUnavailable {unavailable}"
    if info["completed_after_s"] is None:
        why = (f" {stuck} surge pod(s) stayed Pending (0/2 nodes: Insufficient nvidia.com/gpu) and no old pod may go "
               "first, so nothing moves: with no spare GPU, a rollout needs maxUnavailable > 0."
               if stuck else " One pod at a time is too slow: each step pulls or loads a 7 GiB model.")
        deadline = (f" The Deployment reported ProgressDeadlineExceeded {info['deadline_exceeded_after_s']:.0f} s in."
                    if info["deadline_exceeded_after_s"] is not None else "")
        return Feedback(False, f"with {said} the v2 rollout had not finished after {(V3_AT - V2_AT) / 60:.0f} min.{why}"
                        + deadline)
    took = info["completed_after_s"]
    if info["min_available"] < MIN_AVAILABLE:
        return Feedback(False, f"with {said} v2 was done in {took:.0f} s, but only {info['min_available']} replicas "
                        f"were available at one point (worst p99 {info['worst_p99_s']} s, {info['dropped']} requests "
                        f"dropped): the traffic needs {MIN_AVAILABLE}.")
    if took > CHANGE_WINDOW_S:
        return Feedback(False, f"with {said} at least {info['min_available']} stayed available, but v2 took "
                        f"{took:.0f} s, over the {CHANGE_WINDOW_S // 60}-minute window: replace more pods per step.")
    if stuck:
        return Feedback(False, f"with {said} v2 was done in {took:.0f} s with at least {info['min_available']} "
                        f"available, but {stuck} surge pod(s) sat Pending for minutes (no GPU free). With a "
                        "cluster-autoscaler each would buy a new GPU node; here maxSurge buys nothing.")
    return Feedback(True, f"{said}: v2 done in {took:.0f} s, never fewer than {info['min_available']} available, "
                    f"no pod left Pending (worst p99 {info['worst_p99_s']} s). With every GPU taken, capacity for new "
                    "pods can only come from old ones: maxUnavailable paces the rollout, maxSurge cannot help.")


def _deadline(answer: Any) -> Feedback:
    deadline = number(answer, "progressDeadlineSeconds (e.g. 600)")
    if not 1 <= deadline <= 3600:
        raise ValueError(f"use a deadline between 1 and 3600 seconds here (got {deadline:g})")
    result = run_rollout(0, 2, deadline_s=deadline)
    good = rollout_summary(result)
    bad = rollout_summary(result, V3_AT, UNDO_AT)
    if good["deadline_exceeded_after_s"] is not None:
        return Feedback(False, f"with {deadline:g} s the *good* v2 rollout was marked failed "
                        f"(ProgressDeadlineExceeded {good['deadline_exceeded_after_s']:.0f} s in) although it finished "
                        f"{good['completed_after_s']:.0f} s in: its first step (image pull + model load) went longer "
                        "than that without a new Ready pod.")
    reported = bad["deadline_exceeded_after_s"]
    if reported is None or reported > REPORT_WITHIN_S:
        when = "not before the undo" if reported is None else f"{reported:.0f} s after the change"
        return Feedback(False, f"v2 is fine, but the broken v3 was reported {when}: more than "
                        f"{REPORT_WITHIN_S // 60} minutes of a stalled rollout before anyone is told.")
    return Feedback(True, f"with {deadline:g} s, v2 completes without a false alarm and v3 is reported "
                    f"ProgressDeadlineExceeded {reported:.0f} s after the change. The deadline must outlast the "
                    "slowest healthy step (a pull plus a model load), and no more.")


_check = checker({
    "4.1": _bounds_check,
    "4.2": multiple_choice(
        "b", "with no readiness probe a pod is Ready as soon as its container runs, so the Service sends it "
             "requests while the model is still loading: they fail or hang until it is loaded.",
        {"a": "Kubernetes cannot know the model is loaded unless a probe asks the server.",
         "c": "without a probe the pod counts as Ready at once; it is not kept out of the Service.",
         "d": "initialDelaySeconds belongs to a probe; without a probe there is nothing to delay."}),
    "4.3": _deadline,
    "4.4": multiple_choice(
        "b", "the Deployment only reports it (Progressing=False, reason ProgressDeadlineExceeded); "
             "`kubectl rollout undo` or your pipeline must act.",
        {"a": "Kubernetes never rolls back by itself; the condition is a signal for you or your tooling.",
         "c": "the new ReplicaSet and its pods stay as they are.",
         "d": "the rollout is not paused; the controller keeps trying."}),
})


def check(name: str, answer: Any = Ellipsis) -> Feedback:
    """``check(name, answer)``; a dict still holding ``...`` (exercise 4.1's template) is not answered yet."""
    if isinstance(answer, dict) and any(v is Ellipsis for v in answer.values()):
        answer = Ellipsis
    return _check(name, answer)
