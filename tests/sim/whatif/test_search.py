"""kubesim plan: the cheapest configuration meeting every requirement, and why."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.whatif import plan

SCENARIO = "scenarios/capacity-gpu.yaml"
COUNT = "cluster.nodePools.gpu.count"
GPUS = r"cluster.nodePools.gpu.capacity.nvidia\.com/gpu"
NO_PENDING = "pods_pending_at_end == 0"


@pytest.mark.parametrize(("replicas", "gpus_per_node"), [(3, 2), (8, 4), (13, 4), (9, 8)],
                         ids=["R3-G2", "R8-G4", "R13-G4", "R9-G8"])
def test_minimum_gpu_nodes_is_replicas_over_gpus_rounded_up(tmp_path: Path, replicas: int, gpus_per_node: int) -> None:
    """For R one-GPU replicas on nodes of G GPUs, the fewest nodes with nothing pending is ceil(R/G)."""
    answer = plan(SCENARIO, {COUNT: "1..12"}, [NO_PENDING], replications=2, jobs=1, out=tmp_path, progress=False,
                  sets=[f"workloads.model-server.spec.replicas={replicas}", f"{GPUS}={gpus_per_node}"])
    assert answer.best is not None
    assert answer.best.point == {COUNT: math.ceil(replicas / gpus_per_node)}
    assert answer.best.objective == pytest.approx(12.29 * math.ceil(replicas / gpus_per_node))
    assert len(answer.evaluated) <= math.ceil(math.log2(12)) + 2  # bisection, not a scan


def test_explanation_names_answer_binding_constraint_and_failing_neighbour(tmp_path: Path) -> None:
    """The explanation gives the configuration, the binding requirement and the neighbour that fails it."""
    answer = plan(SCENARIO, {COUNT: "1..8"}, [NO_PENDING, "pod_ready_p99_s < 10m"], replications=2, jobs=1,
                  out=tmp_path, progress=False, sets=["workloads.model-server.spec.replicas=12"])
    text = answer.explain()
    assert answer.binding is not None
    assert answer.binding.text == NO_PENDING
    assert f"  {COUNT} = 3\n" in text
    assert f"Binding constraint: {NO_PENDING}" in text
    assert f"{COUNT}=2: {NO_PENDING}: mean 4, not 0 in every run -> fails" in text
    assert "bisection over cluster.nodePools.gpu.count" in text
    assert (tmp_path / "plan.txt").read_text().strip() == text
    assert {"plan.csv", "plan.parquet", "runs.csv", "runs.parquet"} <= {p.name for p in tmp_path.iterdir()}


def test_latency_requirement_can_bind(tmp_path: Path) -> None:
    """A ready-time limit the pods cannot meet leaves no answer, and the closest miss is named."""
    answer = plan(SCENARIO, {COUNT: "1..4"}, [NO_PENDING, "pod_ready_p99_s < 30s"], replications=2, jobs=1,
                  out=tmp_path, progress=False)
    assert answer.best is None
    assert "No evaluated configuration meets every requirement" in answer.explain()
    assert "pod_ready_p99_s < 30s: upper bound" in answer.explain()


def test_search_without_a_monotone_axis_is_exhaustive_within_budget(tmp_path: Path) -> None:
    """Over replicas (not monotone), the fewest pods with at least 5 ready is 5 replicas."""
    answer = plan(SCENARIO, {"workloads.model-server.spec.replicas": "1..10"}, ["pods_ready >= 5"],
                  minimize="pods_created", replications=2, jobs=1, out=tmp_path, progress=False)
    assert answer.best is not None
    assert answer.best.point == {"workloads.model-server.spec.replicas": 5}
    assert answer.method.startswith("exhaustive")
    assert len(answer.evaluated) == 10


def test_budgeted_search_stays_within_budget_and_says_so(tmp_path: Path) -> None:
    """With a budget smaller than the grid, at most the budget (plus the answer's neighbours) is run."""
    answer = plan(SCENARIO, {"workloads.model-server.spec.replicas": "1..10"}, ["pods_ready >= 5"],
                  minimize="pods_created", replications=2, jobs=1, out=tmp_path, progress=False, budget=4)
    assert len(answer.evaluated) <= 4 + 2
    assert "may miss the cheapest" in answer.explain()
    assert answer.best is None or answer.best.row["pods_ready_mean"] >= 5


def test_plan_needs_two_replications() -> None:
    """One run per configuration cannot state a confidence."""
    with pytest.raises(ValueError, match="at least 2 replications"):
        plan(SCENARIO, {COUNT: "1..2"}, [NO_PENDING], replications=1)


def test_monotone_path_must_be_varied() -> None:
    """Declaring a path monotone that the search does not vary is a mistake worth naming."""
    with pytest.raises(ValueError, match="--monotone controlPlane.scheduler.qps is not one of the --vary paths"):
        plan(SCENARIO, {COUNT: "1..2"}, [NO_PENDING], monotone=["controlPlane.scheduler.qps"])


def test_minimum_replicas_for_a_latency_target_matches_queueing_theory(tmp_path: Path) -> None:
    """Poisson 40/s split at random over n one-slot replicas (exponential, mean 100 ms): each replica
    is M/M/1 at 40/n, latency is exponential with rate 10 - 40/n, so p99 = ln(100) / (10 - 40/n).
    plan finds the fewest replicas with p99 < 1 s that this closed form gives (at 95% confidence over
    four runs, which 20 simulated minutes per run make tight enough to separate 7, 8 and 9)."""
    lam, mu, target = 40.0, 10.0, 1.0
    expected = next(n for n in range(1, 100) if n * mu > lam and math.log(100) / (mu - lam / n) < target)
    replicas = "workloads.server.spec.replicas"
    answer = plan("scenarios/whatif/mm1-replicas.yaml", {replicas: "5..16"}, [f"latency_p99_s < {target}"],
                  minimize="serving_replica_hours", replications=4, jobs=1, out=tmp_path, progress=False,
                  monotone=[replicas])
    assert expected == 8
    assert answer.best is not None
    assert answer.best.point == {replicas: expected}
    below = next(e for e in answer.evaluated if e.point == {replicas: expected - 1})
    assert below.row["latency_p99_s_mean"] == pytest.approx(math.log(100) / (mu - lam / (expected - 1)), rel=0.05)
