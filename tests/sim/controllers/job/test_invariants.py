"""Property tests of the Job controller over random Jobs whose pods fail at random.

For any mode (NonIndexed, Indexed, work queue), completions, parallelism, backoffLimit and
failure rate, with enough time the Job finishes, and:

(a) at no time do more than ``parallelism`` of its pods run (created, not yet terminal or
    terminating);
(b) Complete means enough successes (every index once for Indexed), Failed with
    BackoffLimitExceeded means more failed pods than backoffLimit;
(c) status.succeeded and status.failed equal the pods that ended Succeeded, and Failed or
    deleted unfinished;
(d) an Indexed Job never has two successes for one index.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import run
from sim.scenario import scenario_from_text

INDEX = "batch.kubernetes.io/job-completion-index"


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(st.sampled_from(["NonIndexed", "Indexed", "WorkQueue"]))
    spec: dict[str, Any] = {"parallelism": draw(st.integers(1, 4)), "backoffLimit": draw(st.integers(0, 3))}
    if mode != "WorkQueue":
        spec["completions"] = draw(st.integers(1, 6))
        spec["completionMode"] = mode
    return {"spec": spec, "probability": draw(st.sampled_from([0.0, 0.2, 0.5, 1.0])), "mode": mode}


def _scenario(job: dict[str, Any]) -> str:
    spec = "\n".join(f"      {key}: {value}" for key, value in job["spec"].items())
    return f"""
name: job-invariants
duration: 2h
cluster:
  nodePools:
  - {{name: w, count: 2, capacity: {{cpu: "8", memory: 16Gi}}}}
workloads:
- name: j
  behavior:
    runDuration: {{dist: uniform, low: 5s, high: 30s}}
    failure: {{probability: {job["probability"]}, after: {{dist: uniform, low: 1s, high: 20s}}}}
  manifests:
  - apiVersion: batch/v1
    kind: Job
    metadata: {{name: j}}
    spec:
{spec}
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: c, image: "img:1", resources: {{requests: {{cpu: "1"}}}}}}]
"""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs())
def test_job_invariants(job: dict[str, Any]) -> None:
    """Random Jobs with random failures keep (a)-(d)."""
    result = run(scenario_from_text(_scenario(job)))
    stored = result.simulation.api.store.get("Job", "default", "j")
    spec = job["spec"]
    frame = result.pods()
    ends = frame[["terminating", "succeeded", "failed", "deleted"]].min(axis=1)
    times = np.concatenate([frame["created"], ends.dropna()])
    steps = np.concatenate([np.ones(len(frame)), -np.ones(int(ends.notna().sum()))])
    assert np.cumsum(steps[np.lexsort((steps, times))]).max() <= spec["parallelism"]  # (a)
    assert stored.finished
    pods = result.simulation.api.store.list("Pod")
    assert all(p.phase in ("Succeeded", "Failed") for p in pods)
    succeeded = [p for p in pods if p.phase == "Succeeded"]
    assert stored.succeeded == len(succeeded)  # (c)
    gone = frame["failed"].notna() | (frame["deleted"].notna() & frame["succeeded"].isna())
    assert stored.failed == gone.sum()
    if job["mode"] == "Indexed":
        indexes = [p.meta.annotations[INDEX] for p in succeeded]
        assert len(indexes) == len(set(indexes))  # (d)
    if stored.condition("Complete") is not None:  # (b)
        assert stored.succeeded >= spec.get("completions", 1)
    else:
        assert stored.condition("Failed").reason == "BackoffLimitExceeded"
        assert stored.failed > spec["backoffLimit"]
