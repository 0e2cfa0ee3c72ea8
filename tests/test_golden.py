"""Golden runs: each shipped scenario's key figures and first events are pinned.

A behaviour change shows up here as a diff; regenerate on purpose with
``pytest tests/test_golden.py --update-goldens`` and review the diff in the same commit.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import pytest

from sim import load_scenario, run

GOLDEN_DIR = Path("tests/golden")
SCENARIOS = ["scenarios/serving-basic.yaml", "scenarios/pod-startup.yaml", "scenarios/hpo-sweep.yaml",
             "scenarios/hpa-basic.yaml", "scenarios/cluster-autoscaler.yaml", "scenarios/capacity-gpu.yaml",
             "scenarios/serving-rollout.yaml", "scenarios/serving-maintenance.yaml", "scenarios/serving-autoscale.yaml",
             "scenarios/serving-trace-replay.yaml", "scenarios/mixed-priority.yaml"]
PINNED = ("pods_created", "pods_scheduled", "pods_ready", "pods_pending_at_end", "pod_startup_p50_s",
          "pod_startup_p99_s", "pod_ready_p50_s", "pod_ready_p99_s", "scheduling_latency_p99_s",
          "scheduling_attempts", "apiserver_requests", "etcd_writes", "etcd_commit_p99_s", "cost_total")
SERVING_PINNED = ("requests_offered", "requests_served", "requests_dropped", "requests_timed_out", "latency_p50_s",
                  "latency_p99_s", "slo_attainment", "serving_replica_hours")  # scenarios with traffic
TRAINING_PINNED = ("training_jobs_completed", "training_jct_mean_s", "training_lost_steps", "training_restarts",
                   "training_goodput")  # scenarios with training jobs
FIRST_EVENTS = 25


def _golden_of(path: str) -> dict:
    result = run(load_scenario(path))
    events = [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in e.items()}
              for e in islice(result.trace.events(), FIRST_EVENTS)]
    pinned = PINNED + tuple(k for k in SERVING_PINNED + TRAINING_PINNED if k in result.summary)
    return {"summary": {k: result.summary[k] for k in pinned}, "first_events": events}


@pytest.mark.parametrize("path", SCENARIOS, ids=[Path(p).stem for p in SCENARIOS])
def test_scenario_matches_golden(path: str, update_goldens: bool) -> None:
    """The scenario reproduces its pinned summary and first events exactly."""
    golden_file = GOLDEN_DIR / f"{Path(path).stem}.json"
    actual = _golden_of(path)
    if update_goldens or not golden_file.exists():
        golden_file.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        if not update_goldens:
            pytest.fail(f"{golden_file} did not exist; written now — review and commit it")
    expected = json.loads(golden_file.read_text())
    assert actual["summary"] == expected["summary"]
    assert actual["first_events"] == expected["first_events"]
