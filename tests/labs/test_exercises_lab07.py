"""Lab 07 checks: a correct answer passes, a wrong one and a malformed one get specific feedback."""

from __future__ import annotations

from typing import Any

import pytest

from labs.exercises import Feedback
from labs.exercises.lab07 import check
from labs.solutions.lab07 import ANSWERS
from labs.teach.sharing import load_classes


@pytest.mark.parametrize(("name", "answer"), list(ANSWERS.items()), ids=list(ANSWERS))
def test_solution_passes(name: str, answer: Any) -> None:
    feedback = check(name, answer)
    assert feedback.passed, feedback.message


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


@pytest.mark.parametrize(("name", "answer", "says"), WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_answer_gets_specific_feedback(name: str, answer: Any, says: str) -> None:
    feedback = check(name, answer)
    assert not feedback.passed
    assert says in feedback.message, feedback.message


MALFORMED = [("7.1", "four"), ("7.1", [4]), ("7.2", "Never"), ("7.2", [{"kind": "PriorityClass"}]),
             ("7.2", _edited("serving-high", preemptionPolicy="never")), ("7.2", _edited("serving-high", value="high")),
             ("7.3", 2), ("7.3", 4.5), ("7.3", "four"), ("7.5", 2)]


@pytest.mark.parametrize(("name", "answer"), MALFORMED, ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_answer_explains_without_traceback(name: str, answer: Any) -> None:
    feedback = check(name, answer)
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert "Traceback" not in feedback.message and len(feedback.message) > 20


def test_unanswered_and_unknown() -> None:
    assert "not answered yet" in check("7.2", ...).message
    assert "there is no exercise" in check("9.9", 1).message
