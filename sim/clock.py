"""Small helpers on the SimPy environment: callbacks at a time, without a process each.

Most of a large run's events are plain callbacks (watch deliveries, handler latencies, etcd
commits). ``Environment`` runs them without a SimPy event object: ``call_later`` puts the
entry ``(time, priority, insertion count, fn, args)`` on the same heap, ordered as a Timeout's
``(time, priority, insertion count, event)`` would be (the count is unique, so entries never
compare further), and ``Environment.step`` calls it directly: a five-item entry is a callback,
a four-item one SimPy's. On a plain ``simpy.Environment`` (as unit tests build) ``call_later``
falls back to a Timeout with a callback.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT

__all__ = ["Environment", "call_later", "call_urgent"]


class Environment(simpy.Environment):
    """A SimPy environment that also runs ``call_later`` callbacks, each without an event.

    ``now`` is a plain attribute here (SimPy's is a property over ``_now``, and a large run
    reads the clock over a million times): ``_now`` becomes the property, so SimPy's own
    code, which reads and sets ``_now``, keeps the two one value."""

    now: float = 0.0  # type: ignore[assignment]  # an attribute in place of SimPy's read-only property

    @property  # type: ignore[override]
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def step(self) -> None:
        """Process the next entry of the heap: a due callback here, anything else as SimPy does."""
        queue = self._queue
        if queue and len(queue[0]) == 5:
            self.now, _, _, fn, args = heappop(queue)
            fn(*args)
        else:
            super().step()

    def run(self, until: Any = None) -> Any:
        """As SimPy's ``run``; to a time, the loop steps inline (most entries are callbacks)."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = simpy.Event(self)  # due before any other entry at that time, as SimPy's is
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, at - self.now)
        stop.callbacks.append(StopSimulation.callback)
        queue, step = self._queue, simpy.Environment.step
        try:
            while True:
                if len(queue[0]) == 5:  # the stop entry keeps the heap non-empty
                    self.now, _, _, fn, args = heappop(queue)
                    fn(*args)
                else:
                    step(self)
        except StopSimulation as exc:
            return exc.args[0]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` after ``delay`` simulated seconds (one heap entry, no process)."""
    if env.__class__ is Environment:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        queue: list[Any] = env._queue  # SimPy types its entries as events; ours also hold callbacks
        heappush(queue, (env.now + delay, NORMAL, next(env._eid), fn, args))
    else:
        env.timeout(delay).callbacks.append(lambda _event: fn(*args))


def call_urgent(env: simpy.Environment, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` now, before this instant's normal entries: where a process started
    now would take its first step (one heap entry, no process)."""
    if env.__class__ is Environment:
        queue: list[Any] = env._queue
        heappush(queue, (env.now, URGENT, next(env._eid), fn, args))
    else:
        start = simpy.Event(env)
        start._ok, start._value = True, None
        start.callbacks.append(lambda _event: fn(*args))
        env.schedule(start, URGENT)
