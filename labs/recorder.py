"""Turn a real cluster's watch events into a kubesim trace (``sim.trace``'s schema).

The recorder is fed the raw JSON objects of three watches - Pods and Events of the replay's
namespace, and the replay's Nodes - each with the time kubesim *received* it, in seconds
since the replay started. It is level-triggered: every update is compared with what was
already recorded for that pod, so a re-list after a dropped watch records nothing twice.

How each trace event is derived (the first time it is seen for a pod, unless noted):

============  =================================================================  =========================
event         seen as                                                            ``upstream`` timestamp
============  =================================================================  =========================
created       the pod first appears, in the pod watch or in an Event about it    metadata.creationTimestamp
scheduled     condition PodScheduled=True, or a ``Scheduled`` Event              its lastTransitionTime / eventTime
bound         ``spec.nodeName`` is set                                           PodScheduled lastTransitionTime
pulling       kubelet Event ``Pulling`` (none on KWOK nodes)                     eventTime / lastTimestamp
pulled        kubelet Event ``Pulled``                                           eventTime / lastTimestamp
started       every container's state is ``running``                             the latest startedAt
ready         condition Ready=True                                               its lastTransitionTime
terminating   ``metadata.deletionTimestamp`` is set                              deletionTimestamp
succeeded /   ``status.phase``                                                   -
failed
deleted       the watch's DELETED                                                -
failedSched-  every new occurrence of a ``FailedScheduling`` Event, with         eventTime / series
uling         kube-scheduler's message verbatim                                  lastObservedTime
preempted     a ``Preempted`` Event                                              eventTime
============  =================================================================  =========================

The two watches are separate streams, so an Event can arrive before the pod update it
follows; recording ``created`` at the first sight of the pod in either keeps every pod's
events in lifecycle order (``created`` <= ``scheduled`` <= ``bound`` ...).

Pods are recorded under the scenario's namespace (``namespaces`` maps the replay's
namespace back), so a real trace and a simulated one name the same pods the same way.
Upstream timestamps have one-second resolution except Events' eventTime (microseconds);
the receive time ``t`` is what the comparison uses, as a client would observe it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sim.trace import Trace

__all__ = ["Recorder"]

_ASSIGNED = re.compile(r"Successfully assigned \S+ to (\S+)")
_EVENT_REASONS = {"Scheduled": "scheduled", "FailedScheduling": "failedScheduling", "Pulling": "pulling",
                  "Pulled": "pulled", "Preempted": "preempted", "Killing": "terminating"}
_REPEATABLE = {"failedScheduling"}


@dataclass
class _Pod:
    uid: str
    node: str = ""
    done: set[str] = field(default_factory=set)
    created_at: int = -1  # index of a ``created`` record still waiting for its creationTimestamp


class Recorder:
    """Records pod, event and node watch updates into ``trace``.

    Args:
        trace: where records go.
        namespaces: real namespace -> namespace to record (the scenario's).
    """

    def __init__(self, trace: Trace, namespaces: dict[str, str] | None = None) -> None:
        self.trace = trace
        self.namespaces = dict(namespaces or {})
        self._pods: dict[tuple[str, str], _Pod] = {}
        self._event_counts: dict[str, int] = {}
        self._nodes: dict[str, set[str]] = {}
        self.last_change = 0.0  # receive time of the latest record (for "settled" checks)

    # ------------------------------------------------------------------ helpers
    def _ns(self, namespace: str) -> str:
        return self.namespaces.get(namespace, namespace)

    def _state(self, ns: str, name: str, uid: str) -> _Pod:
        state = self._pods.get((ns, name))
        if state is None or (uid and state.uid and state.uid != uid):
            state = self._pods[(ns, name)] = _Pod(uid)
        elif uid and not state.uid:
            state.uid = uid
        return state

    def _emit(self, state: _Pod, t: float, ns: str, name: str, event: str, reason: str = "",
              message: str = "", upstream: str | None = "", node: str | None = None) -> None:
        if event in state.done and event not in _REPEATABLE:
            return
        state.done.add(event)
        self.trace.record(max(t, 0.0), "Pod", ns, name, event, state.node if node is None else node,
                          reason, message, upstream or "")
        self.last_change = max(self.last_change, t)

    @property
    def pods_seen(self) -> int:
        """Pods recorded so far (by namespace and name)."""
        return len(self._pods)

    def pod_states(self) -> dict[tuple[str, str], set[str]]:
        """(namespace, name) -> the lifecycle events recorded for the pod's current uid."""
        return {key: set(p.done) for key, p in self._pods.items()}

    # ------------------------------------------------------------------ pods
    def pod(self, t: float, etype: str, obj: dict[str, Any]) -> None:
        """One pod watch update (``ADDED``, ``MODIFIED``, ``DELETED``) received at ``t``."""
        meta = obj.get("metadata") or {}
        ns, name = self._ns(meta.get("namespace", "")), meta.get("name", "")
        state = self._state(ns, name, meta.get("uid", ""))
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        conditions = {c.get("type"): c for c in status.get("conditions") or []}
        self._emit(state, t, ns, name, "created", upstream=meta.get("creationTimestamp"), node="")
        if state.created_at >= 0 and meta.get("creationTimestamp"):
            self.trace.upstream[state.created_at] = meta["creationTimestamp"]
            state.created_at = -1
        node = spec.get("nodeName") or ""
        scheduled = conditions.get("PodScheduled") or {}
        if node:
            state.node = node
        if node or scheduled.get("status") == "True":
            self._emit(state, t, ns, name, "scheduled", "Scheduled",
                       f"Successfully assigned {ns}/{name} to {node}" if node else "",
                       scheduled.get("lastTransitionTime"))
        if node:
            self._emit(state, t, ns, name, "bound", "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                       scheduled.get("lastTransitionTime"))
        containers = spec.get("containers") or []
        statuses = status.get("containerStatuses") or []
        running = [s.get("state", {}).get("running") for s in statuses]
        if containers and len(statuses) >= len(containers) and all(running):
            started_at = max((r.get("startedAt") or "" for r in running), default="")
            self._emit(state, t, ns, name, "started", "Started", "Started container(s)", started_at)
        ready = conditions.get("Ready") or {}
        if ready.get("status") == "True":
            self._emit(state, t, ns, name, "ready", "", "Ready", ready.get("lastTransitionTime"))
        if meta.get("deletionTimestamp"):
            grace = meta.get("deletionGracePeriodSeconds")
            self._emit(state, t, ns, name, "terminating", "Killing",
                       f"grace period {grace}s" if grace is not None else "", meta.get("deletionTimestamp"))
        phase = status.get("phase")
        if phase == "Succeeded":
            self._emit(state, t, ns, name, "succeeded", "Completed")
        elif phase == "Failed":
            self._emit(state, t, ns, name, "failed", status.get("reason") or "Failed", status.get("message") or "")
        if etype == "DELETED":
            self._emit(state, t, ns, name, "deleted")

    # ------------------------------------------------------------------ events
    def event(self, t: float, etype: str, obj: dict[str, Any]) -> None:
        """One core/v1 Event watch update; Events about pods become trace records."""
        involved = obj.get("involvedObject") or obj.get("regarding") or {}
        event = _EVENT_REASONS.get(obj.get("reason", ""))
        if etype == "DELETED" or involved.get("kind") != "Pod" or event is None:
            return
        series = obj.get("series") or {}
        count = int(series.get("count") or obj.get("count") or 1)
        uid = (obj.get("metadata") or {}).get("uid", "")
        if count <= self._event_counts.get(uid, 0):
            return  # an update we have already counted (or only a metadata change)
        self._event_counts[uid] = count
        ns, name = self._ns(involved.get("namespace", "")), involved.get("name", "")
        state = self._state(ns, name, involved.get("uid", ""))
        if "created" not in state.done:  # the Event stream overtook the pod stream: the pod exists now
            state.created_at = len(self.trace)
            self._emit(state, t, ns, name, "created", node="")
        message = obj.get("message") or obj.get("note") or ""
        upstream = (series.get("lastObservedTime") or obj.get("eventTime") or obj.get("lastTimestamp")
                    or obj.get("firstTimestamp"))
        node = None
        if event == "scheduled":
            match = _ASSIGNED.search(message)
            if match:
                state.node = node = match.group(1)
        elif event == "failedScheduling":
            node = ""
        self._emit(state, t, ns, name, event, obj.get("reason", ""), message, upstream, node)

    # ------------------------------------------------------------------ nodes
    def node(self, t: float, etype: str, obj: dict[str, Any]) -> None:
        """One node watch update: ``created`` when first seen, ``ready`` when Ready=True."""
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        done = self._nodes.setdefault(name, set())
        records = [("created", meta.get("creationTimestamp"), True)]
        ready = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {})
        records.append(("ready", ready.get("lastTransitionTime"), ready.get("status") == "True"))
        records.append(("deleted", None, etype == "DELETED"))
        for event, upstream, happened in records:
            if happened and event not in done:
                done.add(event)
                self.trace.record(max(t, 0.0), "Node", "", name, event, name, "", "", upstream or "")

    # ------------------------------------------------------------------ timeline
    def action(self, t: float, namespace: str, target: str, action: str, message: str = "") -> None:
        """A timeline step as the simulator records it (kind ``Timeline``)."""
        self.trace.record(max(t, 0.0), "Timeline", namespace, target, action, "", "", message)

    def skipped(self, t: float, namespace: str, target: str, message: str) -> None:
        """A timeline step whose target did not exist (the server said 404 NotFound)."""
        self.trace.record(max(t, 0.0), "Timeline", namespace, target, "skipped", "", "NotFound", message)
