"""Lab 09's checks: the solution passes, wrong answers get feedback from the runs, malformed ones an explanation."""

from __future__ import annotations

from exercise_suite import exercise_tests

from labs.exercises.lab09 import check
from labs.solutions.lab09 import ANSWERS
from labs.teach import capacity

WRONG = [
    ("9.1", 5, "under the 0.95 target"),
    ("9.1", 8, "find the smallest"),
    ("9.2", {"gpu_nodes": 2, "replicas": 6}, "want 10 GPUs and the cluster has 8"),
    ("9.2", {"gpu_nodes": 3, "replicas": 5}, "so add replicas"),
    ("9.2", {"gpu_nodes": 4, "replicas": 8}, "A cheaper cluster exists"),
    ("9.3", "a", "identical runs would have no interval"),
    ("9.4", "c", "not preempted"),
]

MALFORMED = [("9.1", "many"), ("9.1", 2.5), ("9.1", 40), ("9.2", [3, 6]), ("9.2", {"nodes": 3}),
             ("9.2", {"gpu_nodes": "x", "replicas": 6}), ("9.2", {"gpu_nodes": 3, "replicas": -1}), ("9.3", 7)]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("9.2", ...).message
    assert "there is no exercise" in check("8.1", 1).message


def test_the_plan_finds_the_cheapest_cluster_the_checks_compare_with() -> None:
    """9.2's 'a cheaper cluster exists' rests on CHEAPEST_AT_3X: the plan must agree."""
    answer = capacity.plan_nodes(replicas=capacity.CHEAPEST_AT_3X[1])
    assert answer.best is not None
    assert answer.best.point[capacity.NODES] == capacity.CHEAPEST_AT_3X[0]
    assert "training_jobs_completed == 1" in answer.explain().split("Binding constraint:")[1].splitlines()[0]
