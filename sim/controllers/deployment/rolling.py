"""RollingUpdate: models pkg/controller/deployment/rolling.go (Kubernetes 1.36.5).

Each sync first scales the new ReplicaSet up as far as maxSurge allows; only if that
changed nothing does it scale old ReplicaSets down as far as maxUnavailable allows:
unhealthy old pods go first, then old ReplicaSets oldest first. Worked example (ours):
10 replicas, surge 3, unavailable 2, all 10 old pods available. The new RS goes to 3
(13 in total); next sync old pods may drop to 8 available, and the new pods are not
ready yet, so old scales 10 -> 8 (11 in total, 8 available). Then the new RS may grow
to 5 (13 again), and so on as new pods become available, until old is 0.

An old ReplicaSet's status may still count pods its last scale-down is deleting (the
ReplicaSet controller writes its status from the pods it saw before deleting them). Upstream's
cleanup of unhealthy replicas then refuses to go on ("got invalid request to scale down")
and the sync is retried with back-off: that refusal is what keeps a rollout within
maxUnavailable while statuses lag, so it is modelled (``StaleAvailability``).
"""

from __future__ import annotations

from sim.api.objects import DeploymentStrategy
from sim.controllers.deployment.util import RSState, new_rs_new_replicas, strategy_unavailable

__all__ = ["StaleAvailability", "reconcile_new_replica_set", "reconcile_old_replica_sets"]


class StaleAvailability(Exception):  # noqa: N818 - a signal to the caller (upstream returns it as an error)
    """cleanupUnhealthyReplicas' error: an old ReplicaSet reports more available pods than its
    spec asks for. ``targets`` holds the scale-downs of older ReplicaSets made before it."""

    def __init__(self, name: str, replicas: int, available: int, targets: dict[str, int]) -> None:
        super().__init__(f"when cleaning up unhealthy replicas, got invalid request to scale down "
                         f"{name} {replicas} -> {available}")
        self.targets = targets


def reconcile_new_replica_set(desired: int, strategy: DeploymentStrategy, new: RSState,
                              all_rss: list[RSState]) -> int:
    """reconcileNewReplicaSet: the new RS's target size (its current size if no step is allowed)."""
    if new.replicas >= desired:
        return desired
    total = sum(rs.replicas for rs in all_rss)
    return new_rs_new_replicas(desired, strategy.max_surge, strategy.max_unavailable, total, new.replicas)


def reconcile_old_replica_sets(desired: int, strategy: DeploymentStrategy, new: RSState,
                               olds: list[RSState]) -> dict[str, int]:
    """reconcileOldReplicaSets: {old RS name: smaller size} for the old RSs to scale down now.

    ``olds`` are the active old ReplicaSets (spec.replicas > 0). Raises ``StaleAvailability``
    where upstream's sync fails.
    """
    if sum(rs.replicas for rs in olds) == 0:
        return {}
    all_replicas = sum(rs.replicas for rs in olds) + new.replicas
    min_available = desired - strategy_unavailable(strategy, desired)
    new_unavailable = new.replicas - new.available
    max_scaled_down = all_replicas - min_available - new_unavailable
    if max_scaled_down <= 0:
        return {}
    targets = _cleanup_unhealthy(sorted(olds, key=lambda rs: rs.by_creation), max_scaled_down)
    # scaleDownOldReplicaSetsForRollingUpdate: availability is read from status, which the
    # cleanup above has not changed yet.
    available = sum(rs.available for rs in olds) + new.available
    can_remove = available - min_available
    for rs in sorted(olds, key=lambda rs: rs.by_creation):
        if can_remove <= 0:
            break
        size = targets.get(rs.name, rs.replicas)
        if size == 0:
            continue
        cut = min(size, can_remove)
        targets[rs.name] = size - cut
        can_remove -= cut
    return targets


def _cleanup_unhealthy(olds: list[RSState], limit: int) -> dict[str, int]:
    """cleanupUnhealthyReplicas: drop old pods that are not available, oldest RS first.

    Raises ``StaleAvailability`` for an RS whose status counts more available pods than its
    spec (the size it would be set to would be larger than it is)."""
    targets: dict[str, int] = {}
    removed = 0
    for rs in olds:
        if removed >= limit:
            break
        if rs.replicas == 0 or rs.replicas == rs.available:
            continue
        cut = min(limit - removed, rs.replicas - rs.available)
        if cut < 0:
            raise StaleAvailability(rs.name, rs.replicas, rs.replicas - cut, targets)
        targets[rs.name] = rs.replicas - cut
        removed += cut
    return targets
