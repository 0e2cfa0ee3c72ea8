"""rolling.go: the new RS scales up within maxSurge, old RSs down within maxUnavailable."""

from __future__ import annotations

import pytest

from sim.api.objects import DeploymentStrategy
from sim.controllers.deployment.rolling import (
    StaleAvailability,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
)
from sim.controllers.deployment.util import RSState

DEFAULT = DeploymentStrategy()  # 25% / 25%: for 10 replicas surge 3, unavailable 2


@pytest.mark.parametrize(("new", "olds", "expected"), [
    (RSState("new", 0), [RSState("old", 10, 10)], 3),   # first step: 3 surge pods
    (RSState("new", 3), [RSState("old", 10, 10)], 3),   # 13 in total: wait for old to shrink
    (RSState("new", 3), [RSState("old", 8, 8)], 5),     # old at 8: two more fit
    (RSState("new", 12), [RSState("old", 0)], 10),      # above desired (scaled down): back to 10
], ids=["first-step", "at-max-total", "after-old-shrank", "above-desired"])
def test_reconcile_new_replica_set(new: RSState, olds: list[RSState], expected: int) -> None:
    """The new RS may grow while all RSs together stay within 10 + 3."""
    assert reconcile_new_replica_set(10, DEFAULT, new, [*olds, new]) == expected


@pytest.mark.parametrize(("new", "olds", "expected"), [
    # 13 pods, 8 must stay available, 3 new pods not available: 13 - 8 - 3 = 2 may go, and
    # availability allows 10 - 8 = 2: old 10 -> 8.
    (RSState("new", 3, 0), [RSState("old", 10, 10)], {"old": 8}),
    # New pods all unavailable at the max: nothing may go (13 - 8 - 5 = 0), the rollout stalls.
    (RSState("new", 5, 0), [RSState("old", 8, 8)], {}),
    # Four old pods are unavailable: two go as cleanup (13 - 8 - 3 = 2); the 6 available ones stay.
    (RSState("new", 3, 0), [RSState("old", 10, 6)], {"old": 8}),
    # Oldest RS first: 'a' (created first) loses its 2 before 'b' is touched.
    (RSState("new", 3, 0, created=3.0), [RSState("b", 5, 5, created=2.0), RSState("a", 5, 5, created=1.0)],
     {"a": 3}),
    # 13 available, 8 must stay: all 5 old pods may go.
    (RSState("new", 8, 8), [RSState("old", 5, 5)], {"old": 0}),
], ids=["first-scale-down", "stalled", "unhealthy-first", "oldest-first", "finish"])
def test_reconcile_old_replica_sets(new: RSState, olds: list[RSState], expected: dict[str, int]) -> None:
    """Old RSs shrink only as far as keeping 8 of 10 available allows."""
    assert reconcile_old_replica_sets(10, DEFAULT, new, olds) == expected


def test_reconcile_old_with_no_old_pods_does_nothing() -> None:
    """Nothing to scale down once every old RS is at 0."""
    assert reconcile_old_replica_sets(10, DEFAULT, RSState("new", 10, 10), [RSState("old", 0)]) == {}


def test_zero_surge_scales_old_down_first() -> None:
    """maxSurge 0, maxUnavailable 1, 2 replicas: the old RS loses one pod before the new RS gains one."""
    strategy = DeploymentStrategy(max_surge=0, max_unavailable=1)
    new, old = RSState("new", 0), RSState("old", 2, 2)
    assert reconcile_new_replica_set(2, strategy, new, [old, new]) == 0
    assert reconcile_old_replica_sets(2, strategy, new, [old]) == {"old": 1}


def test_stale_old_status_fails_the_sync() -> None:
    """An old RS just scaled 7 -> 5 whose status still counts the 7 pods it is deleting: upstream's
    cleanup refuses ("invalid request to scale down ... 5 -> 7") instead of counting 7 + 5
    available and scaling the old RS to 1, which would leave 6 of 10 available."""
    with pytest.raises(StaleAvailability, match="got invalid request to scale down old 5 -> 7") as failed:
        reconcile_old_replica_sets(10, DEFAULT, RSState("new", 8, 5), [RSState("old", 5, 7)])
    assert failed.value.targets == {}


def test_stale_status_keeps_earlier_cleanups() -> None:
    """Older RSs cleaned up before the stale one are reported with the failure (upstream wrote them)."""
    olds = [RSState("a", 4, 2, created=1.0), RSState("b", 3, 5, created=2.0)]
    with pytest.raises(StaleAvailability) as failed:
        reconcile_old_replica_sets(10, DEFAULT, RSState("new", 6, 6, created=3.0), olds)
    assert failed.value.targets == {"a": 2}
