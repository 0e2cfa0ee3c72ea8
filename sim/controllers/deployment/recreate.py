"""Recreate: models pkg/controller/deployment/recreate.go.

Scale every old ReplicaSet to zero, wait until none of their pods is left running, then
scale the new ReplicaSet to the desired replicas.
"""

from __future__ import annotations

__all__ = ["recreate_step"]


def recreate_step(desired: int, new_replicas: int, old: dict[str, int], old_pods_running: int) -> tuple[int, dict[str, int]]:
    """One recreate sync: (new RS replicas, {old RS name: replicas})."""
    if any(old.values()):
        return new_replicas, {name: 0 for name in old}
    if old_pods_running > 0:
        return new_replicas, old
    return desired, old
