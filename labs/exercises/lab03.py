"""Checks for notebooks/03-autoscaling.ipynb: each runs the lab's simulation with the answer."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.autoscaling import (
    SECOND_BURST,
    SLO_S,
    SPIKE,
    flaps,
    reaction_stages,
    run_autoscaling,
    stage_of,
    window_attainment,
)

__all__ = ["check"]

SLO_SHARE = 0.99            # 99 % of the spike's requests within 3 s, i.e. p99 <= 3 s
MAX_REPLICA_HOURS = 2.0     # the budget for exercise 3.1
DEFAULT_WINDOW_S = 300      # the HPA's default scale-down stabilisation


def _target(answer: Any) -> Feedback:
    target = number(answer, "an in-flight target per pod (e.g. 6)")
    if not 0.5 <= target <= 64:
        raise ValueError(f"a target of {target:g} requests in flight per pod makes no sense here: try 1 to 16")
    result = run_autoscaling(target)
    share, worst = window_attainment(result, SPIKE)
    hours = result.summary["serving_replica_hours"]
    dropped = int(result.summary["requests_dropped"])
    if share < SLO_SHARE:
        return Feedback(False, f"with target {target:g}, only {share:.2%} of the spike's requests were served within "
                        f"{SLO_S:g} s (worst 10 s p99 {worst:.1f} s, {dropped} dropped): the HPA only adds replicas "
                        "once the spike is there, and each needs minutes (image pull, model load) before it serves. "
                        "A lower target keeps more replicas ready *before* the spike.")
    if hours > MAX_REPLICA_HOURS:
        return Feedback(False, f"the spike is served ({share:.2%} within {SLO_S:g} s), but at {hours:.2f} "
                        "replica-hours, "
                        f"over the budget of {MAX_REPLICA_HOURS:g}: with so few requests per pod most GPUs idle. "
                        "Raise the target as far as the SLO allows.")
    return Feedback(True, f"target {target:g}: {share:.2%} of the spike's requests within {SLO_S:g} s "
                    f"(worst 10 s p99 {worst:.1f} s) for {hours:.2f} replica-hours. The target is headroom: the "
                    "replicas that absorb a spike must already be running when it starts.")


def _dominant(answer: Any) -> Feedback:
    if not isinstance(answer, str):
        raise ValueError("answer with the name of a stage as a string, e.g. 'scheduling'")
    named = stage_of(answer)
    if named is None:
        raise ValueError(f"{answer!r} names no single stage; use one of: HPA reacts, scheduling, image pull, "
                         "container start, model load, endpoints + proxy")
    table = reaction_stages(run_autoscaling())
    slowest = table.sort_values("total").iloc[-1]
    stages = slowest.drop(["pod", "node", "total"]).astype(float)
    longest = str(stages.idxmax())
    took = ", ".join(f"{k} {v:.0f} s" for k, v in stages.items())
    if named == longest:
        return Feedback(True, f"the slowest new replica ({slowest['pod']} on {slowest['node']}) took "
                        f"{slowest['total']:.0f} s: {took}. Its node had never run the server, so it pulled the "
                        "7 GiB image first; pods on nodes that already had it were serving in under a minute.")
    return Feedback(False, f"for the slowest new replica, {named} took {stages[named]:.0f} s, and another stage "
                    f"took longer ({took}): look for the biggest bar in the figure above.")


@lru_cache(maxsize=1)
def _default_hours() -> float:
    return float(run_autoscaling(3, DEFAULT_WINDOW_S).summary["serving_replica_hours"])


def _window(answer: Any) -> Feedback:
    window = number(answer, "a stabilisation window in seconds (e.g. 120)")
    if not 0 <= window <= 3600:
        raise ValueError(f"stabilizationWindowSeconds must be between 0 and 3600 (got {window:g})")
    result = run_autoscaling(3, window)
    flapped = flaps(result)
    share, worst = window_attainment(result, SECOND_BURST)
    hours = result.summary["serving_replica_hours"]
    default_hours = _default_hours()
    if flapped:
        down, up = next((f for f in flapped if f[1] >= SECOND_BURST[0]), flapped[0])
        return Feedback(False, f"with a {window:g} s window the HPA scaled down at {down / 60:.1f} min and back up at "
                        f"{up / 60:.1f} min ({len(flapped)} flap(s); {share:.2%} of the second burst within "
                        f"{SLO_S:g} s, worst p99 {worst:.1f} s). Each flap throws away warm replicas and pays a cold "
                        "start again: make the window cover the lull between the bursts plus the metric's lag.")
    if share < SLO_SHARE:
        return Feedback(False, f"no flap, but only {share:.2%} of the second burst within {SLO_S:g} s.")
    if hours >= default_hours - 1e-6:
        return Feedback(False, f"no flap, but {hours:.2f} replica-hours, no fewer than the default 300 s window's "
                        f"{default_hours:.2f}: a shorter window gives idle replicas back sooner after the last burst.")
    return Feedback(True, f"no flap, {share:.2%} of the second burst within {SLO_S:g} s, and {hours:.2f} replica-hours "
                    f"instead of {default_hours:.2f} with the default 300 s: the window spans the lull between "
                    "bursts (2.5 min plus the metric's lag) and no more.")


check = checker({
    "3.1": _target,
    "3.2": _dominant,
    "3.3": _window,
    "3.4": multiple_choice(
        "b", "the HPA syncs every 15 s, so scaling starts within seconds; the replicas then need minutes "
             "(image pull, model load) before they serve.",
        {"a": "the HPA noticed within one 15 s sync; look at what the new pods did after that.",
         "c": "the scheduler placed every pod in milliseconds (there were free GPUs).",
         "d": "kube-proxy and the ingress routed to a pod within a second of it turning Ready."}),
    "3.5": multiple_choice(
        "c", "the stabilisation window keeps the highest recommendation of the last N seconds, so a short dip "
             "does not shrink the Deployment.",
        {"a": "the window does not delay scale-ups (their default window is 0 s).",
         "b": "the tolerance (10 %) ignores small metric changes; the window remembers recommendations.",
         "d": "the window does not touch the metric; it picks among the HPA's recent recommendations."}),
})
