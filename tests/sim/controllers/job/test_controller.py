"""The Job controller end to end: whole scenarios through the API server, kubelets and trace."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.api.objects import Job, Pod
from sim.engine import Result, run
from sim.scenario import scenario_from_text

INDEX = "batch.kubernetes.io/job-completion-index"


def job_scenario(spec: str, behavior: str, policy: str = "Never", duration: str = "15m", extra: str = "",
                 cpu: str = "8", nodes: int = 2) -> str:
    """A scenario with Job ``j``: ``spec`` lines go under spec, ``behavior`` is a flow mapping."""
    return f"""
name: job
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: {nodes}, capacity: {{cpu: "{cpu}", memory: 16Gi}}}}
workloads:
- name: j
  behavior: {behavior}
  manifests:
  - apiVersion: batch/v1
    kind: Job
    metadata: {{name: j}}
    spec:
{spec}
      template:
        spec:
          restartPolicy: {policy}
          containers: [{{name: c, image: "img:1", resources: {{requests: {{cpu: "1"}}}}}}]
{extra}"""


def job_of(result: Result, name: str = "j") -> Job:
    job = result.simulation.api.store.get("Job", "default", name)
    assert job is not None
    return job


def pods_of(result: Result) -> list[Pod]:
    """The Job's pods still in the store (Failed and Succeeded pods stay), by creation time."""
    pods = [p for p in result.simulation.api.store.list("Pod") if p.meta.owner is not None]
    return sorted(pods, key=lambda p: p.meta.creation_time)


def job_events(result: Result) -> Any:
    events = result.to_frame()
    return events[events["kind"] == "Job"]


def test_backoff_limit_2_fails_after_three_failed_pods() -> None:
    """Three pods fail (exit 1); the Job fails with reason BackoffLimitExceeded and creates no fourth."""
    result = run(scenario_from_text(job_scenario("      backoffLimit: 2", "{runDuration: 1m, failure: {after: 5s}}")))
    job = job_of(result)
    assert (job.failed, job.succeeded, job.active) == (3, 0, 0)
    failed = job.condition("Failed")
    assert failed is not None
    assert (failed.reason, failed.message) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    pods = pods_of(result)
    assert len(pods) == 3
    assert all(p.phase == "Failed" and p.exit_codes == (("c", 1),) for p in pods)
    events = job_events(result)
    assert list(events["event"]) == ["created", "failed"]
    # the last pod failed, the controller noticed within its 1 s batching
    assert events["t"].iloc[-1] - pods[-1].finish_time == pytest.approx(1.0, abs=1.5)


def test_replacements_wait_10_20_40_seconds_after_each_failure() -> None:
    """The pod-failure backoff: 10 s x 2^(failures-1) from the failed pod's finish time, as the API
    stores it (to the whole second)."""
    result = run(scenario_from_text(job_scenario("      backoffLimit: 3", "{runDuration: 1m, failure: {after: 2s}}")))
    pods = pods_of(result)
    assert len(pods) == 4
    waits = [later.meta.creation_time - math.floor(earlier.finish_time)
             for earlier, later in zip(pods, pods[1:], strict=False)]
    assert waits == pytest.approx([10.0, 20.0, 40.0], abs=0.05)


def test_indexed_job_runs_one_pod_per_index() -> None:
    """completions 4: pods <job>-<index>-<suffix>, index annotation and label, one success each."""
    spec = "      completions: 4\n      parallelism: 4\n      completionMode: Indexed"
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: {dist: uniform, low: 20s, high: 60s}}")))
    pods = pods_of(result)
    assert sorted(int(p.meta.annotations[INDEX]) for p in pods) == [0, 1, 2, 3]
    for pod in pods:
        index = pod.meta.annotations[INDEX]
        assert pod.meta.labels[INDEX] == index
        assert pod.meta.name.startswith(f"j-{index}-")
        assert len(pod.meta.name) == len(f"j-{index}-") + 5
        assert pod.meta.labels["batch.kubernetes.io/job-name"] == pod.meta.labels["job-name"] == "j"
        assert pod.meta.labels["batch.kubernetes.io/controller-uid"] == str(job_of(result).meta.uid)
    job = job_of(result)
    assert (job.completed_indexes, job.succeeded) == ("0-3", 4)
    complete = job.condition("Complete")
    assert complete is not None
    assert complete.reason == "CompletionsReached"
    assert complete.last_transition_time > max(p.finish_time for p in pods)


def test_indexed_job_is_not_complete_while_one_index_keeps_failing() -> None:
    """Indexes 0 and 2 succeed, index 1 always fails: the Job fails instead of completing."""
    spec = "      completions: 3\n      parallelism: 3\n      completionMode: Indexed\n      backoffLimit: 1"
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: 10s, failure: {indexes: [1], after: 5s}}")))
    job = job_of(result)
    assert job.condition("Complete") is None
    assert job.condition("Failed").reason == "BackoffLimitExceeded"
    assert (job.failed, job.completed_indexes) == (2, "0,2")
    by_index: dict[str, list[str]] = {}
    for pod in pods_of(result):
        by_index.setdefault(pod.meta.annotations[INDEX], []).append(pod.phase)
    assert by_index["1"] == ["Failed", "Failed"]


def test_parallelism_caps_the_pods_running_at_once() -> None:
    """completions 6, parallelism 2: never more than two pods between creation and success."""
    spec = "      completions: 6\n      parallelism: 2"
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: {dist: uniform, low: 10s, high: 30s}}")))
    frame = result.pods()
    assert len(frame) == 6
    assert frame["succeeded"].notna().all()
    times = np.concatenate([frame["created"], frame["succeeded"]])
    steps = np.concatenate([np.ones(6), -np.ones(6)])
    order = np.lexsort((steps, times))  # at equal times, count the success first
    assert np.cumsum(steps[order]).max() == 2
    assert job_of(result).succeeded == 6


def test_work_queue_job_completes_when_its_pods_are_done() -> None:
    """completions unset, parallelism 3: three pods; once one succeeds no new pod starts."""
    result = run(scenario_from_text(job_scenario("      parallelism: 3",
                                                 "{runDuration: {dist: uniform, low: 10s, high: 40s}}")))
    job = job_of(result)
    assert len(pods_of(result)) == 3
    assert job.succeeded == 3
    assert job.condition("Complete") is not None


def test_pod_failure_policy_failjob_fails_at_the_first_matching_exit_code() -> None:
    """An exit code 42 matched by a FailJob rule fails the Job at once, despite backoffLimit 6."""
    spec = """      podFailurePolicy:
        rules:
        - {action: FailJob, onExitCodes: {operator: In, values: [42]}}"""
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: 1m, failure: {exitCode: 42, after: 3s}}")))
    job = job_of(result)
    assert len(pods_of(result)) == 1
    failed = job.condition("Failed")
    assert failed.reason == "PodFailurePolicy"
    assert failed.message.startswith("Container c for pod default/j-")
    assert "exit code 42 matching FailJob rule" in failed.message


PREEMPTOR = """
- name: classes
  manifests: [{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: urgent}, value: 1000}]
- name: urgent
  at: 30s
  behavior: {runDuration: 40s}
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: urgent}
    spec:
      priorityClassName: urgent
      restartPolicy: Never
      containers: [{name: c, image: "img:1", resources: {requests: {cpu: "1"}}}]
"""


@pytest.mark.parametrize(("policy", "outcome", "failed"), [
    ("", "Failed", 1),
    ("""      podFailurePolicy:
        rules:
        - {action: Ignore, onPodConditions: [{type: DisruptionTarget}]}""", "Complete", 0),
], ids=["no-policy", "ignore-disruption"])
def test_a_preempted_pod_is_ignored_by_a_disruption_target_rule(policy: str, outcome: str, failed: int) -> None:
    """The scheduler marks its victim DisruptionTarget; an Ignore rule keeps backoffLimit 0 intact."""
    spec = "      backoffLimit: 0\n" + policy
    text = job_scenario(spec.rstrip("\n"), "{runDuration: 2m}", cpu="1", nodes=1, extra=PREEMPTOR)
    result = run(scenario_from_text(text))
    job = job_of(result)
    assert job.condition(outcome) is not None
    assert job.failed == failed
    events = result.to_frame()
    assert (events["event"] == "preempted").sum() == 1


def test_active_deadline_fails_the_job_and_deletes_its_pods() -> None:
    """activeDeadlineSeconds 20: running pods are deleted and the Job fails with DeadlineExceeded."""
    spec = "      activeDeadlineSeconds: 20\n      completions: 2\n      parallelism: 2"
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: 5m}")))
    job = job_of(result)
    failed = job.condition("Failed")
    assert (failed.reason, failed.message) == ("DeadlineExceeded", "Job was active longer than specified deadline")
    assert job.condition("FailureTarget").last_transition_time == pytest.approx(job.start_time + 20, abs=0.05)
    frame = result.pods()
    assert frame["terminating"].notna().all()
    assert frame["deleted"].notna().all()
    assert (frame["terminating"] - job.start_time).between(20, 20.1).all()
    assert job.failed == 2


def test_on_failure_restarts_containers_until_the_backoff_limit() -> None:
    """restartPolicy OnFailure: one pod restarts in place; 2 restarts reach backoffLimit 2."""
    result = run(scenario_from_text(job_scenario("      backoffLimit: 2", "{runDuration: 1m, failure: {after: 3s}}",
                                                 policy="OnFailure")))
    job = job_of(result)
    assert job.condition("Failed").reason == "BackoffLimitExceeded"
    events = result.to_frame()
    assert (events["event"] == "restarted").sum() == 2
    assert result.pods()["created"].count() == 1


def test_indexed_job_trains_as_one_distributed_job() -> None:
    """Four workers of an Indexed Job meet at rendezvous by their job-name label and finish together."""
    spec = "      completions: 4\n      parallelism: 4\n      completionMode: Indexed"
    result = run(scenario_from_text(job_scenario(spec, "{runDuration: 2m, rendezvous: {worldSize: 4}}")))
    events = result.to_frame()
    started = events.loc[events["event"] == "trainingStarted", "t"]
    assert len(started) == 4
    assert started.nunique() == 1
    assert job_of(result).condition("Complete") is not None


def test_hpo_sweep_retries_each_trial_once_and_reports_failed_indexes() -> None:
    """scenarios/hpo-sweep.yaml: 8 trials at a time; a trial failing twice is a failed index."""
    from sim import load_scenario

    result = run(load_scenario("scenarios/hpo-sweep.yaml"))
    job = job_of(result, "sweep")
    phases: dict[str, list[str]] = {}
    for pod in pods_of(result):
        phases.setdefault(pod.meta.annotations[INDEX], []).append(pod.phase)
    assert len(phases) == 32
    failed_indexes = sorted(int(ix) for ix, seen in phases.items() if seen == ["Failed", "Failed"])
    assert all(seen in (["Succeeded"], ["Failed", "Succeeded"], ["Failed", "Failed"]) for seen in phases.values())
    assert job.failed_indexes == ",".join(map(str, failed_indexes))
    assert job.succeeded == 32 - len(failed_indexes)
    frame = result.pods()
    ends = frame[["succeeded", "failed"]].min(axis=1)
    times = np.concatenate([frame["created"], ends])
    steps = np.concatenate([np.ones(len(frame)), -np.ones(len(frame))])
    assert np.cumsum(steps[np.lexsort((steps, times))]).max() == 8
    outcome = "Failed" if failed_indexes else "Complete"
    assert job.condition(outcome) is not None
