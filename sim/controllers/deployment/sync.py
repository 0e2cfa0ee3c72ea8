"""Scaling, history cleanup and status: models pkg/controller/deployment/sync.go (Kubernetes 1.36.5).

Proportional scaling, worked example (ours): 10 replicas, 25%/25%, rolled to a version
whose pods never become ready, so the rollout stalls with old = 8 and new = 5 (13 pods, each
RS annotated max-replicas 13). Scaling to 15 allows 15 + 4 surge = 19 pods: 6 to add.
Larger RS first: old gets round(8 * 19 / 13) - 8 = 4, new gets round(5 * 19 / 13) - 5 = 2,
so old = 12 and new = 7. Neither RS gains ground on the other while the rollout is stuck.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.api.objects import Deployment, DeploymentCondition, DeploymentStrategy
from sim.controllers.deployment.util import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    REVISION,
    REVISION_HISTORY,
    RSState,
    copy_annotations,
    find_active_or_latest,
    get_proportion,
    is_saturated,
    strategy_surge,
    strategy_unavailable,
)

__all__ = ["Status", "calculate_status", "cleanup_victims", "is_scaling_event", "new_rs_annotations",
           "proportional_scale", "replicas_annotations", "set_condition"]

AVAILABLE, PROGRESSING = "Available", "Progressing"
MAX_REVISION_HISTORY_CHARS = 2000  # maxRevHistoryLengthInChars


@dataclass(frozen=True, slots=True)
class Status:
    """A Deployment's status block as the controller computes it."""

    observed_generation: int
    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    unavailable_replicas: int
    conditions: tuple[DeploymentCondition, ...] = ()

    def condition(self, type_: str) -> DeploymentCondition | None:
        """The condition of this type, if any."""
        return next((c for c in self.conditions if c.type == type_), None)

    @classmethod
    def of(cls, d: Deployment) -> Status:
        """The status block currently stored on ``d``."""
        return cls(d.observed_generation, d.status_replicas, d.updated_replicas, d.ready_replicas,
                   d.available_replicas, d.unavailable_replicas, d.conditions)

    def write_to(self, d: Deployment) -> None:
        """Store this status block on ``d`` (at commit of a status update)."""
        (d.observed_generation, d.status_replicas, d.updated_replicas, d.ready_replicas, d.available_replicas,
         d.unavailable_replicas, d.conditions) = (
            self.observed_generation, self.replicas, self.updated_replicas, self.ready_replicas,
            self.available_replicas, self.unavailable_replicas, self.conditions)


def set_condition(conditions: tuple[DeploymentCondition, ...],
                  cond: DeploymentCondition) -> tuple[DeploymentCondition, ...]:
    """SetDeploymentCondition: no change if status and reason match; keep the transition time
    if only the reason changes; the condition moves to the end of the list."""
    current = next((c for c in conditions if c.type == cond.type), None)
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return conditions
    if current is not None and current.status == cond.status:
        cond = DeploymentCondition(cond.type, cond.status, cond.reason, cond.message,
                                   cond.last_update_time, current.last_transition_time)
    return (*[c for c in conditions if c.type != cond.type], cond)


def is_scaling_event(desired: int, rss: list[RSState]) -> bool:
    """An active ReplicaSet annotated with another desired size: the user scaled the Deployment."""
    return any(rs.desired_annotation is not None and rs.desired_annotation != desired
               for rs in rss if rs.replicas > 0)


def proportional_scale(desired: int, strategy: DeploymentStrategy, new: RSState | None,
                       olds: list[RSState], status_replicas: int) -> dict[str, int]:
    """``scale``: {RS name: replicas} for the ReplicaSets to (re)write on a scaling event.

    Every returned RS is written, even at an unchanged size, so its desired/max annotations
    catch up (scaleReplicaSet); an RS left out is not touched.
    """
    only = find_active_or_latest(new, olds)
    if only is not None:
        return {} if only.replicas == desired else {only.name: desired}
    if is_saturated(desired, new):
        return {rs.name: 0 for rs in olds if rs.replicas > 0}
    if strategy.type != "RollingUpdate":
        return {}
    active = [rs for rs in [*olds, new] if rs is not None and rs.replicas > 0]
    surge = strategy_surge(strategy, desired)
    allowed = desired + surge if desired > 0 else 0
    to_add = allowed - sum(rs.replicas for rs in active)
    # ReplicaSetsBySizeNewer when adding (larger first, then newer first), BySizeOlder when
    # removing (larger first, then older first); two stable sorts express each.
    active.sort(key=lambda rs: rs.by_creation, reverse=to_add > 0)
    active.sort(key=lambda rs: -rs.replicas)
    sizes, added = {}, 0
    for rs in active:
        share = get_proportion(rs, desired, surge, status_replicas, to_add, added)
        sizes[rs.name] = rs.replicas + share
        added += share
    if to_add != 0 and active:  # leftovers go to the largest RS
        first = active[0].name
        sizes[first] = max(sizes[first] + to_add - added, 0)
    return sizes


def cleanup_victims(olds: list[RSState], deleting: set[str], limit: int) -> list[str]:
    """cleanupDeployment: the oldest revisions beyond ``revisionHistoryLimit`` that are empty
    (spec and status) and whose last scale the ReplicaSet controller has observed."""
    alive = [rs for rs in olds if rs.name not in deleting]
    excess = len(alive) - limit
    if excess <= 0:
        return []
    by_revision = sorted(alive, key=lambda rs: (rs.revision is None, rs.revision or 0, rs.created, rs.name))
    return [rs.name for rs in by_revision[:excess] if rs.actual == 0 and rs.replicas == 0 and rs.observed]


def calculate_status(desired: int, generation: int, strategy: DeploymentStrategy, new: RSState | None,
                     all_rss: list[RSState], conditions: tuple[DeploymentCondition, ...],
                     now: float) -> Status:
    """calculateStatus: counters from the ReplicaSets plus the Available condition."""
    available = sum(rs.available for rs in all_rss)
    total = sum(rs.replicas for rs in all_rss)
    if available >= desired - strategy_unavailable(strategy, desired):
        cond = DeploymentCondition(AVAILABLE, "True", "MinimumReplicasAvailable",
                                   "Deployment has minimum availability.", now, now)
    else:
        cond = DeploymentCondition(AVAILABLE, "False", "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability.", now, now)
    return Status(
        observed_generation=generation,
        replicas=sum(rs.actual for rs in all_rss),
        updated_replicas=new.actual if new is not None else 0,
        ready_replicas=sum(rs.ready for rs in all_rss),
        available_replicas=available,
        unavailable_replicas=max(total - available, 0),
        conditions=set_condition(conditions, cond),
    )


def replicas_annotations(desired: int, max_replicas: int) -> dict[str, str]:
    """SetReplicasAnnotations: the sizes an RS was last scaled for (read by proportional scaling)."""
    return {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(max_replicas)}


def new_rs_annotations(deployment: dict[str, str], rs: dict[str, str], new_revision: int, exists: bool,
                       desired: int, max_replicas: int) -> dict[str, str]:
    """SetNewReplicaSetAnnotations: the new RS's annotations after syncing with its Deployment.

    The Deployment's own annotations are copied (except the bookkeeping ones); the revision is
    raised to ``new_revision`` if lower, and a raised revision is appended to the
    revision-history (a rollback re-uses an old RS). A new RS also gets its replicas annotations.
    """
    out = dict(rs)
    copy_annotations(deployment, out)
    old = out.get(REVISION)
    try:
        old_revision = int(old) if old else 0
    except ValueError:
        return out
    if old_revision < new_revision:
        out[REVISION] = str(new_revision)
        if old:
            history = out.get(REVISION_HISTORY, "")
            entries = [e for e in history.split(",") if e] + [old]
            while len(",".join(entries)) > MAX_REVISION_HISTORY_CHARS and len(entries) > 1:
                entries.pop(0)
            out[REVISION_HISTORY] = ",".join(entries)
    if not exists:
        out.update(replicas_annotations(desired, max_replicas))
    return out
