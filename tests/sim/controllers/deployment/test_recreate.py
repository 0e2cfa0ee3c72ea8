"""recreate.go: old pods must be gone, terminating ones included, before the new RS appears."""

from __future__ import annotations

import pytest
from builders import make_pod

from sim.api.objects import FAILED, RUNNING, SUCCEEDED, Pod
from sim.controllers.deployment.recreate import old_pods_running, scale_down_old_for_recreate
from sim.controllers.deployment.util import RSState


def pod_in_phase(name: str, phase: str, terminating: bool) -> Pod:
    pod = make_pod(name).obj()
    pod.phase = phase
    pod.meta.deletion_time = 1.0 if terminating else None
    return pod


def test_scale_down_old_for_recreate() -> None:
    """Every active old RS goes to 0; empty ones are left alone."""
    assert scale_down_old_for_recreate([RSState("a", 3), RSState("b", 0)]) == {"a": 0}


@pytest.mark.parametrize(("actual", "phases", "terminating", "running"), [
    (2, [], False, True),                  # the old RS still counts pods
    (0, [RUNNING], True, True),            # a terminating pod still runs until it is gone
    (0, [SUCCEEDED, FAILED], False, False),  # terminal pods do not count
    (0, [], False, False),
], ids=["status-replicas", "terminating-pod", "terminal-pods", "nothing-left"])
def test_old_pods_running(actual: int, phases: list[str], terminating: bool, running: bool) -> None:
    """Recreate waits while an old RS reports pods or any old pod is not Succeeded/Failed."""
    pods = [pod_in_phase(f"p{i}", phase, terminating) for i, phase in enumerate(phases)]
    assert old_pods_running([RSState("old", 0, actual=actual)], pods) is running
