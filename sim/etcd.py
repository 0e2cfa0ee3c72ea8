"""etcd as the API server's storage: raft commit latency, group commit, revisions, db size.

Models ``etcd-io/etcd`` ``server/etcdserver`` (raft) and ``server/storage/wal``: the leader
appends proposals to its WAL and fsyncs while followers do the same; an entry commits when
a quorum has persisted it. Proposals that arrive while a batch is in flight wait for the
next batch (group commit), so one fsync serves many writes under load.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.clock import call_later
from sim.config import EtcdConfig
from sim.distributions import Sampler

__all__ = ["Etcd", "OBJECT_BYTES"]

OBJECT_BYTES = {"Pod": 4096, "Node": 12288, "Lease": 320, "ReplicaSet": 3072,
                "Deployment": 3072, "Service": 1024, "Event": 512}
"""Approximate stored size per object kind (protobuf-encoded), for db size growth."""


class Etcd:
    """A raft group of ``members`` committing batches of proposals."""

    def __init__(self, env: simpy.Environment, config: EtcdConfig, rng: np.random.Generator,
                 apply: Callable[[list[Any]], None]) -> None:
        self.env = env
        self.config = config
        self._apply = apply
        self._fsync = Sampler(config.fsync, rng)
        self._rtt = Sampler(config.rtt, rng)
        self._pending: list[Any] = []
        self._pending_weight = 0
        self._busy = False
        self.revision = 1
        self.writes = 0
        self.batches = 0
        self.commit_latencies = array("d")
        self.bytes_since_compaction = 0

    @property
    def queue_length(self) -> int:
        """Proposals waiting for the next batch."""
        return len(self._pending)

    def propose(self, item: Any, weight: int = 1, size: int = 0) -> None:
        """Submit a write (``weight`` writes if it stands for many); ``apply`` sees it at commit."""
        self._pending.append(item)
        self._pending_weight += weight
        self.bytes_since_compaction += size
        if not self._busy:
            self._start_batch()

    def commit_latency(self) -> float:
        """One batch's commit time: leader fsync in parallel with the quorum's RTT + fsync."""
        leader = self._fsync()
        followers = self.config.members - 1
        if followers == 0:
            return leader
        acks_needed = (self.config.members // 2 + 1) - 1
        acks = sorted(self._rtt() + self._fsync() for _ in range(followers))
        return max(leader, acks[acks_needed - 1])

    def compact(self) -> None:
        """Drop history older than now (the apiserver compacts every 5 minutes)."""
        self.bytes_since_compaction = 0

    def _start_batch(self) -> None:
        batch, self._pending = self._pending, []
        weight, self._pending_weight = self._pending_weight, 0
        self._busy = True
        latency = self.commit_latency()
        call_later(self.env, latency, self._committed, batch, weight, latency)

    def _committed(self, batch: list[Any], weight: int, latency: float) -> None:
        self.batches += 1
        self.writes += weight
        self.revision += weight
        self.commit_latencies.append(latency)
        self._busy = False
        self._apply(batch)
        if self._pending:
            self._start_batch()
