"""--require: parsing with units, and checks against an aggregated row with confidence."""

from __future__ import annotations

import math

import pytest

from sim.whatif.requirements import parse_requirement
from sim.yamlio import SourceError


@pytest.mark.parametrize(("text", "metric", "op", "limit"), [
    ("pods_pending_at_end == 0", "pods_pending_at_end", "==", 0.0),
    ("pod_ready_p99_s < 200ms", "pod_ready_p99_s", "<", 0.2),
    ("pod_ready_p99_s<=8h", "pod_ready_p99_s", "<=", 28800.0),
    ("pod_startup_p99_s < 5", "pod_startup_p99_s", "<", 5.0),
    ("etcd_db_size_bytes < 2Gi", "etcd_db_size_bytes", "<", 2.0 * 1024**3),
    ("pods_ready >= 12", "pods_ready", ">=", 12.0),
], ids=["equals", "millis", "hours", "plain-seconds", "bytes", "at-least"])
def test_parse_requirement_with_units(text: str, metric: str, op: str, limit: float) -> None:
    """Durations for *_s metrics and quantities for *_bytes metrics are converted."""
    req = parse_requirement(text)
    assert (req.metric, req.op, req.limit) == (metric, op, limit)


@pytest.mark.parametrize(("text", "message"), [
    ("pod_ready_p99 < 2m", "did you mean 'pod_ready_p99_s'"),
    ("pod_ready_p99_s ~ 2m", "expected METRIC OP VALUE"),
    ("pod_ready_p99_s < soon", "is not a number"),
    ("pods_ready > lots", "is not a number"),
], ids=["unknown-metric", "unknown-op", "bad-duration", "bad-number"])
def test_bad_requirement_is_one_clear_error(text: str, message: str) -> None:
    """Mistakes name --require and what was expected."""
    with pytest.raises(SourceError, match=message):
        parse_requirement(text)


def _row(metric: str, mean: float, std: float, n: int) -> dict[str, float]:
    return {"replications": n, f"{metric}_mean": mean, f"{metric}_std": std,
            f"{metric}_ci_lo": mean - std, f"{metric}_ci_hi": mean + std}


@pytest.mark.parametrize(("text", "row", "met"), [
    # mean 100, s/√n = 5: the one-sided 95% bound (n = 4, t = 2.353) is 111.8
    ("pod_ready_p99_s < 2m", _row("pod_ready_p99_s", 100, 10, 4), True),
    ("pod_ready_p99_s < 110s", _row("pod_ready_p99_s", 100, 10, 4), False),
    ("pod_ready_p99_s < 112s", _row("pod_ready_p99_s", 100, 10, 4), True),
    ("pods_ready > 90", _row("pods_ready", 100, 10, 4), False),
    ("pods_ready > 85", _row("pods_ready", 100, 10, 4), True),
    ("pods_pending_at_end == 0", _row("pods_pending_at_end", 0, 0, 3), True),
    ("pods_pending_at_end == 0", _row("pods_pending_at_end", 0.33, 0.58, 3), False),
    ("pod_ready_p99_s < 2m", _row("pod_ready_p99_s", math.nan, math.nan, 3), False),
], ids=["well-under", "mean-under-bound-over", "bound-under", "lower-bound-under", "lower-bound-over",
        "all-runs-zero", "one-run-not-zero", "not-measured"])
def test_check_uses_the_confidence_bound(text: str, row: dict[str, float], met: bool) -> None:
    """A requirement is met only when the one-sided bound (or every run, for ==) meets it."""
    assert parse_requirement(text).check(row, 0.95).met is met


def test_higher_confidence_is_stricter() -> None:
    """A bound that passes at 90% can fail at 99%."""
    req, row = parse_requirement("pod_ready_p99_s < 111s"), _row("pod_ready_p99_s", 100, 10, 4)
    assert req.check(row, 0.90).met
    assert not req.check(row, 0.99).met


def test_describe_says_bound_and_margin() -> None:
    """The description names the bound, the mean and the margin in seconds."""
    text = parse_requirement("pod_ready_p99_s < 2m").check(_row("pod_ready_p99_s", 100, 10, 4), 0.95).describe()
    assert text == "pod_ready_p99_s < 2m: upper bound 111.8 s (mean 100 s) -> met (margin +8.233 s)"
