"""Checks for notebooks/05-distributed-training.ipynb: each runs the lab's simulation or network model."""

from __future__ import annotations

from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.common import run_scenario
from labs.teach.training import FAILURE_TIMES, allreduce_seconds, gpu_holders, network, nodes_table, run_checkpointed

__all__ = ["check"]

RANKS = 8
LOST_BOUND = 150  # steps of work a failure may cost at most
GOODPUT_FLOOR = 0.78  # useful time / job time, at every failure time


def _idle_gpus(answer: Any) -> Feedback:
    n = number(answer, "a number of GPUs")
    held = gpu_holders(run_scenario("training-deadlock"))
    by_job = {job: int(n) for job, n in held["holding_gpu_at_end"].items()}
    total = sum(by_job.values())
    if n == total:
        return Feedback(True, f"all {total} GPUs are held ({by_job}) and "
                        "no job trains: each waits at rendezvous for pods that can never be placed.")
    return Feedback(False, f"the simulation ends with job pods holding GPUs as "
                    f"{by_job} and {int(held['succeeded'].sum())} pods finished. "
                    "Count every GPU some pod holds while its job cannot start.")


def _placement(answer: Any) -> Feedback:
    if not isinstance(answer, dict) or not all(isinstance(v, int) and v > 0 for v in answer.values()):
        raise ValueError("give a dict {node name: number of GPUs}, e.g. {'gpu-0': 4, 'gpu-1': 4}")
    if sum(answer.values()) != RANKS or max(answer.values()) > 4:
        return Feedback(False, f"place exactly {RANKS} ranks, at most 4 per node "
                        f"(got {sum(answer.values())}, max {max(answer.values())} on one node).")
    net = network()
    seconds = allreduce_seconds(answer, net=net)
    best = allreduce_seconds({"gpu-0": 4, "gpu-2": 4}, net=net)
    zones = sorted(set(nodes_table(net).set_index("node").loc[list(answer), "zone"]))
    if seconds <= best * 1.01:
        return Feedback(True, f"{seconds * 1e3:.0f} ms per all-reduce: two full nodes in one zone, so "
                        "the slowest hop is a 200 Gb/s NIC, never the 100 Gb/s zone link.")
    where = "crosses zones (100 Gb/s)" if len(zones) > 1 else "has a slow hop"
    return Feedback(False, f"{seconds * 1e3:.0f} ms per all-reduce, {seconds / best:.1f}x the best: "
                    f"your ring {where}. A ring runs at its slowest link.")


def _interval(answer: Any) -> Feedback:
    steps = number(answer, "a checkpoint interval in steps")
    if steps != int(steps) or not 1 <= steps <= 1500:
        return Feedback(False, f"use a whole number of steps between 1 and 1500 (got {answer!r}).")
    runs = {at: run_checkpointed(int(steps), at).summary for at in FAILURE_TIMES}
    lost = {at: s["training_lost_steps"] for at, s in runs.items()}
    goodput = {at: s["training_goodput"] or 0.0 for at, s in runs.items()}
    if max(lost.values()) > LOST_BOUND:
        return Feedback(False, f"lost steps per failure time {lost}: over {LOST_BOUND}. Checkpoint more often.")
    if min(goodput.values()) < GOODPUT_FLOOR:
        return Feedback(False, f"lost work is fine ({lost}) but goodput is {goodput} (floor "
                        f"{GOODPUT_FLOOR}): each checkpoint stalls training 20 s. Checkpoint less often.")
    return Feedback(True, f"lost steps {lost}, goodput {goodput}: at most {LOST_BOUND} steps lost "
                    "wherever the failure falls, without drowning in checkpoint writes.")


check = checker({
    "5.1": _idle_gpus,
    "5.2": _placement,
    "5.3": _interval,
    "5.4": multiple_choice(
        "b", "gang scheduling places all of a job's pods or none, so no job holds a partial set.",
        {"a": "more GPUs only moves the deadlock to a bigger submission; the cause is partial placement.",
         "c": "priorities decide who goes first, but the default scheduler still places pods one by one.",
         "d": "a faster scheduler deadlocks just as quickly."}),
})
