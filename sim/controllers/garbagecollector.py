"""Garbage collector: models pkg/controller/garbagecollector with background propagation.

When an owner is deleted, its dependents (by ownerReference uid) are deleted too, so
deleting a Deployment removes its ReplicaSets and their pods, deleting a Job its pods, a
StatefulSet its pods and ControllerRevisions, a DaemonSet its pods, a CronJob its Jobs, and a
Service its EndpointSlices.
"""

from __future__ import annotations

from typing import Any

import simpy

from sim.api.client import Client
from sim.apiserver import CONTROLLER_MANAGER, DELETED, ApiServer

__all__ = ["GarbageCollector"]


class GarbageCollector:
    """Deletes the dependents of deleted owners."""

    def __init__(self, env: simpy.Environment, api: ApiServer, client: Client) -> None:
        self.env = env
        self.api = api
        self.informers = api.informers(CONTROLLER_MANAGER)
        self.client = client
        for kind in ("Deployment", "ReplicaSet", "Job", "CronJob", "StatefulSet", "DaemonSet", "Service"):
            self.informers.watch(kind, self._on_events)

    def _on_events(self, events: list[tuple[str, Any]]) -> None:
        for etype, obj in events:
            if etype != DELETED:
                continue
            for dependent in self.api.store.owned_by(obj.meta.uid):
                self.api.delete(self.client, dependent)
