"""Controller.call_all: a batch of API calls awaited as SimPy's AllOf over one ``call`` each
would be, resuming the waiting process at the same instant and in the same place among the
other entries due then."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simpy

from sim.clock import call_later
from sim.engine import Simulation
from sim.scenario import scenario_from_text

TINY = """
name: tiny
duration: 1m
cluster:
  nodePools:
  - {name: w, count: 1, capacity: {cpu: "4", memory: 8Gi}}
"""


def _timeline(batched: bool, delays: list[float]) -> list[tuple[float, str, Any]]:
    """A process awaits calls completing after ``delays`` (True when the delay is under 1 s),
    with other callbacks due at the instants the calls complete."""
    sim = Simulation(scenario_from_text(TINY))
    env, controller = sim.env, sim.replicaset_controller
    seen: list[tuple[float, str, Any]] = []

    def verb(_client: Any, delay: float, on_done: Callable[[bool], None]) -> None:
        def complete() -> None:
            seen.append((env.now, "completed", delay))
            on_done(delay < 1.0)
            call_later(env, 0.0, seen.append, (env.now, "after-completion", delay))
        call_later(env, delay, complete)
        call_later(env, delay, seen.append, (env.now + delay, "same-instant", delay))

    def waiter():  # type: ignore[no-untyped-def]
        if batched:
            results = yield controller.call_all(verb, delays)
        else:
            done = yield simpy.AllOf(env, [controller.call(verb, d) for d in delays])
            results = list(done.values())
        seen.append((env.now, "resumed", results))
        # due now, and scheduling another entry due now: where the empty batch resumes among them
        call_later(env, 0.0, lambda: call_later(env, 0.0, seen.append, (env.now, "chained", None)))
        results = yield controller.call_all(verb, []) if batched else simpy.AllOf(env, [])
        seen.append((env.now, "resumed-empty", list(results) if not batched else results))

    env.process(waiter())
    env.run(until=10)
    return seen


@pytest.mark.parametrize("delays", [[0.5], [0.5, 2.0, 0.25], [1.5, 1.5, 1.5], [0.75, 0.75, 3.0, 3.0]],
                         ids=["one", "spread", "same-instant", "pairs"])
def test_call_all_resumes_where_all_of_did(delays: list[float]) -> None:
    seen = _timeline(True, delays)
    assert seen == _timeline(False, delays)
    resumed = [entry for entry in seen if entry[1] == "resumed"]
    assert resumed == [(max(delays), "resumed", [d < 1.0 for d in delays])]
