"""Latency histograms and weighted quantile points (sim/workloads/latency.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.workloads.latency import BINS, EDGES, add, convolve, fraction_below, histogram, points_of, quantile, stratified


@pytest.mark.parametrize(("value", "low", "high"), [
    (0.0, 0.0, 1e-4), (5e-5, 0.0, 1e-4), (0.1, 0.098, 0.102), (1.0, 0.98, 1.02), (2e4, EDGES[-2], EDGES[-1]),
], ids=["zero", "below-100us", "100ms", "1s", "beyond-the-last-edge"])
def test_histogram_bins(value: float, low: float, high: float) -> None:
    """A value lands in the bin whose edges hold it (the last bin takes anything larger)."""
    k = int(np.flatnonzero(histogram(np.array([value])))[0])
    assert low <= EDGES[k] <= value or value > EDGES[-1]
    assert EDGES[k + 1] <= high + 1e-12
    assert EDGES[k] >= low - 1e-12


def test_quantiles_from_a_histogram_are_within_a_bin_width() -> None:
    """Percentiles read from a histogram are within 2% of the samples' own."""
    samples = np.random.default_rng(1).lognormal(np.log(0.2), 0.8, 200_000)
    hist = histogram(samples)
    for q in (0.5, 0.95, 0.99):
        assert math.isclose(quantile(hist, q), float(np.quantile(samples, q)), rel_tol=0.02)  # type: ignore[arg-type]
    assert math.isclose(fraction_below(hist, 0.2), 0.5, abs_tol=0.01)
    assert quantile(np.zeros(BINS), 0.5) is None


def test_stratified_points_keep_mean_and_tail() -> None:
    """Weighted quantile points reproduce the mean and the p99.9 of their samples."""
    samples = np.random.default_rng(2).exponential(0.1, 500_000)
    values, weights = stratified(samples)
    assert math.isclose(weights.sum(), 1.0)
    assert math.isclose(float((values * weights).sum()), float(samples.mean()), rel_tol=0.01)
    cum = np.cumsum(weights)
    assert math.isclose(float(values[np.searchsorted(cum, 0.999)]), float(np.quantile(samples, 0.999)), rel_tol=0.05)


def test_convolve_adds_waits_to_service_times() -> None:
    """Wait + service: exponential waits of mean 0.1 s plus a constant 0.2 s service."""
    rng = np.random.default_rng(3)
    waits = rng.exponential(0.1, 300_000)
    service = stratified(np.full(1000, 0.2))
    hist = convolve(0.5, histogram(waits) * 0.5 / len(waits), service)
    assert math.isclose(hist.sum(), 1.0)
    assert fraction_below(hist, 0.195) == 0.0
    assert 0.5 <= fraction_below(hist, 0.205) <= 0.5 + 0.5 * (1 - math.exp(-0.05 / 0.1))
    truth = 0.2 + np.quantile(waits, (0.99 - 0.5) / 0.5)
    assert math.isclose(quantile(hist, 0.99), truth, rel_tol=0.02)  # type: ignore[arg-type]


def test_add_is_the_distribution_of_a_sum() -> None:
    """The sum of two independent exponentials (mean 0.1) is Erlang-2: its p99 is 0.664 s."""
    rng = np.random.default_rng(4)
    a, b = stratified(rng.exponential(0.1, 200_000)), stratified(rng.exponential(0.1, 200_000))
    values, weights = add(a, b)
    assert math.isclose(float((values * weights).sum()), 0.2, rel_tol=0.01)
    assert math.isclose(float(values[np.searchsorted(np.cumsum(weights), 0.99)]), 0.6638, rel_tol=0.03)


def test_points_of_a_histogram_follow_its_quantiles() -> None:
    """Points taken from a histogram sit at its quantiles."""
    samples = np.random.default_rng(5).uniform(0.0, 1.0, 100_000)
    values, weights = points_of(histogram(samples))
    assert math.isclose(float(values[np.searchsorted(np.cumsum(weights), 0.5)]), 0.5, abs_tol=0.01)
