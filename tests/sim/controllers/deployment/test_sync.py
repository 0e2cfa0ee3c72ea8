"""sync.go's pure parts: proportional scaling, history cleanup, status, RS annotations."""

from __future__ import annotations

import pytest

from sim.api.objects import DeploymentCondition, DeploymentStrategy
from sim.controllers.deployment.sync import (
    calculate_status,
    cleanup_victims,
    is_scaling_event,
    new_rs_annotations,
    proportional_scale,
    set_condition,
)
from sim.controllers.deployment.util import DESIRED_REPLICAS, MAX_REPLICAS, REVISION, REVISION_HISTORY, RSState

ROLLING = DeploymentStrategy()
RECREATE = DeploymentStrategy("Recreate")


def _rs(name: str, replicas: int, created: float, **kw: int | bool | None) -> RSState:
    return RSState(name, replicas, created=created, **kw)


@pytest.mark.parametrize(("desired", "new", "olds", "expected"), [
    # Stalled rollout old 8 / new 5 (max 13), scaled 10 -> 15: 6 more split 4 / 2 (module docstring).
    (15, _rs("new", 5, 2.0, max_annotation=13), [_rs("old", 8, 1.0, max_annotation=13)], {"old": 12, "new": 7}),
    # ... and scaled 10 -> 5 instead: allowed 5 + 2 = 7, remove 6; old first: round(8*7/13)-8 = -4,
    # then new: round(5*7/13)-5 = -2.
    (5, _rs("new", 5, 2.0, max_annotation=13), [_rs("old", 8, 1.0, max_annotation=13)], {"old": 4, "new": 3}),
    # Equal sizes when adding: the newer RS is served first and gets the odd leftover.
    (15, _rs("new", 5, 2.0, max_annotation=10), [_rs("old", 5, 1.0, max_annotation=10)], {"new": 10, "old": 9}),
    # A single active RS simply takes the new size.
    (15, _rs("new", 10, 2.0, max_annotation=13), [_rs("old", 0, 1.0)], {"new": 15}),
    (10, _rs("new", 10, 2.0, max_annotation=13), [_rs("old", 0, 1.0)], {}),
    # A saturated new RS (all 10 available, annotated 10) drains the old ones.
    (10, _rs("new", 10, 2.0, desired_annotation=10, available=10), [_rs("old", 2, 1.0)], {"old": 0}),
], ids=["scale-up-mid-rollout", "scale-down-mid-rollout", "tie-newer-first", "single-rs", "single-rs-unchanged",
        "saturated"])
def test_proportional_scale(desired: int, new: RSState, olds: list[RSState], expected: dict[str, int]) -> None:
    """A scaling event spreads the difference over the active ReplicaSets in proportion to their sizes."""
    assert proportional_scale(desired, ROLLING, new, olds, status_replicas=13) == expected


def test_proportional_scale_leaves_recreate_alone() -> None:
    """Recreate with two active RSs has no proportional step (its rollout handles it)."""
    olds = [_rs("old", 3, 1.0)]
    assert proportional_scale(8, RECREATE, _rs("new", 2, 2.0), olds, status_replicas=5) == {}


@pytest.mark.parametrize(("rss", "expected"), [
    ([_rs("a", 0, 1.0, revision=1), _rs("b", 0, 2.0, revision=2), _rs("c", 3, 3.0, revision=3)], ["a"]),
    ([_rs("a", 0, 1.0, revision=1, actual=1), _rs("b", 0, 2.0, revision=2), _rs("c", 0, 3.0, revision=3)], []),
    ([_rs("a", 0, 1.0, revision=1), _rs("b", 0, 2.0, revision=2)], []),
    ([_rs("a", 0, 1.0, revision=1, observed=False), _rs("b", 0, 2.0, revision=2), _rs("c", 0, 3.0, revision=3)],
     []),
], ids=["oldest-beyond-limit", "still-has-pods", "within-limit", "scale-not-yet-observed"])
def test_cleanup_victims(rss: list[RSState], expected: list[str]) -> None:
    """Limit 2: the oldest revisions beyond it go, but only once empty (spec and status)."""
    assert cleanup_victims(rss, set(), limit=2) == expected


def test_cleanup_skips_replica_sets_being_deleted() -> None:
    """A ReplicaSet already being deleted neither counts toward the limit nor is deleted twice."""
    rss = [_rs("a", 0, 1.0, revision=1), _rs("b", 0, 2.0, revision=2), _rs("c", 0, 3.0, revision=3)]
    assert cleanup_victims(rss, {"a"}, limit=2) == []


def test_is_scaling_event_reads_desired_annotation() -> None:
    """An active RS annotated for another size than spec.replicas marks a scaling event."""
    assert is_scaling_event(15, [_rs("new", 10, 1.0, desired_annotation=10)])
    assert not is_scaling_event(10, [_rs("new", 10, 1.0, desired_annotation=10)])
    assert not is_scaling_event(15, [_rs("old", 0, 1.0, desired_annotation=10)])  # inactive RSs are ignored


def test_calculate_status_counts_and_available_condition() -> None:
    """10 desired at 25%: 8 available is enough (MinimumReplicasAvailable), 7 is not."""
    new = RSState("new", 5, available=3, actual=5, ready=3)
    old = RSState("old", 8, available=5, actual=8, ready=5)
    status = calculate_status(10, 4, ROLLING, new, [old, new], (), now=50.0)
    assert (status.replicas, status.updated_replicas, status.ready_replicas, status.available_replicas,
            status.unavailable_replicas, status.observed_generation) == (13, 5, 8, 8, 5, 4)
    assert status.condition("Available").reason == "MinimumReplicasAvailable"
    old = RSState("old", 8, available=4, actual=8, ready=4)
    status = calculate_status(10, 4, ROLLING, new, [old, new], status.conditions, now=60.0)
    cond = status.condition("Available")
    assert (cond.status, cond.reason, cond.last_transition_time) == ("False", "MinimumReplicasUnavailable", 60.0)


def test_set_condition_keeps_transition_time_for_same_status() -> None:
    """Same status and reason: unchanged; same status, new reason: the transition time stays."""
    first = DeploymentCondition("Progressing", "True", "NewReplicaSetCreated", "", 10.0, 10.0)
    conds = set_condition((), first)
    assert set_condition(conds, DeploymentCondition("Progressing", "True", "NewReplicaSetCreated", "", 20.0, 20.0)) \
        == conds
    updated = set_condition(conds, DeploymentCondition("Progressing", "True", "ReplicaSetUpdated", "", 30.0, 30.0))
    assert (updated[0].reason, updated[0].last_update_time, updated[0].last_transition_time) == \
        ("ReplicaSetUpdated", 30.0, 10.0)


def test_new_rs_annotations_on_create_and_rollback() -> None:
    """A new RS gets revision and sizes; a re-used (rolled-back-to) RS keeps its old revision in history."""
    created = new_rs_annotations({"team": "ml", REVISION: "9"}, {}, 3, exists=False, desired=10, max_replicas=13)
    assert created == {"team": "ml", REVISION: "3", DESIRED_REPLICAS: "10", MAX_REPLICAS: "13"}
    reused = new_rs_annotations({}, {REVISION: "1", REVISION_HISTORY: ""}, 3, exists=True, desired=10,
                                max_replicas=13)
    assert (reused[REVISION], reused[REVISION_HISTORY]) == ("3", "1")
    again = new_rs_annotations({}, {REVISION: "3", REVISION_HISTORY: "1"}, 5, exists=True, desired=10,
                               max_replicas=13)
    assert again[REVISION_HISTORY] == "1,3"
    assert new_rs_annotations({}, reused, 3, exists=True, desired=10, max_replicas=13) == reused
