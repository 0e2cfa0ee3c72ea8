"""The real-control-plane columns of make bench (labs/bench.py) that need no cluster."""

from __future__ import annotations

import pytest

from sim import load_scenario, run

from labs.bench import kwok_like_overrides, print_side_by_side

SCENARIO = "scenarios/pod-startup.yaml"


def test_kwok_like_kubelet_leaves_only_the_control_planes_startup_latency() -> None:
    """With no sandbox or container start and a 1 ms relist, start-up is the control plane's
    tens of milliseconds, as on KWOK; the modelled kubelet adds about a second and a half."""
    scenario = load_scenario(SCENARIO)
    modelled = run(scenario).summary
    kwok_like = run(load_scenario(SCENARIO, kwok_like_overrides(scenario))).summary
    assert modelled["pod_startup_p50_s"] > 1.0
    assert kwok_like["pod_startup_p50_s"] < 0.1
    assert kwok_like["pod_startup_p99_s"] < 0.2
    assert kwok_like["pods_ready"] == modelled["pods_ready"]


def test_side_by_side_table_shows_the_three_startups(capsys: pytest.CaptureFixture[str]) -> None:
    row = {"name": "startup-500", "note": "500 nodes", "sim_wall_s": 2.7, "real_wall_s": 255.2, "ratio": 93.0,
           "sim_all_ready_s": 256.9, "real_all_ready_s": 255.2, "sim_pods_ready": 5000, "real_pods_ready": 5000,
           "sim_startup_p50_s": 1.539, "real_startup_p50_s": 0.020, "sim_startup_p99_s": 3.328,
           "real_startup_p99_s": 0.054, "kwok_like_startup_p50_s": 0.014, "kwok_like_startup_p99_s": 0.027}
    print_side_by_side([row, {"name": "other", "note": "x", "sim_wall_s": 1.0, "skipped": "no cluster"}])
    out = capsys.readouterr().out
    assert "1.539 / 0.014 / 0.020" in out
    assert "3.328 / 0.027 / 0.054" in out
    assert "other: real run skipped: no cluster" in out
