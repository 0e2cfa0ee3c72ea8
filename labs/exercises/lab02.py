"""Checks for notebooks/02-serving-a-model.ipynb: each runs the lab's simulation."""

from __future__ import annotations

from typing import Any

from labs.exercises import Feedback, checker, multiple_choice, number
from labs.teach.serving import explain_first_pending, run_serving

__all__ = ["check"]

REPLICAS = 4


def _manifests(answer: Any) -> list[dict[str, Any]]:
    docs = [answer] if isinstance(answer, dict) else answer
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        raise ValueError("give the manifests as a list of dicts, e.g. the `manifests` from load_manifests()")
    if not any(d.get("kind") == "Deployment" for d in docs):
        raise ValueError("the list holds no Deployment")
    return docs


def _fix(answer: Any) -> Feedback:
    result = run_serving(_manifests(answer))
    pods = result.pods()
    pods = pods[pods["name"].str.startswith("model-server")]
    placed = pods[pods["node"] != ""]
    if len(placed) < REPLICAS:
        why = explain_first_pending(result).splitlines()
        return Feedback(False, f"{len(placed)} of {REPLICAS} replicas got a node. The scheduler says: "
                        + (why[2].strip() if len(why) > 2 else "(no decision recorded)"))
    off_gpu = sorted(set(placed["node"]) - {n for n in placed["node"] if n.startswith("gpu-")})
    if off_gpu:
        return Feedback(False, f"all replicas run, but on {off_gpu}: a model server needs a GPU. "
                        "Keep the nvidia.com/gpu limit and tolerate the taint instead.")
    ready = int(pods["ready"].notna().sum())
    return Feedback(True, f"all {REPLICAS} replicas run on GPU nodes ({', '.join(sorted(set(placed['node'])))}); "
                    f"{ready} are Ready by the end of the run.")


def _taint_count(answer: Any) -> Feedback:
    n = number(answer, "a count of nodes")
    if n == 2:
        return Feedback(True, "2 GPU nodes rejected the pod for the taint; the 2 CPU nodes for the selector.")
    hint = " The 4 is all nodes: each is rejected for one reason." if n == 4 else ""
    return Feedback(False, f"read the FailedScheduling message again: it counts nodes per reason.{hint}")


check = checker({
    "2.1": _taint_count,
    "2.2": _fix,
    "2.3": multiple_choice(
        "a", "a Service only sends traffic to Ready pods: readiness gates the endpoints.",
        {"b": "Running is not enough: a pod still loading its model is Running but not Ready.",
         "c": "the Deployment counts available replicas, but the Service routes by readiness.",
         "d": "scheduling only picks a node; the container is not even started."}),
    "2.4": multiple_choice(
        "c", "a taint repels pods; only a toleration lets a pod onto the node (it does not attract it).",
        {"a": "a toleration allows a pod onto a tainted node; it does not pull it there.",
         "b": "nodeSelector attracts pods; it does not keep other pods away.",
         "d": "resource limits do not keep other pods off a node."}),
})
