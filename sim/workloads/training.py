"""Training rendezvous: models pytorch/pytorch torch/distributed/distributed_c10d.py
(``_store_based_barrier``, the barrier at the end of ``init_process_group``).

Every worker of a distributed training job checks in with the job's key-value store and
blocks until ``worldSize`` workers have checked in; none trains before that. In kubesim a
worker checks in when its kubelet reports the pod Running. A job that got only some of its
GPUs therefore holds them without doing any work, for ever: two such jobs on a cluster with
room for one is the partial-allocation deadlock that gang scheduling (Coscheduling) cures.

When the last worker checks in, every worker's ``runDuration`` clock starts at that instant,
with one duration drawn for the whole job (data-parallel workers train in lockstep and
finish together); then the pods end Succeeded (restartPolicy Never or OnFailure) and free
their nodes. Workers are one job when they share a namespace and the value of the label
named by ``rendezvous.groupLabel`` (``batch.kubernetes.io/job-name`` by default, the label
the Job controller puts on its pods).

One ``Rendezvous`` is shared by all kubelets, since a job's workers run on many nodes; it
works by callbacks, with no SimPy process per pod. Not modelled: the barrier's timeout
(30 minutes by default in torch, after which the workers crash), elastic membership, and a
worker dying after training began (the others carry on here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.api.batch import JOB_NAME_LABEL
from sim.api.objects import Deployment, Job, Pod, ReplicaSet
from sim.distributions import Dist, Sampler
from sim.trace import Trace

__all__ = ["Rendezvous", "StartWork", "rendezvous_label_problem"]

StartWork = Callable[[Pod, float | None], None]
"""Called for each worker when its job starts training: (pod, seconds of work or None)."""


@dataclass(slots=True)
class _Job:
    """Workers of one job that have checked in and are blocked at the barrier."""

    world_size: int
    workers: dict[int, tuple[Pod, StartWork]] = field(default_factory=dict)


class Rendezvous:
    """The cluster-wide registry of training jobs waiting at their barrier."""

    def __init__(self, env: simpy.Environment, trace: Trace, rng: np.random.Generator) -> None:
        self.env = env
        self.trace = trace
        self.rng = rng
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._samplers: dict[int, Sampler] = {}
        self.started_jobs = 0

    @staticmethod
    def job_of(pod: Pod) -> tuple[str, str]:
        """(namespace, job name) of a worker; the job name is "" if the label is missing."""
        spec = pod.spec.behavior.rendezvous
        label = spec.group_label if spec is not None else ""
        return pod.meta.namespace, pod.meta.labels.get(label, "")

    def waiting(self, namespace: str, job: str) -> int:
        """How many workers of a job are blocked at the barrier now."""
        entry = self._jobs.get((namespace, job))
        return len(entry.workers) if entry is not None else 0

    def join(self, pod: Pod, start: StartWork) -> None:
        """A worker checks in; ``start`` runs for every worker once the job is complete."""
        spec = pod.spec.behavior.rendezvous
        assert spec is not None, "only workers with a rendezvous check in"
        key = self.job_of(pod)
        job = self._jobs.setdefault(key, _Job(spec.world_size))
        job.workers[pod.meta.uid] = (pod, start)
        joined = len(job.workers)
        if joined < job.world_size:
            self._record(pod, "rendezvous", "Waiting",
                         f"{joined}/{job.world_size} workers of job {key[1]} at rendezvous")
            return
        del self._jobs[key]
        self._start(key[1], job)

    def leave(self, pod: Pod) -> None:
        """A worker stopped (deleted or failed) before its job started: it checks out."""
        key = self.job_of(pod)
        job = self._jobs.get(key)
        if job is not None and job.workers.pop(pod.meta.uid, None) is not None and not job.workers:
            del self._jobs[key]

    def _start(self, name: str, job: _Job) -> None:
        self.started_jobs += 1
        first = next(iter(job.workers.values()))[0]
        seconds = self._draw(first.spec.behavior.run_duration)
        message = f"all {job.world_size} workers of job {name} joined"
        for worker, start in job.workers.values():
            self._record(worker, "trainingStarted", "RendezvousComplete", message)
            start(worker, seconds)

    def _draw(self, dist: Dist | None) -> float | None:
        if dist is None:
            return None
        sampler = self._samplers.get(id(dist))
        if sampler is None:
            sampler = self._samplers[id(dist)] = Sampler(dist, self.rng)
        return sampler()

    def _record(self, pod: Pod, event: str, reason: str, message: str) -> None:
        self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, event,
                          pod.node_name, reason, message)


def rendezvous_label_problem(obj: Any) -> tuple[tuple[str, ...], str] | None:
    """(path, message) if a workload with a rendezvous lacks its job label, else None.

    Checked when a scenario loads: a worker without the label could never meet its peers.
    """
    path: tuple[str, ...] = ("metadata", "labels")
    if isinstance(obj, Pod):
        spec, labels = obj.spec, obj.meta.labels
    elif isinstance(obj, Deployment | ReplicaSet | Job):
        spec, labels = obj.template.spec, dict(obj.template.labels)
        if isinstance(obj, Job):  # the API server adds job-name and controller-uid labels
            labels.update({JOB_NAME_LABEL: obj.meta.name, "job-name": obj.meta.name})
        path = ("spec", "template", "metadata", "labels")
    else:
        return None
    rdzv = spec.behavior.rendezvous
    if rdzv is None or labels.get(rdzv.group_label):
        return None
    return path, (f"{obj.kind} {obj.meta.name!r} has a rendezvous (behavior.rendezvous) but no "
                  f"{rdzv.group_label!r} label naming its job")
