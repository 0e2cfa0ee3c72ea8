"""A pod informer's ``spec.nodeName`` index: models controller.AddPodNodeNameIndexer
(pkg/controller/controller_utils.go), which node-facing controllers use to find a node's pods.
"""

from __future__ import annotations

from sim.api.objects import Pod
from sim.apiserver import DELETED

__all__ = ["PodNodeIndex"]


class PodNodeIndex:
    """Pods by the node they are bound to, kept up to date from watch events."""

    def __init__(self) -> None:
        self._by_node: dict[str, dict[int, Pod]] = {}
        self._node_of: dict[int, str] = {}

    def observe(self, etype: str, pod: Pod) -> bool:
        """Apply one event; True if it is the first event showing the pod bound to its node."""
        uid = pod.meta.uid
        old = self._node_of.get(uid, "")
        if etype == DELETED or not pod.node_name:
            if old:
                self._by_node[old].pop(uid, None)
                del self._node_of[uid]
            return False
        if old == pod.node_name:
            return False
        if old:
            self._by_node[old].pop(uid, None)
        self._by_node.setdefault(pod.node_name, {})[uid] = pod
        self._node_of[uid] = pod.node_name
        return True

    def pods_on(self, node_name: str) -> list[Pod]:
        """The node's pods in creation (uid) order."""
        pods = self._by_node.get(node_name, {})
        return [pods[uid] for uid in sorted(pods)]
