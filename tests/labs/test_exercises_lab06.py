"""Lab 06 checks: a correct answer passes, a wrong one and a malformed one get specific feedback."""

from __future__ import annotations

from exercise_suite import exercise_tests

from labs.exercises.lab06 import check
from labs.solutions.lab06 import ANSWERS

WRONG = [
    ("6.1", 60, "recovery took 367 s"),
    ("6.1", 60, "evicted at 360 s"),
    ("6.2", 300, "recovery took 367 s, over 100 s"),
    ("6.2", 60, "evicted 60 s after that"),
    ("6.2", 900, "never evicted"),
    ("6.3", 400, "loses the whole interval"),
    ("6.3", 40, "Checkpoint less often"),
    ("6.3", 250, "work lost per crash time (s)"),
    ("6.4", "a", "marked Unknown"),
    ("6.5", "b", "valid tolerationSeconds"),
]

MALFORMED = [("6.1", "soon"), ("6.1", [300]), ("6.2", -5), ("6.2", 12.5), ("6.2", {"seconds": 30}),
             ("6.3", 2.5), ("6.3", "often"), ("6.3", 0), ("6.4", 4)]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("6.1", ...).message
    assert "there is no exercise" in check("9.9", 1).message
