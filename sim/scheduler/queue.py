"""The scheduling queue: models pkg/scheduler/backend/queue (scheduling_queue.go,
active_queue.go, backoff_queue.go).

activeQ pops by PrioritySort (higher ``.spec.priority`` first, then earlier enqueue time).
A pod that failed waits in unschedulablePods until a cluster event (node added or updated,
an assigned pod deleted) moves it to backoffQ (or straight to activeQ when its backoff,
1 s doubling to 10 s per attempt and counted from the failed attempt, is over). backoffQ
is flushed every second; with SchedulerPopFromBackoffQ (on since 1.33) the expiry is
truncated to its whole second, a pod leaves once that second has passed, and the scheduler
pops from backoffQ when activeQ is empty. Pods left in unschedulablePods for 5 minutes are
flushed every 30 seconds.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.api.objects import Pod
from sim.clock import call_later
from sim.config import SchedulerConfig

__all__ = ["QueuedPodInfo", "SchedulingQueue", "backoff_duration", "priority_sort_key"]


@dataclass(slots=True)
class QueuedPodInfo:
    """A pod in the queue with its attempt count and timestamps."""

    pod: Pod
    timestamp: float
    attempts: int = 0
    initial_attempt: float | None = None
    unschedulable_since: float = 0.0  # upstream's Timestamp: when the last attempt failed
    backoff_expiry: float = 0.0
    seq: int = 0
    where: str = field(default="")


def priority_sort_key(info: QueuedPodInfo) -> tuple[Any, ...]:
    """PrioritySort: higher spec.priority first, then the earlier enqueue time."""
    return (-info.pod.spec.priority, info.timestamp)


def backoff_duration(attempts: int, initial: float, maximum: float) -> float:
    """0 before the first attempt, then initial * 2^(attempts-1), capped at maximum."""
    if attempts == 0:
        return 0.0
    return min(initial * 2 ** (attempts - 1), maximum)


class SchedulingQueue:
    """activeQ, backoffQ and unschedulablePods, with SimPy-friendly ``pop``."""

    def __init__(self, env: simpy.Environment, config: SchedulerConfig,
                 sort_key: Callable[[QueuedPodInfo], tuple[Any, ...]] | None = None) -> None:
        self.env = env
        self.config = config
        self.sort_key = sort_key or priority_sort_key
        self._active: list[tuple[tuple[Any, ...], int, QueuedPodInfo]] = []  # (sort key, seq, pod)
        self._backoff: list[tuple[float, tuple[Any, ...], int, QueuedPodInfo]] = []  # (expiry, sort key, seq, pod)
        self._unschedulable: dict[int, QueuedPodInfo] = {}
        self._infos: dict[int, QueuedPodInfo] = {}
        self._waiter: Callable[[QueuedPodInfo], Any] | None = None  # hands the next pod over
        self._wake_pending = False
        self._seq = 0
        self.move_request_cycle = -1
        self.scheduling_cycle = 0
        env.process(self._flush_backoff())
        env.process(self._flush_unschedulable())

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return len(self._infos)

    @property
    def pending_counts(self) -> tuple[int, int, int]:
        """(active, backoff, unschedulable) pod counts."""
        active = sum(1 for *_, q in self._active if q.where == "active")
        backoff = sum(1 for *_, q in self._backoff if q.where == "backoff")
        return active, backoff, len(self._unschedulable)

    # ------------------------------------------------------------------ add / pop
    def add(self, pod: Pod) -> None:
        """A new pending pod (informer Add)."""
        if pod.meta.uid in self._infos:
            return
        info = QueuedPodInfo(pod, self.env.now)
        self._infos[pod.meta.uid] = info
        self._push_active(info)

    def pop(self) -> simpy.Event:
        """An event that yields the next QueuedPodInfo to schedule."""
        event = self.env.event()
        info = self._take()
        if info is not None:
            event.succeed(info)
        else:
            self._waiter = event.succeed
        return event

    def pop_to(self, receive: Callable[[QueuedPodInfo], Any]) -> None:
        """``pop`` for a callback: with a pod queued, ``receive(info)`` runs at an entry of this
        instant, where a process waiting on ``pop`` would resume; with none, it runs at the
        hand-over itself once a pod is added (after that instant's adds, see ``_wake``), a step
        sooner than a resumed process would: only an entry scheduled for that very instant in
        between could tell the two apart."""
        info = self._take()
        if info is not None:
            call_later(self.env, 0, receive, info)
        else:
            self._waiter = receive

    def _take(self) -> QueuedPodInfo | None:
        while self._active:
            info = heapq.heappop(self._active)[-1]
            if info.where == "active":
                return self._popped(info)
        while self._backoff:  # SchedulerPopFromBackoffQ: activeQ is empty
            info = heapq.heappop(self._backoff)[-1]
            if info.where == "backoff":
                return self._popped(info)
        return None

    def _popped(self, info: QueuedPodInfo) -> QueuedPodInfo:
        info.where = "in-flight"
        info.attempts += 1
        if info.initial_attempt is None:
            info.initial_attempt = self.env.now
        self.scheduling_cycle += 1
        return info

    def _push_active(self, info: QueuedPodInfo) -> None:
        info.where = "active"
        info.timestamp = self.env.now
        self._seq += 1
        heapq.heappush(self._active, (self.sort_key(info), self._seq, info))
        self._wake()

    def _wake(self) -> None:
        """Hand the best pod to a waiting scheduler once the current instant's adds are done.

        Upstream moves pods into the queue under its lock and only then pops; deferring the
        pop to the end of this instant lets a batch of adds compete on priority.
        """
        if self._waiter is not None and not self._wake_pending:
            self._wake_pending = True
            call_later(self.env, 0, self._deliver)

    def _deliver(self) -> None:
        self._wake_pending = False
        if self._waiter is not None:
            info = self._take()
            if info is not None:
                deliver, self._waiter = self._waiter, None
                deliver(info)

    def _backoff_window(self, info: QueuedPodInfo) -> int:
        """The whole second holding the backoff expiry (failure time + backoff), as alignToWindow."""
        info.backoff_expiry = info.unschedulable_since + backoff_duration(
            info.attempts, self.config.pod_initial_backoff, self.config.pod_max_backoff)
        return math.floor(info.backoff_expiry)

    def _backing_off(self, info: QueuedPodInfo) -> bool:
        """isPodBackingoff: the expiry's window is not before the current window."""
        return info.attempts > 0 and self._backoff_window(info) >= math.floor(self.env.now)

    def _requeue(self, info: QueuedPodInfo) -> None:
        """Out of unschedulablePods: to backoffQ while backing off, else to activeQ."""
        if self._backing_off(info):
            self._push_backoff(info)
        else:
            self._push_active(info)

    def _push_backoff(self, info: QueuedPodInfo) -> None:
        info.where = "backoff"
        window = self._backoff_window(info)  # ordering window of 1 s, then activeQ order
        self._seq += 1
        heapq.heappush(self._backoff, (window, self.sort_key(info), self._seq, info))
        self._wake()

    # ------------------------------------------------------------------ outcomes
    def done(self, pod: Pod) -> None:
        """The pod was scheduled (or is gone): forget it."""
        info = self._infos.pop(pod.meta.uid, None)
        if info is not None:
            info.where = "done"
        self._unschedulable.pop(pod.meta.uid, None)

    def add_unschedulable(self, info: QueuedPodInfo, cycle: int) -> None:
        """After a failed attempt: to unschedulablePods, or to backoffQ if an event raced it."""
        if info.pod.meta.uid not in self._infos:
            return
        info.unschedulable_since = self.env.now
        if self.move_request_cycle >= cycle:
            self._push_backoff(info)
            return
        info.where = "unschedulable"
        self._unschedulable[info.pod.meta.uid] = info

    def readd(self, info: QueuedPodInfo) -> None:
        """Track a pod again that had left the queue (rejected after Permit)."""
        self._infos[info.pod.meta.uid] = info

    def add_backoff(self, info: QueuedPodInfo) -> None:
        """After an error (e.g. a failed bind): straight to backoffQ."""
        self._infos[info.pod.meta.uid] = info
        info.unschedulable_since = self.env.now
        self._push_backoff(info)

    def delete(self, pod: Pod) -> None:
        """The pod was deleted or bound elsewhere."""
        self.done(pod)

    def activate(self, uids: list[int]) -> int:
        """Move these pods from unschedulablePods or backoffQ straight to activeQ, ignoring
        their backoff (upstream's Activate, used for a plugin's PodsToActivate)."""
        moved = 0
        for uid in uids:
            info = self._infos.get(uid)
            if info is None or info.where not in ("unschedulable", "backoff"):
                continue
            self._unschedulable.pop(uid, None)
            self._push_active(info)
            moved += 1
        return moved

    def move_all_to_active_or_backoff(self, event: str, hint: Callable[[Pod], bool] | None = None) -> int:
        """A cluster event that may make pods schedulable; returns how many moved.

        ``hint`` plays a QueueingHint: only pods it returns True for leave unschedulablePods.
        """
        self.move_request_cycle = self.scheduling_cycle
        if not self._unschedulable:
            return 0
        if hint is None:
            moved = list(self._unschedulable.values())
            self._unschedulable.clear()
        else:
            moved = [info for info in self._unschedulable.values() if hint(info.pod)]
            for info in moved:
                del self._unschedulable[info.pod.meta.uid]
        for info in moved:
            self._requeue(info)
        return len(moved)

    # ------------------------------------------------------------------ periodic flushes
    def _flush_backoff(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(1.0)
            window = math.floor(self.env.now)
            while self._backoff and self._backoff[0][0] < window:  # done once its window has passed
                *_, info = heapq.heappop(self._backoff)
                if info.where == "backoff":
                    self._push_active(info)

    def _flush_unschedulable(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(self.config.unschedulable_flush_interval)
            limit = self.config.pod_max_in_unschedulable_pods
            stale = [uid for uid, info in self._unschedulable.items()
                     if self.env.now - info.unschedulable_since > limit]
            for uid in stale:
                self._requeue(self._unschedulable.pop(uid))
