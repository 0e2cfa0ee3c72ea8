"""The Progressing condition and the progress deadline: models pkg/controller/deployment/progress.go
and the condition helpers of util/deployment_util.go (Kubernetes 1.36.5).

A rollout is *progressing* while a sync sees more updated, ready or available pods, or
fewer old ones, than the stored status; each such sync refreshes the condition's
lastUpdateTime (reason ReplicaSetUpdated). Once every desired pod is updated and
available the reason becomes NewReplicaSetAvailable and progress is no longer checked. If
``progressDeadlineSeconds`` pass after the last refresh without progress, the condition
turns False with reason ProgressDeadlineExceeded; nothing is rolled back automatically.

Requeue-after, worked example (ours): the condition was last refreshed at t = 100 s and
the deadline is 600 s. A sync at t = 280 s sees no progress, so the Deployment is queued
again after 100 + 600 - 280 = 420 s plus one second of margin, i.e. at t = 701 s, when
the check finds 701 > 700 and reports ProgressDeadlineExceeded.
"""

from __future__ import annotations

from sim.api.objects import DeploymentCondition
from sim.controllers.deployment.sync import PROGRESSING, Status, set_condition

__all__ = ["NEW_RS_AVAILABLE", "NO_DEADLINE", "RATE_LIMITED", "TIMED_OUT", "deployment_complete",
           "deployment_progressing", "deployment_timed_out", "has_progress_deadline", "requeue_after",
           "rollout_status"]

NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
NO_DEADLINE = 2**31 - 1  # math.MaxInt32: progressDeadlineSeconds that means "never"
RATE_LIMITED = 0.0  # requeue_after's answer for "check now, through the queue's rate limiter"


def has_progress_deadline(deadline_s: float | None) -> bool:
    """HasProgressDeadline: set, and not MaxInt32."""
    return deadline_s is not None and deadline_s < NO_DEADLINE


def deployment_complete(desired: int, generation: int, status: Status) -> bool:
    """Every desired replica is updated and available, no other pods remain, and the spec is observed."""
    return (status.updated_replicas == desired and status.replicas == desired
            and status.available_replicas == desired and status.observed_generation >= generation)


def deployment_progressing(old: Status, new: Status) -> bool:
    """More updated, ready or available pods than before, or fewer old ones."""
    return (new.updated_replicas > old.updated_replicas
            or new.replicas - new.updated_replicas < old.replicas - old.updated_replicas
            or new.ready_replicas > old.ready_replicas
            or new.available_replicas > old.available_replicas)


def deployment_timed_out(deadline_s: float | None, status: Status, now: float) -> bool:
    """More than the deadline has passed since the Progressing condition was last refreshed."""
    if not has_progress_deadline(deadline_s):
        return False
    cond = status.condition(PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    return cond.last_update_time + deadline_s < now  # type: ignore[operator]


def rollout_status(name: str, new_rs: str | None, desired: int, generation: int, deadline_s: float | None,
                   old: Status, new: Status, now: float) -> Status:
    """syncRolloutStatus: ``new`` (from calculate_status) with its Progressing condition decided."""
    conditions = new.conditions
    if not has_progress_deadline(deadline_s):
        conditions = tuple(c for c in conditions if c.type != PROGRESSING)
    current = old.condition(PROGRESSING)
    complete_before = (new.replicas == new.updated_replicas and current is not None
                       and current.reason == NEW_RS_AVAILABLE)
    subject = f'ReplicaSet "{new_rs}"' if new_rs is not None else f'Deployment "{name}"'
    staged = Status(new.observed_generation, new.replicas, new.updated_replicas, new.ready_replicas,
                    new.available_replicas, new.unavailable_replicas, conditions)
    if has_progress_deadline(deadline_s) and not complete_before:
        if deployment_complete(desired, generation, staged):
            cond = DeploymentCondition(PROGRESSING, "True", NEW_RS_AVAILABLE,
                                       f"{subject} has successfully progressed.", now, now)
            conditions = set_condition(conditions, cond)
        elif deployment_progressing(old, staged):
            # Progress refreshes lastUpdateTime even when the reason stays ReplicaSetUpdated.
            keep = current is not None and current.status == "True"
            cond = DeploymentCondition(PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.", now,
                                       current.last_transition_time if keep and current else now)
            conditions = (*[c for c in conditions if c.type != PROGRESSING], cond)
        elif deployment_timed_out(deadline_s, staged, now):
            cond = DeploymentCondition(PROGRESSING, "False", TIMED_OUT, f"{subject} has timed out progressing.",
                                       now, now)
            conditions = set_condition(conditions, cond)
    return Status(new.observed_generation, new.replicas, new.updated_replicas, new.ready_replicas,
                  new.available_replicas, new.unavailable_replicas, conditions)


def requeue_after(desired: int, generation: int, deadline_s: float | None, current: DeploymentCondition | None,
                  new: Status, now: float) -> float | None:
    """requeueStuckDeployment: seconds until the next progress check, ``RATE_LIMITED`` for one
    now through the rate limiter (under a second left), or None if none is needed."""
    if not has_progress_deadline(deadline_s) or current is None:
        return None
    if deployment_complete(desired, generation, new) or current.reason == TIMED_OUT:
        return None
    after = current.last_update_time + deadline_s - now  # type: ignore[operator]
    if after < 1.0:
        return RATE_LIMITED
    return after + 1.0  # a second of margin against clock skew, as upstream adds
