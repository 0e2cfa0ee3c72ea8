"""Pure rollout arithmetic: models pkg/controller/deployment/util/deployment_util.go.

Worked example (ours): 10 replicas, maxSurge 25%, maxUnavailable 25%. Surge rounds up
(25% of 10 = 2.5 -> 3) and unavailability rounds down (2.5 -> 2), so a rollout keeps
between 10 - 2 = 8 available pods and 10 + 3 = 13 pods in total.
"""

from __future__ import annotations

import math

__all__ = ["max_surge", "max_unavailable", "new_rs_new_replicas", "resolve_fenceposts", "scaled_value"]


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


def new_rs_new_replicas(desired: int, surge: int | str, unavailable: int | str,
                        all_replicas: int, new_replicas: int) -> int:
    """Replicas the new ReplicaSet may have now under RollingUpdate.

    ``all_replicas`` is the sum of spec.replicas over every ReplicaSet of the Deployment.
    """
    max_total = desired + max_surge(surge, unavailable, desired)
    if all_replicas >= max_total:
        return new_replicas
    scale_up = min(max_total - all_replicas, desired - new_replicas)
    return new_replicas + max(scale_up, 0)
