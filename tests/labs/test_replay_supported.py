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
