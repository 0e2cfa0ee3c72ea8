"""TTL-after-finished controller: a finished Job and its pods go ttlSecondsAfterFinished later."""

from __future__ import annotations

import pytest
from job_fakes import make_job

from sim.api.objects import JobCondition
from sim.controllers.ttlafterfinished import time_left
from sim.engine import run
from sim.scenario import scenario_from_text

COMPLETE = (JobCondition("SuccessCriteriaMet", "CompletionsReached", "", 95.0),
            JobCondition("Complete", "CompletionsReached", "", 95.0))


@pytest.mark.parametrize(("ttl", "conditions", "now", "expected"), [
    (60.0, COMPLETE, 120.0, 35.0),       # completed at 95 s: deleted at 155 s
    (60.0, COMPLETE, 155.0, 0.0),
    (0.0, COMPLETE, 95.0, 0.0),          # TTL 0: deleted as soon as it finishes
    (None, COMPLETE, 500.0, None),       # no TTL: kept
    (60.0, (JobCondition("FailureTarget", "BackoffLimitExceeded", "", 90.0),), 500.0, None),  # not finished yet
    (30.0, (JobCondition("Failed", "DeadlineExceeded", "", 10.0),), 20.0, 20.0),
], ids=["running-ttl", "expired", "zero-ttl", "no-ttl", "not-finished", "failed-job"])
def test_time_left_counts_from_the_finish_condition(ttl: float | None, conditions: tuple, now: float,
                                                    expected: float | None) -> None:
    """Complete or Failed lastTransitionTime + ttlSecondsAfterFinished - now."""
    job = make_job(ttl_seconds_after_finished=ttl, conditions=conditions)
    assert time_left(job, now) == expected


TTL = """
name: ttl
duration: 5m
cluster:
  nodePools:
  - {name: w, count: 1, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: j
  behavior: {runDuration: 20s}
  manifests:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: j}
    spec:
      completions: 2
      parallelism: 2
      ttlSecondsAfterFinished: 60
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: "img:1"}]
"""


def test_a_finished_job_and_its_pods_are_deleted_after_the_ttl() -> None:
    """The Job completes, stays 60 s, then it is deleted and the garbage collector removes its pods."""
    result = run(scenario_from_text(TTL))
    events = result.to_frame()
    job = events[events["kind"] == "Job"].set_index("event")["t"]
    assert job["deleted"] - job["completed"] == pytest.approx(60.0, abs=0.05)
    pods = result.pods()
    assert len(pods) == 2
    assert (pods["deleted"] >= job["deleted"]).all()
    assert result.simulation.api.store.count("Job") == 0
    assert result.simulation.api.store.count("Pod") == 0
