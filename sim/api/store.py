"""The API server's storage view: objects by kind/namespace/name plus the indexes informers use.

Models the watch cache's role (``staging/src/k8s.io/apiserver/pkg/storage/cacher``): the
latest committed state of every object, indexed by owner and by ``spec.nodeName`` so that a
kubelet's watch and a controller's "pods I own" are lookups, not scans.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from typing import Any

from sim.api.objects import key_of

__all__ = ["Store"]


class Store:
    """Committed objects, with owner and node indexes."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[tuple[str, str], Any]] = defaultdict(dict)
        self._by_owner: dict[int, dict[tuple[str, str, str], Any]] = defaultdict(dict)
        self._by_uid: dict[int, Any] = {}
        self._revisions: dict[str, int] = defaultdict(int)
        self.non_pod_revision = 0  # moves with every revision of a kind other than Pod

    def revision(self, kind: str) -> int:
        """A counter that moves whenever an object of ``kind`` is added, removed or (through the
        API server) changed: what a cache derived from those objects is valid for."""
        return self._revisions[kind]

    def changed(self, kind: str) -> None:
        """Note that an object of ``kind`` was added, removed or changed in place (the API server
        calls this at commit for a change)."""
        self._revisions[kind] += 1
        if kind != "Pod":
            self.non_pod_revision += 1

    def get(self, kind: str, namespace: str, name: str) -> Any | None:
        """The object, or None if absent."""
        return self._objects[kind].get((namespace, name))

    def list(self, kind: str) -> list[Any]:
        """All objects of a kind, in creation order."""
        return list(self._objects[kind].values())

    def count(self, kind: str) -> int:
        """How many objects of a kind exist."""
        return len(self._objects[kind])

    def owned_by(self, uid: int) -> builtins.list[Any]:  # ``list`` here is the method above
        """Objects whose controller owner has this uid."""
        return list(self._by_owner.get(uid, {}).values())

    def by_uid(self, uid: int) -> Any | None:
        """The object with this uid, if it still exists."""
        return self._by_uid.get(uid)

    def add(self, obj: Any) -> None:
        """Insert a new object."""
        self._objects[obj.kind][(obj.meta.namespace, obj.meta.name)] = obj
        self.changed(obj.kind)
        self._by_uid[obj.meta.uid] = obj
        if obj.meta.owner is not None:
            self._by_owner[obj.meta.owner.uid][key_of(obj)] = obj

    def remove(self, obj: Any) -> None:
        """Delete an object (no-op if already gone)."""
        if self._objects[obj.kind].pop((obj.meta.namespace, obj.meta.name), None) is None:
            return
        self.changed(obj.kind)
        self._by_uid.pop(obj.meta.uid, None)
        if obj.meta.owner is not None:
            owned = self._by_owner.get(obj.meta.owner.uid)
            if owned is not None:
                owned.pop(key_of(obj), None)
                if not owned:
                    del self._by_owner[obj.meta.owner.uid]

    def exists(self, obj: Any) -> bool:
        """Whether this exact object is still stored (every stored object has its own uid: the
        API server sets it on create, and an object leaves both indexes at once)."""
        return self._by_uid.get(obj.meta.uid) is obj
