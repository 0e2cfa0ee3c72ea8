"""Each exercise check: a correct answer passes, a wrong one and a malformed one get feedback."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from labs.exercises import Feedback
from labs.teach.serving import load_manifests

LABS = ["lab01", "lab02", "lab05"]


def _cases() -> list[tuple[str, str, Any]]:
    return [(lab, name, answer) for lab in LABS
            for name, answer in importlib.import_module(f"labs.solutions.{lab}").ANSWERS.items()]


def _check(lab: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"labs.exercises.{lab}").check


@pytest.mark.parametrize(("lab", "name", "answer"), _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_solution_passes(lab: str, name: str, answer: Any) -> None:
    """The shipped solution passes its check."""
    feedback = _check(lab)(name, answer)
    assert feedback.passed, feedback.message


WRONG = [
    ("lab01", "1.1", ["created", "bound", "scheduled", "pulling", "pulled", "started", "ready"], "before"),
    ("lab01", "1.2", "binding", "as long"),
    ("lab01", "1.3", 700, "over the 1 s SLO"),
    ("lab01", "1.3", 100, "find the largest"),
    ("lab01", "1.4", "a", "kubelet only reads"),
    ("lab02", "2.1", 4, "each is rejected for one reason"),
    ("lab02", "2.2", load_manifests(), "untolerated taint"),
    ("lab02", "2.3", "b", "not Ready"),
    ("lab05", "5.1", 4, "train-a"),
    ("lab05", "5.2", {"gpu-0": 4, "gpu-1": 4}, "crosses zones"),
    ("lab05", "5.3", 200, "Checkpoint more often"),
    ("lab05", "5.3", 50, "Checkpoint less often"),
    ("lab05", "5.4", "d", "deadlocks"),
]


@pytest.mark.parametrize(("lab", "name", "answer", "says"), WRONG, ids=[f"{w[1]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_answer_gets_specific_feedback(lab: str, name: str, answer: Any, says: str) -> None:
    """A wrong answer fails with a message about what the simulation did."""
    feedback = _check(lab)(name, answer)
    assert not feedback.passed
    assert says in feedback.message


MALFORMED = [("lab01", "1.1", "created"), ("lab01", "1.3", "fast"), ("lab01", "1.4", 42),
             ("lab02", "2.1", [2]), ("lab02", "2.2", "tolerations: []"), ("lab02", "2.2", [{"kind": "Service"}]),
             ("lab05", "5.2", ["gpu-0"]), ("lab05", "5.2", {"gpu-99": 8}), ("lab05", "5.3", 2.5)]


@pytest.mark.parametrize(("lab", "name", "answer"), MALFORMED, ids=[f"{m[1]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_answer_explains_without_traceback(lab: str, name: str, answer: Any) -> None:
    """A malformed answer returns feedback (never raises) that says what shape is expected."""
    feedback = _check(lab)(name, answer)
    assert isinstance(feedback, Feedback)
    assert not feedback.passed
    assert "Traceback" not in feedback.message
    assert len(feedback.message) > 20


@pytest.mark.parametrize("lab", LABS)
def test_unanswered_and_unknown(lab: str) -> None:
    """``...`` and an unknown exercise name both get a plain explanation."""
    check = _check(lab)
    first = next(iter(importlib.import_module(f"labs.solutions.{lab}").ANSWERS))
    assert "not answered yet" in check(first, ...).message
    assert "there is no exercise" in check("9.9", 1).message


def test_feedback_shows_as_one_line() -> None:
    assert repr(Feedback(True, "ok")) == "PASS: ok"
    assert "Not yet" in Feedback(False, "x")._repr_markdown_()
