"""Node heartbeats: models pkg/kubelet/nodelease (the kubelet's Lease controller) for every node at once.

Each kubelet renews its Lease in ``kube-node-lease`` every lease duration / 4 (10 s by
default) from a random phase; here one process does all renewals, as one bulk etcd write
per second, and keeps every node's last renew time in a numpy array (``renew_time``, by
slot) that the node lifecycle controller reads as its Lease lister. A kubelet that is down
or cut off from the API server stops renewing (``set_alive``). While the API server is
unavailable renewals fail: the lease controller retries 5 times at once, then waits for its
next interval (maxUpdateRetries, renewInterval), so the first renewal after the server is
back comes at the node's next 10 s tick. A starting kubelet renews at once (``renew_now``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import simpy

from sim.apiserver import ApiServer
from sim.config import KubeletConfig
from sim.etcd import OBJECT_BYTES

__all__ = ["LeaseHeartbeats"]


class LeaseHeartbeats:
    """Every node's Lease renewal (every lease duration / 4) as one bulk write per second."""

    def __init__(self, env: simpy.Environment, api: ApiServer, config: KubeletConfig,
                 rng: np.random.Generator) -> None:
        self.env = env
        self.api = api
        self.interval = config.node_lease_duration_seconds * 0.25
        self.phases: np.ndarray = np.zeros(0)  # per slot: when in each interval its renewal falls
        self.renew_time: np.ndarray = np.zeros(0)
        self.alive: np.ndarray = np.zeros(0, dtype=bool)
        self.names: list[str] = []  # node name per slot ("" if unnamed)
        self.slots: dict[str, int] = {}
        self.rng = rng
        env.process(self._run())

    def add_nodes(self, count: int, names: Sequence[str] = ()) -> None:
        """Start heartbeats for ``count`` more nodes, each at a random phase."""
        names = list(names) or [""] * count
        for name in names:
            if name:
                self.slots[name] = len(self.names)
            self.names.append(name)
        self.phases = np.concatenate([self.phases, self.rng.uniform(0, self.interval, count)])
        self.renew_time = np.concatenate([self.renew_time, np.zeros(count)])
        self.alive = np.concatenate([self.alive, np.ones(count, dtype=bool)])

    def set_alive(self, slot: int, alive: bool) -> None:
        """Whether the node at ``slot`` can renew (its kubelet runs and reaches the API server)."""
        self.alive[slot] = alive

    def renew_now(self, slot: int) -> None:
        """Renew one lease at once (a kubelet starting); lost if the API server is down."""
        if not self.api.available:
            return
        self.renew_time[slot] = self.env.now
        self.api.write_bulk(1, OBJECT_BYTES["Lease"])

    def _run(self):  # type: ignore[no-untyped-def]
        step = 1.0
        last: tuple[np.ndarray, float, np.ndarray] | None = None  # (phases, tick, renewal periods begun by then)
        while True:
            yield self.env.timeout(step)
            if not len(self.phases):
                continue
            now, phases = self.env.now, self.phases
            begun = np.floor((now - phases) / self.interval)
            if last is not None and last[0] is phases and last[1] == now - step:
                before = last[2]  # the last tick's periods are this one's "a step ago" (the same floats)
            else:
                before = np.floor((now - step - phases) / self.interval)
            last = (phases, now, begun)
            due = self.alive & (begun > before)
            if not self.api.available:
                continue  # these renewals fail; the next tick tries again
            count = int(np.count_nonzero(due))
            if count:
                self.renew_time[due] = now
                self.api.write_bulk(count, OBJECT_BYTES["Lease"])
