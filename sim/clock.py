"""Small helpers on the SimPy environment: callbacks at a time, without a process each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

__all__ = ["call_later"]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` after ``delay`` simulated seconds (one heap entry, no process)."""
    env.timeout(delay).callbacks.append(lambda _event: fn(*args))
