"""Recreate: models pkg/controller/deployment/recreate.go (Kubernetes 1.36.5).

Scale every old ReplicaSet to zero; while any old pod still exists in a non-terminal phase
(terminating pods included) do nothing more; only then create the new ReplicaSet, at the
full size, so old and new pods never run side by side.
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.api.objects import FAILED, SUCCEEDED, Pod
from sim.controllers.deployment.util import RSState

__all__ = ["old_pods_running", "scale_down_old_for_recreate"]


def scale_down_old_for_recreate(olds: list[RSState]) -> dict[str, int]:
    """scaleDownOldReplicaSetsForRecreate: every active old RS goes to 0."""
    return {rs.name: 0 for rs in olds if rs.replicas > 0}


def old_pods_running(olds: list[RSState], old_pods: Iterable[Pod]) -> bool:
    """oldPodsRunning: an old RS still counts pods, or an old pod is not yet Succeeded/Failed."""
    if sum(rs.actual for rs in olds) > 0:
        return True
    return any(p.phase not in (SUCCEEDED, FAILED) for p in old_pods)
