"""call_later on kubesim's Environment runs callbacks in the order SimPy's Timeouts would."""

from __future__ import annotations

from functools import partial

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.clock import Environment, Lane, call_later, call_urgent


def _trace(env: simpy.Environment) -> list[tuple[float, str]]:
    seen: list[tuple[float, str]] = []

    def note(label: str) -> None:
        seen.append((env.now, label))

    def proc():  # type: ignore[no-untyped-def]
        yield env.timeout(1.0)
        note("process")
        call_later(env, 0.0, note, "after-process")
        yield env.timeout(0.5)
        note("process-again")

    call_later(env, 1.0, note, "first")
    env.process(proc())
    call_later(env, 1.0, note, "second")
    call_later(env, 0.25, lambda: call_later(env, 0.75, note, "nested"))
    call_later(env, 1.5, note, "late")
    call_later(env, 2.0, note, "normal-at-2")
    call_later(env, 2.0, lambda: call_urgent(env, note, "urgent-from-2"))
    call_later(env, 2.0, note, "normal-at-2-again")
    call_urgent(env, note, "urgent-at-start")
    env.run(until=3)
    return seen


def test_same_order_as_plain_simpy() -> None:
    """Callbacks and processes interleave exactly as with a Timeout per callback; an urgent
    callback runs before the instant's normal entries, where a process started then would."""
    seen = _trace(Environment())
    assert seen == _trace(simpy.Environment())
    assert seen[0] == (0, "urgent-at-start")
    assert [label for t, label in seen if t == 2.0] == ["normal-at-2", "urgent-from-2", "normal-at-2-again"]


def test_event_count_and_negative_delay() -> None:
    """Each callback takes one event id, as a Timeout did; a negative delay is refused."""
    counts = []
    for env in (Environment(), simpy.Environment()):
        call_later(env, 1.0, lambda: None)
        env.run(until=2)
        counts.append(next(env._eid))
    assert counts[0] == counts[1]
    env = Environment()
    with pytest.raises(ValueError, match="Negative delay"):
        call_later(env, -1.0, lambda: None)


def test_now_is_one_clock_for_simpy_and_callbacks() -> None:
    """``now`` is a plain attribute here; SimPy's own code reads and sets ``_now``: the two
    stay one value through SimPy's steps, the callback loop, ``step`` and a start time."""
    env = Environment(initial_time=5.0)
    assert env.now == env._now == 5.0
    seen: list[tuple[str, float, float]] = []

    def proc():  # type: ignore[no-untyped-def]
        yield env.timeout(1.5)  # SimPy's step sets _now
        seen.append(("process", env.now, env._now))
        call_later(env, 0.25, lambda: seen.append(("callback", env.now, env._now)))

    env.process(proc())
    env.run(until=10)
    assert seen == [("process", 6.5, 6.5), ("callback", 6.75, 6.75)]
    assert env.now == env._now == 10.0
    env = Environment(initial_time=10.0)
    call_later(env, 2.0, lambda: None)
    env.step()  # a callback entry by ``step``
    assert env.now == env._now == 12.0
    env.timeout(1.0)
    env.step()  # a SimPy entry by ``step``
    assert env.now == env._now == 13.0


def _lane_run(use_lane: bool, plan: list[tuple[float, float, bool]]) -> list[tuple[float, int]]:
    """Callbacks scheduled at ``start`` with ``delay``, through one lane (``laned``) or the heap,
    among plain ones; the callbacks themselves schedule more, so entries join mid-run."""
    env = Environment()
    lane = Lane(env)
    seen: list[tuple[float, int]] = []

    def note(i: int) -> None:
        seen.append((env.now, i))
        if i % 3 == 0:  # a callback that schedules another (laned or not) as it runs
            later = lane.call_later if use_lane and i % 2 == 0 else partial(call_later, env)
            later(0.0 if i % 4 == 0 else 0.5, note, 1000 + i)

    for i, (start, delay, laned) in enumerate(plan):
        later = lane.call_later if use_lane and laned else partial(call_later, env)
        call_later(env, start, later, delay, note, i)
    env.run(until=100)
    return seen


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0]),
                          st.booleans()), max_size=40))
def test_lane_runs_callbacks_in_call_later_order(plan: list[tuple[float, float, bool]]) -> None:
    """Callbacks queued in a lane run at the same instants and in the same order as with
    ``call_later``, whichever fall due out of order or at one instant with plain entries."""
    assert _lane_run(True, plan) == _lane_run(False, plan)


def test_lane_keeps_one_entry_on_the_heap() -> None:
    env = Environment()
    lane = Lane(env)
    seen: list[int] = []
    for i in range(50):
        lane.call_later(1.0 + i, seen.append, i)
    assert len(env._queue) == 1
    lane.call_later(0.5, seen.append, -1)  # due before the last queued: straight on the heap
    assert len(env._queue) == 2
    env.run(until=100)
    assert seen == [-1, *range(50)]
    with pytest.raises(ValueError, match="Negative delay"):
        lane.call_later(-1.0, seen.append, 0)
    plain = simpy.Environment()  # on SimPy's own environment a lane is plain call_later
    Lane(plain).call_later(1.0, seen.append, 99)
    plain.run(until=2)
    assert seen[-1] == 99
