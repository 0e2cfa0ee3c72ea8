"""AssignedPodAdd for inter-pod plugins: models podtopologyspread/plugin.go and interpodaffinity/plugin.go
(the Pod/Add entries of EventsToRegister and their QueueingHints, isSchedulableAfterPodChange).

When the scheduler's pod informer first sees a pod bound to a node, pending pods that a
plugin's hint says the new pod may help (its labels match their required pod affinity, or
their hard spread constraints) leave unschedulablePods at once rather than waiting for the
five-minute flush.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sim.api.objects import FAILED, SUCCEEDED, Pod
from sim.apiserver import DELETED

__all__ = ["PodAddedHint", "register_pod_added_hint"]

PodAddedHint = Callable[[Pod, Pod], bool]  # (pending pod, newly assigned pod) -> worth retrying


class _AssignedPodAdds:
    """One per scheduler: remembers which pods were seen bound, so only the first bound
    sighting of a pod (not its later status updates) is an AssignedPodAdd."""

    def __init__(self, handle: Any) -> None:
        self.queue = handle.queue
        self.seen: set[int] = set()
        self.hints: list[PodAddedHint] = []
        handle.add_pod_handler(self._on_pods)

    def _on_pods(self, events: list[tuple[str, Any]]) -> None:
        added = []
        for etype, pod in events:
            uid = pod.meta.uid
            if etype == DELETED or pod.phase in (SUCCEEDED, FAILED):
                self.seen.discard(uid)
            elif pod.node_name and uid not in self.seen:
                self.seen.add(uid)
                added.append(pod)
        if added:
            self.queue.move_all_to_active_or_backoff(
                "AssignedPodAdd", lambda pending: any(h(pending, a) for h in self.hints for a in added))


_TRACKERS: weakref.WeakKeyDictionary[Any, _AssignedPodAdds] = weakref.WeakKeyDictionary()


def register_pod_added_hint(handle: Any, hint: PodAddedHint) -> None:
    """Have ``hint`` decide which pending pods a newly assigned pod requeues (no-op for a
    handle without a pod informer, such as a test stand-in)."""
    if not hasattr(handle, "add_pod_handler") or not hasattr(handle, "queue"):
        return
    tracker = _TRACKERS.get(handle)
    if tracker is None:
        tracker = _TRACKERS[handle] = _AssignedPodAdds(handle)
    tracker.hints.append(hint)
