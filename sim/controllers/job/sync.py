"""One Job sync as a pure function: models pkg/controller/job/job_controller.go (``syncJob``,
``manageJob``, ``trackJobStatusAndRemoveFinalizers``), Kubernetes 1.36.

Given the Job, the pods it owns (as the informer sees them), which of them are already
counted in its status, and the pod-failure backoff record, ``sync_job`` returns the new
status and what to do: pods to create (with their completion indexes), pods to delete, and
when to sync again. The order of decisions is upstream's:

1. Count newly finished pods (a podFailurePolicy ``Ignore`` match does not count as failed).
2. A finish reason? ``SuccessCriteriaMet`` already set; a ``FailJob`` rule match
   (``PodFailurePolicy``); more failures than ``backoffLimit`` (``BackoffLimitExceeded``);
   running longer than ``activeDeadlineSeconds`` (``DeadlineExceeded``); for Indexed Jobs
   with ``backoffLimitPerIndex``, failed indexes.
3. Finishing: delete every active pod. Otherwise ``manageJob``: delete surplus pods, or
   create up to ``min(parallelism, completions - succeeded)`` active pods unless the
   pod-failure backoff still runs; complete once enough pods succeeded and none is active.
4. The terminal condition comes in two steps, as since Kubernetes 1.31: ``FailureTarget``
   (or ``SuccessCriteriaMet``) at once, ``Failed`` (or ``Complete``) once no pod is
   terminating any more.

Worked example: backoffLimit 2, parallelism 1, every pod fails. Pods fail at t0, t1, t2; the
controller re-creates after 10 s, then 20 s; the third failure makes failed (3) exceed the
limit (2): FailureTarget and Failed with reason BackoffLimitExceeded and message "Job has
reached the specified backoff limit".

Simplified: the tracking finalizer and ``status.uncountedTerminatedPods`` are replaced by
the controller's memory of which pods it has counted (``counted``), and counting is not cut
at 500 pods per sync (MaxUncountedPods); ``successPolicy`` and ``managedBy`` are not modelled.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sim.api.objects import FAILED, PENDING, RUNNING, SUCCEEDED, Job, JobCondition, Pod
from sim.controllers.job.backoff import BackoffRecord, finished_time, new_backoff_record, remaining_time
from sim.controllers.job.indexed import (
    absolute_failure_count,
    first_pending_indexes,
    format_indexes,
    is_index_failed,
    parse_indexes,
    split_duplicated_indexes,
    valid_index,
)
from sim.controllers.job.pod_failure_policy import match_pod_failure_policy

__all__ = [
    "MAX_POD_CREATE_DELETE_PER_SYNC",
    "SYNC_JOB_BATCH_PERIOD",
    "JobStatus",
    "JobSyncResult",
    "active_pods_order",
    "apply_status",
    "is_pod_failed",
    "job_status",
    "sync_job",
]

SYNC_JOB_BATCH_PERIOD = 1.0  # syncJobBatchPeriod: pod events for a Job are coalesced for 1 s
MAX_POD_CREATE_DELETE_PER_SYNC = 500  # MaxPodCreateDeletePerSync
BACKOFF_LIMIT_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
_PHASE_RANK = {PENDING: 0, "Unknown": 1, RUNNING: 2}


@dataclass(frozen=True, slots=True)
class JobStatus:
    """The status part of a Job, compared to decide whether to write it."""

    start_time: float | None = None
    completion_time: float | None = None
    active: int = 0
    ready: int = 0
    terminating: int = 0
    succeeded: int = 0
    failed: int = 0
    completed_indexes: str = ""
    failed_indexes: str | None = None
    conditions: tuple[JobCondition, ...] = ()


_STATUS_FIELDS = tuple(f.name for f in fields(JobStatus))


def job_status(job: Job) -> JobStatus:
    """The Job's current status."""
    return JobStatus(**{name: getattr(job, name) for name in _STATUS_FIELDS})


def apply_status(job: Job, status: JobStatus) -> None:
    """Write ``status`` into the stored Job (at commit of the status update)."""
    for name in _STATUS_FIELDS:
        setattr(job, name, getattr(status, name))


@dataclass(frozen=True, slots=True)
class JobSyncResult:
    """What one sync decided."""

    status: JobStatus
    create: tuple[int | None, ...] = ()  # one entry per pod: its completion index (None: NonIndexed)
    delete: tuple[Pod, ...] = ()
    counted: tuple[int, ...] = ()  # uids of pods folded into the status by this sync
    replaced: Mapping[int, Pod] = field(default_factory=dict)  # index -> failed pod a new pod replaces
    backoff: BackoffRecord = BackoffRecord()
    requeue_after: float | None = None
    finishing: bool = False  # deletions are of a finishing Job's active pods (no expectations)
    finished: JobCondition | None = None  # the Complete or Failed condition added by this sync


def is_pod_failed(pod: Pod, job: Job) -> bool:
    """Failed phase, or (unless only failed pods are replaced) deleted before succeeding."""
    if pod.phase == FAILED:
        return True
    if job.pod_replacement_policy == "Failed":
        return False
    return pod.terminating and pod.phase != SUCCEEDED


def _terminating(pod: Pod) -> bool:
    return pod.terminating and pod.phase not in (SUCCEEDED, FAILED)


def active_pods_order(pods: Sequence[Pod]) -> list[Pod]:
    """Pods in deletion preference (``controller.ActivePods``): unscheduled, pending, not ready,
    ready most recently, most restarts, newest first."""
    def key(p: Pod) -> tuple[Any, ...]:
        ready_at = p.ready_time if p.ready and p.ready_time is not None else 0.0
        return (bool(p.node_name), _PHASE_RANK.get(p.phase, 3), p.ready, -ready_at, -p.restart_count,
                -p.meta.creation_time)
    return sorted(pods, key=key)


def _past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
    """restartPolicy OnFailure: container restarts of live pods count against backoffLimit."""
    if job.template.spec.restart_policy != "OnFailure":
        return False
    restarts = sum(p.restart_count for p in pods if p.phase in (PENDING, RUNNING))
    return restarts > 0 if job.backoff_limit == 0 else restarts >= job.backoff_limit


def _fail_job_message(job: Job, pods: Sequence[Pod]) -> str | None:
    if job.pod_failure_policy is None:
        return None
    for pod in pods:
        if is_pod_failed(pod, job):
            message = match_pod_failure_policy(job.pod_failure_policy, pod).fail_job_message
            if message is not None:
                return message
    return None


def _delayed_deletion(job: Job, fresh: Sequence[Pod], done: set[int], active_ix: set[int]) -> dict[int, Pod]:
    """Per index, the last failed pod kept until its replacement carries its failure count."""
    out: dict[int, Pod] = {}
    for pod in fresh:
        ix = valid_index(pod, job.completions or 0)
        if ix is None or ix in done or ix in active_ix or not is_pod_failed(pod, job):
            continue
        last = out.get(ix)
        if last is None or (absolute_failure_count(last) <= absolute_failure_count(pod)
                            and finished_time(pod) >= finished_time(last)):
            out[ix] = pod
    return out


@dataclass(slots=True)
class _Sync:
    """Working state of one sync (``syncJobCtx``)."""

    job: Job
    pods: Sequence[Pod]
    fresh: list[Pod]
    now: float
    active: list[Pod]
    terminating: int
    ready: int
    succeeded: int
    succeeded_ix: set[int]
    failed_ix: set[int] | None
    delayed: dict[int, Pod]


def _manage_job(s: _Sync, backoff: BackoffRecord) -> tuple[int, list[Pod], list[int | None], float | None]:
    """(active, pods to delete, indexes to create, requeue) as ``manageJob`` decides them."""
    job, active = s.job, s.active
    n = len(active)
    if job.suspend:
        return 0, list(active), [], None
    if job.completions is None:
        want = n if s.succeeded > 0 else job.parallelism
    else:
        want = min(max(job.completions - s.succeeded, 0), job.parallelism)
    surplus = _pods_for_removal(s, max(n - want, 0))[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if surplus:  # a sync deletes or creates, never both; deletion wins
        return n - len(surplus), surplus, [], None
    replace_failed_only = job.pod_replacement_policy == "Failed"
    diff = want - (s.terminating if replace_failed_only else 0) - n
    if diff <= 0:
        return n, [], [], None
    per_index = job.backoff_limit_per_index is not None
    if not per_index:
        wait = remaining_time(backoff.failures_after_last_success, backoff.last_failure_time, s.now)
        if wait > 0:  # upstream reports active 0 while it waits out the backoff
            return 0, [], [], max(wait, SYNC_JOB_BATCH_PERIOD)
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    if job.completion_mode != "Indexed":
        return n + diff, [], [None] * diff, None
    completions = job.completions or 0
    busy = s.succeeded_ix | {ix for p in active if (ix := valid_index(p, completions)) is not None}
    if replace_failed_only:
        busy |= {ix for p in s.pods if _terminating(p) and (ix := valid_index(p, completions)) is not None}
    indexes: list[int | None] = list(first_pending_indexes(diff, completions, busy | (s.failed_ix or set())))
    if per_index:
        now_ready, soonest = [], None
        for ix in indexes:
            replaced = s.delayed.get(ix)  # type: ignore[arg-type]
            left = 0.0 if replaced is None else remaining_time(
                absolute_failure_count(replaced) + 1, finished_time(replaced), s.now)
            if left == 0:
                now_ready.append(ix)
            elif soonest is None or left < soonest:
                soonest = left
        if not now_ready and soonest is not None:
            return 0, [], [], max(soonest, SYNC_JOB_BATCH_PERIOD)
        indexes = now_ready
    return n + len(indexes), [], indexes, None


def _pods_for_removal(s: _Sync, at_least: int) -> list[Pod]:
    """Duplicate or out-of-range indexes first (Indexed), then by deletion preference."""
    order = active_pods_order(s.active)
    if s.job.completion_mode == "Indexed":
        remove, left = split_duplicated_indexes(s.active, s.job.completions or 0, order)
    else:
        remove, left = [], s.active
    if len(remove) < at_least:
        remove += active_pods_order(left)[: at_least - len(remove)]
    return remove


def _finish_reason(s: _Sync, failed: int, start: float | None) -> tuple[tuple[str, str, str] | None, float | None]:
    """(condition type, reason, message) the Job finishes with, and when to check the deadline."""
    job = s.job
    met = job.condition("SuccessCriteriaMet")
    if met is not None:
        return (met.type, met.reason, met.message), None
    target = job.condition("FailureTarget")
    if target is not None:
        return ("Failed", target.reason, target.message), None
    message = _fail_job_message(job, s.pods)
    if message is not None:
        return ("FailureTarget", "PodFailurePolicy", message), None
    if failed > job.backoff_limit or _past_backoff_limit_on_failure(job, s.pods):
        return ("FailureTarget", "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE), None
    deadline = job.active_deadline_seconds
    if deadline is None or start is None or job.suspend:
        return None, None
    if s.now - start >= deadline:
        return ("FailureTarget", "DeadlineExceeded", DEADLINE_MESSAGE), None
    return None, deadline - (s.now - start)


def _index_failure_reason(s: _Sync) -> tuple[str, str, str] | None:
    job, failed_ix = s.job, s.failed_ix or set()
    if job.max_failed_indexes is not None and len(failed_ix) > job.max_failed_indexes:
        return ("FailureTarget", "MaxFailedIndexesExceeded",
                "Job has exceeded the specified maximal number of failed indexes")
    if failed_ix and len(failed_ix) + len(s.succeeded_ix) >= (job.completions or 0):
        return ("FailureTarget", "FailedIndexes", "Job has failed indexes")
    return None


def _count_finished(s: _Sync, finishing: tuple[str, str, str] | None) -> tuple[list[int], int, int]:
    """(uids counted now, succeeded added, failed added): ``trackJobStatusAndRemoveFinalizers``."""
    job, indexed = s.job, s.job.completion_mode == "Indexed"
    completions = job.completions or 0
    failing = finishing is not None and finishing[0] != "SuccessCriteriaMet"
    counted, succeeded, failed = [], 0, 0
    pods = sorted(s.fresh, key=lambda p: valid_index(p, completions) or 0) if indexed else s.fresh
    delayed_uids = {p.meta.uid for p in s.delayed.values()}
    for pod in pods:
        pod_failed = is_pod_failed(pod, job)
        removable = (job.meta.deletion_time is not None or finishing is not None or pod.phase == SUCCEEDED
                     or (pod_failed and pod.meta.uid not in delayed_uids))
        if not removable:
            continue
        counted.append(pod.meta.uid)
        ix = valid_index(pod, completions)
        if pod.phase == SUCCEEDED:
            succeeded += 0 if indexed else 1
        elif (pod_failed or failing) and (not indexed or ix is not None):
            failed += match_pod_failure_policy(job.pod_failure_policy, pod).count_failed
    return counted, succeeded, failed


def _observe(job: Job, pods: Sequence[Pod], counted: Collection[int], now: float) -> tuple[_Sync, list[Pod], list[Pod]]:
    """Step 1: active, terminating and ready pods, and the newly succeeded and failed ones."""
    indexed, completions = job.completion_mode == "Indexed", job.completions or 0
    fresh = [p for p in pods if p.meta.uid not in counted]
    valid = [p for p in fresh if not indexed or valid_index(p, completions) is not None]
    new_succeeded = [p for p in valid if p.phase == SUCCEEDED]
    new_failed = [p for p in valid if is_pod_failed(p, job)]
    active = [p for p in pods if p.active]
    succeeded_ix = parse_indexes(job.completed_indexes, completions) | {
        valid_index(p, completions) or 0 for p in new_succeeded} if indexed else set()
    succeeded = len(succeeded_ix) if indexed else job.succeeded + len(new_succeeded)
    s = _Sync(job, pods, fresh, now, active, sum(_terminating(p) for p in pods), sum(p.ready for p in active),
              succeeded, succeeded_ix, None, {})
    if indexed and job.backoff_limit_per_index is not None:
        s.failed_ix = parse_indexes(job.failed_indexes, completions) | {
            valid_index(p, completions) or 0 for p in valid if is_index_failed(job, p, is_pod_failed(p, job))}
        active_ix = {ix for p in active if (ix := valid_index(p, completions)) is not None}
        s.delayed = _delayed_deletion(job, valid, s.succeeded_ix | s.failed_ix, active_ix)
    return s, new_succeeded, new_failed


def _terminal_conditions(job: Job, finishing: tuple[str, str, str], conditions: list[JobCondition],
                         terminating: int, now: float) -> JobCondition | None:
    """Step 4: FailureTarget (or SuccessCriteriaMet) now; Failed (or Complete), returned, once
    no pod is terminating any more."""
    ctype, reason, message = finishing
    if ctype == "FailureTarget" or (ctype == "SuccessCriteriaMet" and job.condition(ctype) is None):
        conditions.append(JobCondition(ctype, reason, message, now))
    if terminating > 0:
        return None
    finished = JobCondition("Complete" if ctype == "SuccessCriteriaMet" else "Failed", reason, message, now)
    conditions.append(finished)
    return finished


def sync_job(job: Job, pods: Sequence[Pod], counted: Collection[int], backoff: BackoffRecord, now: float,
             expectations_satisfied: bool = True) -> JobSyncResult:
    """Reconcile one Job (see the module docstring for the order of decisions)."""
    old = job_status(job)
    if job.finished:
        return JobSyncResult(old)
    s, new_succeeded, new_failed = _observe(job, pods, counted, now)
    failed = old.failed + sum(match_pod_failure_policy(job.pod_failure_policy, p).count_failed for p in new_failed)
    start = old.start_time if old.start_time is not None or job.suspend else now
    record = new_backoff_record(backoff, new_succeeded, new_failed)
    finishing, requeue = _finish_reason(s, failed, start)
    if finishing is None and s.failed_ix is not None:
        finishing = _index_failure_reason(s)
    deletes: list[Pod] = []
    creates: list[int | None] = []
    n_active = len(s.active)
    conditions = list(old.conditions)
    finishing_deletes = finishing is not None
    if finishing is not None:  # step 3: a finishing Job's active pods go
        deletes, n_active = list(s.active), 0
        if not expectations_satisfied:  # pods not yet in the informer may still need deleting
            finishing = None
    else:
        managed = expectations_satisfied and job.meta.deletion_time is None
        if managed:
            n_active, deletes, creates, wait = _manage_job(s, record)
            requeue = wait if requeue is None or (wait is not None and wait < requeue) else requeue
        done = s.succeeded > 0 if job.completions is None else s.succeeded >= job.completions
        if done and n_active == 0:
            finishing = ("SuccessCriteriaMet", *COMPLETIONS_REACHED)
        elif managed and job.suspend and job.condition("Suspended") is None:
            conditions.append(JobCondition("Suspended", "JobSuspended", "Job suspended", now))
    terminating = s.terminating + len(deletes)
    newly_counted, succ_add, fail_add = _count_finished(s, finishing)
    finished = None if finishing is None else _terminal_conditions(job, finishing, conditions, terminating, now)
    indexed = job.completion_mode == "Indexed"
    status = JobStatus(
        start_time=start,
        completion_time=now if finished is not None and finished.type == "Complete" else old.completion_time,
        active=n_active, ready=s.ready - sum(p.ready for p in deletes), terminating=terminating,
        succeeded=len(s.succeeded_ix) if indexed else old.succeeded + succ_add,
        failed=old.failed + fail_add,
        completed_indexes=format_indexes(s.succeeded_ix) if indexed else old.completed_indexes,
        failed_indexes=None if s.failed_ix is None else format_indexes(s.failed_ix),
        conditions=tuple(conditions),
    )
    return JobSyncResult(
        status=status, create=tuple(creates), delete=tuple(deletes), counted=tuple(newly_counted),
        replaced={ix: s.delayed[ix] for ix in creates if ix is not None and ix in s.delayed},
        backoff=record if status != old else backoff, requeue_after=requeue,
        finishing=finishing_deletes, finished=finished,
    )
