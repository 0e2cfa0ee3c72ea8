"""Disruption controller: expected and desired counts, healthy pods, disruptedPods, live status."""

from __future__ import annotations

import pytest

from sim.api.objects import ObjectMeta, OwnerReference, Pod, PodDisruptionBudget, PodSpec
from sim.api.selectors import Selector
from sim.controllers.disruption import (
    build_disrupted_pod_map,
    count_healthy_pods,
    expected_pod_count,
    pdb_selects,
    pdb_status,
    scaled_value,
)
from sim.engine import run
from sim.scenario import scenario_from_text


def _pod(name: str, ready: bool = True, terminating: bool = False, owner: int | None = 1,
         labels: dict[str, str] | None = None) -> Pod:
    meta = ObjectMeta(name=name, labels=labels or {"app": "db"}, deletion_time=3.0 if terminating else None,
                      owner=OwnerReference("ReplicaSet", "rs", owner) if owner is not None else None)
    return Pod(meta=meta, spec=PodSpec(containers=()), ready=ready)


def _pdb(min_available: int | str | None = None, max_unavailable: int | str | None = None) -> PodDisruptionBudget:
    return PodDisruptionBudget(ObjectMeta(name="db"), Selector.from_labels({"app": "db"}),
                               min_available, max_unavailable)


@pytest.mark.parametrize(("value", "total", "scaled"), [
    (3, 10, 3), ("50%", 5, 3), ("50%", 4, 2), ("10%", 1, 1), ("0%", 7, 0), ("100%", 7, 7),
], ids=["int", "half-of-5-up", "half-of-4", "tenth-of-1-up", "zero", "all"])
def test_scaled_value_rounds_percentages_up(value: int | str, total: int, scaled: int) -> None:
    """Percentages of the expected count round up, as GetScaledValueFromIntOrPercent(roundUp=true)."""
    assert scaled_value(value, total) == scaled


# (pdb, scale of each pod's controller) -> (expectedPods, desiredHealthy)
@pytest.mark.parametrize(("pdb", "expected"), [
    (_pdb(min_available=2), (3, 2)),  # integer minAvailable: the pods themselves
    (_pdb(min_available="50%"), (5, 3)),  # percentage: the controller's scale (5), rounded up
    (_pdb(max_unavailable=1), (5, 4)),
    (_pdb(max_unavailable="50%"), (5, 2)),  # 5 - ceil(2.5)
    (_pdb(max_unavailable=9), (5, 0)),  # never negative
], ids=["min-int", "min-percent", "max-int", "max-percent", "max-too-big"])
def test_expected_pod_count(pdb: PodDisruptionBudget, expected: tuple[int, int]) -> None:
    """Three running pods of a controller scaled to 5 (two replacements not yet created)."""
    pods = [_pod("a"), _pod("b"), _pod("c")]
    assert expected_pod_count(pdb, pods, lambda p: (1, 5))[:2] == expected


def test_unmanaged_pods_are_reported_and_not_counted() -> None:
    """A pod without a controller does not add to the expected count of a percentage budget."""
    expected, desired, unmanaged = expected_pod_count(_pdb(min_available="100%"),
                                                      [_pod("a"), _pod("bare", owner=None)], lambda p: (1, 1))
    assert (expected, desired, unmanaged) == (1, 1, ["bare"])


def test_missing_controller_is_an_error() -> None:
    """A pod whose controller cannot be found makes the budget uncomputable."""
    with pytest.raises(LookupError, match="found no controllers"):
        expected_pod_count(_pdb(max_unavailable=1), [_pod("a")], lambda p: None)


def test_healthy_pods_exclude_unready_deleting_and_recently_disrupted() -> None:
    """Ready, not terminating, not evicted within the last 2 minutes."""
    pods = [_pod("ok"), _pod("unready", ready=False), _pod("deleting", terminating=True),
            _pod("evicted"), _pod("evicted-long-ago")]
    disrupted = {"evicted": 100.0, "evicted-long-ago": 10.0}
    assert count_healthy_pods(pods, disrupted, now=150.0) == 2  # ok, evicted-long-ago


def test_disrupted_pod_map_drops_deleted_and_expired_entries() -> None:
    """Entries for pods being deleted or older than DeletionTimeout go; recheck at the oldest expiry."""
    pods = [_pod("pending-a"), _pod("pending-b"), _pod("now-deleting", terminating=True), _pod("stale")]
    disrupted = {"pending-a": 100.0, "pending-b": 110.0, "now-deleting": 100.0, "stale": 10.0, "gone": 100.0}
    kept, recheck = build_disrupted_pod_map(pods, disrupted, now=150.0)
    assert kept == {"pending-a": 100.0, "pending-b": 110.0}
    assert recheck == 220.0


@pytest.mark.parametrize(("healthy", "desired", "expected", "allowed"), [
    (6, 4, 6, 2), (4, 4, 6, 0), (3, 4, 6, 0), (2, 0, 0, 0),
], ids=["two-spare", "at-budget", "below-budget", "no-pods-expected"])
def test_disruptions_allowed(healthy: int, desired: int, expected: int, allowed: int) -> None:
    """healthy - desired, floored at 0, and 0 whenever no pods are expected."""
    assert pdb_status(healthy, desired, expected)[3] == allowed


def test_empty_selector_selects_nothing() -> None:
    """A PDB with an empty selector protects no pod (as the eviction handler reads it)."""
    pdb = PodDisruptionBudget(ObjectMeta(name="all"), Selector())
    assert not pdb_selects(pdb, _pod("a"))


SCENARIO = """
name: pdb
duration: 90s
cluster:
  nodePools:
  - {name: w, count: 2, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: db
  behavior: {readiness: 5s}
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: db}
    spec:
      replicas: 5
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec: {containers: [{name: c, image: "db:1"}]}
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: db}
    spec: {maxUnavailable: "40%", selector: {matchLabels: {app: db}}}
"""


def test_live_status_matches_the_deployment() -> None:
    """maxUnavailable 40% of a 5-replica Deployment: desired 3, and 2 disruptions once all are ready."""
    result = run(scenario_from_text(SCENARIO))
    pdb = result.simulation.api.store.get("PodDisruptionBudget", "default", "db")
    status = (pdb.current_healthy, pdb.desired_healthy, pdb.expected_pods, pdb.disruptions_allowed)
    assert status == (5, 3, 5, 2)
    assert pdb.observed_generation == pdb.meta.generation
