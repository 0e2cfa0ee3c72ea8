"""Deployment rollout arithmetic (pure) and a rolling update driven through the API."""

from __future__ import annotations

import pytest

from sim.controllers.deployment.recreate import recreate_step
from sim.controllers.deployment.rolling import RSState, rolling_step
from sim.controllers.deployment.util import new_rs_new_replicas, resolve_fenceposts
from sim.engine import run
from sim.scenario import scenario_from_text


@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), [
    ("25%", "25%", 10, (3, 2)),   # surge rounds up (2.5 -> 3), unavailable down (2.5 -> 2)
    ("25%", "25%", 4, (1, 1)),
    ("25%", "25%", 1, (1, 0)),    # 0.25 -> surge 1, unavailable 0
    (0, 0, 5, (0, 1)),            # both zero would stall: unavailable becomes 1
    ("0%", "0%", 5, (0, 1)),
    (2, "50%", 5, (2, 2)),
], ids=["10-default", "4-default", "1-default", "zero-int", "zero-pct", "mixed"])
def test_resolve_fenceposts(surge: int | str, unavailable: int | str, desired: int,
                            expected: tuple[int, int]) -> None:
    """maxSurge rounds up, maxUnavailable rounds down, and both 0 becomes unavailable 1."""
    assert resolve_fenceposts(surge, unavailable, desired) == expected


def test_new_rs_new_replicas_respects_max_total() -> None:
    """10 desired, surge 3: with 10 old pods the new RS may grow to 3."""
    assert new_rs_new_replicas(10, "25%", "25%", all_replicas=10, new_replicas=0) == 3
    assert new_rs_new_replicas(10, "25%", "25%", all_replicas=13, new_replicas=3) == 3


def test_rolling_step_worked_example() -> None:
    """First syncs of 10 replicas (surge 3, unavailable 2): new up to 3, then old down to 8."""
    old = [RSState("old", 10, 10, 0.0)]
    new_target, olds = rolling_step(10, "25%", "25%", RSState("new", 0, 0, 1.0), old)
    assert (new_target, olds) == (3, {"old": 10})
    new_target, olds = rolling_step(10, "25%", "25%", RSState("new", 3, 0, 1.0), old)
    assert (new_target, olds) == (3, {"old": 8})


def test_rolling_step_cleans_unhealthy_old_pods_first() -> None:
    """Unavailable old pods can be removed without touching availability."""
    old = [RSState("old", 10, 6, 0.0)]  # 4 old pods not available
    _, olds = rolling_step(10, "25%", "25%", RSState("new", 3, 0, 1.0), old)
    # maxScaledDown = 13 total - 8 min available - 3 new unavailable = 2: two unhealthy old pods
    # go; the 6 available ones stay, since 6 < 8 leaves nothing to scale down for availability.
    assert olds == {"old": 8}


def test_recreate_waits_for_old_pods() -> None:
    """Recreate scales old to 0, waits for their pods to go, then scales new up."""
    assert recreate_step(4, 0, {"old": 4}, old_pods_running=4) == (0, {"old": 0})
    assert recreate_step(4, 0, {"old": 0}, old_pods_running=2) == (0, {"old": 0})
    assert recreate_step(4, 0, {"old": 0}, old_pods_running=0) == (4, {"old": 0})


ROLLOUT = """
name: rollout
duration: 8m
cluster:
  nodePools:
  - {name: w, count: 6, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 10
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: c
            image: web:1
            resources: {requests: {cpu: 100m}}
            readinessProbe: {periodSeconds: 2}
  behavior:
    imageSize: 20Mi
    readiness: {dist: uniform, low: 5s, high: 15s}
timeline:
- {at: 2m, action: setImage, target: deployment/web, image: web:2}
"""


def _counts_over_time(pods, start: float, end: float, step: float = 0.5):  # type: ignore[no-untyped-def]
    import numpy as np

    t = np.arange(start, end, step)
    created = pods["created"].to_numpy()[:, None]
    gone = pods["deleted"].fillna(np.inf).to_numpy()[:, None]
    terminating = pods["terminating"].fillna(np.inf).to_numpy()[:, None]
    ready = pods["ready"].fillna(np.inf).to_numpy()[:, None]
    del gone  # terminating pods are not active: upstream's bound is on active pods
    total = ((created <= t) & (terminating > t)).sum(axis=0)
    available = ((ready <= t) & (terminating > t)).sum(axis=0)
    return total, available


def test_rolling_update_keeps_between_8_available_and_13_pods() -> None:
    """10 replicas at 25%/25%: never more than 13 active pods nor fewer than 8 available."""
    result = run(scenario_from_text(ROLLOUT))
    pods = result.pods()
    assert len(pods) == 20  # 10 old + 10 new
    total, available = _counts_over_time(pods, 100, 480)
    assert total.max() <= 13
    assert available.min() >= 8
    survivors = pods[pods["deleted"].isna()]
    assert len(survivors) == 10 and survivors["ready"].notna().all()
    assert total.max() == 13  # the surge was actually used
