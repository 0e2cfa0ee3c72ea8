"""CronJob controller: models pkg/controller/cronjob/cronjob_controllerv2.go and utils.go
(kube-controller-manager 1.36), with schedules read as robfig/cron reads them (``sim.cron``).

Each CronJob key is synced when the CronJob or one of its Jobs changes, and otherwise
re-queued for its next activation plus 100 ms (``nextScheduleDelta``). A sync:

1. deletes the oldest finished Jobs beyond ``successfulJobsHistoryLimit`` (3) and
   ``failedJobsHistoryLimit`` (1), oldest start time first;
2. reconciles ``status.active`` with the Jobs (``SawCompletedJob``, ``MissingJob``) and
   advances ``lastSuccessfulTime``;
3. finds the most recent unmet activation since ``lastScheduleTime`` (or the creation
   time): nothing if none is due; ``MissSchedule`` if it is older than
   ``startingDeadlineSeconds``; under ``Forbid`` nothing while a Job runs
   (``JobAlreadyActive``); under ``Replace`` the running Jobs are deleted first;
4. creates ``<cronjob>-<activation in minutes since the Unix epoch>`` from the job template,
   annotated ``batch.kubernetes.io/cronjob-scheduled-timestamp``, owned by the CronJob;
5. writes the status once.

Missed activations are not made up one by one: only the most recent unmet one runs
(more than 100 missed adds ``TooManyMissedTimes``), as upstream. Clock: simulated time 0 is
the scenario's ``startTime`` (Unix time ``epoch``), kube-controller-manager's zone is UTC.

A key waiting to be re-queued is re-queued once, at the earliest time asked for, as
client-go's delaying queue does (``AddAfter`` of a waiting key only ever brings it forward).

Simplified: the controller reads the store where upstream reads its informer caches and
GETs (the store is what a fresh GET returns).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import CronJob, Job, ObjectMeta, OwnerReference
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.clock import call_later
from sim.controllers.workqueue import Controller, Key
from sim.cron import CronError, Schedule, load_location, parse_standard
from sim.distributions import Sampler
from sim.trace import Trace

__all__ = ["SCHEDULED_TIMESTAMP", "CronJobController", "job_name", "most_recent_schedule_time"]

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1  # nextScheduleDelta: re-queue 100 ms after the activation
TOO_MANY_MISSED = 100
KIND = "CronJob"


def job_name(cron_job: CronJob, scheduled_unix: float) -> str:
    """getJobName: the CronJob's name and the activation in whole minutes since the epoch."""
    return f"{cron_job.meta.name}-{int(scheduled_unix) // 60}"


def most_recent_schedule_time(schedule: Schedule, earliest: float, now: float,
                              deadline: float | None) -> tuple[float, float | None, int]:
    """mostRecentScheduleTime on Unix times: (earliest considered, the most recent activation
    due by ``now`` or None, how many were missed: 0, or the rough count upstream estimates).
    Raises CronError for a schedule with less than a second between activations (or none)."""
    if deadline is not None:
        earliest = max(earliest, now - deadline)
    t1 = schedule.next(earliest)
    t2 = schedule.next(t1) if t1 is not None else None
    if t1 is not None and now < t1:
        return earliest, None, 0
    if t1 is not None and t2 is not None and now < t2:
        return earliest, t1, 0
    between = round(t2 - t1) if t1 is not None and t2 is not None else 0
    if between < 1:
        raise CronError("time difference between two schedules is less than 1 second")
    assert t1 is not None
    missed = math.trunc(now - t1) // between + 1
    most_recent = None
    t = schedule.next(t1 + (missed - 2) * between)
    while t is not None and t <= now:
        most_recent = t
        t = schedule.next(t)
    return earliest, most_recent, missed


class CronJobController(Controller):
    """Creates each CronJob's Jobs at its schedule's activations."""

    name = "cronjob"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler, trace: Trace, epoch: float) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.trace = trace
        self.epoch = epoch
        self._schedules: dict[Key, tuple[str, str | None]] = {}  # what each CronJob was last seen with
        self._watching_jobs = False
        self._waiting: dict[Key, float] = {}  # key -> when it is due back in the queue
        self.informers.watch(KIND, self._on_cron_jobs)

    def add_after(self, key: Key, delay: float) -> None:
        """AddAfter with the delaying queue's dedup: a key waits once, for the earliest time."""
        if delay <= 0:
            self.queue.add(key)
            return
        due = self.env.now + delay
        if self._waiting.get(key, float("inf")) <= due:
            return
        self._waiting[key] = due
        call_later(self.env, delay, self._due, key, due)

    def _due(self, key: Key, due: float) -> None:
        if self._waiting.get(key) == due:
            del self._waiting[key]
            self.queue.add(key)

    def unix(self, t: float) -> float:
        """Simulated seconds -> Unix time."""
        return self.epoch + t

    # ------------------------------------------------------------------ informers
    def _on_cron_jobs(self, events: list[tuple[str, Any]]) -> None:
        if not self._watching_jobs:
            # The Job handler joins the shared informer with the first CronJob: a scenario
            # without CronJobs keeps it off every Job delivery.
            self._watching_jobs = True
            self.informers.watch("Job", self._on_jobs)
        for etype, cron_job in events:
            key = (cron_job.meta.namespace, cron_job.meta.name)
            seen = (cron_job.schedule, cron_job.time_zone)
            if etype == DELETED:
                self._schedules.pop(key, None)
                self.queue.add(key)
                continue
            before = self._schedules.get(key)
            self._schedules[key] = seen
            if etype == ADDED or before == seen:
                self.queue.add(key)
                continue
            # updateCronJob: a new schedule re-queues for its next activation
            try:
                schedule = parse_standard(_formatted(cron_job))
            except CronError as exc:
                self._event(cron_job, "warning", "UnParseableCronJobSchedule",
                            f"unparseable schedule for cronjob: {cron_job.schedule}: {exc}")
                continue
            self.add_after(key, self._requeue_after(cron_job, schedule, cron_job.last_schedule_time))

    def _on_jobs(self, events: list[tuple[str, Any]]) -> None:
        for _, job in events:
            owner = job.meta.owner
            if owner is None or owner.kind != KIND:
                continue
            cron_job = self.api.store.get(KIND, job.meta.namespace, owner.name)
            if cron_job is not None and cron_job.meta.uid == owner.uid:
                self.queue.add((job.meta.namespace, owner.name))

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        cron_job: CronJob | None = self.api.store.get(KIND, *key)
        if cron_job is None:
            return
        read_version = cron_job.meta.resource_version
        jobs = [j for j in self.api.store.list("Job") if j.meta.namespace == key[0]
                and j.meta.owner is not None and j.meta.owner.kind == KIND and j.meta.owner.name == key[1]]
        status = _Status(list(cron_job.active), cron_job.last_schedule_time, cron_job.last_successful_time)
        changed = yield from self._cleanup_finished(cron_job, jobs, status)
        requeue, synced, failed = yield from self._sync_cron_job(cron_job, jobs, status)
        if changed or synced:
            def write(obj: CronJob) -> None:
                obj.active = tuple(status.active)
                obj.last_schedule_time = status.last_schedule
                obj.last_successful_time = status.last_successful
            ok = yield self.call(self.api.update, cron_job, write, resource_version=read_version)
            if not ok:
                self.add_after(key, self.queue.rate_limiter.when(key, self.env.now))
                return
        if failed:
            self.add_after(key, self.queue.rate_limiter.when(key, self.env.now))
        elif requeue is not None:
            self.queue.forget(key)
            self.add_after(key, requeue)

    def _cleanup_finished(self, cron_job: CronJob, jobs: list[Job],
                          status: _Status) -> Generator[simpy.Event, Any, bool]:
        """cleanupFinishedJobs: the oldest finished Jobs beyond the history limits are deleted."""
        changed = False
        for wanted, limit in (("Complete", cron_job.successful_jobs_history_limit),
                              ("Failed", cron_job.failed_jobs_history_limit)):
            finished = [j for j in jobs if _finished_status(j) == wanted]
            extra = len(finished) - limit
            if extra <= 0:
                continue
            finished.sort(key=lambda j: (j.start_time is None, j.start_time or 0.0, j.meta.name))
            for job in finished[:extra]:
                changed |= yield from self._delete_job(cron_job, job, status)
        return changed

    def _delete_job(self, cron_job: CronJob, job: Job, status: _Status) -> Generator[simpy.Event, Any, bool]:
        ok = yield self.call(self.api.delete, job)
        if not ok:
            self._event(cron_job, "warning", "FailedDelete", f"Deleted job: jobs.batch {job.meta.name!r} not found")
            return False
        status.active = [ref for ref in status.active if ref[1] != job.meta.uid]
        self._event(cron_job, "jobDeleted", "SuccessfulDelete", f"Deleted job {job.meta.name}")
        return True

    def _sync_cron_job(self, cron_job: CronJob, jobs: list[Job],
                       status: _Status) -> Generator[simpy.Event, Any, tuple[float | None, bool, bool]]:
        """syncCronJob: (re-queue after, status changed, failed: re-queue rate-limited)."""
        now = self.unix(self.env.now)
        changed = False
        children = {j.meta.uid for j in jobs}
        for job in jobs:
            active = any(uid == job.meta.uid for _, uid in status.active)
            if not active and not job.finished:
                if any(uid == job.meta.uid for _, uid in cron_job.active):
                    continue
                self._event(cron_job, "warning", "UnexpectedJob",
                            f"Saw a job that the controller did not create or forgot: {job.meta.name}")
            elif job.finished:
                if active:
                    status.active = [ref for ref in status.active if ref[1] != job.meta.uid]
                    self._event(cron_job, "jobFinished", "SawCompletedJob",
                                f"Saw completed job: {job.meta.name}, condition: {_finished_status(job)}")
                    changed = True
                done = job.completion_time
                if _finished_status(job) == "Complete" and done is not None and (
                        status.last_successful is None or done > status.last_successful):
                    status.last_successful = done
                    changed = True
        for name, uid in list(status.active):
            if uid not in children and self.api.store.get("Job", cron_job.meta.namespace, name) is None:
                self._event(cron_job, "missingJob", "MissingJob", f"Active job went missing: {name}")
                status.active = [ref for ref in status.active if ref[1] != uid]
                changed = True
        if cron_job.time_zone is not None and load_location(cron_job.time_zone) is None:
            self._event(cron_job, "warning", "UnknownTimeZone", f"invalid timeZone: {cron_job.time_zone!r}")
            return None, changed, False
        if cron_job.suspend:
            return None, changed, False
        try:
            schedule = parse_standard(_formatted(cron_job))
        except CronError as exc:
            self._event(cron_job, "warning", "UnparseableSchedule",
                        f"unparseable schedule: {cron_job.schedule!r} : {exc}")
            return None, changed, False
        earliest = status.last_schedule if status.last_schedule is not None else cron_job.meta.creation_time
        try:
            _, scheduled, missed = most_recent_schedule_time(
                schedule, self.unix(earliest), now, cron_job.starting_deadline_seconds)
        except CronError as exc:
            self._event(cron_job, "warning", "InvalidSchedule", f"invalid schedule: {cron_job.schedule} : {exc}")
            return None, changed, False
        if scheduled is None:
            return self._requeue_after(cron_job, schedule, status.last_schedule), changed, False
        if missed > TOO_MANY_MISSED:
            self._event(cron_job, "warning", "TooManyMissedTimes", "too many missed start times. Set or decrease "
                        ".spec.startingDeadlineSeconds or check clock skew")
        requeue = self._requeue_after(cron_job, schedule, status.last_schedule)
        deadline = cron_job.starting_deadline_seconds
        if deadline is not None and scheduled + deadline < now:
            self._event(cron_job, "warning", "MissSchedule", "Missed scheduled time to start a job: "
                        + _rfc1123z(scheduled))
            return requeue, changed, False
        name = job_name(cron_job, scheduled)
        if any(n == name for n, _ in status.active) or status.last_schedule == scheduled - self.epoch:
            return requeue, changed, False
        if cron_job.concurrency_policy == "Forbid" and status.active:
            self._event(cron_job, "jobAlreadyActive", "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid")
            return requeue, changed, False
        if cron_job.concurrency_policy == "Replace":
            for running, _ in list(status.active):
                job = self.api.store.get("Job", cron_job.meta.namespace, running)
                if job is None:
                    self._event(cron_job, "warning", "FailedGet", f'Get job: jobs.batch "{running}" not found')
                    return None, changed, True
                if not (yield from self._delete_job(cron_job, job, status)):
                    return None, changed, True
                changed = True
        job = self._new_job(cron_job, scheduled, name)
        created = yield self.call(self.api.create, job)
        if not created:  # AlreadyExists
            existing = self.api.store.get("Job", cron_job.meta.namespace, name)
            if existing is None:
                self._event(cron_job, "warning", "FailedCreate", f"Error creating job: {name}")
                return None, changed, True
            owner = existing.meta.owner
            if owner is None or owner.uid != cron_job.meta.uid or any(u == existing.meta.uid
                                                                      for _, u in status.active):
                return None, changed, False
            job = existing
        else:
            self._event(cron_job, "jobCreated", "SuccessfulCreate", f"Created job {name}")
        status.active.append((name, job.meta.uid))
        status.last_schedule = scheduled - self.epoch
        return self._requeue_after(cron_job, schedule, status.last_schedule), True, False

    # ------------------------------------------------------------------ helpers
    def _requeue_after(self, cron_job: CronJob, schedule: Schedule, last_schedule: float | None) -> float:
        """nextScheduleTimeDuration: seconds until the next activation after the most recent
        one (or after ``now`` if activations were missed), plus 100 ms."""
        now = self.unix(self.env.now)
        earliest = self.unix(last_schedule if last_schedule is not None else cron_job.meta.creation_time)
        try:
            earliest, most_recent, missed = most_recent_schedule_time(schedule, earliest, now, None)
        except CronError:
            most_recent, missed = now, 0
        if most_recent is None:
            most_recent = earliest if missed == 0 else now
        following = schedule.next(most_recent)
        return 0.0 if following is None else following + NEXT_SCHEDULE_DELTA - now

    def _new_job(self, cron_job: CronJob, scheduled: float, name: str) -> Job:
        """getJobFromTemplate2: the template's labels and annotations, the scheduled time, the owner."""
        template = cron_job.job_template
        zone = load_location(cron_job.time_zone or "")
        when = datetime.fromtimestamp(scheduled, zone).isoformat().replace("+00:00", "Z")
        meta = ObjectMeta(name=name, namespace=cron_job.meta.namespace, labels=dict(template.meta.labels),
                          annotations={**template.meta.annotations, SCHEDULED_TIMESTAMP: when},
                          owner=OwnerReference(KIND, cron_job.meta.name, cron_job.meta.uid))
        return dataclasses.replace(template, meta=meta)

    def _event(self, cron_job: CronJob, event: str, reason: str, message: str) -> None:
        self.trace.record(self.env.now, KIND, cron_job.meta.namespace, cron_job.meta.name, event, "", reason, message)


@dataclasses.dataclass(slots=True)
class _Status:
    """The status a sync builds up and writes once: the active Jobs (name, uid) and the last
    activation and success, in simulated seconds."""

    active: list[tuple[str, int]]
    last_schedule: float | None
    last_successful: float | None


def _finished_status(job: Job) -> str | None:
    """getFinishedStatus: the first Complete or Failed condition that is True."""
    return next((c.type for c in job.conditions if c.type in ("Complete", "Failed") and c.status == "True"), None)


def _formatted(cron_job: CronJob) -> str:
    """formatSchedule: ``TZ=<timeZone> <schedule>`` when the CronJob names a zone."""
    if cron_job.time_zone is not None and "TZ" not in cron_job.schedule:
        return f"TZ={cron_job.time_zone} {cron_job.schedule}"
    return cron_job.schedule


def _rfc1123z(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
