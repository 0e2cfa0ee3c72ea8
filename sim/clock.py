"""Small helpers on the SimPy environment: callbacks at a time, without a process each.

Most of a large run's events are plain callbacks (watch deliveries, handler latencies, etcd
commits). ``Environment`` runs them without a SimPy event object: ``call_later`` puts a small
``_Call`` on the same heap, in the same order (time, priority, insertion count) a Timeout would
take, and ``Environment.step`` calls it directly. On a plain ``simpy.Environment`` (as unit
tests build) ``call_later`` falls back to a Timeout with a callback.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT

__all__ = ["Environment", "call_later"]


class _Call:
    """``fn(*args)`` due at a time; lives on the environment's heap like an event."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args


class Environment(simpy.Environment):
    """A SimPy environment that also runs ``call_later`` callbacks, each without an event."""

    def step(self) -> None:
        """Process the next entry of the heap: a due callback here, anything else as SimPy does."""
        queue = self._queue
        if queue and queue[0][3].__class__ is _Call:
            self._now, _, _, call = heappop(queue)
            call.fn(*call.args)
        else:
            super().step()

    def run(self, until: Any = None) -> Any:
        """As SimPy's ``run``; to a time, the loop steps inline (most entries are callbacks)."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = simpy.Event(self)  # due before any other entry at that time, as SimPy's is
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, at - self._now)
        stop.callbacks.append(StopSimulation.callback)
        queue, step = self._queue, simpy.Environment.step
        try:
            while True:
                if queue[0][3].__class__ is _Call:  # the stop entry keeps the heap non-empty
                    self._now, _, _, call = heappop(queue)
                    call.fn(*call.args)
                else:
                    step(self)
        except StopSimulation as exc:
            return exc.args[0]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` after ``delay`` simulated seconds (one heap entry, no process)."""
    if env.__class__ is Environment:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), _Call(fn, args)))
    else:
        env.timeout(delay).callbacks.append(lambda _event: fn(*args))
