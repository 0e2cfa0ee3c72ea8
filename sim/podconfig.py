"""ConfigMaps and Secrets in the kubelet: models pkg/kubelet/configmap and pkg/kubelet/secret
with the watch-based manager (pkg/kubelet/util/manager/watch_based_manager.go, the default
``configMapAndSecretChangeDetectionStrategy: Watch``), makeEnvironmentVariables in
pkg/kubelet/kubelet_pods.go, the configMap and secret volume plugins (pkg/volume/configmap,
pkg/volume/secret) as the volume manager mounts them (pkg/kubelet/volumemanager) and the pod
workers' resync (pkg/kubelet/pod_workers.go), Kubernetes 1.36.

The kubelet reads these objects from its own cache, fed by a watch that starts when its first
pod needing one arrives (a LIST, then updates). Three behaviours follow:

- **Volume missing**: the pod stays ContainerCreating. The reconciler retries the mount with
  exponential backoff (0.5 s doubling to 2 m 2 s, each failure a FailedMount event), and
  the pod worker waits for it in windows of 2 m 3 s polled every 300 ms, 10-15 s apart.
  Worked example: a pod admitted at 0 s tries at 0.2, 0.7, 1.8, 3.9, 8.0, 16.1, 32.2 and
  64.3 s (on the reconciler's 0.1 s loop); a ConfigMap created at 60 s is mounted at 64.3 s.
- **Env missing**: the container cannot be created (CreateContainerConfigError); the pod
  worker retries every 10-15 s (on the kubelet's 1 s sync tick) until the object appears.
- **Updates**: env vars are resolved once, when the container is created, so they change only
  if the pod is recreated (e.g. a Deployment rollout through a template annotation). Mounted
  volumes are refreshed at the pod's next periodic sync, 1-1.5 x syncFrequency after the
  previous one, plus one populator and one reconciler loop (0.1 s each): the documented
  "kubelet sync period + cache propagation delay" (the watch delivery).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.api.objects import ConfigRef, Pod
from sim.images import POD_SYNC_BACKOFF, POD_SYNC_JITTER
from sim.nodestatus import next_tick

__all__ = ["MOUNT_INITIAL_BACKOFF", "MOUNT_MAX_BACKOFF", "WAIT_FOR_MOUNT_TIMEOUT", "PodConfigs", "config_error",
           "jittered", "next_mount_backoff"]

POPULATOR_PERIOD = 0.1  # desiredStateOfWorldPopulatorLoopSleepPeriod
RECONCILER_PERIOD = 0.1  # reconcilerLoopSleepPeriod
MOUNT_INITIAL_BACKOFF = 0.5  # exponentialbackoff initialDurationBeforeRetry
MOUNT_MAX_BACKOFF = 122.0  # maxDurationBeforeRetry: 2m2s
WAIT_FOR_MOUNT_TIMEOUT = 123.0  # podAttachAndMountTimeout: 2m3s
WAIT_FOR_MOUNT_POLL = 0.3  # podAttachAndMountRetryInterval
RESYNC_JITTER = 0.5  # workerResyncIntervalJitterFactor
SYNC_TICK = 1.0  # syncLoop's syncTicker: pods due for a sync are picked up every second

Entry = tuple[int, dict[str, str]]  # (resourceVersion, data) as the cache last saw it
Lookup = Callable[[str, str, str], Entry | None]


def jittered(base: float, u: float, factor: float = RESYNC_JITTER) -> float:
    """wait.Jitter(base, factor): uniform in [base, (1 + factor) * base) for ``u`` in [0, 1)."""
    return base * (1.0 + factor * u)


def next_mount_backoff(previous: float) -> float:
    """0.5 s after the first failure, then doubling up to 2 m 2 s."""
    return MOUNT_INITIAL_BACKOFF if previous == 0 else min(2 * previous, MOUNT_MAX_BACKOFF)


def _missing_key(ref: ConfigRef, namespace: str, key: str) -> str:
    if ref.usage == "volume":
        what = "config key" if ref.kind == "ConfigMap" else "secret key"
        return f"{ref.kind.lower()} references non-existent {what}: {key}"
    return f"couldn't find key {key} in {ref.kind} {namespace}/{ref.name}"


def config_error(refs: tuple[ConfigRef, ...], usage: str, namespace: str,
                 lookup: Lookup) -> tuple[ConfigRef, str] | None:
    """The first reference of ``usage`` (env or volume) the cache cannot satisfy, with the
    kubelet's message; optional references may be missing."""
    for ref in refs:
        if ref.usage != usage:
            continue
        entry = lookup(ref.kind, namespace, ref.name)
        if entry is None:
            if not ref.optional:
                return ref, f'{ref.kind.lower()} "{ref.name}" not found'
            continue
        for key in ref.keys:
            if key not in entry[1] and not ref.optional:
                return ref, _missing_key(ref, namespace, key)
    return None


@dataclass(slots=True)
class _Mounts:
    """One pod's configMap/secret volumes: mount progress and what each volume shows."""

    pod: Pod
    then: Callable[[Pod], None]
    window_start: float
    backoff: float = 0.0
    mounted: bool = False
    proceeded: bool = False
    versions: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, name) -> resourceVersion
    last_sync: float | None = None  # None until the containers run
    next_sync: float | None = None
    remount_pending: bool = False


class PodConfigs:
    """One kubelet's ConfigMap/Secret cache and the pods on its node that use them."""

    def __init__(self, kubelet: Any, rng: np.random.Generator, sync_frequency: float, phase: float) -> None:
        self.kubelet = kubelet
        self.env = kubelet.env
        self.api = kubelet.api
        self.rng = rng
        self.sync_frequency = sync_frequency
        self.phase = phase
        self._cache: dict[tuple[str, str, str], Entry] = {}
        self._watching = False
        self._mounts: dict[int, _Mounts] = {}
        self._users: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        self._env: dict[int, str] = {}
        self._waiting_reported: set[int] = set()

    # ------------------------------------------------------------------ cache
    def lookup(self, kind: str, namespace: str, name: str) -> Entry | None:
        """The object as this kubelet's cache has it, or None."""
        return self._cache.get((kind, namespace, name))

    def _watch(self) -> None:
        if self._watching:
            return
        self._watching = True
        for kind in ("ConfigMap", "Secret"):
            for obj in self.api.store.list(kind):  # the reflector's initial LIST
                self._cache[(kind, obj.meta.namespace, obj.meta.name)] = (obj.meta.resource_version, obj.data)
            self.api.watch(kind, self._on_objects)

    def _on_objects(self, events: list[tuple[str, Any]]) -> None:
        for etype, obj in events:
            key = (obj.kind, obj.meta.namespace, obj.meta.name)
            if etype == "DELETED":
                self._cache.pop(key, None)
            else:
                self._cache[key] = (obj.meta.resource_version, obj.data)
            for uid in sorted(self._users.get(key, ())):
                self._schedule_remount(uid)

    # ------------------------------------------------------------------ volumes
    def mount(self, pod: Pod, then: Callable[[Pod], None]) -> None:
        """Mount the pod's configMap/secret volumes, then call ``then(pod)`` (WaitForAttachAndMount)."""
        self._watch()
        refs = [r for r in pod.spec.config_refs if r.usage == "volume"]
        if not refs:
            then(pod)
            return
        uid = pod.meta.uid
        state = self._mounts[uid] = _Mounts(pod, then, self.env.now)
        for ref in refs:
            self._users[(ref.kind, pod.meta.namespace, ref.name)].add(uid)
        self.kubelet._later(POPULATOR_PERIOD + RECONCILER_PERIOD, self._attempt, uid)
        self.kubelet._later(WAIT_FOR_MOUNT_TIMEOUT, self._window_end, uid, state.window_start)

    def _attempt(self, uid: int) -> None:
        state = self._mounts.get(uid)
        if state is None or not self.kubelet._alive(state.pod):
            return
        pod = state.pod
        problem = config_error(pod.spec.config_refs, "volume", pod.meta.namespace, self.lookup)
        if problem is not None:
            ref, message = problem
            self.kubelet._record(pod, "waiting", "FailedMount",
                                 f'MountVolume.SetUp failed for volume "{ref.where}" : {message}')
            state.backoff = next_mount_backoff(state.backoff)
            retry = next_tick(self.env.now + state.backoff + 1e-6, self.phase, RECONCILER_PERIOD)
            self.kubelet._later(retry - self.env.now, self._attempt, uid)
            return
        state.mounted = True
        self._note_versions(state)
        if self.env.now <= state.window_start + WAIT_FOR_MOUNT_TIMEOUT:
            seen = next_tick(self.env.now, state.window_start, WAIT_FOR_MOUNT_POLL)
            self.kubelet._later(seen - self.env.now, self._proceed, uid)

    def _window_end(self, uid: int, start: float) -> None:
        state = self._mounts.get(uid)
        if state is None or state.mounted or state.window_start != start or not self.kubelet._alive(state.pod):
            return
        names = sorted({r.where for r in state.pod.spec.config_refs if r.usage == "volume"})
        self.kubelet._record(state.pod, "waiting", "FailedMount",
                             f"Unable to attach or mount volumes: unmounted volumes=[{' '.join(names)}]: "
                             "context deadline exceeded")
        retry = next_tick(self.env.now + self._backoff(), self.phase, SYNC_TICK)
        self.kubelet._later(retry - self.env.now, self._window_start, uid)

    def _window_start(self, uid: int) -> None:
        state = self._mounts.get(uid)
        if state is None or not self.kubelet._alive(state.pod):
            return
        state.window_start = self.env.now
        if state.mounted:
            self._proceed(uid)
        else:
            self.kubelet._later(WAIT_FOR_MOUNT_TIMEOUT, self._window_end, uid, state.window_start)

    def _proceed(self, uid: int) -> None:
        state = self._mounts.get(uid)
        if state is None or state.proceeded or not self.kubelet._alive(state.pod):
            return
        state.proceeded = True
        state.then(state.pod)

    def _note_versions(self, state: _Mounts) -> list[tuple[ConfigRef, int]]:
        changed = []
        for ref in state.pod.spec.config_refs:
            entry = self.lookup(ref.kind, state.pod.meta.namespace, ref.name) if ref.usage == "volume" else None
            if entry is not None and state.versions.get((ref.kind, ref.name)) != entry[0]:
                state.versions[(ref.kind, ref.name)] = entry[0]
                changed.append((ref, entry[0]))
        return changed

    # ------------------------------------------------------------------ periodic resync
    def running(self, pod: Pod, seen: float) -> None:
        """The pod's containers run (its last sync was at ``seen``); start its resync clock."""
        state = self._mounts.get(pod.meta.uid)
        if state is not None:
            state.last_sync = seen
            self._schedule_remount(pod.meta.uid)

    def _backoff(self) -> float:
        """The pod worker's wait after a failed sync: 10 s, jittered up to 15 s."""
        return jittered(POD_SYNC_BACKOFF, self.rng.random(), POD_SYNC_JITTER)

    def _resync_after(self, t: float) -> float:
        return next_tick(t + jittered(self.sync_frequency, self.rng.random()), self.phase, SYNC_TICK)

    def _schedule_remount(self, uid: int) -> None:
        state = self._mounts.get(uid)
        if state is None or state.last_sync is None or state.remount_pending:
            return
        if not self._stale(state):
            return  # nothing newer to project
        if state.next_sync is None:
            state.next_sync = self._resync_after(state.last_sync)
        while state.next_sync < self.env.now:  # syncs that found nothing new
            state.next_sync = self._resync_after(state.next_sync)
        state.remount_pending = True
        self.kubelet._later(state.next_sync + POPULATOR_PERIOD + RECONCILER_PERIOD - self.env.now,
                   self._remount, uid)

    def _stale(self, state: _Mounts) -> bool:
        for ref in state.pod.spec.config_refs:
            entry = self.lookup(ref.kind, state.pod.meta.namespace, ref.name) if ref.usage == "volume" else None
            if entry is not None and state.versions.get((ref.kind, ref.name)) != entry[0]:
                return True
        return False

    def _remount(self, uid: int) -> None:
        state = self._mounts.get(uid)
        if state is None or not self.kubelet._alive(state.pod) or state.next_sync is None:
            return
        state.remount_pending = False
        state.last_sync, state.next_sync = state.next_sync, self._resync_after(state.next_sync)
        for ref, version in self._note_versions(state):
            self.kubelet._record(state.pod, "volumeUpdated", "",
                                 f'{ref.kind.lower()} "{ref.name}" resourceVersion {version} projected '
                                 f'into volume "{ref.where}"')
        self._schedule_remount(uid)

    # ------------------------------------------------------------------ env
    def env_ready(self, pod: Pod, retry: Callable[[Pod], None]) -> bool:
        """Resolve the containers' env; False (and a retry scheduled) on CreateContainerConfigError."""
        self._watch()
        problem = config_error(pod.spec.config_refs, "env", pod.meta.namespace, self.lookup)
        if problem is None:
            used = sorted({(r.kind, r.name) for r in pod.spec.config_refs if r.usage == "env"})
            notes = [f"{kind.lower()}/{name} (resourceVersion {entry[0]})" for kind, name in used
                     if (entry := self.lookup(kind, pod.meta.namespace, name)) is not None]
            self._env[pod.meta.uid] = f"; env from {', '.join(notes)}" if notes else ""
            return True
        message = problem[1]
        self.kubelet._record(pod, "waiting", "CreateContainerConfigError", message)
        if pod.meta.uid not in self._waiting_reported:
            self._waiting_reported.add(pod.meta.uid)

            def waiting(p: Pod) -> None:
                p.reason, p.message = "CreateContainerConfigError", message
            self.kubelet._write(self.api.update, pod, waiting)
        at = next_tick(self.env.now + self._backoff(), self.phase, SYNC_TICK)
        self.kubelet._later(at - self.env.now, self._retry_env, pod, retry)
        return False

    def _retry_env(self, pod: Pod, retry: Callable[[Pod], None]) -> None:
        if self.kubelet._alive(pod):
            retry(pod)

    def env_note(self, pod: Pod) -> str:
        """What the containers' env was resolved from, for the Started event."""
        return self._env.get(pod.meta.uid, "")

    def forget(self, uid: int) -> None:
        """The pod is gone from the node."""
        state = self._mounts.pop(uid, None)
        if state is not None:
            for ref in state.pod.spec.config_refs:
                self._users.get((ref.kind, state.pod.meta.namespace, ref.name), set()).discard(uid)
        self._env.pop(uid, None)
        self._waiting_reported.discard(uid)
