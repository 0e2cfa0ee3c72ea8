"""Normalisation: stabilisation windows, the scale-up limit and behavior policies, as tables."""

from __future__ import annotations

import pytest

from sim.api.autoscaling import (
    HPABehavior,
    HPAScalingPolicy,
    HPAScalingRules,
    default_scale_down_rules,
    default_scale_up_rules,
)
from sim.controllers.hpa.normalize import (
    Recommendation,
    ScaleEvent,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
    scale_down_limit_with_rules,
    scale_up_limit,
    scale_up_limit_with_rules,
    stabilize_recommendation,
    store_scale_event,
)

DEFAULT = HPABehavior(default_scale_up_rules(), default_scale_down_rules())


@pytest.mark.parametrize(("current", "limit"), [(0, 4), (1, 4), (2, 4), (3, 6), (10, 20)],
                         ids=["0", "1", "2", "3", "10"])
def test_scale_up_limit_without_behavior(current: int, limit: int) -> None:
    """Without spec.behavior one step may reach max(2 * current, 4) (not current + 4)."""
    assert scale_up_limit(current) == limit


@pytest.mark.parametrize(("current", "desired", "expected"), [
    (3, 5, (5, "DesiredWithinRange")),
    (3, 9, (6, "ScaleUpLimit")),
    (8, 16, (10, "TooManyReplicas")),  # 2 * 8 = 16 would be allowed, maxReplicas 10 is not
    (3, 1, (2, "TooFewReplicas")),
], ids=["within", "rate", "max", "min"])
def test_convert_desired_replicas_with_rules(current: int, desired: int, expected: tuple[int, str]) -> None:
    """The proposal is clamped to [minReplicas 2, min(maxReplicas 10, scale-up limit)]."""
    replicas, reason, _ = convert_desired_replicas_with_rules(current, desired, 2, 10)
    assert (replicas, reason) == expected


def test_stabilization_window_takes_the_highest_recent_recommendation() -> None:
    """Recommendations 8, 3, 5 in the last 300 s hold a new 2 at 8; older ones drop out."""
    recs = (Recommendation(9, 0.0), Recommendation(8, 100.0), Recommendation(3, 200.0), Recommendation(5, 300.0))
    highest, kept = stabilize_recommendation(recs, now=350.0, window=300.0, desired=2)
    assert highest == 8
    assert kept[0] == Recommendation(2, 350.0)  # took the place of the sample older than the window
    assert len(kept) == 4


def test_stabilization_prevents_flapping() -> None:
    """Metrics that swing 10 -> 4 -> 10 -> 4 every sync keep the target at 10 for the whole window."""
    recs: tuple[Recommendation, ...] = (Recommendation(10, 0.0),)
    sizes = []
    for i in range(1, 21):
        result = normalize_desired_replicas(recs, 15.0 * i, 300.0, 10, 4 if i % 2 else 10, 1, 20)
        recs = result.recommendations
        sizes.append(result.replicas)
    assert sizes == [10] * 20


def test_scale_down_happens_once_the_window_has_passed() -> None:
    """A steady proposal of 4 after 10 is applied at the first sync more than 300 s after the 10."""
    recs: tuple[Recommendation, ...] = (Recommendation(10, 0.0),)
    first_down = None
    for i in range(1, 30):
        result = normalize_desired_replicas(recs, 15.0 * i, 300.0, 10, 4, 1, 20)
        recs = result.recommendations
        if result.replicas == 4:
            first_down = 15.0 * i
            assert result.able_to_scale[0] == "ReadyForNewScale"
            break
        assert result.able_to_scale[0] == "ScaleDownStabilized"
    assert first_down == 315.0


@pytest.mark.parametrize(("current", "limit"), [(1, 5), (3, 7), (4, 8), (10, 20)], ids=["1", "3", "4", "10"])
def test_default_scale_up_policies(current: int, limit: int) -> None:
    """Default behavior adds max(4 pods, 100 %) per 15 s: from 3 that is max(7, 6) = 7."""
    assert scale_up_limit_with_rules(current, (), (), default_scale_up_rules(), now=100.0) == limit


def test_scale_up_policies_count_recent_events() -> None:
    """A +4 at t=100 leaves, at t=110, room for max(3 + 4, 2 * 3) counted from the period start."""
    events = (ScaleEvent(4, 100.0),)
    # current 7 was reached from 3 less than 15 s ago: the period started at 3
    assert scale_up_limit_with_rules(7, events, (), default_scale_up_rules(), now=110.0) == 7
    # after the period (>15 s) the event no longer counts
    assert scale_up_limit_with_rules(7, events, (), default_scale_up_rules(), now=116.0) == 14


def test_docs_scale_down_policy_example() -> None:
    """Pods 4/60 s or Percent 10/60 s, Max: 80 -> 72 (8 > 4), then below 40 replicas 4 at a time."""
    rules = HPAScalingRules((HPAScalingPolicy("Pods", 4, 60), HPAScalingPolicy("Percent", 10, 60)))
    assert scale_down_limit_with_rules(80, (), (), rules, now=0.0) == 72
    assert scale_down_limit_with_rules(72, (), (ScaleEvent(8, 0.0),), rules, now=30.0) == 72  # same period
    assert scale_down_limit_with_rules(72, (), (ScaleEvent(8, 0.0),), rules, now=61.0) == 64  # 7.2 -> 8 removed
    assert scale_down_limit_with_rules(30, (), (), rules, now=0.0) == 26  # 10 % is 3: Pods wins


@pytest.mark.parametrize(("select", "limit"), [("Max", 72), ("Min", 76), ("Disabled", 80)],
                         ids=["max", "min", "disabled"])
def test_select_policy(select: str, limit: int) -> None:
    """selectPolicy picks the policy allowing the biggest change, the smallest, or none."""
    rules = HPAScalingRules((HPAScalingPolicy("Pods", 4, 60), HPAScalingPolicy("Percent", 10, 60)), select)
    assert scale_down_limit_with_rules(80, (), (), rules, now=0.0) == limit


@pytest.mark.parametrize(("current", "desired", "expected"), [
    (3, 20, (7, "ScaleUpLimit")),  # max(3 + 4, 2 * 3)
    (10, 40, (20, "ScaleUpLimit")),  # +100 %
    (20, 45, (30, "TooManyReplicas")),  # 40 allowed, maxReplicas 30 is lower
    (10, 1, (2, "TooFewReplicas")),  # -100 % allows 0; minReplicas 2 holds
    (5, 5, (5, "DesiredWithinRange")),
], ids=["pods-policy", "percent-policy", "max", "min", "equal"])
def test_behavior_rate_and_bounds(current: int, desired: int, expected: tuple[int, str]) -> None:
    """The default policies limit the change per period; min/maxReplicas (2, 30) bound it."""
    replicas, reason, _ = convert_desired_replicas_with_behavior_rate(current, desired, 2, 30, DEFAULT, (), (), 0.0)
    assert (replicas, reason) == expected


def test_scale_up_stabilization_window_takes_the_lowest_recommendation() -> None:
    """With a 60 s scale-up window, a burst to 10 waits until every recent proposal exceeds 3."""
    rules = HPAScalingRules(default_scale_up_rules().policies, "Max", 60)
    behavior = HPABehavior(rules, default_scale_down_rules())
    recs = (Recommendation(3, 0.0), Recommendation(6, 30.0))
    result = normalize_desired_replicas_with_behaviors(recs, (), (), 45.0, behavior, 300.0, 3, 10, 1, 20)
    assert (result.replicas, result.able_to_scale[0]) == (3, "ScaleUpStabilized")
    later = normalize_desired_replicas_with_behaviors(result.recommendations, (), (), 75.0, behavior, 300.0, 3, 10,
                                                      1, 20)
    assert later.replicas == 6  # lowest in (15, 75]: 6 at 30 s


def test_scale_down_window_defaults_to_the_controller_flag() -> None:
    """A scaleDown without stabilizationWindowSeconds uses --horizontal-pod-autoscaler-downscale-stabilization."""
    recs = (Recommendation(8, 0.0),)
    short = normalize_desired_replicas_with_behaviors(recs, (), (), 100.0, DEFAULT, 60.0, 8, 2, 1, 20)
    long = normalize_desired_replicas_with_behaviors(recs, (), (), 100.0, DEFAULT, 300.0, 8, 2, 1, 20)
    assert (short.replicas, long.replicas) == (2, 8)


def test_store_scale_event_reuses_outdated_slots() -> None:
    """Events older than the longest policy period are replaced rather than kept."""
    events = store_scale_event((), default_scale_up_rules(), 0.0, 4)
    events = store_scale_event(events, default_scale_up_rules(), 10.0, 2)
    assert [e.change for e in events] == [4, 2]
    events = store_scale_event(events, default_scale_up_rules(), 40.0, 1)
    assert [(e.change, e.at) for e in events] == [(4, 0.0), (1, 40.0)]
    assert events[0].outdated
