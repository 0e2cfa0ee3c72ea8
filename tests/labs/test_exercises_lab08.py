"""Lab 08's checks: the solution passes, wrong answers get feedback from the run, malformed ones an explanation."""

from __future__ import annotations

from exercise_suite import exercise_tests

from labs.exercises.lab08 import check
from labs.solutions.lab08 import ANSWERS

WRONG = [
    ("8.1", 60, "over the 5 s SLO"),
    ("8.1", 200, "find the smallest"),
    ("8.2", "kube-apiserver", "symptom"),
    ("8.2", "scheduler", "scheduling queue never held"),
    ("8.2", "controller-manager", "created all 500 pods"),
    ("8.2", "kubelet", "something all writes share"),
    ("8.3", 20, "over the 1 s SLO"),
    ("8.3", 100, "find the smallest"),
    ("8.4", 60, "under the 800 target"),
    ("8.4", 10, "find the largest"),
    ("8.4", 0, "0 means adaptive"),
    ("8.5", "c", "one Binding per pod"),
    ("8.6", "a", "etcd's commit latency stayed"),
]

MALFORMED = [("8.1", "fast"), ("8.1", -5), ("8.2", 3), ("8.2", "dns"), ("8.3", [40]), ("8.3", 10.5),
             ("8.4", 150), ("8.4", 33.3), ("8.5", 42), ("8.6", "")]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("8.1", ...).message
    assert "there is no exercise" in check("9.9", 1).message
