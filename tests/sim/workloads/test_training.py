"""Training rendezvous (sim/workloads/training.py): workers start work only together.

The registry alone, then whole runs: a complete job trains and ends Succeeded together, a
job short of workers holds its pods Running for ever, and a worker without its job label is
a load-time error.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import simpy
from builders import make_pod

from sim import run
from sim.api.objects import Pod, RendezvousSpec, WorkloadBehavior
from sim.distributions import Dist
from sim.scenario import ScenarioError, scenario_from_text
from sim.trace import Trace
from sim.workloads.training import Rendezvous

JOB = "batch.kubernetes.io/job-name"


def worker(name: str, job: str, uid: int, world: int = 3, namespace: str = "default",
           run_for: float | None = 60.0) -> Pod:
    pod = make_pod(name, namespace).obj()
    duration = None if run_for is None else Dist(dist="constant", value=run_for)
    behavior = WorkloadBehavior(run_duration=duration, rendezvous=RendezvousSpec(JOB, world))
    pod.spec = replace(pod.spec, behavior=behavior)
    pod.meta.uid, pod.meta.labels[JOB] = uid, job
    return pod


@pytest.fixture
def registry() -> Rendezvous:
    return Rendezvous(simpy.Environment(), Trace(), np.random.default_rng(0))


def test_no_worker_starts_before_the_last_one_joins(registry: Rendezvous) -> None:
    started: list[tuple[str, float | None]] = []

    def start(pod: Pod, seconds: float | None) -> None:
        started.append((pod.meta.name, seconds))

    for i in range(2):
        registry.join(worker(f"w{i}", "j", uid=i), start)
    assert started == []
    assert registry.waiting("default", "j") == 2
    registry.join(worker("w2", "j", uid=2), start)
    assert started == [("w0", 60.0), ("w1", 60.0), ("w2", 60.0)]  # one draw for the job
    assert registry.waiting("default", "j") == 0
    assert registry.started_jobs == 1
    events = registry.trace.to_frame()
    assert list(events["event"]) == ["rendezvous"] * 2 + ["trainingStarted"] * 3
    assert events["message"].iloc[1] == "2/3 workers of job j at rendezvous"


def test_jobs_are_told_apart_by_label_and_namespace(registry: Rendezvous) -> None:
    started: list[str] = []

    def start(pod: Pod, seconds: float | None) -> None:
        started.append(pod.meta.name)

    registry.join(worker("a0", "a", uid=1, world=2), start)
    registry.join(worker("b0", "b", uid=2, world=2), start)
    registry.join(worker("a0-other-ns", "a", uid=3, world=2, namespace="team"), start)
    assert started == []
    registry.join(worker("a1", "a", uid=4, world=2), start)
    assert started == ["a0", "a1"]


def test_a_worker_that_leaves_must_be_replaced(registry: Rendezvous) -> None:
    started: list[str] = []

    def start(pod: Pod, seconds: float | None) -> None:
        started.append(pod.meta.name)

    first = worker("w0", "j", uid=1, world=2)
    registry.join(first, start)
    registry.leave(first)
    assert registry.waiting("default", "j") == 0
    registry.join(worker("w1", "j", uid=2, world=2), start)
    assert started == []
    registry.join(worker("w2", "j", uid=3, world=2), start)
    assert started == ["w1", "w2"]


def _scenario(workers: int, world: int, labelled: bool = True) -> str:
    labels = f"{{{JOB}: train}}" if labelled else "{app: train}"
    pods = "".join(f"""
  - apiVersion: v1
    kind: Pod
    metadata: {{name: w-{i}, labels: {labels}}}
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: pause, resources: {{requests: {{cpu: "1"}}}}}}]
""" for i in range(workers))
    return f"""
name: rendezvous
duration: 10m
cluster:
  nodePools:
  - {{name: n, count: 2, capacity: {{cpu: "8", memory: 32Gi}}}}
workloads:
- name: solo
  at: 5s
  behavior: {{runDuration: 2m}}
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: solo}}
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: pause}}]
- name: train
  at: 5s
  behavior: {{runDuration: 2m, rendezvous: {{worldSize: {world}}}}}
  manifests:{pods}"""


def test_a_complete_job_trains_from_its_last_start_and_ends_together() -> None:
    result = run(scenario_from_text(_scenario(workers=3, world=3)))
    pods = result.pods().set_index("name")
    workers = pods.loc[["w-0", "w-1", "w-2"]]
    assert workers["succeeded"].notna().all()
    assert workers["succeeded"].max() - workers["succeeded"].min() < 1.0  # status writes only
    events = result.to_frame()
    began = events.loc[events["event"] == "trainingStarted", "t"]
    assert len(began) == 3
    assert began.nunique() == 1
    # A worker joins when its kubelet reports Running; the trace's "started" is that status
    # write's commit, a few milliseconds later.
    assert workers["started"].max() - 0.1 <= began.iloc[0] <= workers["started"].max()
    assert workers["succeeded"].min() == pytest.approx(began.iloc[0] + 120, abs=1.0)
    # A pod without a rendezvous still starts its clock when it runs.
    solo = pods.loc["solo"]
    assert solo["succeeded"] == pytest.approx(solo["started"] + 120, abs=1.5)


def test_a_job_short_of_workers_waits_for_ever() -> None:
    result = run(scenario_from_text(_scenario(workers=2, world=3)))
    pods = result.pods().set_index("name").loc[["w-0", "w-1"]]
    assert pods["started"].notna().all()
    assert pods["succeeded"].isna().all()
    assert result.simulation.rendezvous.waiting("default", "train") == 2
    events = result.to_frame()
    assert (events["event"] == "trainingStarted").sum() == 0


def test_a_worker_without_its_job_label_is_a_load_error() -> None:
    expected = "no 'batch.kubernetes.io/job-name' label naming its job"
    with pytest.raises(ScenarioError, match=expected):
        scenario_from_text(_scenario(workers=1, world=1, labelled=False))
