"""progress.go: the Progressing condition, the deadline and when to look again."""

from __future__ import annotations

import pytest

from sim.api.objects import DeploymentCondition
from sim.controllers.deployment.progress import (
    RATE_LIMITED,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    requeue_after,
    rollout_status,
)
from sim.controllers.deployment.sync import Status


def _status(replicas: int, updated: int, ready: int, available: int, *conds: DeploymentCondition,
            generation: int = 2) -> Status:
    return Status(generation, replicas, updated, ready, available, max(replicas - available, 0), conds)


def _progressing(reason: str, at: float, status: str = "True") -> DeploymentCondition:
    return DeploymentCondition("Progressing", status, reason, "", at, at)


@pytest.mark.parametrize(("old", "new", "expected"), [
    (_status(13, 3, 10, 10), _status(13, 5, 10, 10), True),   # more updated pods
    (_status(13, 5, 10, 10), _status(11, 5, 8, 8), True),     # fewer old pods
    (_status(13, 5, 8, 8), _status(13, 5, 9, 8), True),       # one more ready
    (_status(13, 5, 8, 8), _status(13, 5, 8, 8), False),      # a stalled rollout
], ids=["updated", "old-scaled-down", "ready", "stalled"])
def test_deployment_progressing(old: Status, new: Status, expected: bool) -> None:
    """Progress is any of: more updated/ready/available pods, fewer old pods."""
    assert deployment_progressing(old, new) is expected


def test_deployment_complete_needs_observed_generation() -> None:
    """Complete: all 10 updated, available, no extra pods, and the latest spec observed."""
    assert deployment_complete(10, 2, _status(10, 10, 10, 10))
    assert not deployment_complete(10, 3, _status(10, 10, 10, 10))
    assert not deployment_complete(10, 2, _status(11, 10, 10, 10))


@pytest.mark.parametrize(("cond", "now", "expected"), [
    (_progressing("ReplicaSetUpdated", 100.0), 700.0, False),     # exactly at the deadline: not yet
    (_progressing("ReplicaSetUpdated", 100.0), 700.5, True),
    (_progressing("NewReplicaSetAvailable", 0.0), 9999.0, False),  # a finished rollout never times out
    (_progressing("ProgressDeadlineExceeded", 100.0, "False"), 101.0, True),
], ids=["at-deadline", "past-deadline", "complete", "already-timed-out"])
def test_deployment_timed_out(cond: DeploymentCondition, now: float, expected: bool) -> None:
    """600 s after the last refresh of the Progressing condition, the rollout has timed out."""
    assert deployment_timed_out(600.0, _status(13, 5, 8, 8, cond), now) is expected


def test_rollout_status_walks_through_reasons() -> None:
    """ReplicaSetUpdated on progress, ProgressDeadlineExceeded after 600 s without, then recovery."""
    created = _progressing("NewReplicaSetCreated", 10.0)
    old = _status(10, 0, 10, 10, created)
    moving = rollout_status("web", "web-v2", 10, 2, 600.0, old, _status(13, 3, 10, 10, created), 12.0)
    cond = moving.condition("Progressing")
    assert (cond.reason, cond.last_update_time, cond.last_transition_time) == ("ReplicaSetUpdated", 12.0, 10.0)
    assert cond.message == 'ReplicaSet "web-v2" is progressing.'
    stuck = _status(13, 5, 8, 8, cond)
    assert rollout_status("web", "web-v2", 10, 2, 600.0, stuck, stuck, 600.0) == stuck
    timed_out = rollout_status("web", "web-v2", 10, 2, 600.0, stuck, stuck, 612.5).condition("Progressing")
    assert (timed_out.status, timed_out.reason) == ("False", "ProgressDeadlineExceeded")
    done = rollout_status("web", "web-v2", 10, 2, 600.0, stuck, _status(10, 10, 10, 10, timed_out), 700.0)
    assert done.condition("Progressing").reason == "NewReplicaSetAvailable"


def test_rollout_status_without_deadline_drops_progressing() -> None:
    """progressDeadlineSeconds at MaxInt32 removes the Progressing condition altogether."""
    old = _status(10, 0, 10, 10, _progressing("NewReplicaSetCreated", 0.0))
    assert rollout_status("web", "web-v2", 10, 2, 2**31 - 1, old, old, 5.0).condition("Progressing") is None


@pytest.mark.parametrize(("cond", "now", "expected"), [
    (_progressing("ReplicaSetUpdated", 100.0), 280.0, 421.0),   # 100 + 600 - 280, plus a second
    (_progressing("ReplicaSetUpdated", 100.0), 699.5, RATE_LIMITED),  # under a second left
    (_progressing("ProgressDeadlineExceeded", 100.0, "False"), 800.0, None),  # already reported
    (None, 280.0, None),  # no condition: nothing to measure progress against
], ids=["worked-example", "almost-due", "timed-out", "no-condition"])
def test_requeue_after(cond: DeploymentCondition | None, now: float, expected: float | None) -> None:
    """A stalled rollout is looked at again when its deadline will have passed."""
    assert requeue_after(10, 2, 600.0, cond, _status(13, 5, 8, 8), now) == expected
