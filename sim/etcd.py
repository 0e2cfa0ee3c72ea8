"""etcd as the API server's storage: raft commit latency, group commit, revisions, db size.

Models ``etcd-io/etcd`` ``server/etcdserver`` (raft) and ``server/storage/wal``: the leader
appends proposals to its WAL and fsyncs while followers do the same; an entry commits when
a quorum has persisted it. Proposals that arrive while a batch is in flight wait for the
next batch (group commit), so one fsync serves many writes under load.

Faults: ``lose_leader`` stalls commits for a raft election (``server/etcdserver`` over
``raft/raft.go``): followers notice at their randomized election timeout, in
[electionTimeout, 2 x electionTimeout) ticks since the last heartbeat, the first of them
runs a pre-vote and a vote round (RTT + fsync each), and the new leader commits what
waited. Proposals in flight or arriving meanwhile wait and commit after it (abstracted:
raft would drop uncommitted entries and the API server retry them). ``set_fsync`` swaps
the WAL fsync latency distribution (a slow disk).
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

__all__ = ["Etcd", "OBJECT_BYTES", "election_stall"]

OBJECT_BYTES = {"Pod": 4096, "Node": 12288, "Lease": 320, "ReplicaSet": 3072,
                "Deployment": 3072, "Service": 1024, "Event": 512, "StatefulSet": 3072,
                "ControllerRevision": 2048}
"""Approximate stored size per object kind (protobuf-encoded), for db size growth."""


def election_stall(follower_ticks: list[int], heartbeat: float, since_heartbeat: float, vote_rounds: float) -> float:
    """Seconds without a leader: the first follower's election timeout after the last
    heartbeat it heard, then its pre-vote and vote rounds."""
    return min(follower_ticks) * heartbeat - since_heartbeat + vote_rounds


class Etcd:
    """A raft group of ``members`` committing batches of proposals."""

    def __init__(self, env: simpy.Environment, config: EtcdConfig, rng: np.random.Generator,
                 apply: Callable[[list[Any]], None]) -> None:
        self.env = env
        self.config = config
        self._apply = apply
        self._rng = rng
        self._base_fsync = self._fsync = Sampler(config.fsync, rng)
        self._rtt = Sampler(config.rtt, rng)
        self._pending: list[Any] = []
        self._pending_weight = 0
        self._busy = False
        self.revision = 1
        self.writes = 0
        self.batches = 0
        self.commit_latencies = array("d")
        self.commit_times = array("d")
        self.stalled_until = 0.0
        self.elections = 0
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
        fsync, rtt = self._fsync.draw, self._rtt.draw
        leader = fsync()
        followers = self.config.members - 1
        if followers == 0:
            return leader
        if followers == 2:  # three members (the usual): the faster follower's ack makes the quorum
            first = rtt() + fsync()
            second = rtt() + fsync()
            return max(leader, first if first <= second else second)
        acks_needed = (self.config.members // 2 + 1) - 1
        acks = sorted(rtt() + fsync() for _ in range(followers))
        return max(leader, acks[acks_needed - 1])

    def lose_leader(self) -> float:
        """The leader fails: no commits until a new one is elected; returns the stall in seconds."""
        ticks = max(1, round(self.config.election_timeout / self.config.heartbeat_interval))
        followers = max(1, self.config.members - 1)
        drawn = self._rng.integers(ticks, 2 * ticks, followers).tolist()
        since = float(self._rng.uniform(0, self.config.heartbeat_interval))
        votes = sum(self._rtt() + self._fsync() for _ in range(2))  # pre-vote, then vote (persisted)
        stall = election_stall(drawn, self.config.heartbeat_interval, since, votes)
        self.stalled_until = max(self.stalled_until, self.env.now + stall)
        self.elections += 1
        return stall

    def set_fsync(self, fsync: Any | None) -> None:
        """Use another fsync latency distribution (a ``Dist``), or the configured one again (None)."""
        self._fsync = self._base_fsync if fsync is None else Sampler(fsync, self._rng)

    def compact(self) -> None:
        """Drop history older than now (the apiserver compacts every 5 minutes)."""
        self.bytes_since_compaction = 0

    def _start_batch(self) -> None:
        batch, self._pending = self._pending, []
        weight, self._pending_weight = self._pending_weight, 0
        self._busy = True
        latency = self.commit_latency()
        call_later(self.env, latency, self._committed, batch, weight, latency, self.env.now)

    def _committed(self, batch: list[Any], weight: int, latency: float, started: float) -> None:
        if self.env.now < self.stalled_until:  # no leader: the new one replicates the batch again
            at = self.stalled_until + latency
            call_later(self.env, at - self.env.now, self._committed, batch, weight, at - started, started)
            return
        self.commit_times.append(self.env.now)
        self.batches += 1
        self.writes += weight
        self.revision += weight
        self.commit_latencies.append(latency)
        self._busy = False
        self._apply(batch)
        if self._pending:
            self._start_batch()
