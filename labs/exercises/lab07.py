"""Checks for notebooks/07-sharing-gpus.ipynb: each runs the lab's shared-GPU-pool simulation."""

from __future__ import annotations

import math
from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.sharing import preemptions, run_sharing

__all__ = ["check"]

DEADLINE_MIN = 45  # exercise 7.3: training done within this of its submission
CLASS_NAMES = ("serving-high", "training-low")


def _count(answer: Any) -> Feedback:
    guess = number(answer, "a number of pods")
    table = preemptions(run_sharing())
    victims = sorted(set(table["victim"]))
    listing = ", ".join(f"{v.rsplit('-', 1)[0]} on {n}" for v, n in zip(table["victim"], table["node"], strict=True))
    if guess == len(victims):
        return Feedback(True, f"{len(victims)} workers ({listing}), one per serving pod that found no free GPU: "
                        "the scheduler takes the fewest, lowest-priority victims on the node it picks.")
    return Feedback(False, f"the scheduler preempted {len(victims)} pods, not {guess:g}: {listing}. Count the "
                    "'preempted' events (sharing.preemptions(result)).")


def _classes(answer: Any) -> list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(doc, dict) for doc in answer):
        raise ValueError("give the list of PriorityClass dicts from sharing.load_classes(), edited")
    names = sorted(str(doc.get("metadata", {}).get("name")) for doc in answer
                   if isinstance(doc.get("metadata"), dict) and doc.get("kind") == "PriorityClass")
    if names != sorted(CLASS_NAMES):
        raise ValueError(f"keep both PriorityClasses, {' and '.join(CLASS_NAMES)} (got {names})")
    return answer


def _never(answer: Any) -> Feedback:
    classes = {doc["metadata"]["name"]: doc for doc in _classes(answer)}
    high, low = (number(classes[n].get("value"), f"{n}'s value") for n in CLASS_NAMES)
    if high <= low:
        return Feedback(False, f"serving-high ({high:g}) no longer outranks training-low ({low:g}): keep the "
                        "values and change who may preempt.")
    result = run_sharing(classes=list(classes.values()))
    table = preemptions(result)
    s = result.summary
    if len(table):
        return Feedback(False, f"{len(table)} training workers were still preempted (by {', '.join(table['for'])}). "
                        "preemptionPolicy belongs on the class of the pods that would preempt.")
    pods = result.pods()
    serving = pods[pods["name"].str.startswith("llm-server-")]
    waited = float((serving["scheduled"] - serving["created"]).max())
    jct = s.get("training_jct_mean_s")
    return Feedback(True, f"no preemption: training ran through ({s.get('training_restarts', 0)} restarts, done at "
                    f"{jct / 60:.1f} min), while the extra serving pods waited up to {waited:.0f} s for the node "
                    f"cluster-autoscaler added (p99 {s['latency_p99_s']:.2f} s, {100 * s['slo_attainment']:.2f} % "
                    "within the SLO). Serving still goes first in the queue; it just does not evict.")


def _max_nodes(answer: Any) -> Feedback:
    value = number(answer, "a node count")
    if not math.isfinite(value) or value != int(value) or not 3 <= value <= 10:
        return Feedback(False, f"give the pool's autoscaling max as a whole number from 3 (its min) to 10 "
                        f"(got {answer!r}).")
    result = run_sharing(max_nodes=int(value))
    jct = result.summary.get("training_jct_mean_s")
    minutes = jct / 60 if jct else math.inf
    used = max(count for count in _pool_counts(result))
    if minutes > DEADLINE_MIN:
        done = f"finished at {minutes:.1f} min" if jct else "did not finish within the hour"
        return Feedback(False, f"with at most {int(value)} nodes training {done}, past the {DEADLINE_MIN} min "
                        "deadline: its replacement workers waited for serving to scale in. Allow more nodes.")
    if used < value:
        return Feedback(False, f"training finished at {minutes:.1f} min, but the autoscaler only ever needed "
                        f"{used} nodes: a max of {int(value)} allows more than the deadline needs. What is the "
                        "smallest max that works?")
    return Feedback(True, f"with at most {int(value)} nodes the autoscaler added {used - 3} for the preempted "
                    f"workers and training finished at {minutes:.1f} min, within {DEADLINE_MIN} min.")


def _pool_counts(result: Any) -> list[int]:
    from labs.teach.sharing import pool_size

    return pool_size(result)[1]


check = checker({
    "7.1": _count,
    "7.2": _never,
    "7.3": _max_nodes,
    "7.4": multiple_choice(
        "b", "preemption prefers victims whose PodDisruptionBudget allows it, but preempts anyway when every "
        "choice violates one: a PDB protects against evictions, it is only best effort against preemption.",
        {"a": "the scenario with a PDB (minAvailable: 8) still preempts the workers: PDBs do not forbid preemption.",
         "c": "the scheduler deletes victims directly; it does not go through the Eviction API or wait.",
         "d": "the scheduler does read PDBs: it prefers candidates with fewer violations."}),
    "7.5": multiple_choice(
        "b", "a node is removed after it has been under 50 % requested for scale-down-unneeded-time (10 min) "
        "and its pods can move elsewhere.",
        {"a": "cluster-autoscaler waits: scale-down-unneeded-time (10 min) and scale-down-delay-after-add.",
         "c": "it does scale down: the pool went back from 4 nodes to 3 near the end.",
         "d": "the HPA sizes Deployments, not node pools."}),
})
