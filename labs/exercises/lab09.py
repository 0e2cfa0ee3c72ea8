"""Checks for notebooks/09-capstone-capacity-planning.ipynb: each runs the lab's scenario with several seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.capacity import (
    CHEAPEST_AT_3X,
    DEADLINE_S,
    GPUS_PER_NODE,
    PRICE_PER_NODE,
    SLO_TARGET,
    TRAINING_WORKERS,
    evaluate,
)

__all__ = ["check"]

MULTIPLIER = 3.0
RUNS = 3  # seeds per proposal
SERVING_NODES = 4  # exercise 9.1 sizes the model server on a pool with room for every replica


def _whole(answer: Any, what: str, low: int, high: int) -> int:
    value = number(answer, what)
    if value != int(value) or not low <= value <= high:
        raise ValueError(f"expected {what} as a whole number from {low} to {high}, got {answer!r}")
    return int(value)


def _slo_text(row: Mapping[str, Any]) -> str:
    mean, lo, hi = row["slo_attainment_mean"], row["slo_attainment_ci_lo"], row["slo_attainment_ci_hi"]
    return f"SLO attainment {mean:.3f} (95% CI {max(lo, 0):.3f} to {min(hi, 1):.3f}, {RUNS} runs)"


def _slo_check(result: dict[str, Any]) -> Any:
    return result["checks"][0]


def _replicas(answer: Any) -> Feedback:
    replicas = _whole(answer, "a replica count", 1, SERVING_NODES * GPUS_PER_NODE - TRAINING_WORKERS)
    result = evaluate(SERVING_NODES, replicas, MULTIPLIER, RUNS)
    slo = _slo_check(result)
    if not slo.met:
        return Feedback(False, f"{replicas} replicas at 3x: {_slo_text(result['row'])}; its 95% lower bound "
                        f"{slo.figure:.3f} is under the {SLO_TARGET} target. Add replicas.")
    if replicas > 1:
        fewer = evaluate(SERVING_NODES, replicas - 1, MULTIPLIER, RUNS)
        if _slo_check(fewer).met:
            return Feedback(False, f"{replicas} replicas meet the SLO ({_slo_text(result['row'])}), and so do "
                            f"{replicas - 1} ({_slo_text(fewer['row'])}): each replica is a GPU, find the smallest.")
        below = f"; {replicas - 1} replicas: {_slo_text(fewer['row'])}, lower bound {_slo_check(fewer).figure:.3f}"
    else:
        below = ""
    return Feedback(True, f"{replicas} replicas at 3x: {_slo_text(result['row'])}, lower bound {slo.figure:.3f} "
                    f">= {SLO_TARGET}{below}.")


def _proposal(answer: Any) -> Feedback:
    if not isinstance(answer, Mapping) or set(answer) != {"gpu_nodes", "replicas"}:
        raise ValueError("give a dict with exactly two keys, e.g. {'gpu_nodes': 4, 'replicas': 8}")
    nodes = _whole(answer["gpu_nodes"], "gpu_nodes", 1, 8)
    replicas = _whole(answer["replicas"], "replicas", 1, 32)
    result = evaluate(nodes, replicas, MULTIPLIER, RUNS)
    row, (slo, training) = result["row"], result["checks"]
    cost = nodes * PRICE_PER_NODE
    gpus, wanted = nodes * GPUS_PER_NODE, replicas + TRAINING_WORKERS
    done = row.get("training_jobs_completed_mean")
    done_runs = 0 if done is None or math.isnan(done) else round(done * RUNS)
    problems = []
    if not training.met:
        if wanted > gpus:
            problems.append(f"the job finished in {done_runs} of {RUNS} runs: {replicas} replicas + "
                            f"{TRAINING_WORKERS} workers want {wanted} GPUs and the cluster has {gpus}; the replicas "
                            "come first, and the workers that got a GPU wait forever for the rest (rendezvous)")
        else:
            problems.append(f"the job finished by the {DEADLINE_S / 60:g}-minute deadline in only {done_runs} of "
                            f"{RUNS} runs")
    if not slo.met:
        problems.append(f"{_slo_text(row)}: the lower bound {slo.figure:.3f} is under {SLO_TARGET}, so add replicas")
    if problems:
        return Feedback(False, f"{nodes} GPU nodes (${cost:.2f}/h), {replicas} replicas at 3x: " + "; ".join(problems)
                        + ".")
    jct = row.get("training_jct_max_s_mean")
    job = f"the job finished in every run (mean {jct / 60:.1f} min of {DEADLINE_S / 60:g})" if jct else \
        "the job finished in every run"
    best_nodes, best_replicas = CHEAPEST_AT_3X
    if nodes > best_nodes:
        return Feedback(False, f"{nodes} GPU nodes and {replicas} replicas meet both ({_slo_text(row)}; {job}), "
                        f"but cost ${cost:.2f}/h. A cheaper cluster exists: the plan finds "
                        f"{best_nodes} nodes (${best_nodes * PRICE_PER_NODE:.2f}/h). How many GPUs do you need?")
    return Feedback(True, f"{nodes} GPU nodes, {replicas} replicas: {_slo_text(row)}; {job}; ${cost:.2f}/h, the plan's "
                    f"answer too ({best_replicas} replicas + {TRAINING_WORKERS} workers = "
                    f"{best_replicas + TRAINING_WORKERS} GPUs, so {best_nodes} nodes of {GPUS_PER_NODE}).")


check = checker({
    "9.1": _replicas,
    "9.2": _proposal,
    "9.3": multiple_choice(
        "c", "at 5 replicas one run reached 99.4 % and two runs averaged 96 %, above the target, yet a third seed "
        "gave 92 %: the interval says how far the mean may be from the truth, and the plan trusts only its worst "
        "plausible value.",
        {"a": "the plan requires the bound, not the mean, and each run's seed changes the traffic noise and "
              "service times: identical runs would have no interval at all.",
         "b": "cost is fixed by the node count; the interval matters for figures that vary between runs.",
         "d": "more runs narrow the interval but never make a failing mean pass: they show where it is."}),
    "9.4": multiple_choice(
        "b", "data-parallel workers meet at a rendezvous: those that got a GPU hold it and wait for the rest, "
        "so the job neither trains nor gives the GPUs back.",
        {"a": "the scheduler places each worker pod the moment a GPU is free; nothing waits for the deadline.",
         "c": "the workers are not preempted here: the serving replicas and the job have the same priority.",
         "d": "the GPUs are idle, not slow: the job never starts its first step."}),
})
