"""Quantities, durations and byte sizes as Kubernetes writes them.

Models ``k8s.io/apimachinery/pkg/api/resource`` (Quantity) by delegating to the official
client's ``kubernetes.utils.parse_quantity``, and Go's ``time.ParseDuration`` for the
duration strings used throughout scenario files (``90s``, ``1h30m``, ``250ms``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from kubernetes.utils.quantity import parse_quantity

__all__ = [
    "CPU",
    "MEMORY",
    "PODS",
    "QuantityError",
    "cpu_millis",
    "format_bytes",
    "parse_bytes",
    "parse_duration",
    "resource_value",
]

CPU = "cpu"
MEMORY = "memory"
PODS = "pods"

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


class QuantityError(ValueError):
    """A quantity, duration or size string that Kubernetes would reject."""


@lru_cache(maxsize=4096)
def _quantity(text: str) -> Decimal:
    try:
        return Decimal(parse_quantity(text))
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise QuantityError(
            f"{text!r} is not a Kubernetes quantity (examples: 500m, 2, 1.5, 512Mi, 4Gi)"
        ) from exc


def _as_decimal(value: str | int | float) -> Decimal:
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    if isinstance(value, int | float):
        return Decimal(str(value))
    return _quantity(str(value).strip())


def cpu_millis(value: str | int | float) -> int:
    """CPU quantity in millicores, rounded up as the scheduler does (``MilliValue``)."""
    millis = _as_decimal(value) * 1000
    return int(millis.to_integral_value(rounding="ROUND_CEILING"))


def resource_value(name: str, value: str | int | float) -> int:
    """Integer amount of a resource in the scheduler's units: millicores for cpu, else units."""
    if name == CPU:
        return cpu_millis(value)
    return int(_as_decimal(value).to_integral_value(rounding="ROUND_CEILING"))


def parse_bytes(value: str | int | float) -> int:
    """A byte size written as a quantity (``2Gi``, ``500M``) or a plain number of bytes."""
    return resource_value(MEMORY, value)


def parse_duration(value: str | int | float) -> float:
    """Seconds from a Go-style duration (``1h30m``, ``250ms``) or a plain number of seconds."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise QuantityError(f"duration {value!r} is negative")
        return float(value)
    text = str(value).strip()
    if not text:
        raise QuantityError("empty duration")
    try:
        seconds = float(text)
    except ValueError:
        seconds = _parse_unit_duration(text)
    if seconds < 0:
        raise QuantityError(f"duration {text!r} is negative")
    return seconds


def _parse_unit_duration(text: str) -> float:
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise QuantityError(
            f"{text!r} is not a duration (examples: 250ms, 90s, 30m, 2h, 1h30m)"
        )
    return total


def format_bytes(n: float) -> str:
    """Human-readable binary size, e.g. ``2.0 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"
