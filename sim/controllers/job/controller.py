"""Job controller loop: models pkg/controller/job/job_controller.go (informer handlers, the
worker, pod creation and deletion), Kubernetes 1.36.

Handlers only index pods by their owning Job and enqueue keys: a Job's own creation at
once, pod events and status changes batched by 1 s (``syncJobBatchPeriod``). ``sync`` hands
the Job and its pods to the pure ``sync_job`` and carries out its decision through the API
server: deletions, creations in slow-start batches (1, 2, 4, ...), then one status write.

Pods are named ``<job>-<suffix>`` (Indexed: ``<job>-<index>-<suffix>``) and labelled as the
API server labels a Job's template: ``batch.kubernetes.io/job-name``, ``job-name``,
``batch.kubernetes.io/controller-uid`` and ``controller-uid`` (here added at pod creation).
A pod deleted before the controller counted it stays in the controller's index, as the
``batch.kubernetes.io/job-tracking`` finalizer keeps it in the API upstream, until counted.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.api.batch import JOB_NAME_LABEL
from sim.api.client import Client
from sim.api.names import NameSuffixes
from sim.api.objects import FAILED, SUCCEEDED, Job, JobCondition, ObjectMeta, OwnerReference, Pod
from sim.apiserver import ADDED, DELETED, ApiServer
from sim.controllers.job.backoff import BackoffRecord
from sim.controllers.job.indexed import (
    COMPLETION_INDEX,
    INDEX_FAILURE_COUNT,
    INDEX_IGNORED_FAILURE_COUNT,
    index_failure_counts,
    pod_generate_name,
)
from sim.controllers.job.sync import SYNC_JOB_BATCH_PERIOD, JobSyncResult, apply_status, job_status, sync_job
from sim.controllers.replicaset import slow_start_batches
from sim.controllers.workqueue import Controller, Expectations, Key
from sim.distributions import Sampler

__all__ = ["JOB_NAME_LABEL", "JobController", "job_labels", "job_pod"]

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
_EVENTS = {"Failed": "failed", "Complete": "completed", "FailureTarget": "failureTarget", "Suspended": "suspended"}


def job_labels(job: Job) -> dict[str, str]:
    """The labels the API server adds to a Job's pod template (``generateSelector``)."""
    uid = str(job.meta.uid)
    return {CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: job.meta.name, "controller-uid": uid,
            "job-name": job.meta.name}


def job_pod(job: Job, index: int | None, suffix: str, replaced: Pod | None = None) -> Pod:
    """A new pod of ``job`` from its template (with its completion index, for Indexed Jobs)."""
    template = job.template
    labels = {**dict(template.labels), **job_labels(job)}
    annotations = dict(template.annotations)
    if index is not None:
        annotations[COMPLETION_INDEX] = labels[COMPLETION_INDEX] = str(index)
        if job.backoff_limit_per_index is not None:
            counted, ignored = index_failure_counts(job, replaced)
            annotations[INDEX_FAILURE_COUNT] = str(counted)
            if ignored:
                annotations[INDEX_IGNORED_FAILURE_COUNT] = str(ignored)
    meta = ObjectMeta(name=pod_generate_name(job.meta.name, index) + suffix, namespace=job.meta.namespace,
                      labels=labels, annotations=annotations,
                      owner=OwnerReference("Job", job.meta.name, job.meta.uid))
    return Pod(meta=meta, spec=template.spec, node_name=template.spec.node_name)


def _tombstone(pod: Pod, now: float) -> Pod:
    """The last state of a pod deleted before it was counted, as the finalizer would hold it:
    deleted, and Failed if it had not finished (as PodGC marks pods it removes)."""
    meta = dataclasses.replace(pod.meta, deletion_time=now if pod.meta.deletion_time is None
                               else pod.meta.deletion_time)
    if pod.phase in (SUCCEEDED, FAILED):
        return dataclasses.replace(pod, meta=meta)
    conditions = pod.conditions if pod.node_name else {**pod.conditions, "DisruptionTarget": "True"}
    return dataclasses.replace(pod, meta=meta, phase=FAILED, ready=False, conditions=conditions)


class JobController(Controller):
    """Runs each Job's pods to completion (or failure)."""

    name = "job"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler, rng: np.random.Generator) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.name_suffix = NameSuffixes(rng)  # generateName suffixes: the stream serves nothing else
        self.expectations = Expectations(env)
        self._pods: dict[int, dict[int, Pod]] = defaultdict(dict)  # job uid -> pod uid -> pod
        self._counted: dict[int, set[int]] = defaultdict(set)
        self._backoff: dict[Key, BackoffRecord] = {}
        self._seen_deleting: set[int] = set()
        self._watching_pods = False
        self.informers.watch("Job", self._on_jobs)

    # ------------------------------------------------------------------ informers
    def _on_jobs(self, events: list[tuple[str, Any]]) -> None:
        if not self._watching_pods:
            # The pod handler joins the shared informer with the first Job: no pod can belong
            # to a Job before, and a scenario without Jobs keeps it off every pod delivery.
            self._watching_pods = True
            self.informers.watch("Pod", self._on_pods)
        for etype, job in events:
            key = (job.meta.namespace, job.meta.name)
            if etype == DELETED:
                self.expectations.forget(key)
                self._backoff.pop(key, None)
                self._pods.pop(job.meta.uid, None)
                self._counted.pop(job.meta.uid, None)
            if etype in (ADDED, DELETED):
                self.queue.add(key)
            else:  # a status write: batched like pod events
                self.queue.add_after(key, SYNC_JOB_BATCH_PERIOD)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            owner = pod.meta.owner
            if owner is None or owner.kind != "Job" or self.api.store.by_uid(owner.uid) is None:
                if etype == DELETED:
                    self._seen_deleting.discard(pod.meta.uid)
                continue  # not a Job's pod, or its Job is gone (the garbage collector's business)
            key, uid = (pod.meta.namespace, owner.name), pod.meta.uid
            index = self._pods[owner.uid]
            if etype == ADDED:
                self.expectations.observed(key, add=1)
            if (etype == DELETED or pod.terminating) and uid not in self._seen_deleting:
                self._seen_deleting.add(uid)
                self.expectations.observed(key, delete=1)
            if etype != DELETED:
                index[uid] = pod
            elif uid in self._counted[owner.uid]:
                index.pop(uid, None)
                self._counted[owner.uid].discard(uid)
                self._seen_deleting.discard(uid)
            else:
                index[uid] = _tombstone(pod, self.env.now)
            self.queue.add_after(key, SYNC_JOB_BATCH_PERIOD)

    # ------------------------------------------------------------------ sync
    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        job: Job | None = self.api.store.get("Job", *key)
        if job is None:
            self.expectations.forget(key)
            self._backoff.pop(key, None)
            return
        if job.finished:
            self._backoff.pop(key, None)
            return
        uid = job.meta.uid
        result = sync_job(job, list(self._pods[uid].values()), self._counted[uid],
                          self._backoff.get(key, BackoffRecord()), self.env.now, self.expectations.satisfied(key))
        self._forget_counted(uid, result.counted)
        self._backoff[key] = result.backoff
        if result.requeue_after is not None:
            self.queue.add_after(key, result.requeue_after)
        if result.delete:
            yield from self._delete_pods(key, result)
        failed_creates = 0
        if result.create:
            failed_creates = yield from self._create_pods(key, job, result)
        status = result.status
        if failed_creates:
            status = dataclasses.replace(status, active=status.active - failed_creates)
        if status != job_status(job):
            yield self.call(self.api.update, job, lambda j: apply_status(j, status),
                            record=self._records(job, status.conditions))

    def _forget_counted(self, job_uid: int, uids: tuple[int, ...]) -> None:
        """Counted pods are done with; those already deleted leave the index (finalizer removed)."""
        counted, index = self._counted[job_uid], self._pods[job_uid]
        for uid in uids:
            if self.api.store.by_uid(uid) is None:
                index.pop(uid, None)
                self._seen_deleting.discard(uid)
            else:
                counted.add(uid)

    def _delete_pods(self, key: Key, result: JobSyncResult) -> Generator[simpy.Event, Any, None]:
        if not result.finishing:
            self.expectations.expect(key, delete=len(result.delete))
        done = yield self.call_all(self.api.delete, result.delete)
        failed = done.count(False)
        if failed and not result.finishing:
            self.expectations.observed(key, delete=failed)

    def _create_pods(self, key: Key, job: Job, result: JobSyncResult) -> Generator[simpy.Event, Any, int]:
        """Create in slow-start batches; stop at the first failed batch. Returns pods not created."""
        indexes = list(result.create)
        self.expectations.expect(key, add=len(indexes))
        issued = 0
        for size in slow_start_batches(len(indexes)):
            batch = indexes[issued:issued + size]
            pods = (job_pod(job, ix, self._suffix(), result.replaced.get(ix) if ix is not None else None)
                    for ix in batch)
            done = yield self.call_all(self.api.create, pods)
            issued += size
            failed = done.count(False)
            if failed:
                skipped = failed + len(indexes) - issued
                self.expectations.observed(key, add=skipped)
                return skipped
        return 0

    def _suffix(self) -> str:
        return self.name_suffix()

    @staticmethod
    def _records(job: Job, conditions: tuple[JobCondition, ...]) -> list[tuple[str, str, str]]:
        """Trace records for conditions this write adds (upstream's Events: Completed, reason)."""
        new = [c for c in conditions if job.condition(c.type) is None and c.type in _EVENTS]
        if any(c.type == "Failed" for c in new):
            new = [c for c in new if c.type != "FailureTarget"]
        return [(_EVENTS[c.type], "Completed", "Job completed") if c.type == "Complete"
                else (_EVENTS[c.type], c.reason, c.message) for c in new]
