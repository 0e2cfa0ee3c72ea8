"""Exercise checks for the teaching notebooks, one module per lab (``lab01``, ``lab02``, ...).

Every ``check(name, answer)`` returns a :class:`Feedback` that says what the simulation did
with the learner's answer, never raises on a malformed answer, and shows as one line.
Solutions live apart, in ``labs.solutions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.scenario import ScenarioError

__all__ = ["Feedback", "checker", "multiple_choice"]


@dataclass(frozen=True, slots=True)
class Feedback:
    """The outcome of one check: passed or not, and a message that says why."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("PASS: " if self.passed else "NOT YET: ") + self.message

    def _repr_markdown_(self) -> str:
        return ("✅ **Correct.** " if self.passed else "❌ **Not yet.** ") + self.message


def _unanswered(answer: Any) -> bool:
    return answer is Ellipsis or answer is None


def checker(checks: dict[str, Callable[[Any], Feedback]]) -> Callable[[str, Any], Feedback]:
    """A ``check(name, answer)`` over named checks, turning every mistake into feedback."""

    def check(name: str, answer: Any = Ellipsis) -> Feedback:
        if name not in checks:
            return Feedback(False, f"there is no exercise {name!r}; this lab has {', '.join(checks)}.")
        if _unanswered(answer):
            return Feedback(False, f"exercise {name} is not answered yet: replace the `...`.")
        try:
            return checks[name](answer)
        except (TypeError, ValueError, KeyError, AttributeError, ScenarioError) as exc:
            return Feedback(False, f"could not use that answer for {name}: {exc}")

    return check


def multiple_choice(correct: str, why: str, wrong: dict[str, str]) -> Callable[[Any], Feedback]:
    """A check for a one-letter answer, with an explanation for each wrong option."""
    options = sorted({correct, *wrong})

    def check(answer: Any) -> Feedback:
        letter = str(answer).strip().lower().strip("()")
        if letter == correct:
            return Feedback(True, why)
        if letter in wrong:
            return Feedback(False, wrong[letter])
        return Feedback(False, f"answer with one letter out of {', '.join(options)} (got {answer!r}).")

    return check


def number(answer: Any, what: str) -> float:
    """``answer`` as a float, or ValueError naming what was expected."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | str):
        raise ValueError(f"expected {what} as a number, got {type(answer).__name__}")
    try:
        return float(answer)
    except ValueError:
        raise ValueError(f"expected {what} as a number, got {answer!r}") from None
