"""The concurrency autoscaler's decider (sim/controllers/kpa.py), as knative's autoscaler_test tables."""

from __future__ import annotations

import pytest

from sim.controllers.kpa import KpaState, bounded, kpa_decide
from sim.workloads.spec import KpaSpec

SPEC = KpaSpec.model_validate({"deployment": "d", "target": 10, "targetUtilization": 1.0})


@pytest.mark.parametrize(("stable", "panic", "ready", "state", "desired", "panicking"), [
    (50, 50, 5, KpaState(), 5, False),
    (51, 51, 5, KpaState(), 6, False),
    (0, 0, 10, KpaState(), 5, False),
    (10, 95, 4, KpaState(), 10, True),
    (10, 10, 4, KpaState(panic_time=90.0, max_panic_pods=12), 12, True),
    (10, 10, 4, KpaState(panic_time=30.0, max_panic_pods=12), 2, False),
    (1000, 1000, 1, KpaState(), 100, True),
    (100, 100, 0, KpaState(), 10, True),
], ids=["at-target", "just-over", "scale-down-at-most-halves", "panic-on-burst", "no-scale-down-in-panic",
        "panic-ends-after-a-stable-window", "large-burst-from-one-pod", "no-ready-pods-counts-as-one"])
def test_kpa_decide(stable: float, panic: float, ready: int, state: KpaState, desired: int,
                    panicking: bool) -> None:
    """Desired pods = ceil(window average / target), clamped, with panic mode's floor."""
    decision = kpa_decide(SPEC, state, stable, panic, ready, now=100.0)
    assert decision.desired == desired
    assert decision.panicking is panicking


def test_panic_threshold_is_200_percent_of_ready_pods() -> None:
    """7 pods wanted by the panic window with 4 ready is 175%: no panic; 8 is 200%: panic."""
    assert not kpa_decide(SPEC, KpaState(), 40, 70, 4, 0.0).panicking
    assert kpa_decide(SPEC, KpaState(), 40, 80, 4, 0.0).panicking


def test_target_value_includes_utilization() -> None:
    """Knative's defaults: target 100 at 70% utilization means 70 in flight per pod."""
    assert KpaSpec.model_validate({"deployment": "d"}).target_value == pytest.approx(70.0)


@pytest.mark.parametrize(("min_scale", "max_scale", "desired", "expected"), [
    (1, 0, 0, 1), (2, 10, 15, 10), (1, 0, 500, 500)],
    ids=["at-least-min", "at-most-max", "unbounded"])
def test_bounds(min_scale: int, max_scale: int, desired: int, expected: int) -> None:
    """minScale and maxScale bound the decision (maxScale 0 is no bound)."""
    spec = KpaSpec.model_validate({"deployment": "d", "minScale": min_scale, "maxScale": max_scale})
    assert bounded(spec, desired) == expected
