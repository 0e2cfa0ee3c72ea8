"""Pure rollout arithmetic and annotations: models pkg/controller/deployment/util/deployment_util.go.

Read at Kubernetes 1.36.5 (status.terminatingReplicas, beta since 1.35, is not modelled).

Worked example (ours): 10 replicas, maxSurge 25%, maxUnavailable 25%. Surge rounds up
(25% of 10 = 2.5 -> 3) and unavailability rounds down (2.5 -> 2), so a rollout keeps
between 10 - 2 = 8 available pods and 10 + 3 = 13 pods in total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.api.objects import DeploymentStrategy, ReplicaSet

__all__ = [
    "DESIRED_REPLICAS",
    "MAX_REPLICAS",
    "POD_TEMPLATE_HASH",
    "REVISION",
    "REVISION_HISTORY",
    "ROLLBACK_TO",
    "RSState",
    "find_active_or_latest",
    "get_proportion",
    "is_saturated",
    "last_revision",
    "max_revision",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "resolve_fenceposts",
    "round_half_away",
    "scaled_value",
    "skip_copy_annotation",
    "strategy_surge",
    "strategy_unavailable",
]

POD_TEMPLATE_HASH = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"  # apps.DeprecatedRollbackTo
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SKIPPED_ANNOTATIONS = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                  ROLLBACK_TO})


def skip_copy_annotation(key: str) -> bool:
    """Annotations that stay on their object: never copied Deployment <-> ReplicaSet."""
    return key in _SKIPPED_ANNOTATIONS


def _int_annotation(annotations: dict[str, str], key: str) -> int | None:
    try:
        return int(annotations[key])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class RSState:
    """What the rollout decisions read of one ReplicaSet (spec, status, annotations)."""

    name: str
    replicas: int  # spec.replicas
    available: int = 0  # status.availableReplicas
    created: float = 0.0
    actual: int = 0  # status.replicas
    ready: int = 0
    revision: int | None = 0  # None: an annotation that does not parse
    desired_annotation: int | None = None
    max_annotation: int | None = None
    resource_version: int = 0  # as read: a write based on this view fails if the RS changed since
    observed: bool = True  # status.observedGeneration has caught up with metadata.generation

    @classmethod
    def of(cls, rs: ReplicaSet) -> RSState:
        """The decision-relevant view of a stored ReplicaSet."""
        ann = rs.meta.annotations
        revision = _int_annotation(ann, REVISION) if REVISION in ann else 0
        return cls(rs.meta.name, rs.replicas, rs.available_replicas, rs.meta.creation_time,
                   rs.status_replicas, rs.ready_replicas, revision,
                   _int_annotation(ann, DESIRED_REPLICAS), _int_annotation(ann, MAX_REPLICAS),
                   rs.meta.resource_version, rs.observed_generation >= rs.meta.generation)

    @property
    def by_creation(self) -> tuple[float, str]:
        """Sort key of controller.ReplicaSetsByCreationTimestamp (oldest first, then name)."""
        return (self.created, self.name)


def scaled_value(value: int | str, total: int, round_up: bool) -> int:
    """An int-or-percent field against ``total`` (intstr.GetScaledValueFromIntOrPercent)."""
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%"))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(surge: int | str, unavailable: int | str, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as absolute numbers; both 0 would stall, so unavailable becomes 1."""
    s = scaled_value(surge, desired, round_up=True)
    u = scaled_value(unavailable, desired, round_up=False)
    if s == 0 and u == 0:
        u = 1
    return s, u


def max_surge(surge: int | str, unavailable: int | str, desired: int) -> int:
    """The absolute maxSurge."""
    return resolve_fenceposts(surge, unavailable, desired)[0]


def max_unavailable(surge: int | str, unavailable: int | str, desired: int) -> int:
    """The absolute maxUnavailable, never more than the desired replicas."""
    if desired == 0:
        return 0
    return min(resolve_fenceposts(surge, unavailable, desired)[1], desired)


def strategy_surge(strategy: DeploymentStrategy, desired: int) -> int:
    """MaxSurge(deployment): 0 unless the strategy is RollingUpdate."""
    if strategy.type != "RollingUpdate":
        return 0
    return max_surge(strategy.max_surge, strategy.max_unavailable, desired)


def strategy_unavailable(strategy: DeploymentStrategy, desired: int) -> int:
    """MaxUnavailable(deployment): 0 unless the strategy is RollingUpdate."""
    if strategy.type != "RollingUpdate":
        return 0
    return max_unavailable(strategy.max_surge, strategy.max_unavailable, desired)


def new_rs_new_replicas(desired: int, surge: int | str, unavailable: int | str,
                        all_replicas: int, new_replicas: int) -> int:
    """Replicas the new ReplicaSet may have now under RollingUpdate (NewRSNewReplicas).

    ``all_replicas`` is the sum of spec.replicas over every ReplicaSet of the Deployment.
    """
    max_total = desired + max_surge(surge, unavailable, desired)
    if all_replicas >= max_total:
        return new_replicas
    scale_up = min(max_total - all_replicas, desired - new_replicas)
    return new_replicas + max(scale_up, 0)


def max_revision(rss: list[RSState]) -> int:
    """The highest revision among ``rss`` (unparseable ones skipped)."""
    return max((rs.revision for rs in rss if rs.revision is not None), default=0)


def last_revision(rss: list[RSState]) -> int:
    """The second-highest revision: the one ``rollout undo`` goes back to (0 if none)."""
    top = second = 0
    for rs in rss:
        if rs.revision is None:
            continue
        if rs.revision >= top:
            top, second = rs.revision, top
        elif rs.revision > second:
            second = rs.revision
    return second


def find_active_or_latest(new: RSState | None, olds: list[RSState]) -> RSState | None:
    """The only ReplicaSet with replicas, or the newest one if none has any; None if several have."""
    if new is None and not olds:
        return None
    newest_first = sorted(olds, key=lambda rs: rs.by_creation, reverse=True)
    active = [rs for rs in [*newest_first, new] if rs is not None and rs.replicas > 0]
    if len(active) == 1:
        return active[0]
    if not active:
        return new if new is not None else newest_first[0]
    return None


def is_saturated(desired: int, rs: RSState | None) -> bool:
    """The new ReplicaSet holds all desired replicas, knows it (annotation), and all are available."""
    return (rs is not None and rs.replicas == desired and rs.desired_annotation == desired
            and rs.available == desired)


def round_half_away(x: float) -> int:
    """math.Round: halves away from zero (Python's ``round`` rounds halves to even)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _fraction(rs: RSState, desired: int, surge: int, status_replicas: int) -> int:
    """getReplicaSetFraction: this RS's share of the new size, from its max-replicas annotation."""
    if desired == 0:
        return -rs.replicas
    deployment_replicas = desired + surge
    annotated = rs.max_annotation or status_replicas  # a missing or zero annotation: the current size
    if annotated == 0:
        return 0
    return round_half_away(rs.replicas * deployment_replicas / annotated) - rs.replicas


def get_proportion(rs: RSState, desired: int, surge: int, status_replicas: int,
                   to_add: int, added: int) -> int:
    """GetProportion: how many replicas this RS gains (or loses) of ``to_add``, bounded by what is left."""
    if rs.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, desired, surge, status_replicas)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def copy_annotations(source: dict[str, str], target: dict[str, Any]) -> bool:
    """Copy non-skipped annotations into ``target``; True if it changed."""
    changed = False
    for key in sorted(source):
        if skip_copy_annotation(key) or target.get(key) == source[key]:
            continue
        target[key] = source[key]
        changed = True
    return changed
