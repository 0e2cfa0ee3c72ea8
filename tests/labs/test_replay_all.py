"""Every scenario the real side supports, replayed on kwok-kubesim and compared with the sim.

The rule for "supported" is ``labs.replay.supported``; the others are skipped with its
reason. A supported scenario is replayed for a short window (``WINDOWS``), the simulator
runs the same scenario cut at the time the replay stopped, and ``labs.compare`` must find
what agrees on KWOK: the same pods created (a Deployment's pods by Deployment), the same
Pending set, and a startup-latency difference it names instead of failing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sim.engine import Simulation
from sim.scenario import load_scenario
from sim.trace import Trace

from labs.compare import compare, render_compare, stable_name
from labs.replay import replay, supported

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.relative_to(ROOT).as_posix() for d in ("scenarios", "scenarios/labs", "scenarios/faults")
                   for p in (ROOT / d).glob("*.yaml"))

# --until in seconds per supported scenario: long enough for every pod to be created and
# scheduled (or to fail scheduling) and for the simulated pods to start (image pulls and
# container starts take seconds there), short enough for the whole file (about 2 minutes).
# No --idle: KWOK settles in about 3 s, before the simulated pods have started, and the
# sim is cut where the replay stopped.
WINDOWS = {"capacity-gpu": 12.0, "fidelity-placement": 10.0, "pod-startup": 12.0, "lab01-pod-startup": 12.0,
           "lab02-gpu-serving": 8.0, "lab05-topology": 10.0, "serving-basic": 12.0,
           "lab04-rollout-real": 8.0,  # before its setImage: on KWOK the rollout is over in a second
           "lab08-startup-burst": 20.0}  # 300 pods at the controller-manager's 20 QPS
DEFAULT_WINDOW = 12.0


def _created(trace: Trace, until: float) -> Counter[str]:
    pods = trace.pods_frame()
    pods = pods[pods["created"] <= until]
    return Counter(stable_name(f"{ns}/{name}") for ns, name in zip(pods["namespace"], pods["name"], strict=True))


def test_scenario_list_covers_the_folders() -> None:
    assert "scenarios/pod-startup.yaml" in SCENARIOS
    assert "scenarios/faults/node-crash.yaml" in SCENARIOS
    assert not any(s.startswith("scenarios/scale/") for s in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS)
def test_replay_and_compare(path: str, kwok_cluster: str) -> None:
    scenario = load_scenario(ROOT / path)
    ok, why = supported(scenario)
    if not ok:
        pytest.skip(f"{scenario.name}: not reproducible on KWOK: {why}")
    until = WINDOWS.get(scenario.name, DEFAULT_WINDOW)
    real = replay(scenario, kwok_cluster, until=until, log=lambda _: None).trace
    cut = float(real.header["replayed_s"])
    sim = Simulation(scenario.model_copy(update={"duration": cut})).run().trace

    result = compare(sim, real)
    assert f"# {scenario.name}: simulation vs real cluster" in render_compare(result, sim, real, [])
    created_sim, created_real = _created(sim, cut), _created(real, cut)
    assert created_real, f"{scenario.name}: no pod created on the cluster within {cut:g} s"
    assert created_real == created_sim, f"{scenario.name}: pods created differ: {result.differences}"
    place = result.placement
    assert place.pending_identical, (f"{scenario.name}: Pending sets differ: sim {place.pending_sim} vs real "
                                     f"{place.pending_real}")
    ms, mr = result.sim_metrics, result.real_metrics
    a, b = ms.get("pod_startup_p50_s"), mr.get("pod_startup_p50_s")
    # (a pod may not have started in the sim yet: capacity-gpu pulls a 7Gi image; KWOK pulls nothing)
    if a is not None and b is not None and abs(a - b) > 0.1 and max(a, b) > 1.5 * min(a, b):
        assert any(d.startswith("real p50 startup") and "KWOK" in d for d in result.differences), result.differences
