"""Image pulls that can fail: models pkg/kubelet/images/image_manager.go (the per pod-and-image
back-off) and the registry every node pulls from.

A pull while the registry is down fails with ErrImagePull and starts a back-off of 10 s
that doubles per failure up to 300 s (``flowcontrol.Backoff`` keyed by pod uid and image;
an entry idle for twice the maximum starts over). The pod worker retries a failed sync
after 10-15 s (``backOffPeriod`` with 0.5 jitter, pkg/kubelet/pod_workers.go); a retry that
finds the image still backing off reports ImagePullBackOff without pulling. So a pod in an
outage shows ErrImagePull, then ImagePullBackOff between ever sparser attempts, and starts
within one back-off step of the registry's return.

Abstracted: the registry is one endpoint for all images; a pull in flight when the
registry goes down fails when it would have finished; a slowdown applies to pulls that
start while it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["IMAGE_BACKOFF_INITIAL", "IMAGE_BACKOFF_MAX", "POD_SYNC_BACKOFF", "POD_SYNC_JITTER", "ImageBackoff",
           "ImageRegistry",
           "next_backoff"]

IMAGE_BACKOFF_INITIAL = 10.0  # kubelet backOffPeriod
IMAGE_BACKOFF_MAX = 300.0  # kubelet MaxImageBackOff
POD_SYNC_BACKOFF = 10.0  # pod worker backOffPeriod after a failed sync
POD_SYNC_JITTER = 0.5  # workerBackOffPeriodJitterFactor: retry after 10 s * (1 + U[0, 0.5))


def next_backoff(previous: float | None, idle: float, initial: float = IMAGE_BACKOFF_INITIAL,
                 maximum: float = IMAGE_BACKOFF_MAX) -> float:
    """The back-off after one more failure: ``initial`` for a new (or long idle) entry, else doubled, capped.

    ``idle`` is the time since the entry's last failure; an entry idle for more than
    ``2 * maximum`` has expired and starts again at ``initial``.
    """
    if previous is None or idle > 2 * maximum:
        return initial
    return min(previous * 2, maximum)


class ImageBackoff:
    """Back-off entries per (pod uid, image), as the kubelet's image manager keeps them."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[float, float]] = {}  # key -> (duration, last failure)

    def failed(self, key: tuple[int, str], now: float) -> float:
        """Record a failed pull; return the new back-off duration."""
        entry = self._entries.get(key)
        duration = next_backoff(entry[0] if entry else None, now - entry[1] if entry else 0.0)
        self._entries[key] = (duration, now)
        return duration

    def in_backoff(self, key: tuple[int, str], now: float) -> bool:
        """Whether a pull now is still inside the back-off since the last failure."""
        entry = self._entries.get(key)
        return entry is not None and now - entry[1] < entry[0]

    def forget(self, uid: int) -> None:
        """Drop every entry of a pod (it pulled, or it is gone)."""
        for key in [k for k in self._entries if k[0] == uid]:
            del self._entries[key]


@dataclass
class ImageRegistry:
    """The registry: up or down, and a factor on every node's pull bandwidth."""

    bandwidth_factor: float = 1.0
    outages: list[list[float]] = field(default_factory=list)  # [start, end]; end inf while down

    @property
    def up(self) -> bool:
        """Pulls can start."""
        return not self.outages or self.outages[-1][1] != float("inf")

    def go_down(self, now: float) -> None:
        """Start an outage (no-op if already down)."""
        if self.up:
            self.outages.append([now, float("inf")])

    def come_back(self, now: float) -> None:
        """End the current outage."""
        if not self.up:
            self.outages[-1][1] = now

    def down_during(self, start: float, end: float) -> bool:
        """Whether an outage overlapped the pull window (start, end]."""
        return any(s <= end and e > start for s, e in self.outages)
