"""Lab 04's exercise checks: the solution passes, wrong answers get specific feedback, malformed ones a hint."""

from __future__ import annotations

from typing import Any

import pytest
from exercise_suite import exercise_tests

from labs.exercises.lab04 import check
from labs.solutions.lab04 import ANSWERS
from labs.teach.rollout import surge_bounds

WRONG = [
    ("4.1", {"maxSurge": 2, "maxUnavailable": 0}, "needs maxUnavailable > 0"),
    ("4.1", {"maxSurge": "25%", "maxUnavailable": "25%"}, "sat Pending"),
    ("4.1", {"maxSurge": 0, "maxUnavailable": 1}, "too slow"),
    ("4.1", {"maxSurge": 0, "maxUnavailable": 4}, "the traffic needs 6"),
    ("4.2", "a", "unless a probe asks"),
    ("4.3", 60, "marked failed"),
    ("4.3", 300, "reported 301 s after the change"),
    ("4.4", "a", "never rolls back by itself"),
]

MALFORMED = [("4.1", [0, 2]), ("4.1", {"maxSurge": 0}), ("4.1", {"maxSurge": "lots", "maxUnavailable": 1}),
             ("4.1", {"maxSurge": 0, "maxUnavailable": 0}), ("4.1", {"maxSurge": True, "maxUnavailable": 1}),
             ("4.3", "soon"), ("4.3", -1), ("4.2", 7)]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("4.1", {"maxSurge": ..., "maxUnavailable": ...}).message
    assert "not answered yet" in check("4.3", ...).message
    assert "there is no exercise" in check("9.9", 1).message


@pytest.mark.parametrize(("surge", "unavailable", "bounds"),
                         [("25%", "25%", (10, 6)), (0, 2, (8, 6)), ("10%", "10%", (9, 8)), (0, 0, (8, 7))])
def test_surge_bounds_round_like_upstream(surge: Any, unavailable: Any, bounds: tuple[int, int]) -> None:
    assert surge_bounds(8, surge, unavailable) == bounds
