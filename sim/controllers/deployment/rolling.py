"""RollingUpdate: models pkg/controller/deployment/rolling.go.

Each sync first scales the new ReplicaSet up as far as maxSurge allows, then scales old
ReplicaSets down as far as maxUnavailable allows: unhealthy old pods go first, then
old ReplicaSets oldest first. Worked example (ours): 10 replicas, surge 3, unavailable 2,
all 10 old pods available. The new RS goes to 3 (13 in total); old pods may drop to
8 available, but the new pods are not ready yet, so old scales 10 -> 8 (11 in total, 8
available). As new pods become ready, each sync repeats both steps until old is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.controllers.deployment.util import max_unavailable, new_rs_new_replicas

__all__ = ["RSState", "rolling_step"]


@dataclass(frozen=True, slots=True)
class RSState:
    """What a rollout step needs to know of one ReplicaSet."""

    name: str
    replicas: int
    available: int
    created: float


def _scale_down_old(old: list[RSState], new: RSState, desired: int, surge: int | str,
                    unavailable: int | str) -> dict[str, int]:
    targets = {rs.name: rs.replicas for rs in old}
    all_replicas = sum(rs.replicas for rs in old) + new.replicas
    min_available = desired - max_unavailable(surge, unavailable, desired)
    new_unavailable = new.replicas - new.available
    max_scaled_down = all_replicas - min_available - new_unavailable
    if max_scaled_down <= 0:
        return targets
    # cleanupUnhealthyReplicas: old RSs' unavailable pods can go without reducing availability.
    for rs in sorted(old, key=lambda r: r.created):
        if max_scaled_down <= 0:
            break
        unhealthy = rs.replicas - rs.available
        if unhealthy <= 0:
            continue
        cut = min(max_scaled_down, unhealthy)
        targets[rs.name] -= cut
        max_scaled_down -= cut
    # scaleDownOldReplicaSetsForRollingUpdate: keep min_available available in total.
    available = sum(min(rs.available, targets[rs.name]) for rs in old) + new.available
    can_remove = available - min_available
    for rs in sorted(old, key=lambda r: r.created):
        if can_remove <= 0:
            break
        cut = min(targets[rs.name], can_remove)
        targets[rs.name] -= cut
        can_remove -= cut
    return targets


def rolling_step(desired: int, surge: int | str, unavailable: int | str, new: RSState,
                 old: list[RSState]) -> tuple[int, dict[str, int]]:
    """One rolling sync: (new RS replicas, {old RS name: replicas})."""
    all_replicas = new.replicas + sum(rs.replicas for rs in old)
    if new.replicas > desired:
        new_target = desired
    else:
        new_target = new_rs_new_replicas(desired, surge, unavailable, all_replicas, new.replicas)
    if new_target != new.replicas:
        return new_target, {rs.name: rs.replicas for rs in old}
    return new.replicas, _scale_down_old(old, new, desired, surge, unavailable)
