"""From a metric's proposal to the size the HPA sets: models the normalisation half of
pkg/controller/podautoscaler/horizontal.go (Kubernetes 1.36), as pure functions.

Two paths, as upstream. Without ``spec.behavior``: the highest recommendation of the last
``--horizontal-pod-autoscaler-downscale-stabilization`` (5 min) wins, then the size is
clamped to [minReplicas, maxReplicas] and to at most ``max(2 * current, 4)``. With
``spec.behavior`` (defaulted by the API server): scale-up and scale-down each have a
stabilisation window (lowest / highest recent recommendation) and rate-limit policies
counted over the scale events of their last ``periodSeconds``. Worked example of the
default scale-up policies (max of +4 pods and +100 % per 15 s): from 3 replicas the HPA
may go to max(3 + 4, ceil(3 * 2.0)) = 7; from 10 to max(14, 20) = 20.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.api.autoscaling import HPABehavior, HPAScalingRules

__all__ = [
    "SCALE_UP_LIMIT_FACTOR",
    "SCALE_UP_LIMIT_MINIMUM",
    "Normalized",
    "Recommendation",
    "ScaleEvent",
    "convert_desired_replicas_with_behavior_rate",
    "convert_desired_replicas_with_rules",
    "normalize_desired_replicas",
    "normalize_desired_replicas_with_behaviors",
    "replicas_change_per_period",
    "scale_down_limit_with_rules",
    "scale_up_limit",
    "scale_up_limit_with_rules",
    "stabilize_recommendation",
    "stabilize_recommendation_with_behaviors",
    "store_scale_event",
]

SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
MAX_INT32, MIN_INT32 = 2**31 - 1, -(2**31)
WITHIN_RANGE = ("DesiredWithinRange", "the desired count is within the acceptable range")
UP_STABILIZED = ("ScaleUpStabilized",
                 "recent recommendations were lower than current one, applying the lowest recent recommendation")
DOWN_STABILIZED = ("ScaleDownStabilized",
                   "recent recommendations were higher than current one, applying the highest recent recommendation")
READY_FOR_NEW_SCALE = ("ReadyForNewScale", "recommended size matches current size")


@dataclass(frozen=True, slots=True)
class Recommendation:
    """An unstabilised proposal and when it was made."""

    replicas: int
    at: float


@dataclass(frozen=True, slots=True)
class ScaleEvent:
    """A past rescale in one direction: how many pods it added or removed (non-negative)."""

    change: int
    at: float
    outdated: bool = False


@dataclass(frozen=True, slots=True)
class Normalized:
    """The size to set and the conditions explaining it."""

    replicas: int
    able_to_scale: tuple[str, str]  # reason, message of AbleToScale=True
    limited: bool  # ScalingLimited status
    scaling_limited: tuple[str, str]  # its reason, message
    recommendations: tuple[Recommendation, ...]


# ---------------------------------------------------------------------------- without behavior

def stabilize_recommendation(recs: tuple[Recommendation, ...], now: float, window: float,
                             desired: int) -> tuple[int, tuple[Recommendation, ...]]:
    """The highest of ``desired`` and the recommendations of the last ``window`` seconds.

    ``desired`` is recorded, taking the place of a sample older than the window if any.
    """
    highest, cutoff, old = desired, now - window, -1
    for i, rec in enumerate(recs):
        if rec.at < cutoff:
            old = i
        elif rec.replicas > highest:
            highest = rec.replicas
    new = Recommendation(desired, now)
    kept = recs[:old] + (new,) + recs[old + 1:] if old >= 0 else (*recs, new)
    return highest, kept


def scale_up_limit(current: int) -> int:
    """Without behavior, one step grows the target to at most max(2 * current, 4)."""
    return int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))


def convert_desired_replicas_with_rules(current: int, desired: int, min_replicas: int,
                                        max_replicas: int) -> tuple[int, str, str]:
    """Clamp ``desired`` to [minReplicas, min(maxReplicas, scale_up_limit(current))]."""
    limit = scale_up_limit(current)
    if max_replicas > limit:
        maximum, reason = limit, ("ScaleUpLimit", "the desired replica count is increasing faster than "
                                  "the maximum scale rate")
    else:
        maximum, reason = max_replicas, ("TooManyReplicas", "the desired replica count is more than "
                                         "the maximum replica count")
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > maximum:
        return maximum, *reason
    return desired, *WITHIN_RANGE


def normalize_desired_replicas(recs: tuple[Recommendation, ...], now: float, window: float, current: int,
                               desired: int, min_replicas: int, max_replicas: int) -> Normalized:
    """normalizeDesiredReplicas: stabilise downscales, then apply the replica bounds."""
    stabilized, recs = stabilize_recommendation(recs, now, window, desired)
    able = DOWN_STABILIZED if stabilized != desired else READY_FOR_NEW_SCALE
    replicas, reason, message = convert_desired_replicas_with_rules(current, stabilized, min_replicas,
                                                                    max_replicas)
    return Normalized(replicas, able, replicas != stabilized, (reason, message), recs)


# ---------------------------------------------------------------------------- with behavior

def stabilize_recommendation_with_behaviors(
        recs: tuple[Recommendation, ...], now: float, current: int, desired: int, up_window: float,
        down_window: float) -> tuple[int, str, str, tuple[Recommendation, ...]]:
    """Keep ``current`` unless every recent recommendation agrees on moving.

    A scale-up goes no higher than the lowest recommendation of the scale-up window, a
    scale-down no lower than the highest of the scale-down window (both include ``desired``).
    """
    up_cutoff, down_cutoff = now - up_window, now - down_window
    up_rec = down_rec = desired
    old = -1
    for i, rec in enumerate(recs):
        if rec.at > up_cutoff:
            up_rec = min(rec.replicas, up_rec)
        if rec.at > down_cutoff:
            down_rec = max(rec.replicas, down_rec)
        if rec.at < up_cutoff and rec.at < down_cutoff:
            old = i
    recommendation = min(max(current, up_rec), down_rec)
    new = Recommendation(desired, now)
    kept = recs[:old] + (new,) + recs[old + 1:] if old >= 0 else (*recs, new)
    reason = UP_STABILIZED if desired >= current else DOWN_STABILIZED
    return recommendation, *reason, kept


def replicas_change_per_period(period_seconds: int, events: tuple[ScaleEvent, ...], now: float) -> int:
    """Pods added (or removed) by the events of the last ``period_seconds``."""
    cutoff = now - period_seconds
    return sum(e.change for e in events if e.at > cutoff)


def _period_start(current: int, period: int, up: tuple[ScaleEvent, ...], down: tuple[ScaleEvent, ...],
                  now: float) -> int:
    return current - replicas_change_per_period(period, up, now) + replicas_change_per_period(period, down, now)


def scale_up_limit_with_rules(current: int, up: tuple[ScaleEvent, ...], down: tuple[ScaleEvent, ...],
                              rules: HPAScalingRules, now: float) -> int:
    """The most replicas the scale-up policies allow now (Max: the most generous policy)."""
    if rules.select_policy == "Disabled":
        return current
    pick, result = (min, MAX_INT32) if rules.select_policy == "Min" else (max, MIN_INT32)
    for policy in rules.policies:
        start = _period_start(current, policy.period_seconds, up, down, now)
        if policy.type == "Pods":
            proposed = start + policy.value
        else:  # rounded up so that a small percentage still adds a pod
            proposed = math.ceil(start * (1 + policy.value / 100))
        result = pick(result, proposed)
    return result


def scale_down_limit_with_rules(current: int, up: tuple[ScaleEvent, ...], down: tuple[ScaleEvent, ...],
                                rules: HPAScalingRules, now: float) -> int:
    """The fewest replicas the scale-down policies allow now (Max: the most generous policy)."""
    if rules.select_policy == "Disabled":
        return current
    pick, result = (max, MIN_INT32) if rules.select_policy == "Min" else (min, MAX_INT32)
    for policy in rules.policies:
        start = _period_start(current, policy.period_seconds, up, down, now)
        if policy.type == "Pods":
            proposed = start - policy.value
        else:
            proposed = int(start * (1 - policy.value / 100))
        result = pick(result, proposed)
    return result


def convert_desired_replicas_with_behavior_rate(
        current: int, desired: int, min_replicas: int, max_replicas: int, behavior: HPABehavior,
        up: tuple[ScaleEvent, ...], down: tuple[ScaleEvent, ...], now: float) -> tuple[int, str, str]:
    """Apply the scale-up or scale-down policies and the replica bounds to ``desired``."""
    if desired > current:
        limit = max(scale_up_limit_with_rules(current, up, down, behavior.scale_up, now), current)
        if max_replicas > limit:
            maximum, reason = limit, ("ScaleUpLimit", "the desired replica count is increasing faster "
                                      "than the maximum scale rate")
        else:
            maximum, reason = max_replicas, ("TooManyReplicas", "the desired replica count is more than "
                                             "the maximum replica count")
        if desired > maximum:
            return maximum, *reason
    elif desired < current:
        limit = min(scale_down_limit_with_rules(current, up, down, behavior.scale_down, now), current)
        if min_replicas < limit:
            minimum, reason = limit, ("ScaleDownLimit", "the desired replica count is decreasing faster "
                                      "than the maximum scale rate")
        else:
            minimum, reason = min_replicas, ("TooFewReplicas", "the desired replica count is less than "
                                             "the minimum replica count")
        if desired < minimum:
            return minimum, *reason
    return desired, *WITHIN_RANGE


def normalize_desired_replicas_with_behaviors(
        recs: tuple[Recommendation, ...], up: tuple[ScaleEvent, ...], down: tuple[ScaleEvent, ...],
        now: float, behavior: HPABehavior, default_down_window: float, current: int, desired: int,
        min_replicas: int, max_replicas: int) -> Normalized:
    """normalizeDesiredReplicasWithBehaviors: stabilise, then rate-limit and bound."""
    down_window = behavior.scale_down.stabilization_window_seconds
    if down_window is None:  # maybeInitScaleDownStabilizationWindow
        down_window = int(default_down_window)
    up_window = behavior.scale_up.stabilization_window_seconds or 0
    stabilized, reason, message, recs = stabilize_recommendation_with_behaviors(
        recs, now, current, desired, up_window, down_window)
    able = (reason, message) if stabilized != desired else READY_FOR_NEW_SCALE
    replicas, reason, message = convert_desired_replicas_with_behavior_rate(
        current, stabilized, min_replicas, max_replicas, behavior, up, down, now)
    return Normalized(replicas, able, replicas != stabilized, (reason, message), recs)


def store_scale_event(events: tuple[ScaleEvent, ...], rules: HPAScalingRules, now: float,
                      change: int) -> tuple[ScaleEvent, ...]:
    """Record a rescale of ``change`` pods in one direction's history.

    Events older than the direction's longest policy period are marked outdated and the
    last of them is reused for the new event, so the history stays short.
    """
    longest = max((p.period_seconds for p in rules.policies), default=0)
    cutoff = now - longest
    marked = tuple(ScaleEvent(e.change, e.at, True) if e.at < cutoff else e for e in events)
    old = max((i for i, e in enumerate(marked) if e.outdated), default=-1)
    new = ScaleEvent(change, now)
    return marked[:old] + (new,) + marked[old + 1:] if old >= 0 else (*marked, new)
