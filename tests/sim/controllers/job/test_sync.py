"""One Job sync as a pure function (job_controller.go syncJob/manageJob): table tests."""

from __future__ import annotations

import pytest
from job_fakes import make_job, make_pod

from sim.api.objects import JobCondition, PodFailurePolicyRule
from sim.controllers.job.backoff import BackoffRecord
from sim.controllers.job.sync import active_pods_order, sync_job

LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
IGNORE_1 = (PodFailurePolicyRule("Ignore", "In", (1,)),)


def _types(result) -> list[str]:  # noqa: ANN001
    return [c.type for c in result.status.conditions]


@pytest.mark.parametrize(("fields", "pods", "create"), [
    ({"completions": 5, "parallelism": 2}, [], (None, None)),
    ({"completions": 2, "parallelism": 5}, [], (None, None)),
    ({"completions": 5, "parallelism": 2}, [make_pod(1, "Succeeded")], (None, None)),
    ({"completions": 3, "parallelism": 3}, [make_pod(1, "Succeeded"), make_pod(2)], (None,)),
    ({"completions": None, "parallelism": 3}, [], (None, None, None)),
    ({"completions": None, "parallelism": 3}, [make_pod(1, "Succeeded"), make_pod(2)], ()),
], ids=["parallelism-caps", "completions-cap", "succeeded-pod-replaced", "remaining-completions",
        "work-queue-starts-parallelism", "work-queue-stops-after-a-success"])
def test_active_pods_are_min_of_parallelism_and_remaining_completions(fields: dict, pods: list, create: tuple) -> None:
    """wantActive = min(parallelism, completions - succeeded); a work queue stops after a success."""
    result = sync_job(make_job(**fields), pods, set(), BackoffRecord(), now=5.0)
    assert result.create == create


def test_a_new_job_starts_and_counts_its_active_pods() -> None:
    """startTime is set on the first sync; active counts the pods being created."""
    result = sync_job(make_job(completions=4, parallelism=4), [], set(), BackoffRecord(), now=3.0)
    assert result.status.start_time == 3.0
    assert result.status.active == 4


def test_replacement_waits_out_the_pod_failure_backoff() -> None:
    """One failure at t=100: nothing is created at t=101, the sync comes back 9 s later."""
    failed = make_pod(1, "Failed", finished=100.0, exit_codes=(("c", 1),))
    result = sync_job(make_job(), [failed], set(), BackoffRecord(), now=101.0)
    assert result.create == ()
    assert result.requeue_after == pytest.approx(9.0)
    assert result.backoff == BackoffRecord(1, 100.0)
    assert result.status.failed == 1
    assert result.status.active == 0
    assert result.counted == (1,)
    later = sync_job(make_job(failed=1), [failed], {1}, result.backoff, now=110.0)
    assert later.create == (None,)


def test_backoff_limit_2_fails_the_job_at_the_third_failure() -> None:
    """failed (3) > backoffLimit (2): FailureTarget and Failed with upstream's reason and message."""
    pods = [make_pod(i, "Failed", finished=10.0 * i, exit_codes=(("c", 1),)) for i in (1, 2, 3)]
    job = make_job(backoff_limit=2, failed=2, start_time=0.0)
    result = sync_job(job, pods, {1, 2}, BackoffRecord(2, 20.0), now=31.0)
    assert result.status.failed == 3
    assert _types(result) == ["FailureTarget", "Failed"]
    assert (result.finished.reason, result.finished.message) == LIMIT
    assert result.create == ()


def test_a_failing_job_deletes_its_active_pods_and_fails_once_they_are_gone() -> None:
    """Active pods are deleted (and counted failed); Failed waits for terminating pods."""
    job = make_job(completions=3, parallelism=2, backoff_limit=0, start_time=0.0)
    pods = [make_pod(1, "Failed", finished=5.0, exit_codes=(("c", 1),)), make_pod(2, ready=True)]
    first = sync_job(job, pods, set(), BackoffRecord(), now=6.0)
    assert [p.meta.uid for p in first.delete] == [2]
    assert first.finishing
    assert first.finished is None
    assert _types(first) == ["FailureTarget"]
    assert (first.status.failed, first.status.active, first.status.terminating, first.status.ready) == (2, 0, 1, 0)
    job.failed, job.conditions = first.status.failed, first.status.conditions
    still = [pods[0], make_pod(2, deleted=6.0)]
    assert sync_job(job, still, {1, 2}, BackoffRecord(), now=7.0).finished is None
    gone = [pods[0], make_pod(2, "Failed", deleted=6.0, finished=6.5)]
    final = sync_job(job, gone, {1, 2}, BackoffRecord(), now=8.0)
    assert final.finished == JobCondition("Failed", *LIMIT, 8.0)
    assert final.status.failed == 2


def test_indexed_job_creates_the_lowest_pending_index_and_completes_when_all_succeeded() -> None:
    """Index 0 done, 1 running: index 2 is created; all three done: Complete, CompletionsReached."""
    job = make_job(completion_mode="Indexed", completions=3, parallelism=2)
    pods = [make_pod(1, "Succeeded", index=0), make_pod(2, index=1)]
    result = sync_job(job, pods, set(), BackoffRecord(), now=10.0)
    assert result.create == (2,)
    assert (result.status.completed_indexes, result.status.succeeded) == ("0", 1)
    job.completed_indexes, job.succeeded = "0", 1
    done = [pods[0], make_pod(2, "Succeeded", index=1), make_pod(3, "Succeeded", index=2)]
    final = sync_job(job, done, {1}, BackoffRecord(), now=20.0)
    assert (final.status.completed_indexes, final.status.succeeded) == ("0-2", 3)
    assert _types(final) == ["SuccessCriteriaMet", "Complete"]
    assert final.finished.reason == "CompletionsReached"
    assert final.status.completion_time == 20.0


def test_a_second_success_of_an_index_does_not_count() -> None:
    """One success per index: a duplicate Succeeded pod of index 0 adds nothing."""
    job = make_job(completion_mode="Indexed", completions=2, parallelism=2, completed_indexes="0", succeeded=1)
    result = sync_job(job, [make_pod(7, "Succeeded", index=0), make_pod(8, index=1)], set(), BackoffRecord(), 5.0)
    assert result.status.succeeded == 1
    assert result.create == ()


@pytest.mark.parametrize(("now", "failed", "requeue"), [(10.0, False, 10.0), (20.0, True, None)],
                         ids=["before-deadline", "past-deadline"])
def test_active_deadline(now: float, failed: bool, requeue: float | None) -> None:
    """activeDeadlineSeconds 20 from startTime 0: requeued for the deadline, then DeadlineExceeded."""
    job = make_job(active_deadline_seconds=20.0, start_time=0.0)
    result = sync_job(job, [make_pod(1)], set(), BackoffRecord(), now=now)
    assert result.requeue_after == requeue
    assert ("FailureTarget" in _types(result)) is failed
    if failed:
        assert result.status.conditions[0].reason == "DeadlineExceeded"
        assert result.status.conditions[0].message == "Job was active longer than specified deadline"
        assert len(result.delete) == 1


def test_pod_failure_policy_failjob_fails_at_once_and_ignore_does_not_count() -> None:
    """FailJob: reason PodFailurePolicy; Ignore: failed stays 0 (the backoff still counts it)."""
    rules = (PodFailurePolicyRule("FailJob", "In", (42,)), *IGNORE_1)
    job = make_job(backoff_limit=6, pod_failure_policy=rules, pod_replacement_policy="Failed")
    fatal = sync_job(job, [make_pod(1, "Failed", finished=1.0, exit_codes=(("c", 42),))], set(), BackoffRecord(), 2.0)
    assert fatal.status.conditions[0].reason == "PodFailurePolicy"
    assert fatal.finished is not None
    assert fatal.finished.type == "Failed"
    benign = sync_job(job, [make_pod(1, "Failed", finished=1.0, exit_codes=(("c", 1),))], set(), BackoffRecord(), 2.0)
    assert benign.status.failed == 0
    assert benign.status.conditions == ()
    assert benign.backoff == BackoffRecord(1, 1.0)


def test_only_failed_pods_are_replaced_with_a_pod_failure_policy() -> None:
    """podReplacementPolicy Failed: a terminating pod is neither failed nor replaced yet."""
    job = make_job(backoff_limit=0, pod_failure_policy=IGNORE_1, pod_replacement_policy="Failed")
    result = sync_job(job, [make_pod(1, deleted=3.0)], set(), BackoffRecord(), now=4.0)
    assert result.create == ()
    assert result.status.failed == 0
    assert result.status.terminating == 1
    assert result.counted == ()


def test_on_failure_restarts_count_against_the_backoff_limit() -> None:
    """restartPolicy OnFailure: 3 container restarts reach backoffLimit 3."""
    job = make_job(restart_policy="OnFailure", backoff_limit=3, start_time=0.0)
    assert sync_job(job, [make_pod(1, restarts=2)], set(), BackoffRecord(), 5.0).status.conditions == ()
    result = sync_job(job, [make_pod(1, restarts=3)], set(), BackoffRecord(), 5.0)
    assert result.status.conditions[0].reason == "BackoffLimitExceeded"


def test_nothing_is_created_while_expectations_are_pending() -> None:
    """Pods created by the last sync not yet observed: no second round of creations."""
    result = sync_job(make_job(completions=3, parallelism=3), [], set(), BackoffRecord(), 1.0,
                      expectations_satisfied=False)
    assert result.create == ()


def test_surplus_pods_are_deleted_unscheduled_and_not_ready_first() -> None:
    """Parallelism 1 with three active pods: the two least advanced are deleted."""
    pods = [make_pod(1, ready=True), make_pod(2, "Pending", node=""), make_pod(3, ready=False)]
    result = sync_job(make_job(completions=5, parallelism=1), pods, set(), BackoffRecord(), 1.0)
    assert [p.meta.uid for p in result.delete] == [2, 3]
    assert not result.finishing
    assert [p.meta.uid for p in active_pods_order(pods)] == [2, 3, 1]


def test_a_suspended_job_creates_nothing() -> None:
    """spec.suspend: no pods, no startTime, condition Suspended."""
    result = sync_job(make_job(suspend=True), [], set(), BackoffRecord(), 1.0)
    assert result.create == ()
    assert result.status.start_time is None
    assert _types(result) == ["Suspended"]


def test_a_finished_job_is_left_alone() -> None:
    """Complete or Failed: the sync does nothing."""
    job = make_job(conditions=(JobCondition("Complete", "CompletionsReached", "", 1.0),))
    result = sync_job(job, [make_pod(1)], set(), BackoffRecord(), 5.0)
    assert result.create == ()
    assert result.delete == ()


def test_per_index_backoff_fails_the_index_and_then_the_job() -> None:
    """backoffLimitPerIndex 0: index 1 fails at its first failure; with 0 and 2 done, FailedIndexes."""
    job = make_job(completion_mode="Indexed", completions=3, parallelism=3, backoff_limit_per_index=0,
                   backoff_limit=2**31 - 1, start_time=0.0)
    pods = [make_pod(1, "Succeeded", index=0), make_pod(2, "Failed", index=1, finished=3.0), make_pod(3, index=2)]
    running = sync_job(job, pods, set(), BackoffRecord(), 4.0)
    assert running.status.failed_indexes == "1"
    assert running.create == ()
    pods[2] = make_pod(3, "Succeeded", index=2)
    done = sync_job(job, pods, set(), BackoffRecord(), 5.0)
    assert done.status.conditions[0].reason == "FailedIndexes"
    assert done.finished is not None
