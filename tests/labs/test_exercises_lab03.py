"""Lab 03's exercise checks: the solution passes, wrong answers get specific feedback, malformed ones a hint."""

from __future__ import annotations

from exercise_suite import exercise_tests

from labs.exercises.lab03 import check
from labs.solutions.lab03 import ANSWERS

WRONG = [
    ("3.1", 8, "of the spike's requests were served within 3 s"),
    ("3.1", 1, "over the budget"),
    ("3.2", "model load", "another stage took longer"),
    ("3.2", "HPA", "image pull 72 s"),
    ("3.3", 60, "flap"),
    ("3.3", 300, "no fewer than the default"),
    ("3.4", "a", "noticed within one 15 s sync"),
    ("3.5", "a", "does not delay scale-ups"),
]

MALFORMED = [("3.1", "lots"), ("3.1", [3]), ("3.1", 0), ("3.2", 5), ("3.2", "something"), ("3.3", -5),
             ("3.3", "long"), ("3.4", 42), ("3.5", "z")]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("3.1", ...).message
    assert "there is no exercise" in check("9.9", 1).message
