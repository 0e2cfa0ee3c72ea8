"""Arrival processes (sim/workloads/traffic.py): rate patterns, Poisson and even spacing, trace replay."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.workloads.spec import TrafficSource
from sim.workloads.traffic import ArrivalSource, load_trace_csv, parse_timestamp

AZURE = "scenarios/data/azure-llm-inference-2023/AzureLLMInferenceTrace_conv_first20min.csv"


def source(**fields: object) -> TrafficSource:
    return TrafficSource.model_validate({"name": "s", "service": "svc", **fields})


def make(spec: TrafficSource, seed: int = 0, horizon: float = 3600.0) -> ArrivalSource:
    return ArrivalSource(spec, np.random.default_rng(seed), horizon)


@pytest.mark.parametrize(("text", "seconds"), [
    ("0001-01-01 00:00:00", 86400.0),
    ("2023-11-16 18:15:46.6805900", None),
    ("2023-11-16 18:15:47.1", None),
], ids=["epoch", "seven-digit-fraction", "one-digit-fraction"])
def test_parse_timestamp(text: str, seconds: float | None) -> None:
    """Timestamps become seconds; fractions of any length count."""
    value = parse_timestamp(text)
    if seconds is not None:
        assert value == seconds
    else:
        fraction = float("0." + text.split(".")[1])
        whole = 0.0 if text.startswith("2023-11-16 18:15:46") else 1.0
        assert math.isclose(value - parse_timestamp("2023-11-16 18:15:46"), whole + fraction, abs_tol=1e-4)


def test_azure_subset_loads_with_times_from_the_first_row() -> None:
    """The shipped 20-minute subset has 5,986 requests over 1,200 s with token counts."""
    t, context, generated = load_trace_csv(AZURE)
    assert len(t) == 5986
    assert t[0] == 0.0
    assert 1199 < t[-1] < 1201
    assert (np.diff(t) >= 0).all()
    assert (context[:3] == [374, 396, 879]).all()
    assert (generated[:3] == [44, 109, 55]).all()


def test_trace_without_its_columns_names_file_and_line(tmp_path: Path) -> None:
    """A CSV missing a required column is rejected with its path and line 1."""
    bad = tmp_path / "t.csv"
    bad.write_text("TIMESTAMP,Tokens\n2023-11-16 18:15:46,3\n")
    with pytest.raises(ValueError, match=r"t\.csv:1: missing column\(s\) ContextTokens, GeneratedTokens"):
        load_trace_csv(str(bad))


DIURNAL = {"pattern": "diurnal", "mean": 100, "amplitude": 0.5, "period": 3600, "peakAt": 900}


@pytest.mark.parametrize(("rate", "extra", "t", "expected"), [
    ({"pattern": "constant", "rate": 7}, {}, 10.0, 7.0),
    (DIURNAL, {}, 900.0, 150.0),
    (DIURNAL, {}, 2700.0, 50.0),
    (DIURNAL, {}, 1800.0, 100.0),
    ({"pattern": "steps", "steps": [{"at": 0, "rate": 5}, {"at": 60, "rate": 20}]}, {}, 59.9, 5.0),
    ({"pattern": "steps", "steps": [{"at": 10, "rate": 5}, {"at": 60, "rate": 20}]}, {}, 5.0, 0.0),
    ({"pattern": "steps", "steps": [{"at": 0, "rate": 5}, {"at": 60, "rate": 20}]}, {}, 60.0, 20.0),
    ({"pattern": "constant", "rate": 10}, {"bursts": [{"at": 100, "duration": 50, "factor": 3}]}, 120.0, 30.0),
    ({"pattern": "constant", "rate": 10}, {"bursts": [{"at": 100, "duration": 50, "factor": 3}]}, 150.0, 10.0),
    ({"pattern": "constant", "rate": 10}, {"start": 30, "stop": 60}, 20.0, 0.0),
    ({"pattern": "constant", "rate": 10}, {"start": 30, "stop": 60}, 60.0, 0.0),
], ids=["constant", "diurnal-peak", "diurnal-trough", "diurnal-mean", "step-before", "before-first-step",
        "step-edge", "in-burst", "burst-end", "before-start", "at-stop"])
def test_rate_pattern(rate: dict, extra: dict, t: float, expected: float) -> None:
    """The rate at a time follows the pattern, bursts and the source's window."""
    pattern = make(source(rate=rate, **extra)).pattern
    assert pattern is not None
    assert math.isclose(float(pattern(np.array([t]))[0]), expected, abs_tol=1e-9)


@pytest.mark.parametrize("extra", [
    {"rate": DIURNAL},
    {"rate": {**DIURNAL, "noise": 0.2, "noiseInterval": 60}, "bursts": [{"at": 1000, "duration": 77, "factor": 2}]},
    {"rate": {"pattern": "steps", "steps": [{"at": 0, "rate": 5}, {"at": 61.5, "rate": 20}]}, "start": 3, "stop": 3000},
], ids=["diurnal", "noise-and-burst", "steps-with-window"])
def test_integral_is_exact(extra: dict) -> None:
    """The expected count equals a fine numerical integral of the rate, window by window too."""
    pattern = make(source(**extra)).pattern
    assert pattern is not None
    grid = np.linspace(0, 3600, 720_001)
    numeric = float(pattern((grid[:-1] + grid[1:]) / 2).sum() * (grid[1] - grid[0]))
    pieces = sum(pattern.integral(t, t + 7.0) for t in np.arange(0, 3600, 7.0))
    assert math.isclose(pattern.integral(0, 3600), numeric, rel_tol=1e-4)
    assert math.isclose(pieces, pattern.integral(0, 3605), rel_tol=1e-9)


def test_poisson_counts_match_the_integral_and_are_poisson() -> None:
    """Thinned Poisson arrivals: total near the expected count, per-second counts with variance ≈ mean."""
    spec = source(rate={**DIURNAL, "noise": 0.1, "noiseInterval": 60}, bursts=[{"at": 500, "duration": 100,
                                                                                 "factor": 3}])
    arrivals = make(spec, seed=4)
    counts = np.array([len(arrivals.take(t, t + 1.0)) for t in range(3600)])
    expected = arrivals.pattern.integral(0, 3600)  # type: ignore[union-attr]
    assert abs(counts.sum() - expected) < 4 * math.sqrt(expected)
    steady = counts[2000:2060]  # a minute of nearly constant rate
    assert 0.6 < steady.var() / steady.mean() < 1.6


def test_uniform_arrivals_are_evenly_spaced_across_windows() -> None:
    """Evenly spaced arrivals keep their phase from one window to the next."""
    arrivals = make(source(arrivals="uniform", rate={"pattern": "constant", "rate": 4}))
    times = np.concatenate([arrivals.take(t, t + 0.3).times for t in np.arange(0, 30, 0.3)])
    assert len(times) == 120
    assert np.allclose(np.diff(times), 0.25)


def test_take_is_deterministic_for_a_seed() -> None:
    """The same seed gives the same arrivals and token counts."""
    spec = source(rate={"pattern": "constant", "rate": 50}, tokens={"context": {"dist": "lognormal", "median": 1000,
                                                                               "p99": 4000}})
    a, b = make(spec, seed=9).take(0, 10), make(spec, seed=9).take(0, 10)
    assert np.array_equal(a.times, b.times)
    assert np.array_equal(a.context, b.context)
    assert (a.context == np.rint(a.context)).all()
    assert a.context.mean() > 500


def replay(**trace: object) -> ArrivalSource:
    return ArrivalSource(source(trace={"file": AZURE, **trace}), np.random.default_rng(0), 7200.0)


def test_replay_windows_add_up_to_the_trace() -> None:
    """Replaying window by window yields every row once, with its tokens."""
    arrivals = replay()
    windows = [arrivals.take(t, t + 10.0) for t in range(0, 1210, 10)]
    assert sum(len(w) for w in windows) == 5986
    assert windows[0].context[0] == 374
    assert windows[0].times[0] == 0.0
    assert arrivals.expected(0, 1210) == 5986.0


def test_replay_options() -> None:
    """timeScale compresses time, skip starts later in the trace, loop starts over at the end."""
    t, _, _ = load_trace_csv(AZURE)
    cycle = t[-1] + t[-1] / (len(t) - 1)  # the last row, plus one mean gap
    assert len(replay(timeScale=2.0).take(0, 600.2)) == 5986
    assert len(replay(skip=600).take(0, 601)) == int((t >= 600).sum())
    assert len(replay(loop=True).take(0, 2 * cycle)) == 2 * 5986


def test_peak_rate_of_patterns_and_traces() -> None:
    """The peak rate (for the mode choice) is the pattern's maximum, or the busiest second of a trace."""
    spec = source(rate=DIURNAL, bursts=[{"at": 900, "duration": 10, "factor": 2}])
    assert math.isclose(make(spec).peak_rate(3600), 300.0, rel_tol=1e-6)
    assert replay().peak_rate(1300, step=1.0) == 15.0
