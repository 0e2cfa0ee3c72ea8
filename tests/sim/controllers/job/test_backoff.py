"""The Job controller's pod-failure backoff (backoff_utils.go): 10 s doubling, cap 10 min."""

from __future__ import annotations

import pytest
from job_fakes import make_pod

from sim.controllers.job.backoff import BackoffRecord, backoff_duration, new_backoff_record, remaining_time


@pytest.mark.parametrize(("failures", "expected"), [
    (0, 0.0), (1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0), (7, 600.0), (30, 600.0),
], ids=["none", "first", "second", "third", "sixth", "capped-at-10min", "far-beyond-cap"])
def test_backoff_doubles_from_10s_to_a_10_minute_cap(failures: int, expected: float) -> None:
    """10 s x 2^(failures-1), capped at 600 s (the docs' 6 minutes is stale)."""
    assert backoff_duration(failures) == expected


@pytest.mark.parametrize(("failures", "last", "now", "expected"), [
    (0, None, 50.0, 0.0),
    (1, 100.0, 101.0, 9.0),    # one failure at t=100: wait until 110
    (2, 130.0, 141.0, 9.0),    # second failure at t=130: wait until 150
    (1, 100.0, 110.0, 0.0),    # exactly elapsed
    (3, 100.0, 200.0, 0.0),
], ids=["no-failures", "first-wait", "second-wait", "just-elapsed", "long-past"])
def test_remaining_time_runs_from_the_last_failure(failures: int, last: float | None, now: float,
                                                   expected: float) -> None:
    """The wait counts from when the last failed pod finished, not when it was noticed."""
    assert remaining_time(failures, last, now) == pytest.approx(expected)


def test_failures_add_up_until_a_success() -> None:
    """New failures add to the count; the last one's finish time is the new reference."""
    old = BackoffRecord(2, 50.0)
    record = new_backoff_record(old, [], [make_pod(1, "Failed", finished=70.0), make_pod(2, "Failed", finished=60.0)])
    assert record == BackoffRecord(4, 70.0)


def test_a_success_resets_the_count_but_keeps_later_failures() -> None:
    """Only failures that ended after the newest success count."""
    old = BackoffRecord(5, 10.0)
    succeeded = [make_pod(1, "Succeeded", finished=100.0)]
    failed = [make_pod(2, "Failed", finished=90.0), make_pod(3, "Failed", finished=120.0)]
    assert new_backoff_record(old, succeeded, failed) == BackoffRecord(1, 120.0)
    assert new_backoff_record(old, succeeded, []) == BackoffRecord()
    assert new_backoff_record(old, [], []) is old


def test_a_deleted_pod_finished_when_it_was_deleted() -> None:
    """Without a container finish time the deletion time stands in (upstream: timestamp - grace)."""
    record = new_backoff_record(BackoffRecord(), [], [make_pod(1, "Running", deleted=33.0)])
    assert record == BackoffRecord(1, 33.0)
