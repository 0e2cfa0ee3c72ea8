"""Serving figures of a run: per sample interval and in total, from either mode.

The exact mode hands over every request (arrival time, latency, outcome) at the end; the
fluid mode adds expected counts and a latency histogram per tick. Both give the same series
(offered, served, dropped and timed-out requests per second; latency p50/p95/p99; SLO
attainment) and the same summary figures. Requests count in the interval they arrived in;
percentiles are over served requests; a request meets the SLO if it was served within the
SLO latency (drops and timeouts miss it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.trace import Trace
from sim.workloads.latency import BINS, fraction_below, quantile
from sim.workloads.serving import OUTCOMES, SERVED, TIMED_OUT, Outcomes

__all__ = ["RequestLog"]

QUANTILES = (("p50", 50), ("p95", 95), ("p99", 99))
DROP_FIGURES = ("", "", "requests_queue_full", "requests_no_endpoints", "requests_ingress_overload",
                "requests_no_route")  # summary names of the drop outcomes, by outcome code


def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 6) if len(values) else None


class RequestLog:
    """Counts and latencies per sample interval."""

    def __init__(self, interval: float, duration: float, slo_latency: float) -> None:
        self.interval = interval
        self.duration = duration
        self.slo = slo_latency
        self.n = max(1, int(np.ceil(duration / interval - 1e-9)))
        self.counts = np.zeros((self.n, len(OUTCOMES)))
        self.hist = np.zeros((self.n, BINS))
        self.slo_met = np.zeros(self.n)
        self._exact_latencies: np.ndarray | None = None

    # ------------------------------------------------------------------ filling
    def slot(self, t: float) -> int:
        """The interval holding time ``t``."""
        return min(self.n - 1, max(0, int(t // self.interval)))

    def add_fluid(self, t: float, counts: np.ndarray, latency_hist: np.ndarray) -> None:
        """Expected requests of one tick starting at ``t`` by outcome, and the served ones' latency histogram."""
        k = self.slot(t)
        self.counts[k] += counts
        self.hist[k] += latency_hist

    def add_exact(self, outcomes: Outcomes) -> None:
        """Every request of the run, from the exact mode."""
        arrival = np.frombuffer(outcomes.arrival, dtype=np.float64)
        latency = np.frombuffer(outcomes.latency, dtype=np.float64)
        code = np.frombuffer(outcomes.outcome, dtype=np.int8)
        keep = arrival < self.duration
        arrival, latency, code = arrival[keep], latency[keep], code[keep]
        slot = np.minimum(self.n - 1, (arrival // self.interval).astype(np.int64))
        np.add.at(self.counts, (slot, code.astype(np.int64)), 1)
        served = code == SERVED
        met = served & (latency <= self.slo)
        self.slo_met += np.bincount(slot[met], minlength=self.n)
        self._exact_latencies = latency[served]
        self._exact_slots = slot[served]

    # ------------------------------------------------------------------ reading
    def _interval_quantiles(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {name: [] for name, _ in QUANTILES}
        if self._exact_latencies is not None:
            order = np.argsort(self._exact_slots, kind="stable")
            slots, lat = self._exact_slots[order], self._exact_latencies[order]
            bounds = np.searchsorted(slots, np.arange(self.n + 1))
            for k in range(self.n):
                chunk = lat[bounds[k]:bounds[k + 1]]
                for name, q in QUANTILES:
                    out[name].append(float(np.percentile(chunk, q)) if len(chunk) else np.nan)
            return out
        for k in range(self.n):
            for name, q in QUANTILES:
                value = quantile(self.hist[k], q / 100)
                out[name].append(np.nan if value is None else value)
        return out

    def _slo_per_interval(self) -> np.ndarray:
        offered = self.counts.sum(axis=1)
        if self._exact_latencies is not None:
            met = self.slo_met
        else:
            met = np.array([fraction_below(h, self.slo) for h in self.hist]) * self.counts[:, SERVED]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(offered > 0, met / offered, np.nan)

    def write_series(self, trace: Trace) -> None:
        """serving_* time series, one point per interval (at its start)."""
        t = np.arange(self.n) * self.interval
        width = np.minimum(self.interval, self.duration - t)
        rates = {
            "serving_offered_rps": self.counts.sum(axis=1),
            "serving_served_rps": self.counts[:, SERVED],
            "serving_timed_out_rps": self.counts[:, TIMED_OUT],
            "serving_dropped_rps": self.counts.sum(axis=1) - self.counts[:, SERVED] - self.counts[:, TIMED_OUT],
        }
        for name, values in rates.items():
            for when, v, w in zip(t.tolist(), values.tolist(), width.tolist(), strict=True):
                trace.sample(name, when, v / w if w > 0 else 0.0)
        for name, values in self._interval_quantiles().items():
            for when, v in zip(t.tolist(), values, strict=True):
                trace.sample(f"serving_latency_{name}_s", when, v)
        for when, v in zip(t.tolist(), self._slo_per_interval().tolist(), strict=True):
            trace.sample("serving_slo_attainment", when, v)

    def summary(self) -> dict[str, Any]:
        """Totals, rates and latency percentiles of the whole run."""
        totals = self.counts.sum(axis=0)
        offered = float(totals.sum())
        served = float(totals[SERVED])
        dropped = offered - served - float(totals[TIMED_OUT])
        if self._exact_latencies is not None:
            lat = self._exact_latencies
            pct = {name: _pct(lat, q) for name, q in QUANTILES}
            met = float(self.slo_met.sum())
        else:
            hist = self.hist.sum(axis=0)
            pct = {name: (None if (v := quantile(hist, q / 100)) is None else round(v, 6)) for name, q in QUANTILES}
            met = fraction_below(hist, self.slo) * served
        out: dict[str, Any] = {
            "requests_offered": round(offered),
            "requests_served": round(served),
            "requests_dropped": round(dropped),
            "requests_timed_out": round(float(totals[TIMED_OUT])),
            "drop_rate": round(dropped / offered, 6) if offered else None,
            "timeout_rate": round(float(totals[TIMED_OUT]) / offered, 6) if offered else None,
            "throughput_rps": round(served / self.duration, 3),
            **{f"latency_{name}_s": value for name, value in pct.items()},
            "slo_attainment": round(met / offered, 6) if offered else None,
        }
        for code, name in enumerate(DROP_FIGURES):
            if name:
                out[name] = round(float(totals[code]))
        return out
