"""scenarios/mixed-priority.yaml: serving preempts training on a shared GPU pool, training
resumes from its checkpoint on a node cluster-autoscaler adds, and the pool shrinks again."""

from __future__ import annotations

import re

import pytest

from sim import load_scenario, run

PATH = "scenarios/mixed-priority.yaml"


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return run(load_scenario(PATH))


def _events(result, event: str):  # type: ignore[no-untyped-def]
    df = result.to_frame()
    return df[df["event"] == event]


def test_serving_preempts_only_training_workers(result) -> None:  # type: ignore[no-untyped-def]
    """The HPA's scale-up preempts distinct training workers; no serving pod is ever a victim."""
    preempted = _events(result, "preempted")
    victims = preempted["name"].astype(str)
    assert len(victims) >= 2
    assert victims.is_unique
    assert victims.str.startswith("finetune-").all()
    assert preempted["message"].astype(str).str.contains("Preempted by pod default/llm-server-").all()


def test_training_stops_and_resumes_from_its_checkpoint_on_a_new_node(result) -> None:  # type: ignore[no-untyped-def]
    """Training stops at the first preemption, keeps a multiple of 100 steps and resumes only
    after cluster-autoscaler's node has booted (minutes later); the job still completes."""
    df = result.to_frame()
    jobs = df[df["kind"] == "TrainingJob"].set_index("event")
    first_preemption = float(_events(result, "preempted")["t"].min())
    stopped, resumed = float(jobs.loc["stopped", "t"]), float(jobs.loc["resumed", "t"])
    assert stopped == pytest.approx(first_preemption, abs=1.0)
    checkpoint = int(re.search(r"resumes from checkpoint (\d+)", str(jobs.loc["stopped", "message"])).group(1))
    assert checkpoint % 100 == 0
    assert str(jobs.loc["resumed", "message"]).startswith(f"from step {checkpoint};")
    scale_up = float(_events(result, "scaledUpGroup")["t"].min())
    assert stopped < scale_up < resumed
    assert resumed - scale_up > 120
    pods = result.pods()
    late = pods[pods["name"].str.startswith("finetune-") & (pods["created"] > stopped)]
    assert len(late) == len(_events(result, "preempted"))
    assert set(late["node"]) == {"gpu-3"}
    s = result.summary
    assert s["training_jobs_completed"] == 1
    assert s["training_restarts"] == 1
    assert 0 <= s["training_lost_steps"] < 100


def test_the_trade_off_serving_keeps_its_slo_training_pays_in_time(result) -> None:  # type: ignore[no-untyped-def]
    """Serving stays within its 3 s SLO for ~98 % of requests; training loses a few steps but
    finishes hundreds of seconds later than it would alone."""
    s = result.summary
    assert s["slo_attainment"] > 0.95
    assert s["latency_p99_s"] < 3.5
    alone = run(load_scenario(PATH, ["traffic.0.rate={pattern: constant, rate: 20}"]))
    assert alone.summary["training_restarts"] == 0
    assert s["training_jct_mean_s"] - alone.summary["training_jct_mean_s"] > 240
    assert s["training_goodput"] < alone.summary["training_goodput"]


def test_the_pool_grows_by_one_node_and_shrinks_back(result) -> None:  # type: ignore[no-untyped-def]
    """One scale-up 3 -> 4 (max 5); after training finishes and serving scales in, a node is removed."""
    ups = _events(result, "scaledUpGroup")["message"].astype(str).tolist()
    assert ups == ["Scale-up: setting group gpu size to 4 instead of 3 (max: 5)"]
    df = result.to_frame()
    removed = df[(df["kind"] == "Node") & (df["message"] == "node removed by cluster autoscaler")]
    assert len(removed) == 1
    assert float(removed["t"].iloc[0]) > result.summary["training_jct_mean_s"]


def test_preemption_policy_never_on_serving_spares_training() -> None:
    """With serving-high set to preemptionPolicy Never nothing is preempted: the extra serving
    pods wait for a new node instead, and training runs through."""
    classes = [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "serving-high"},
                "value": 100000, "preemptionPolicy": "Never"},
               {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "training-low"},
                "value": 1000, "preemptionPolicy": "Never"}]
    scenario = load_scenario(PATH, [f"workloads.priorities.manifests={classes}"])
    never = run(scenario)
    assert len(_events(never, "preempted")) == 0
    assert never.summary["training_restarts"] == 0
    assert len(_events(never, "scaledUpGroup")) >= 1
