"""The kubelet and container runtime of every node: models pkg/kubelet (pod workers,
image manager, PLEG, prober, status manager) and the node lease controller.

A pod bound to a node is admitted, gets its sandbox, pulls its images (serialised per
node by default, cached afterwards), starts its containers, is seen running at the next
PLEG relist, and becomes Ready at the first readiness probe after the app has warmed up.
Each step is a scheduled callback, not a process, so an idle node costs nothing; all node
leases renew from one heartbeat process (sim/nodelease.py). Pulled images reach the Node's
status.images at the next image-cache refresh and status tick (sim/nodestatus.py), where the
scheduler sees them. A training worker (``behavior.rendezvous``) checks in with the
cluster-wide rendezvous once Running and starts its run clock only when its whole job has
(sim/workloads/training.py). Pods using ConfigMaps or Secrets wait for them (volumes before
the sandbox, env at container creation) and see volume updates at their periodic syncs
(sim/podconfig.py).

Faults (sim/faults.py) act on a kubelet as on a machine: ``crash`` stops it (no lease
renewals, no writes; its containers die; pending steps are dropped with its boot epoch)
and ``recover`` restarts it (lease renewed and Ready=True posted at once, then it re-lists
its pods: deleted ones are finalised, the rest start again from their sandbox);
``partition`` cuts it off from the API server (containers keep running; watch events and
writes are held and delivered in order on ``heal``). A kubelet that sees its Node's Ready
condition differ from its own view posts its own at its next node-status tick (10 s).

A container that exits is seen at the next PLEG relist. With exit code 0 (and restartPolicy
Never or OnFailure) the pod Succeeds; a non-zero exit (``behavior.failure``) fails a Never
pod with the container's exit code, and restarts the container of an OnFailure or Always
pod in place after the CrashLoopBackOff delay (``restart_backoff``). A deleted pod that may
not restart is reported Failed (exit code 143, or 137 if killed at the end of its grace
period) before it is removed, as the kubelet has done since Kubernetes 1.27, so Jobs see how
it ended; pods with restartPolicy Always are removed directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.api.batch import completion_index
from sim.api.client import Client
from sim.api.objects import FAILED, RUNNING, SUCCEEDED, Node, Pod
from sim.apiserver import DELETED, ApiServer
from sim.clock import call_later
from sim.config import KubeletConfig
from sim.distributions import Dist, Sampler
from sim.images import POD_SYNC_BACKOFF, POD_SYNC_JITTER, ImageBackoff, ImageRegistry
from sim.nodelease import LeaseHeartbeats
from sim.nodestatus import ImageStatusReporter, next_tick, runtime_image_name
from sim.podconfig import PodConfigs
from sim.trace import Trace
from sim.workloads.training import Rendezvous

__all__ = ["Kubelet", "LeaseHeartbeats", "probe_ready_time", "restart_backoff"]

SIGTERM_EXIT_CODE, SIGKILL_EXIT_CODE = 143, 137  # 128 + signal number


def probe_ready_time(worker_start: float, started: float, warmup: float, initial_delay: float,
                     period: float, success_threshold: int) -> float:
    """When a readiness probe first reports success.

    The probe worker ticks every ``period`` from ``worker_start``; ticks before
    ``started + initial_delay`` give no result, ticks before ``started + warmup`` fail.
    """
    earliest = max(started + initial_delay, started + warmup)
    k = max(0, math.ceil((earliest - worker_start) / period - 1e-9))
    return worker_start + (k + success_threshold - 1) * period


def restart_backoff(backoff: float | None, last_restart: float, exited_at: float, initial: float,
                    cap: float) -> tuple[float, float]:
    """(delay before restarting a container that exited at ``exited_at``, its next backoff).

    The kubelet's per-container ``flowcontrol.Backoff`` (``doBackOff``): a container without
    a backoff entry, or one that ran longer than twice the cap since its last restart, is
    restarted at once with its backoff set to ``initial``; otherwise it waits its backoff,
    which then doubles up to ``cap``. Exits at 0, 5, 20, 45 s give delays 0, 10, 20, 40 s.
    """
    if backoff is None or exited_at - last_restart > 2 * cap:
        return 0.0, initial
    return backoff, min(backoff * 2, cap)


class _Samplers:
    """The runtime's delay samplers, shared by all kubelets (one stream for the node fleet)."""

    def __init__(self, config: KubeletConfig, rng: np.random.Generator,
                 failure_rng: np.random.Generator | None = None) -> None:
        self.rng = rng
        self.failure_rng = rng if failure_rng is None else failure_rng  # apps' failures: own stream
        self.sandbox = Sampler(config.sandbox_start, rng)
        self.pull_overhead = Sampler(config.image_pull_overhead, rng)
        self._by_dist: dict[int, Sampler] = {}
        self._failures_by_dist: dict[int, Sampler] = {}

    def of(self, dist: Dist) -> Sampler:
        sampler = self._by_dist.get(id(dist))
        if sampler is None:
            sampler = self._by_dist[id(dist)] = Sampler(dist, self.rng)
        return sampler

    def failure_after(self, dist: Dist) -> Sampler:
        """Sampler of how long a failing run works before it crashes (the failure stream)."""
        sampler = self._failures_by_dist.get(id(dist))
        if sampler is None:
            sampler = self._failures_by_dist[id(dist)] = Sampler(dist, self.failure_rng)
        return sampler


class Kubelet:
    """One node's kubelet: registers the node, then runs the pods bound to it."""

    def __init__(self, env: simpy.Environment, api: ApiServer, node: Node, config: KubeletConfig,
                 samplers: _Samplers, trace: Trace, pleg_phase: float,
                 rendezvous: Rendezvous | None = None, status_phases: tuple[float, float] = (0.0, 0.0),
                 registry: ImageRegistry | None = None, leases: LeaseHeartbeats | None = None,
                 lease_slot: int = -1, config_rng: np.random.Generator | None = None) -> None:
        self.env = env
        self.api = api
        self.node = node
        self.config = config
        self.samplers = samplers
        self.trace = trace
        self.client = Client(f"kubelet/{node.meta.name}", config.kube_api_qps, config.kube_api_burst)
        self.images: set[str] = set(node.images)  # runtime names (nodestatus.runtime_image_name)
        self.image_status = ImageStatusReporter(env, api, self.client, node, config.node_status_max_images,
                                                config.node_status_update_frequency, *status_phases)
        self._pulling: dict[str, float] = {}
        self._pull_free_at = 0.0
        self._pleg_phase = pleg_phase
        self._pods: dict[int, int] = {}  # uid -> 0 while its pipeline runs, -1 once stopped
        self._admitted: dict[int, float] = {}  # uid -> when the probe workers started
        self._backoff: dict[int, tuple[float, float]] = {}  # uid -> (restart backoff, last restart)
        self.crashed = False
        self.rendezvous = rendezvous  # training workers check in here once Running
        self.registry = registry
        self.pull_backoff = ImageBackoff()
        self.leases, self.lease_slot = leases, lease_slot
        self.partitioned = False
        self.boot = 0  # bumped by a crash: steps scheduled before it are dropped
        self.reported_status = "True"  # the Ready condition this kubelet posts
        self._status_pending = False
        self._bound: dict[int, Pod] = {}  # the watch cache's view of this node's pods (for re-lists)
        self._ready_local: set[int] = set()  # pods this kubelet reported Ready
        self._held: list[tuple[str, Any]] = []  # watch events while partitioned
        self._backlog: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []
        self._config_rng = config_rng
        self._configs: PodConfigs | None = None  # made when the first pod using a ConfigMap/Secret comes
        api.watch_node_pods(node.meta.name, self._on_pods)
        api.watch_node(node.meta.name, self._on_node)

    def register(self) -> None:
        """Create this node's Node object (kubelet self-registration)."""
        self.api.create(self.client, self.node)

    # ------------------------------------------------------------------ faults
    def crash(self) -> None:
        """The node goes down: the kubelet and every container on it stop."""
        if self.crashed:
            return
        self.crashed, self.boot, self._status_pending = True, self.boot + 1, False
        for uid in sorted(self._pods):
            if uid in self._bound:
                self._leave_rendezvous(self._bound[uid])
        for state in (self._pods, self._admitted, self._pulling, self._ready_local, self._held, self._backlog):
            state.clear()
        self._pull_free_at = self.env.now
        self._set_lease()

    def recover(self) -> None:
        """The node is back: the kubelet starts, posts its status and re-lists its pods."""
        if not self.crashed:
            return
        self.crashed = False
        self._set_lease(renew=True)
        self._post_status()
        if self.partitioned:
            return
        for uid in sorted(self._bound):
            pod = self._bound[uid]
            if pod.terminating:  # its containers died with the node: finish the deletion
                self._write(self.api.delete, pod, grace=0)
            elif pod.phase not in (SUCCEEDED, FAILED):
                self._pods[uid] = 0
                self._admit(pod)

    def partition(self) -> None:
        """The node loses the API server: its pods run on, unseen."""
        if not self.partitioned:
            self.partitioned = True
            self._set_lease()

    def heal(self) -> None:
        """The node reaches the API server again: held writes and watch events go through."""
        if not self.partitioned:
            return
        self.partitioned = False
        if self.crashed:
            return
        self._set_lease()  # the lease controller's next renewal goes through
        backlog, self._backlog = self._backlog, []
        for verb, args, kwargs in backlog:
            verb(self.client, *args, **kwargs)
        held, self._held = self._held, []
        self._handle(held)
        self._check_status()

    def set_runtime_ready(self, ready: bool) -> None:
        """The container runtime (or network plugin) is up or down: the kubelet posts Ready=True/False."""
        self.reported_status = "True" if ready else "False"
        self._check_status()

    def _set_lease(self, renew: bool = False) -> None:
        if self.leases is None or self.lease_slot < 0:
            return
        alive = not self.crashed and not self.partitioned
        self.leases.set_alive(self.lease_slot, alive)
        if renew and alive:
            self.leases.renew_now(self.lease_slot)

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        """``call_later`` that is dropped if the node crashes meanwhile."""
        call_later(self.env, delay, self._if_same_boot, self.boot, fn, args)

    def _if_same_boot(self, boot: int, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        if boot == self.boot:
            fn(*args)

    def _write(self, verb: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """An API call from this kubelet: lost if crashed, held while partitioned."""
        if self.crashed:
            return
        if self.partitioned:
            self._backlog.append((verb, args, kwargs))
            return
        verb(self.client, *args, **kwargs)

    # ------------------------------------------------------------------ node status
    def _on_node(self, events: list[tuple[str, Any]]) -> None:
        if not self.crashed and not self.partitioned:
            self._check_status()

    def _check_status(self) -> None:
        """Post our Ready condition at the next status tick if the API server shows another."""
        if self.node.ready_status == self.reported_status or self._status_pending:
            return
        self._status_pending = True
        period = self.config.node_status_update_frequency
        now = self.env.now
        self._later(next_tick(now, self.image_status.status_phase, period) - now, self._post_status)

    def _post_status(self) -> None:
        self._status_pending = False
        status, name = self.reported_status, self.node.meta.name
        if self.node.ready_status == status:
            return

        def post(n: Node) -> None:
            n.ready_status = status

        reason = "NodeReady" if status == "True" else "NodeNotReady"
        event = "ready" if status == "True" else "notReady"
        self._write(self.api.update, self.node, post, record=(event, reason, f"Node {name} status is now: {reason}"))

    # ------------------------------------------------------------------ events
    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            if etype == DELETED:
                self._bound.pop(pod.meta.uid, None)
            else:
                self._bound[pod.meta.uid] = pod
        if self.crashed:
            return
        if self.partitioned:
            self._held.extend(events)
            return
        self._handle(events)

    def _handle(self, events: list[tuple[str, Any]]) -> None:
        for etype, pod in events:
            uid = pod.meta.uid
            if etype == DELETED:
                self._pods.pop(uid, None)
                self._admitted.pop(uid, None)
                self._ready_local.discard(uid)
                self.pull_backoff.forget(uid)
                self._backoff.pop(uid, None)
                self._leave_rendezvous(pod)
                if self._configs is not None:
                    self._configs.forget(uid)
            elif uid not in self._pods and not pod.terminating:
                self._pods[uid] = 0
                self._admit(pod)
            elif uid not in self._pods:
                # Bound and deleted before this kubelet first saw it (e.g. a preemption victim
                # whose binding was in flight): nothing runs, so finish the deletion at once.
                self._pods[uid] = -1
                self._later(0.0, self._killed, pod, False)
            elif pod.terminating and self._pods.get(uid, -1) >= 0:
                self._pods[uid] = -1  # stop the pipeline; kill containers
                self._ready_local.discard(uid)
                self._leave_rendezvous(pod)
                stop = self.samplers.of(pod.spec.behavior.stop_time).draw()
                grace = pod.meta.deletion_grace_seconds or 0
                self._later(min(stop, grace), self._killed, pod, stop > grace)
            elif uid in self._ready_local and not pod.ready and self._alive(pod):
                self._report_ready(pod)  # status manager: the API lost our Ready (node marked NotReady)

    def _alive(self, pod: Pod) -> bool:
        return self._pods.get(pod.meta.uid, -1) >= 0 and not pod.terminating

    # ------------------------------------------------------------------ start-up pipeline
    @property
    def configs(self) -> PodConfigs:
        """The ConfigMap/Secret manager (watch-based cache) of this kubelet."""
        if self._configs is None:
            rng = self._config_rng if self._config_rng is not None else self.samplers.rng
            self._configs = PodConfigs(self, rng, self.config.sync_frequency, self._pleg_phase)
        return self._configs

    def _admit(self, pod: Pod) -> None:
        self._admitted[pod.meta.uid] = self.env.now  # HandlePodAdditions starts the probe workers
        if pod.spec.config_refs:
            self.configs.mount(pod, self._sandbox)  # WaitForAttachAndMount before the sandbox
        else:
            self._sandbox(pod)

    def _sandbox(self, pod: Pod) -> None:
        self._later(self.samplers.sandbox.draw(), self._pull_images, pod, 0)

    def _pull_images(self, pod: Pod, index: int) -> None:
        if not self._alive(pod):
            return
        containers = pod.spec.init_containers + pod.spec.containers
        if index == len(containers):
            self._start_containers(pod)
            return
        container = containers[index]
        policy = self.config.image_pull_policy or container.image_pull_policy
        image = container.image
        ref = runtime_image_name(image)  # the runtime looks images up by their normalised name
        now = self.env.now
        if policy == "Never" and ref not in self.images:
            self._fail(pod, "ErrImageNeverPull", f'Container image "{image}" is not present with pull policy of Never')
            return
        if policy == "IfNotPresent" and ref in self.images:  # (alive, as checked above: trace it directly)
            self.trace.record(now, "Pod", pod.meta.namespace, pod.meta.name, "pulled", self.node.meta.name, "Pulled",
                              f'Container image "{image}" already present on machine')
            self._pull_images(pod, index + 1)
            return
        if self.pull_backoff.in_backoff((pod.meta.uid, image), now):
            self._record(pod, "waiting", "ImagePullBackOff", f'Back-off pulling image "{image}"')
            self._retry_sync(pod, index)
            return
        # The Pulling event is emitted when the pull is requested, before any wait in the
        # serial puller's queue; a pull of an image already in flight shares its bytes.
        self._record(pod, "pulling", "Pulling", f'Pulling image "{image}"')
        in_flight = self._pulling.get(ref)
        registry = self.registry
        if registry is not None and not registry.up and in_flight is None:
            self._pull_failed(pod, index, image, "the registry is unavailable")
            return
        size = 0 if ref in self.images or in_flight is not None else (
            pod.spec.behavior.image_size or self.config.default_image_size)
        bandwidth = self.config.registry_bandwidth * (registry.bandwidth_factor if registry is not None else 1.0)
        start = max(now, self._pull_free_at) if self.config.serialize_image_pulls else now
        end = start + self.samplers.pull_overhead.draw() + size / bandwidth
        if in_flight is not None:
            end = max(end, in_flight)
        if self.config.serialize_image_pulls:
            self._pull_free_at = end
        self._pulling[ref] = max(end, in_flight or 0.0)
        self._later(end - now, self._pulled, pod, index, image, start, end - start, end - now)

    def _pulled(self, pod: Pod, index: int, image: str, start: float, took: float, waited: float) -> None:
        ref = runtime_image_name(image)
        if self._pulling.get(ref, 0.0) <= self.env.now:
            self._pulling.pop(ref, None)
        if self.registry is not None and self.registry.down_during(start, self.env.now):
            self._pull_failed(pod, index, image, "the registry went away during the pull")
            return
        self.images.add(ref)
        self.image_status.pulled(ref, pod.spec.behavior.image_size or self.config.default_image_size)
        if self._alive(pod):
            self._record(pod, "pulled", "Pulled",
                         f'Successfully pulled image "{image}" in {took:.3f}s ({waited:.3f}s including waiting)')
        self._pull_images(pod, index + 1)

    def _pull_failed(self, pod: Pod, index: int, image: str, why: str) -> None:
        """ErrImagePull: back off this pod's image and retry at the pod worker's next sync."""
        if not self._alive(pod):
            return
        self.pull_backoff.failed((pod.meta.uid, image), self.env.now)
        self._record(pod, "waiting", "ErrImagePull", f'Failed to pull image "{image}": {why}')
        self._retry_sync(pod, index)

    def _retry_sync(self, pod: Pod, index: int) -> None:
        delay = POD_SYNC_BACKOFF * (1 + self.samplers.rng.uniform(0, POD_SYNC_JITTER))
        self._later(delay, self._pull_images, pod, index)

    def _start_containers(self, pod: Pod) -> None:
        if pod.spec.config_refs and not self.configs.env_ready(pod, self._start_containers):
            return  # CreateContainerConfigError: retried by the pod worker
        draw = self.samplers.of(pod.spec.behavior.container_start).draw
        now = self.env.now
        started = now + sum(draw() for _ in pod.spec.containers)
        # The containers run at ``started``; PLEG sees them at its first relist from then on.
        self._later(self._next_relist(started) - now, self._report_running, pod, started)

    def _next_relist(self, at: float | None = None) -> float:
        """When PLEG next relists containers at or after ``at`` (default now): state changes are seen then."""
        at, period = self.env.now if at is None else at, self.config.pleg_relist_period
        return self._pleg_phase + math.ceil((at - self._pleg_phase) / period) * period

    def _report_running(self, pod: Pod, started: float) -> None:
        if not self._alive(pod):
            return
        ready_at = self._ready_time(pod, started)
        immediately = ready_at <= self.env.now

        def running(p: Pod) -> None:
            p.phase, p.start_time = RUNNING, started
            if p.reason == "CreateContainerConfigError":
                p.reason, p.message = "", ""
            if immediately:
                p.ready, p.ready_time = True, self.env.now

        note = ""
        if pod.spec.config_refs:
            note = self.configs.env_note(pod)
            self.configs.running(pod, self.env.now)
        records = [("started", "Started", "Started container(s)" + note)]
        if immediately:
            records.append(("ready", "", "Ready"))
            self._ready_local.add(pod.meta.uid)
        self._write(self.api.update, pod, running, record=records)
        if not immediately and ready_at < math.inf:
            self._later(ready_at - self.env.now, self._report_ready, pod)
        if pod.spec.behavior.rendezvous is not None and self.rendezvous is not None:
            self.rendezvous.join(pod, self._start_work)  # blocks until its job's peers run
            return
        self._start_work(pod, self._run_seconds(pod))

    def _run_seconds(self, pod: Pod) -> float | None:
        run = pod.spec.behavior.run_duration
        if run is not None and pod.spec.restart_policy != "Always":
            return self.samplers.of(run).draw()
        return None

    def _start_work(self, pod: Pod, seconds: float | None) -> None:
        """The app starts its work: a failing run crashes (``behavior.failure``), otherwise a
        pod that may not restart exits 0 after ``seconds``."""
        if not self._alive(pod):
            return
        crash = self._draw_failure(pod)
        if crash is not None:
            self._later(crash[0], self._exited, pod, crash[1])
        elif seconds is not None and pod.spec.restart_policy != "Always":
            self._later(seconds, self._exited, pod, 0)

    def _draw_failure(self, pod: Pod) -> tuple[float, int] | None:
        """(seconds of work before the crash, exit code) if this run of the app fails."""
        spec = pod.spec.behavior.failure
        if spec is None or (spec.indexes is not None and completion_index(pod.meta.annotations) not in spec.indexes):
            return None
        if spec.probability < 1 and self.samplers.failure_rng.random() >= spec.probability:
            return None
        return (0.0 if spec.after is None else self.samplers.failure_after(spec.after)()), spec.exit_code

    def _leave_rendezvous(self, pod: Pod) -> None:
        if self.rendezvous is not None and pod.spec.behavior.rendezvous is not None:
            self.rendezvous.leave(pod)

    def _ready_time(self, pod: Pod, started: float) -> float:
        if pod.spec.behavior.never_ready:
            return math.inf  # a broken version: its readiness probe keeps failing
        warmup = self.samplers.of(pod.spec.behavior.readiness).draw()
        probes = [c.readiness_probe for c in pod.spec.containers if c.readiness_probe is not None]
        if not probes:
            return started + warmup
        worker_start = self._admitted.get(pod.meta.uid, started)
        return max(probe_ready_time(worker_start, started, warmup, p.initial_delay_seconds, p.period_seconds,
                                    p.success_threshold) for p in probes)

    def _report_ready(self, pod: Pod) -> None:
        if not self._alive(pod):
            return
        def ready(p: Pod) -> None:
            p.ready, p.ready_time = True, self.env.now
        self._ready_local.add(pod.meta.uid)
        self._write(self.api.update, pod, ready, record=("ready", "", "Ready"))

    # ------------------------------------------------------------------ exits and restarts
    def _exited(self, pod: Pod, code: int) -> None:
        if self._alive(pod):
            call_later(self.env, self._next_relist() - self.env.now, self._report_exit, pod, code, self.env.now)

    def _report_exit(self, pod: Pod, code: int, finished: float) -> None:
        if not self._alive(pod):
            return
        policy = pod.spec.restart_policy
        if policy == "Always" or (code != 0 and policy == "OnFailure"):
            self._crashed(pod, code, finished)
            return
        phase = SUCCEEDED if code == 0 else FAILED
        name = pod.spec.containers[0].name
        codes = tuple((c.name, 0) for c in pod.spec.containers) if code == 0 else ((name, code),)
        def terminated(p: Pod) -> None:
            p.phase, p.ready, p.exit_codes, p.finish_time = phase, False, codes, finished
        self._pods[pod.meta.uid] = -1
        self._ready_local.discard(pod.meta.uid)
        record = ("succeeded", "Completed", "") if code == 0 else (
            "failed", "Error", f"Container {name} exited with code {code}")
        self._write(self.api.update, pod, terminated, record=record)

    def _crashed(self, pod: Pod, code: int, finished: float) -> None:
        """The container of a pod that restarts exited: restart it after its back-off."""
        uid = pod.meta.uid
        backoff, last = self._backoff.get(uid, (None, 0.0))
        delay, backoff = restart_backoff(backoff, last, finished, self.config.container_restart_backoff,
                                         self.config.max_container_restart_period)
        restart_at = max(finished + delay, self.env.now)
        self._backoff[uid] = (backoff, restart_at)
        name = pod.spec.containers[0].name
        def not_ready(p: Pod) -> None:
            p.ready = False
        self._write(self.api.update, pod, not_ready, record=(
            "backOff", "CrashLoopBackOff" if delay > 0 else "Error",
            f"Container {name} exited with code {code}; restarting in {delay:g}s"))
        self._later(restart_at - self.env.now, self._restart, pod)

    def _restart(self, pod: Pod) -> None:
        if self._alive(pod):
            start = self.samplers.of(pod.spec.behavior.container_start)
            self._later(start(), self._restarted, pod)

    def _restarted(self, pod: Pod) -> None:
        if self._alive(pod):
            now = self.env.now
            self._later(self._next_relist() - now, self._report_restart, pod, now)

    def _report_restart(self, pod: Pod, started: float) -> None:
        """The restarted container runs (a training worker does not meet its peers again)."""
        if not self._alive(pod):
            return
        ready_at = self._ready_time(pod, started)
        immediately = ready_at <= self.env.now
        def restarted(p: Pod) -> None:
            p.restart_count += 1
            if immediately:
                p.ready, p.ready_time = True, self.env.now
        self._write(self.api.update, pod, restarted,
                        record=("restarted", "Started", f"Restarted container (restart {pod.restart_count + 1})"))
        if not immediately:
            self._later(ready_at - self.env.now, self._report_ready, pod)
        self._start_work(pod, self._run_seconds(pod))

    def _fail(self, pod: Pod, reason: str, message: str) -> None:
        def failed(p: Pod) -> None:
            p.phase, p.reason, p.message = FAILED, reason, message
        self._pods[pod.meta.uid] = -1
        self._write(self.api.update, pod, failed, record=("failed", reason, message))

    def _killed(self, pod: Pod, sigkill: bool) -> None:
        """Containers stopped: a pod that may not restart is reported Failed, then removed."""
        if pod.spec.restart_policy == "Always" or pod.phase in (SUCCEEDED, FAILED):
            self._write(self.api.delete, pod, grace=0)
            return
        code = SIGKILL_EXIT_CODE if sigkill else SIGTERM_EXIT_CODE
        codes = tuple((c.name, code) for c in pod.spec.containers) if pod.phase == RUNNING else ()
        now = self.env.now
        def terminal(p: Pod) -> None:
            p.phase, p.ready, p.exit_codes, p.finish_time = FAILED, False, codes, now
        self._write(self.api.update, pod, terminal, record=("failed", "Error", f"Killed with exit code {code}"
                                                          if codes else "Deleted before its containers ran"),
                        on_done=lambda _ok: self._write(self.api.delete, pod, grace=0))

    def _record(self, pod: Pod, event: str, reason: str, message: str) -> None:
        if self._alive(pod):
            self.trace.record(self.env.now, "Pod", pod.meta.namespace, pod.meta.name, event,
                              self.node.meta.name, reason, message)
