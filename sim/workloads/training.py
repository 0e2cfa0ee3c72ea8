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
their nodes.

With ``behavior.training`` the work is explicit: steps of compute (slowed by the slowest
worker's node, the straggler: label ``kubesim.io/relative-speed``) plus a ring all-reduce
over the job's placement (sim/network.py), and a checkpoint every K steps. If a worker is
lost while training, the job stops, keeps its last finished checkpoint, and resumes from
it once its replacement has joined the rendezvous (torchrun's elastic restart); lost work
and restarts are recorded as ``TrainingJob`` events. Workers are one job when they share a
namespace and the value of the label named by ``rendezvous.groupLabel``
(``batch.kubernetes.io/job-name`` by default, the label the Job controller puts on its pods).

One ``Rendezvous`` is shared by all kubelets, since a job's workers run on many nodes; it
works by callbacks, with no SimPy process per pod. Not modelled: the barrier's timeout
(30 minutes by default in torch, after which the workers crash) and elastic world sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.api.batch import JOB_NAME_LABEL
from sim.api.objects import Deployment, Job, Node, Pod, ReplicaSet, TrainingSpec
from sim.clock import call_later
from sim.distributions import Dist, Sampler
from sim.network import Network
from sim.trace import Trace
from sim.workloads.progress import progress_at, time_to_finish

__all__ = ["SPEED_LABEL", "Rendezvous", "StartWork", "TrainingStats", "rendezvous_label_problem"]

SPEED_LABEL = "kubesim.io/relative-speed"  # a straggler: its GPUs run at this fraction of speed

StartWork = Callable[[Pod, float | None], None]
"""Called for each worker when its job starts training: (pod, seconds of work or None)."""


@dataclass(slots=True)
class _Job:
    """Workers of one job that have checked in (blocked at the barrier, or training)."""

    world_size: int
    workers: dict[int, tuple[Pod, StartWork]] = field(default_factory=dict)
    running: bool = False
    generation: int = 0
    run_start: float = 0.0
    step_s: float = 0.0
    write_s: float = 0.0


@dataclass(slots=True)
class TrainingStats:
    """One training job's history, for metrics."""

    first_created: float
    started: float | None = None
    completed: float | None = None
    checkpoint: int = 0
    steps_done: int = 0
    lost_steps: int = 0
    restarts: int = 0
    step_s: float = 0.0


class Rendezvous:
    """The cluster-wide registry of training jobs waiting at their barrier."""

    def __init__(self, env: simpy.Environment, trace: Trace, rng: np.random.Generator,
                 network: Network | None = None, node_speed: dict[str, float] | None = None) -> None:
        self.env = env
        self.trace = trace
        self.rng = rng
        self.network = network
        self.node_speed = node_speed or {}
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._samplers: dict[int, Sampler] = {}
        self.started_jobs = 0
        self.stats: dict[tuple[str, str], TrainingStats] = {}

    def add_node(self, node: Node) -> None:
        """A node that joined after start (cluster-autoscaler): into the network and speed table."""
        if self.network is not None:
            self.network.add_node(node)
        self.node_speed.setdefault(node.meta.name, float(node.meta.labels.get(SPEED_LABEL, 1.0)))

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
        stats = self.stats.setdefault(key, TrainingStats(pod.meta.creation_time))
        stats.first_created = min(stats.first_created, pod.meta.creation_time)
        job.workers[pod.meta.uid] = (pod, start)
        joined = len(job.workers)
        if joined < job.world_size or job.running:
            self._record(pod, "rendezvous", "Waiting",
                         f"{joined}/{job.world_size} workers of job {key[1]} at rendezvous")
            return
        if spec is not None and pod.spec.behavior.training is not None:
            self._train(key, job)
            return
        del self._jobs[key]
        self._start(key[1], job)

    def leave(self, pod: Pod) -> None:
        """A worker stopped (deleted or failed): it checks out, and a training job stops."""
        key = self.job_of(pod)
        job = self._jobs.get(key)
        if job is None or job.workers.pop(pod.meta.uid, None) is None:
            return
        if job.running:
            self._stop(key, job, pod)
        if not job.workers and not job.running:
            del self._jobs[key]

    # ------------------------------------------------------------------ training runs
    def _train(self, key: tuple[str, str], job: _Job) -> None:
        """All workers are in: (re)start training from the last checkpoint."""
        stats = self.stats[key]
        first = next(iter(job.workers.values()))[0]
        training = first.spec.behavior.training
        assert training is not None
        workers = [w for w, _ in job.workers.values()]
        job.step_s = self._step_seconds(training, workers)
        job.write_s = self._draw(training.checkpoint_write) or 0.0
        job.running, job.run_start = True, self.env.now
        job.generation += 1
        if stats.started is None:
            stats.started = self.env.now
            self.started_jobs += 1
        else:
            stats.restarts += 1
        stats.step_s = job.step_s
        for worker in workers:
            self._record(worker, "trainingStarted", "RendezvousComplete",
                         f"job {key[1]} trains from step {stats.checkpoint}")
        self._job_event(key, "resumed" if stats.restarts else "started",
                        f"from step {stats.checkpoint}; {job.step_s:.3f}s per step")
        remaining = time_to_finish(stats.checkpoint, training.steps, job.step_s,
                                   training.checkpoint_interval, job.write_s)
        generation = job.generation
        call_later(self.env, remaining, self._finished, key, generation)

    def _step_seconds(self, training: TrainingSpec, workers: list[Pod]) -> float:
        compute = self._draw(training.step_compute) or 0.0
        slowest = min((self.node_speed.get(w.node_name, 1.0) for w in workers), default=1.0)
        ranks: dict[str, int] = {}
        for w in workers:
            gpus = dict(w.spec.requests).get("nvidia.com/gpu", 0) or 1
            ranks[w.node_name] = ranks.get(w.node_name, 0) + gpus
        comm = self.network.allreduce_time(ranks, training.gradient_bytes) if self.network else 0.0
        return compute / max(slowest, 1e-9) + comm

    def _stop(self, key: tuple[str, str], job: _Job, lost: Pod) -> None:
        stats = self.stats[key]
        training = lost.spec.behavior.training
        job.running = False
        job.generation += 1
        if training is None:
            return
        progress = progress_at(self.env.now - job.run_start, stats.checkpoint, training.steps, job.step_s,
                               training.checkpoint_interval, job.write_s)
        stats.steps_done = progress.steps_done
        stats.lost_steps += progress.lost_steps
        stats.checkpoint = progress.checkpoint
        self._job_event(key, "stopped", f"worker {lost.meta.name} lost at step {progress.steps_done}; "
                        f"resumes from checkpoint {progress.checkpoint} ({progress.lost_steps} steps lost)")

    def _finished(self, key: tuple[str, str], generation: int) -> None:
        job = self._jobs.get(key)
        if job is None or job.generation != generation or not job.running:
            return
        stats = self.stats[key]
        first = next(iter(job.workers.values()))[0]
        training = first.spec.behavior.training
        stats.steps_done = stats.checkpoint = training.steps if training else 0
        stats.completed = self.env.now
        self._job_event(key, "completed", f"{stats.steps_done} steps; {stats.restarts} restarts, "
                        f"{stats.lost_steps} steps lost")
        del self._jobs[key]
        for worker, start in job.workers.values():
            start(worker, 0.0)

    def _job_event(self, key: tuple[str, str], event: str, message: str) -> None:
        self.trace.record(self.env.now, "TrainingJob", key[0], key[1], event, "", "", message)

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
