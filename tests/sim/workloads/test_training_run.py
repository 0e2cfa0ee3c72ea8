"""A training job with checkpoints loses a worker, resumes from its checkpoint and finishes."""

from __future__ import annotations

import re

import pytest

from sim import load_scenario, run


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return run(load_scenario("scenarios/training-distributed.yaml"))


def _job_events(result) -> dict[str, tuple[float, str]]:  # type: ignore[no-untyped-def]
    df = result.to_frame()
    jobs = df[df["kind"] == "TrainingJob"]
    return {str(e): (float(t), str(m)) for e, t, m in zip(jobs["event"], jobs["t"], jobs["message"], strict=True)}


def test_job_stops_at_the_loss_and_resumes_from_the_last_checkpoint(result) -> None:  # type: ignore[no-untyped-def]
    """Losing worker-3 at 600 s stops training; it resumes from a multiple of 100 steps."""
    events = _job_events(result)
    assert list(events) == ["started", "stopped", "resumed", "completed"]
    stopped_at, message = events["stopped"]
    assert stopped_at == pytest.approx(600.0, abs=0.1)
    done, checkpoint, lost = map(int, re.search(r"step (\d+); resumes from checkpoint (\d+) \((\d+)", message).groups())
    assert checkpoint % 100 == 0
    assert 0 <= done - checkpoint == lost < 100
    assert events["resumed"][1].startswith(f"from step {checkpoint};")


def test_completion_time_accounts_for_lost_work(result) -> None:  # type: ignore[no-untyped-def]
    """JCT > ideal run time; goodput = useful time / job time < 1; 7 + 1 workers succeed."""
    s = result.summary
    assert s["training_jobs_completed"] == 1
    assert s["training_restarts"] == 1
    assert s["training_lost_steps"] > 0
    assert 0.5 < s["training_goodput"] < 1.0
    pods = result.pods().set_index("name")
    finished = pods["succeeded"].notna()
    assert finished.sum() == 8
    assert not finished["worker-3"]
    assert (pods.loc[finished, "succeeded"] >= _job_events(result)["completed"][0] - 1e-6).all()


def test_a_straggler_slows_every_step() -> None:
    """A node at half speed doubles the compute part of every step for the whole job."""
    base = run(load_scenario("scenarios/training-distributed.yaml", ["duration=11m"]))
    slow = run(load_scenario("scenarios/training-distributed.yaml",
                             ["duration=11m", "cluster.nodePools.gpu.labels={kubesim.io/relative-speed: '0.5'}"]))
    step = lambda r: float(re.search(r"([\d.]+)s per step", _job_events(r)["started"][1]).group(1))  # noqa: E731
    assert step(slow) == pytest.approx(step(base) + (step(base) - 0.15), rel=0.1)


def test_a_job_trains_on_nodes_the_cluster_autoscaler_adds() -> None:
    """Half the workers wait for a node cluster-autoscaler boots; the all-reduce then crosses to it."""
    over = ["cluster.nodePools.gpu.count=1", "cluster.nodePools.gpu.autoscaling={min: 1, max: 2}",
            "timeline=[]", "duration=40m"]
    scenario = load_scenario("scenarios/training-distributed.yaml", over)
    result = run(scenario.model_copy(update={"workloads": scenario.workloads[:1]}))
    events = _job_events(result)
    assert "started" in events
    assert events["started"][0] > 120
    assert result.summary["training_jobs_completed"] == 1
    assert set(result.pods()["node"]) == {"gpu-0", "gpu-1"}


def test_a_job_that_never_trains_counts_as_not_completed() -> None:
    """Workers short of GPUs wait at the rendezvous: the job is reported, with 0 completed, not left out."""
    s = run(load_scenario("scenarios/training-distributed.yaml",
                          ["cluster.nodePools.gpu.count=1", "duration=11m"])).summary
    assert s["training_jobs"] == 1
    assert s["training_jobs_completed"] == 0
    assert s["training_jct_max_s"] is None
    assert s["training_lost_steps"] == 0
