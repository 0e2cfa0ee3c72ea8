"""Which serving scenarios a KWOK replay reproduces (labs.replay.supported)."""

from __future__ import annotations

import pytest

from labs.replay import supported


@pytest.mark.parametrize(("path", "ok", "reason"), [
    ("scenarios/serving-trace-replay.yaml", True, ""),
    ("scenarios/serving-autoscale-kpa.yaml", False, "serving.autoscalers: the concurrency autoscaler scales on "
                                                    "simulated traffic"),
    ("scenarios/serving-autoscale.yaml", False, "HorizontalPodAutoscaler"),
], ids=["fixed-replicas", "concurrency-autoscaler", "hpa"])
def test_serving_scenarios(path: str, ok: bool, reason: str) -> None:
    """Objects and scale actions replay as-is; scaling on simulated traffic does not."""
    supported_, why = supported(path)
    assert supported_ is ok
    assert reason in why


def test_changed_component_flags_are_not_replayed() -> None:
    """Client limits and inflight seats are the real components' flags: a replay cannot set them."""
    ok, why = supported("scenarios/labs/lab08-fast-clients.yaml")
    assert not ok
    assert "controlPlane controllerManager.qps, controllerManager.burst" in why
    assert supported("scenarios/labs/lab08-startup-burst.yaml") == (True, "")
