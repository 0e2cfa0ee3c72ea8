"""The Eviction API (POST pods/<name>/eviction): models pkg/registry/core/pod/storage/eviction.go
(Kubernetes 1.36).

An eviction is a delete that respects PodDisruptionBudgets. At commit the API server:

1. deletes at once a pod that cannot disrupt anything: Pending, Succeeded, Failed, or
   already terminating;
2. refuses (500) a pod selected by more than one PDB, and deletes one selected by none;
3. deletes an unready pod without spending budget when the PDB's unhealthyPodEvictionPolicy
   is AlwaysAllow, or (IfHealthyBudget, the default) when the budget is met anyway
   (currentHealthy >= desiredHealthy > 0);
4. otherwise checks the PDB status: not yet observed by the disruption controller, or
   disruptionsAllowed 0 -> 429 "Cannot evict pod as it would violate the pod's disruption
   budget."; negative, or more than 2000 disruptedPods -> 403; else decrements
   disruptionsAllowed, records the pod in disruptedPods and deletes the pod gracefully.

kubesim commits the PDB status write and the pod's delete together (upstream: two etcd writes
inside one request); the pod gets the DisruptionTarget condition (reason
EvictionByEvictionAPI, the trace event ``evicted``) in the same commit, before its delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.api.client import Client
from sim.api.objects import FAILED, PENDING, SUCCEEDED, Pod, PodDisruptionBudget
from sim.apiserver import MODIFIED, ApiServer
from sim.controllers.disruption import pdb_selects

__all__ = ["MAX_DISRUPTED_POD_SIZE", "PDB_VIOLATION", "EvictionResult", "can_ignore_pdb", "check_budget", "evict"]

MAX_DISRUPTED_POD_SIZE = 2000
PDB_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


@dataclass(frozen=True, slots=True)
class EvictionResult:
    """The response: HTTP code, and message (with the cause, as ``kubectl`` prints it)."""

    code: int
    message: str = ""

    @property
    def ok(self) -> bool:
        """The pod is being deleted (or is already gone)."""
        return self.code in (200, 201)


def can_ignore_pdb(pod: Pod) -> bool:
    """A pod whose deletion cannot disrupt the application: not running, or already terminating."""
    return pod.phase in (PENDING, SUCCEEDED, FAILED) or pod.terminating


def check_budget(pod: Pod, pdbs: list[PodDisruptionBudget]) -> tuple[EvictionResult | None, bool]:
    """(refusal or None, whether to spend one disruption of ``pdbs[0]``) for a running pod."""
    if len(pdbs) > 1:
        return EvictionResult(500, "This pod has more than one PodDisruptionBudget, which the eviction "
                                   "subresource does not support."), False
    if not pdbs:
        return None, False
    pdb = pdbs[0]
    if not pod.ready:
        if pdb.unhealthy_pod_eviction_policy == "AlwaysAllow":
            return None, False
        if pdb.current_healthy >= pdb.desired_healthy > 0:
            return None, False
    if pdb.observed_generation < pdb.meta.generation:
        return EvictionResult(429, f"{PDB_VIOLATION} The disruption budget {pdb.meta.name} is still "
                                   "being processed by the server."), False
    if pdb.disruptions_allowed < 0:
        return EvictionResult(403, "pdb disruptions allowed is negative"), False
    if len(pdb.disrupted_pods) > MAX_DISRUPTED_POD_SIZE:
        return EvictionResult(403, "DisruptedPods map too big - too many evictions not confirmed by "
                                   "PDB controller"), False
    if pdb.disruptions_allowed == 0:
        return EvictionResult(429, f"{PDB_VIOLATION} The disruption budget {pdb.meta.name} needs "
                                   f"{pdb.desired_healthy} healthy pods and has {pdb.current_healthy} "
                                   "currently"), False
    return None, True


def evict(api: ApiServer, client: Client, pod: Pod, on_done: Callable[[EvictionResult], None],
          grace: float | None = None) -> None:
    """POST an Eviction for ``pod``; ``on_done`` gets the result when the request completes."""
    namespace, name = pod.meta.namespace, pod.meta.name
    result: list[EvictionResult] = []

    def apply() -> Any:
        current: Pod | None = api.store.get("Pod", namespace, name)
        if current is None:
            result.append(EvictionResult(404, f'pods "{name}" not found'))
            return None
        if can_ignore_pdb(current):
            return _delete(current, None)
        pdbs = [p for p in api.store.list("PodDisruptionBudget") if pdb_selects(p, current)]
        refusal, spend = check_budget(current, pdbs)
        if refusal is not None:
            result.append(refusal)
            return None
        return _delete(current, pdbs[0] if spend else None)

    def _delete(current: Pod, pdb: PodDisruptionBudget | None) -> Any:
        result.append(EvictionResult(201))
        if current.terminating:
            return []
        events = []
        if pdb is not None:
            pdb.disruptions_allowed -= 1
            pdb.disrupted_pods = {**pdb.disrupted_pods, current.meta.name: api.env.now}
            pdb.meta.resource_version = api.etcd.revision
            events.append((MODIFIED, pdb))
        current.conditions = {**current.conditions, "DisruptionTarget": "True"}
        api.trace.record(api.env.now, "Pod", namespace, name, "evicted", current.node_name,
                         "EvictionByEvictionAPI", "Eviction API: evicting")
        deleted = api.deletion(current, grace)()
        if deleted is not None:
            events.append(deleted)
        return events

    api.submit(client, apply, lambda _ok: on_done(result[0]), 512)
