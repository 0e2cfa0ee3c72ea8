"""TTL-after-finished controller: models pkg/controller/ttlafterfinished/ttlafterfinished_controller.go.

A finished Job (condition Complete or Failed) with ``ttlSecondsAfterFinished`` is deleted
that many seconds after the condition's ``lastTransitionTime``; the garbage collector then
deletes its pods. Worked example: a Job that completes at t=95 s with a TTL of 60 s is
deleted at t=155 s; a sync at t=120 s requeues the Job for 35 s later.

Simplified: upstream deletes with foreground propagation (pods first, then the Job); the
garbage collector here propagates in the background (the Job first, then its pods).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.api.client import Client
from sim.api.objects import Job
from sim.apiserver import DELETED, ApiServer
from sim.controllers.workqueue import Controller, Key
from sim.distributions import Sampler

__all__ = ["TTLAfterFinishedController", "finish_time", "time_left"]


def finish_time(job: Job) -> float | None:
    """When the Job finished: the transition time of its Complete or Failed condition."""
    for condition in job.conditions:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            return condition.last_transition_time
    return None


def time_left(job: Job, now: float) -> float | None:
    """Seconds until the Job's TTL expires (<= 0: expired); None if it needs no cleanup."""
    finished = finish_time(job)
    if job.ttl_seconds_after_finished is None or finished is None:
        return None
    return finished + job.ttl_seconds_after_finished - now


class TTLAfterFinishedController(Controller):
    """Deletes finished Jobs whose TTL has expired."""

    name = "ttl-after-finished"

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client, workers: int,
                 sync_latency: Sampler) -> None:
        super().__init__(env, api, client, workers, sync_latency)
        self.informers.watch("Job", self._on_jobs)

    def _on_jobs(self, events: list[tuple[str, Any]]) -> None:
        for etype, job in events:
            if etype != DELETED and job.meta.deletion_time is None and time_left(job, self.env.now) is not None:
                self.queue.add((job.meta.namespace, job.meta.name))

    def sync(self, key: Key) -> Generator[simpy.Event, Any, None]:
        job: Job | None = self.api.store.get("Job", *key)
        if job is None or job.meta.deletion_time is not None:
            return
        left = time_left(job, self.env.now)
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left)
            return
        yield self.call(self.api.delete, job)
