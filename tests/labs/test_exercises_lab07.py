"""Lab 07 checks: a correct answer passes, a wrong one and a malformed one get specific feedback."""

from __future__ import annotations

from typing import Any

from exercise_suite import exercise_tests

from labs.exercises.lab07 import check
from labs.solutions.lab07 import ANSWERS
from labs.teach.sharing import load_classes


def _edited(name: str, **fields: Any) -> list[dict[str, Any]]:
    classes = load_classes()
    for doc in classes:
        if doc["metadata"]["name"] == name:
            doc.update(fields)
    return classes


WRONG = [
    ("7.1", 2, "the scheduler preempted 4 pods, not 2"),
    ("7.2", load_classes(), "4 training workers were still preempted"),
    ("7.2", _edited("training-low", preemptionPolicy="Never"), "belongs on the class of the pods that would preempt"),
    ("7.2", _edited("serving-high", value=10), "no longer outranks training-low"),
    ("7.3", 3, "did not finish within the hour"),
    ("7.3", 6, "only ever needed 4 nodes"),
    ("7.4", "a", "still preempts"),
    ("7.5", "a", "scale-down-unneeded-time"),
]

MALFORMED = [("7.1", "four"), ("7.1", [4]), ("7.2", "Never"), ("7.2", [{"kind": "PriorityClass"}]),
             ("7.2", _edited("serving-high", preemptionPolicy="never")), ("7.2", _edited("serving-high", value="high")),
             ("7.3", 2), ("7.3", 4.5), ("7.3", "four"), ("7.5", 2)]

test_solution_passes, test_wrong_answer_gets_specific_feedback, \
    test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("7.2", ...).message
    assert "there is no exercise" in check("9.9", 1).message
