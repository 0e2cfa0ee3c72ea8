"""Training progress with periodic checkpoints: pure arithmetic for the training model.

A job resumes from a checkpoint (a step count that is a multiple of the interval K, or 0)
and repeats a cycle: K steps, then a checkpoint write of W seconds. If it stops (a worker
is lost) everything since the last *finished* write is lost and redone after restart.
Worked example (ours): step 2 s, K = 100, W = 30 s, so a cycle is 230 s. Stopped 500 s
after resuming from step 0: two cycles (460 s) are done, checkpoint at step 200, and
20 more steps ran, which are lost. With failures at uniformly random times, about K/2
steps are lost per failure (a little less, since no step runs during the write).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Progress", "progress_at", "time_to_finish"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stood when it stopped."""

    steps_done: int
    checkpoint: int

    @property
    def lost_steps(self) -> int:
        """Steps done since the last finished checkpoint."""
        return self.steps_done - self.checkpoint


def time_to_finish(start_step: int, total_steps: int, step_s: float, interval: int, write_s: float) -> float:
    """Seconds from resuming at ``start_step`` to finishing ``total_steps`` (no write at the end)."""
    remaining = max(total_steps - start_step, 0)
    if remaining == 0:
        return 0.0
    writes = (remaining - 1) // interval if interval > 0 else 0
    return remaining * step_s + writes * write_s


def progress_at(elapsed: float, start_step: int, total_steps: int, step_s: float, interval: int,
                write_s: float) -> Progress:
    """Steps done and the last finished checkpoint, ``elapsed`` seconds after resuming."""
    if interval <= 0:
        done = min(start_step + int(elapsed // step_s), total_steps)
        return Progress(done, start_step)
    cycle = interval * step_s + write_s
    full = int(elapsed // cycle)
    within = elapsed - full * cycle
    done = start_step + full * interval + min(int(math.floor(within / step_s)), interval)
    checkpoint = start_step + full * interval
    done = min(done, total_steps)
    return Progress(done, min(checkpoint, done))
