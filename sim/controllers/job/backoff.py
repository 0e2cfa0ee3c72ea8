"""Pod-failure backoff of the Job controller: models pkg/controller/job/backoff_utils.go.

After a pod fails the controller waits before creating its replacement: 10 s after one
failure, then 20 s, 40 s, ... (``10 s x 2^(failures-1)``), capped at 10 minutes in code
(the docs still say 6). Failures count since the last success, and the wait runs from the
moment the last failed pod finished, not from when the controller noticed.

Worked example: pods fail at t=100 (1st), the replacement fails at t=130.4 (2nd, recorded as
130: API timestamps have whole seconds). The next replacement may be created at 130 + 20 =
150; a sync at t=141 waits 9 s more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sim.api.objects import Pod

__all__ = [
    "DEFAULT_JOB_POD_FAILURE_BACKOFF",
    "MAX_JOB_POD_FAILURE_BACKOFF",
    "BackoffRecord",
    "backoff_duration",
    "finished_time",
    "new_backoff_record",
    "remaining_time",
]

DEFAULT_JOB_POD_FAILURE_BACKOFF = 10.0  # DefaultJobPodFailureBackOff
MAX_JOB_POD_FAILURE_BACKOFF = 600.0  # MaxJobPodFailureBackOff (10 minutes)


@dataclass(frozen=True, slots=True)
class BackoffRecord:
    """Consecutive pod failures of one Job since its last success, and when the last one ended."""

    failures_after_last_success: int = 0
    last_failure_time: float | None = None


def finished_time(pod: Pod) -> float:
    """When a pod finished: its containers' end, else its deletion, else its creation.

    As the controller reads them from the API: these are metav1.Time fields, stored to the
    whole second, so the back-off runs from the second the pod finished in (up to a second
    early), which is what a real cluster shows.
    """
    if pod.finish_time is not None:
        return math.floor(pod.finish_time)
    if pod.meta.deletion_time is not None:
        return math.floor(pod.meta.deletion_time)  # kubesim stamps the request time: upstream's timestamp - grace
    return math.floor(pod.meta.creation_time)


def new_backoff_record(old: BackoffRecord, succeeded: Sequence[Pod], failed: Sequence[Pod]) -> BackoffRecord:
    """The record after counting newly succeeded and failed pods.

    Failures add up; a success resets the count, keeping only failures that ended after it.
    """
    if not failed:
        return BackoffRecord() if succeeded else old
    fail_times = sorted(finished_time(p) for p in failed)
    if not succeeded:
        return BackoffRecord(old.failures_after_last_success + len(fail_times), fail_times[-1])
    last_success = max(finished_time(p) for p in succeeded)
    later = [t for t in fail_times if t > last_success]
    return BackoffRecord(len(later), later[-1] if later else None)


def backoff_duration(failures: int, initial: float = DEFAULT_JOB_POD_FAILURE_BACKOFF,
                     cap: float = MAX_JOB_POD_FAILURE_BACKOFF) -> float:
    """``initial x 2^(failures-1)``, at most ``cap``; 0 without failures."""
    if failures <= 0:
        return 0.0
    return min(initial * 2.0 ** min(failures - 1, 62), cap)


def remaining_time(failures: int, last_failure_time: float | None, now: float) -> float:
    """Seconds still to wait before creating a pod (0 when the backoff has passed)."""
    if failures <= 0 or last_failure_time is None:
        return 0.0
    elapsed = now - last_failure_time
    wait = backoff_duration(failures)
    return 0.0 if wait < elapsed else wait - elapsed
