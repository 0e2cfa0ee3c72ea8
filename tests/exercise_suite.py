"""The three tests every lab's exercise checks get: the shipped solution passes, a wrong answer
fails with feedback that names what the simulation did, and a malformed answer gets a helpful
message instead of a traceback. A lab's test module lists its cases and binds the tests:

    test_solution_passes, test_wrong_answer_gets_specific_feedback, \\
        test_malformed_answer_explains_without_traceback = exercise_tests(check, ANSWERS, WRONG, MALFORMED)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from labs.exercises import Feedback

Check = Callable[[str, Any], Feedback]


def exercise_tests(check: Check, answers: Mapping[str, Any], wrong: Sequence[tuple[str, Any, str]],
                   malformed: Sequence[tuple[str, Any]]) -> tuple[Callable[..., None], ...]:
    """The solution, wrong-answer and malformed-answer tests of one lab's ``check``."""

    @pytest.mark.parametrize(("name", "answer"), list(answers.items()), ids=list(answers))
    def test_solution_passes(name: str, answer: Any) -> None:
        feedback = check(name, answer)
        assert feedback.passed, feedback.message

    @pytest.mark.parametrize(("name", "answer", "says"), wrong, ids=[f"{w[0]}-{i}" for i, w in enumerate(wrong)])
    def test_wrong_answer_gets_specific_feedback(name: str, answer: Any, says: str) -> None:
        feedback = check(name, answer)
        assert not feedback.passed
        assert says in feedback.message, feedback.message

    @pytest.mark.parametrize(("name", "answer"), malformed, ids=[f"{m[0]}-{i}" for i, m in enumerate(malformed)])
    def test_malformed_answer_explains_without_traceback(name: str, answer: Any) -> None:
        feedback = check(name, answer)
        assert isinstance(feedback, Feedback)
        assert not feedback.passed
        assert "Traceback" not in feedback.message
        assert len(feedback.message) > 20

    return (test_solution_passes, test_wrong_answer_gets_specific_feedback,
            test_malformed_answer_explains_without_traceback)
