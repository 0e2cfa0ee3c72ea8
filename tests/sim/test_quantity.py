"""Quantities and durations parse as Kubernetes and Go parse them."""

from __future__ import annotations

import pytest

from sim.api.quantity import QuantityError, cpu_millis, parse_bytes, parse_duration


@pytest.mark.parametrize(("text", "millis"), [("500m", 500), ("2", 2000), ("1.5", 1500), (0.1, 100), ("1m", 1)],
                         ids=["milli", "int", "decimal", "float", "one-milli"])
def test_cpu_millis(text: str | float, millis: int) -> None:
    """CPU in millicores."""
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(("text", "size"), [("512Mi", 512 * 2**20), ("1G", 10**9), ("4Gi", 4 * 2**30), (100, 100)],
                         ids=["Mi", "G", "Gi", "plain"])
def test_parse_bytes(text: str | int, size: int) -> None:
    """Binary and decimal suffixes."""
    assert parse_bytes(text) == size


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400),
                                                ("250ms", 0.25), ("1.5s", 1.5), (12, 12), ("0", 0)],
                         ids=["s", "m", "h", "h-m", "ms", "fraction", "number", "zero"])
def test_parse_duration(text: str | int, seconds: float) -> None:
    """Go-style durations or plain seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["2x", "ten", "1.2.3", ""], ids=["suffix", "word", "dots", "empty"])
def test_bad_quantity_is_rejected(bad: str) -> None:
    """Anything Kubernetes would reject raises QuantityError."""
    with pytest.raises(QuantityError):
        cpu_millis(bad)


@pytest.mark.parametrize("bad", ["10 minutes", "soon", "5x", "-3s", "1h-2m"],
                         ids=["words", "word", "unit", "neg", "mixed"])
def test_bad_duration_is_rejected(bad: str) -> None:
    """Unknown units, words and negative durations are errors."""
    with pytest.raises(QuantityError):
        parse_duration(bad)
