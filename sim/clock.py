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

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT

__all__ = ["Environment", "Lane", "call_later", "call_urgent"]


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


class Lane:
    """Callbacks that fall due in the order they are scheduled (a rate limiter's admissions).

    Only the earliest waits on the heap; the others wait behind it in a FIFO, so a long queue
    of them does not deepen the heap that every entry is sifted through. Each keeps the
    insertion count ``call_later`` would have given it and reaches the heap before anything
    after it could be taken, so the run's order is exactly what ``call_later`` gives. One due
    before the last queued goes on the heap directly."""

    __slots__ = ("_env", "_last", "_on_heap", "_waiting")

    def __init__(self, env: simpy.Environment) -> None:
        self._env = env
        self._waiting: deque[tuple[Any, ...]] = deque()
        self._last = 0.0  # when the last callback queued here falls due
        self._on_heap = False  # whether the earliest is on the heap (the FIFO waits behind it)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """``call_later(env, delay, fn, *args)``, queued behind this lane's earlier callbacks."""
        env = self._env
        if env.__class__ is not Environment:
            call_later(env, delay, fn, *args)
            return
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        at = env.now + delay
        if not self._on_heap:
            self._on_heap = True
            heappush(env._queue, (at, NORMAL, next(env._eid), self._due, (fn, args)))  # type: ignore[arg-type]
        elif at >= self._last:  # due no sooner (and counted later) than the last: it comes after it
            self._waiting.append((at, NORMAL, next(env._eid), self._due, (fn, args)))
        else:
            heappush(env._queue, (at, NORMAL, next(env._eid), fn, args))  # type: ignore[arg-type]
            return
        self._last = at

    def _due(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self._waiting:  # the next one takes its place on the heap before anything else is taken
            heappush(self._env._queue, self._waiting.popleft())  # type: ignore[arg-type]
        else:
            self._on_heap = False
        fn(*args)
