"""Checks for notebooks/06-node-failures.ipynb: each runs the lab's node-crash simulation."""

from __future__ import annotations

import math
from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.failures import TRAINING_CRASH_TIMES, milestones, recovery_s, run_crash, run_training, step_seconds

__all__ = ["check"]

PREDICTION_MARGIN_S = 30  # a prediction within this of the simulated recovery passes
RECOVERY_TARGET_S = 100  # exercise 6.2: all replicas Ready again within this of the crash
LOST_WORK_S = 180  # exercise 6.3: at most this much training work lost per node crash
DEADLINE_MIN = 40  # ... and the job done within this, wherever the crash falls


def _since(table: Any, row: int) -> float:
    return float(table["since crash (s)"].iloc[row])


def _predict(answer: Any) -> Feedback:
    guess = number(answer, "a recovery time in seconds")
    result = run_crash()
    took = recovery_s(result)
    steps = milestones(result)
    story = (f"the node was marked Unknown {_since(steps, 1):.0f} s after the crash, tainted NoExecute at "
             f"{_since(steps, 2):.0f} s, its pods evicted at {_since(steps, 3):.0f} s and replaced "
             f"{_since(steps, 5) - _since(steps, 3):.0f} s later")
    if took is not None and abs(guess - took) <= PREDICTION_MARGIN_S:
        return Feedback(True, f"recovery took {took:.0f} s: {story}. Most of it is two timers: "
                        "node-monitor-grace-period (50 s) and tolerationSeconds (300 s).")
    return Feedback(False, f"recovery took {took:.0f} s, you said {guess:.0f} s: {story}. Which two settings "
                    "add up to most of that?")


def _toleration(answer: Any) -> Feedback:
    seconds = number(answer, "tolerationSeconds")
    if not math.isfinite(seconds) or seconds != int(seconds) or not 0 <= seconds <= 3600:
        return Feedback(False, f"tolerationSeconds is a whole number of seconds from 0 to 3600 (got {answer!r}).")
    result = run_crash(seconds)
    took = recovery_s(result)
    steps = milestones(result)
    evicted = _since(steps, 3)
    if took is not None and took <= RECOVERY_TARGET_S:
        note = (" With 0, pods leave at the first missed heartbeat window, even for a 1-minute network blip."
                if seconds == 0 else "")
        return Feedback(True, f"with tolerationSeconds {seconds:.0f} all 6 replicas were Ready {took:.0f} s after "
                        f"the crash (evicted at {evicted:.0f} s), within {RECOVERY_TARGET_S} s.{note}")
    if took is None:
        return Feedback(False, f"with tolerationSeconds {seconds:.0f} the pods were never evicted in the "
                        "12-minute run, so the replicas never all came back. Tolerate the taint for less.")
    return Feedback(False, f"with tolerationSeconds {seconds:.0f} recovery took {took:.0f} s, over "
                    f"{RECOVERY_TARGET_S} s: the taint came {_since(steps, 2):.0f} s after the crash and the "
                    f"pods were evicted {evicted - _since(steps, 2):.0f} s after that. Tolerate the taint for less.")


def _checkpoint(answer: Any) -> Feedback:
    steps = number(answer, "a checkpoint interval in steps")
    if not math.isfinite(steps) or steps != int(steps) or not 1 <= steps <= 1500:
        return Feedback(False, f"use a whole number of steps between 1 and 1500 (got {answer!r}).")
    interval = int(steps)
    lost, minutes, step_s = {}, {}, 0.0
    for at in TRAINING_CRASH_TIMES:
        result = run_training(interval, at)
        step_s = step_seconds(result) or step_s
        lost[at] = round((result.summary.get("training_lost_steps") or 0) * step_s)
        jct = result.summary.get("training_jct_mean_s")
        minutes[at] = round(jct / 60, 1) if jct else math.inf
    worst = interval * step_s
    if max(lost.values()) > LOST_WORK_S:
        return Feedback(False, f"work lost per crash time (s): {lost}: over {LOST_WORK_S} s. Checkpoint more often.")
    if worst > LOST_WORK_S:
        return Feedback(False, f"these crashes cost {lost} s of work, but a crash just before a checkpoint "
                        f"finishes loses the whole interval: {interval} steps x {step_s:.2f} s = {worst:.0f} s, "
                        f"over {LOST_WORK_S} s. Checkpoint more often.")
    if max(minutes.values()) > DEADLINE_MIN:
        return Feedback(False, f"lost work is bounded ({lost} s) but the job takes {minutes} minutes: over "
                        f"{DEADLINE_MIN} min, as every checkpoint stalls training 20 s. Checkpoint less often.")
    return Feedback(True, f"at most {worst:.0f} s of work lost whatever the crash time (measured {lost} s) and "
                    f"the job done in {max(minutes.values())} min at worst.")


check = checker({
    "6.1": _predict,
    "6.2": _toleration,
    "6.3": _checkpoint,
    "6.4": multiple_choice(
        "b", "the taint eviction controller deletes a pod once its toleration of the NoExecute taint runs out.",
        {"a": "node-monitor-grace-period decides when the node is marked Unknown and tainted, not when pods go.",
         "c": "terminationGracePeriodSeconds is how long a pod gets to shut down once it is deleted.",
         "d": "the ReplicaSet only replaces pods after they have been evicted."}),
    "6.5": multiple_choice(
        "a", "short blips (a kubelet restart, a brief partition) would evict and restart pods that were fine.",
        {"b": "0 is a valid tolerationSeconds: the pod is evicted as soon as the taint appears.",
         "c": "eviction does not add GPUs; it moves pods.",
         "d": "there is a cost: every blip becomes a restart, and for training a lost checkpoint interval."}),
})
