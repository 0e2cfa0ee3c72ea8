"""Serving figures (sim/workloads/requestlog.py): per interval and in total, from either mode."""

from __future__ import annotations

import math

import numpy as np

from sim.trace import Trace
from sim.workloads.latency import histogram
from sim.workloads.requestlog import RequestLog
from sim.workloads.serving import NO_ENDPOINTS, QUEUE_FULL, SERVED, TIMED_OUT, Outcomes


def test_exact_outcomes_give_counts_rates_percentiles_and_slo() -> None:
    """Ten requests in two 10 s intervals: rates, drops by cause, exact percentiles and SLO attainment."""
    outcomes = Outcomes()
    rows = [(1, 0.1, SERVED), (2, 0.2, SERVED), (3, 0.3, SERVED), (4, 2.0, SERVED), (5, 0, QUEUE_FULL),
            (11, 0.5, SERVED), (12, 30.0, TIMED_OUT), (13, 0, NO_ENDPOINTS), (14, 0.4, SERVED), (15, 0.6, SERVED)]
    for at, latency, code in rows:
        outcomes.add(at, latency, code)
    log = RequestLog(10.0, 20.0, slo_latency=1.0)
    log.add_exact(outcomes)
    summary = log.summary()
    assert (summary["requests_offered"], summary["requests_served"], summary["requests_dropped"],
            summary["requests_timed_out"]) == (10, 7, 2, 1)
    assert (summary["requests_queue_full"], summary["requests_no_endpoints"]) == (1, 1)
    assert summary["latency_p50_s"] == 0.4
    assert summary["slo_attainment"] == 0.6
    assert math.isclose(summary["throughput_rps"], 0.35)
    trace = Trace()
    log.write_series(trace)
    assert list(trace.series["serving_offered_rps"].v) == [0.5, 0.5]
    assert list(trace.series["serving_dropped_rps"].v) == [0.1, 0.1]
    assert list(trace.series["serving_slo_attainment"].v) == [0.6, 0.6]


def test_fluid_counts_and_histograms_give_the_same_figures() -> None:
    """Expected counts and a latency histogram per tick sum up like requests."""
    log = RequestLog(10.0, 20.0, slo_latency=1.0)
    latencies = np.random.default_rng(0).exponential(0.2, 100_000)
    for t in (0.0, 10.0):
        counts = np.zeros(6)
        counts[SERVED], counts[QUEUE_FULL] = 95.0, 5.0
        log.add_fluid(t, counts, histogram(latencies) * 95.0 / len(latencies))
    summary = log.summary()
    assert (summary["requests_offered"], summary["requests_served"], summary["requests_dropped"]) == (200, 190, 10)
    assert math.isclose(summary["latency_p99_s"], float(np.quantile(latencies, 0.99)), rel_tol=0.02)
    assert math.isclose(summary["slo_attainment"], 0.95 * (1 - math.exp(-5)), rel_tol=0.01)
