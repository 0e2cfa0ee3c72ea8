"""Request arrivals: what a user population or a load generator sends to a Service.

A source is a rate pattern (constant, diurnal sinusoid with noise, steps, with bursts on
top) or the replay of a request log (the Azure LLM inference trace: timestamps with prompt
and output token counts). Arrivals are drawn a window at a time as numpy arrays, never as
one SimPy event per request: a Poisson process by thinning (Lewis and Shedler, 1979: draw at
the window's peak rate, keep each point with probability rate(t) / peak), evenly spaced
arrivals by inverting the cumulative rate. The fluid mode asks only for the expected count.

Worked example: a diurnal source with mean 100 req/s, amplitude 0.5 and a burst of factor 3
sends 150 req/s at its peak and 450 req/s if the burst lands on the peak.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.distributions import Sampler
from sim.workloads.spec import Burst, ConstantRate, DiurnalRate, StepRate, TrafficSource

__all__ = ["ArrivalSource", "Arrivals", "RatePattern", "load_trace_csv", "parse_timestamp"]

TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
_GRID = 33  # points per window when spacing arrivals evenly


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Requests of one window: arrival times (s) and token counts, in time order."""

    times: np.ndarray
    context: np.ndarray
    generated: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    @staticmethod
    def empty() -> Arrivals:
        """No requests."""
        z = np.zeros(0)
        return Arrivals(z, z, z)


# ---------------------------------------------------------------------------- trace files

def parse_timestamp(text: str) -> float:
    """Seconds since 0001-01-01 of ``YYYY-MM-DD HH:MM:SS[.fffffff]`` (any fraction digits)."""
    day, _, clock = text.strip().partition(" ")
    y, mo, d = (int(x) for x in day.split("-"))
    hh, mm, ss = clock.split(":")
    return date(y, mo, d).toordinal() * 86400.0 + int(hh) * 3600 + int(mm) * 60 + float(ss)


@lru_cache(maxsize=8)
def load_trace_csv(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seconds from the first row, context tokens, generated tokens) of a trace CSV.

    Raises:
        ValueError: naming the file and line of a missing column or a bad row.
    """
    times, ctx, gen = [], [], []
    with open(path, newline="", encoding="utf-8") as src:
        reader = csv.DictReader(src)
        missing = [c for c in TRACE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {', '.join(missing)}; expected {','.join(TRACE_COLUMNS)}")
        for line, row in enumerate(reader, 2):
            try:
                times.append(parse_timestamp(row["TIMESTAMP"]))
                ctx.append(float(row["ContextTokens"]))
                gen.append(float(row["GeneratedTokens"]))
            except (ValueError, AttributeError) as exc:
                raise ValueError(f"{path}:{line}: bad row ({exc})") from None
    if not times:
        raise ValueError(f"{path}: no rows")
    t = np.array(times)
    order = np.argsort(t, kind="stable")
    t = t[order]
    return t - t[0], np.array(ctx)[order], np.array(gen)[order]


# ---------------------------------------------------------------------------- rate patterns

def _cos_max(t0: float, t1: float, period: float, peak_at: float) -> float:
    """max of cos(2π (t − peak_at) / period) over [t0, t1]."""
    k = math.ceil((t0 - peak_at) / period)
    if peak_at + k * period <= t1:
        return 1.0
    return max(math.cos(2 * math.pi * (t - peak_at) / period) for t in (t0, t1))


class RatePattern:
    """The mean arrival rate of a source as a function of time (vectorised, pure)."""

    def __init__(self, source: TrafficSource, noise_rng: np.random.Generator, horizon: float) -> None:
        self.spec = source.rate
        self.bursts: list[Burst] = list(source.bursts)
        self.start, self.stop = source.start, source.stop if source.stop is not None else math.inf
        self.noise = np.ones(1)
        spec = self.spec
        if isinstance(spec, DiurnalRate) and spec.noise > 0:
            sigma = math.sqrt(math.log1p(spec.noise**2))  # lognormal factor with mean 1, std = noise
            count = int(horizon // spec.noise_interval) + 2
            self.noise = np.exp(noise_rng.normal(-sigma**2 / 2, sigma, count))

    def _base(self, t: np.ndarray) -> np.ndarray:
        """The pattern's rate before bursts and the source's start/stop."""
        spec = self.spec
        if isinstance(spec, ConstantRate):
            return np.full(t.shape, spec.rate)
        if isinstance(spec, StepRate):
            at = np.array([s.at for s in spec.steps])
            values = np.array([0.0] + [s.rate for s in spec.steps])
            return values[np.searchsorted(at, t, side="right")]
        assert isinstance(spec, DiurnalRate)
        rate = spec.mean * (1 + spec.amplitude * np.cos(2 * np.pi * (t - spec.peak_at) / spec.period))
        if len(self.noise) > 1:
            index = np.clip((t // spec.noise_interval).astype(np.int64), 0, len(self.noise) - 1)
            rate = rate * self.noise[index]
        return rate

    def _base_at(self, t: float) -> float:
        """``_base`` at one time, without numpy (the fluid mode asks once per piece per tick)."""
        spec = self.spec
        if isinstance(spec, ConstantRate):
            return spec.rate
        if isinstance(spec, StepRate):
            rate = 0.0
            for step in spec.steps:
                if step.at > t:
                    break
                rate = step.rate
            return rate
        assert isinstance(spec, DiurnalRate)
        rate = spec.mean * (1 + spec.amplitude * math.cos(2 * math.pi * (t - spec.peak_at) / spec.period))
        if len(self.noise) > 1:
            rate *= float(self.noise[min(max(int(t // spec.noise_interval), 0), len(self.noise) - 1)])
        return rate

    def _scale_at(self, t: float) -> float:
        """Burst factors times 1 inside the source's [start, stop), 0 outside."""
        if not self.start <= t < self.stop:
            return 0.0
        factor = 1.0
        for burst in self.bursts:
            if burst.at <= t < burst.at + burst.duration:
                factor *= burst.factor
        return factor

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        rate = self._base(t)
        for burst in self.bursts:
            rate = np.where((t >= burst.at) & (t < burst.at + burst.duration), rate * burst.factor, rate)
        return np.where((t >= self.start) & (t < self.stop), rate, 0.0)

    def bound(self, t0: float, t1: float) -> float:
        """An upper bound of the rate on [t0, t1) (tight enough for thinning)."""
        spec = self.spec
        if isinstance(spec, ConstantRate):
            peak = spec.rate
        elif isinstance(spec, StepRate):
            peak = float(self._base(np.array([t0, *[s.at for s in spec.steps if t0 < s.at < t1]])).max())
        else:
            assert isinstance(spec, DiurnalRate)
            peak = spec.mean * (1 + spec.amplitude * _cos_max(t0, t1, spec.period, spec.peak_at))
            if len(self.noise) > 1:
                lo = min(int(t0 // spec.noise_interval), len(self.noise) - 1)
                hi = min(int(t1 // spec.noise_interval), len(self.noise) - 1)
                peak *= float(self.noise[lo:hi + 1].max())
        return peak * self._burst_factor(t0, t1)

    def _burst_factor(self, t0: float, t1: float) -> float:
        factor = 1.0
        for burst in self.bursts:
            if burst.at < t1 and burst.at + burst.duration > t0:
                factor *= max(burst.factor, 1.0)
        return factor

    def integral(self, t0: float, t1: float) -> float:
        """Expected arrivals in [t0, t1), exactly: the window is cut where steps, noise draws,
        bursts and the source's start/stop change the rate, and each piece is integrated in
        closed form (a constant, or a cosine)."""
        cuts = [t0, t1, self.start, self.stop]
        spec = self.spec
        if isinstance(spec, StepRate):
            cuts += [s.at for s in spec.steps]
        if isinstance(spec, DiurnalRate) and len(self.noise) > 1:
            step = spec.noise_interval
            cuts += [k * step for k in range(math.ceil(t0 / step), math.ceil(t1 / step))]
        for burst in self.bursts:
            cuts += [burst.at, burst.at + burst.duration]
        edges = sorted({c for c in cuts if t0 <= c <= t1})
        total = 0.0
        for a, b in zip(edges, edges[1:], strict=False):
            mid = (a + b) / 2
            scale = self._scale_at(mid)
            if scale == 0.0:
                continue
            if isinstance(spec, DiurnalRate):
                w = 2 * math.pi / spec.period
                swing = math.sin(w * (b - spec.peak_at)) - math.sin(w * (a - spec.peak_at))
                smooth = (b - a) + spec.amplitude / w * swing
                noise = float(self.noise[min(int(mid // spec.noise_interval), len(self.noise) - 1)]) \
                    if len(self.noise) > 1 else 1.0
                total += spec.mean * smooth * noise * scale
            else:
                total += self._base_at(mid) * (b - a) * scale
        return total


# ---------------------------------------------------------------------------- sources

class ArrivalSource:
    """One traffic source: draws its requests window by window, in order, from its stream."""

    def __init__(self, spec: TrafficSource, rng: np.random.Generator, horizon: float,
                 base_dir: Path = Path()) -> None:
        self.spec = spec
        self.rng = rng
        self.horizon = horizon
        self.pattern: RatePattern | None = None
        self.trace: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._phase = 0.0  # evenly spaced arrivals: fraction of the next arrival accumulated
        if spec.trace is not None:
            t, ctx, gen = load_trace_csv(str(base_dir / spec.trace.file))
            keep = t >= spec.trace.skip
            t = (t[keep] - spec.trace.skip) / spec.trace.time_scale + spec.start
            self.trace = (t, ctx[keep], gen[keep])
            gaps = np.diff(t)
            self._cycle = float(t[-1] - t[0] + (gaps.mean() if len(gaps) else 1.0))
        else:
            self.pattern = RatePattern(spec, rng, horizon)
            self._context = Sampler(spec.tokens.context, rng)
            self._generated = Sampler(spec.tokens.generated, rng)

    @property
    def name(self) -> str:
        """The source's name."""
        return self.spec.name

    def take(self, t0: float, t1: float) -> Arrivals:
        """The requests arriving in [t0, t1); call with consecutive windows."""
        if t1 <= t0:
            return Arrivals.empty()
        if self.trace is not None:
            return self._replay(t0, t1)
        assert self.pattern is not None
        if self.spec.arrivals == "uniform":
            times = self._evenly_spaced(t0, t1)
        else:
            peak = self.pattern.bound(t0, t1)
            n = int(self.rng.poisson(peak * (t1 - t0))) if peak > 0 else 0
            times = np.sort(self.rng.uniform(t0, t1, n))
            times = times[self.rng.uniform(0, peak, n) < self.pattern(times)]  # thinning
        n = len(times)
        return Arrivals(times, np.rint(self._context.many(n)), np.rint(self._generated.many(n)))

    def _evenly_spaced(self, t0: float, t1: float) -> np.ndarray:
        assert self.pattern is not None
        grid = np.linspace(t0, t1, _GRID)
        rates = self.pattern((grid[:-1] + grid[1:]) / 2)
        cumulative = np.concatenate([[self._phase], self._phase + np.cumsum(rates * np.diff(grid))])
        ks = np.arange(math.floor(cumulative[0]) + 1, math.floor(cumulative[-1]) + 1)
        self._phase = float(cumulative[-1] - math.floor(cumulative[-1]))
        return np.interp(ks, cumulative, grid) if len(ks) else np.zeros(0)

    def _replay(self, t0: float, t1: float) -> Arrivals:
        assert self.trace is not None
        assert self.spec.trace is not None
        t, ctx, gen = self.trace
        start = t[0]
        cycles = range(0, 1) if not self.spec.trace.loop else range(
            max(0, math.floor((t0 - start) / self._cycle)), max(0, math.floor((t1 - start) / self._cycle)) + 1)
        parts = []
        for k in cycles:
            offset = k * self._cycle
            lo, hi = np.searchsorted(t, [t0 - offset, t1 - offset], side="left")
            if hi > lo:
                parts.append((t[lo:hi] + offset, ctx[lo:hi], gen[lo:hi]))
        stop = self.spec.stop if self.spec.stop is not None else math.inf
        if not parts:
            return Arrivals.empty()
        times, c, g = (np.concatenate(x) for x in zip(*parts, strict=True))
        keep = times < stop
        return Arrivals(times[keep], c[keep], g[keep])

    def expected(self, t0: float, t1: float) -> float:
        """Mean number of requests in [t0, t1) (the fluid mode's arrivals)."""
        if self.trace is not None:
            return float(len(self._replay(t0, t1)))
        assert self.pattern is not None
        return self.pattern.integral(t0, t1)

    def peak_rate(self, horizon: float, step: float = 60.0) -> float:
        """The highest rate over the run, per ``step`` window (chooses exact or fluid mode)."""
        if self.trace is not None:
            t = self.trace[0]
            t = t[t < horizon]
            return float(np.bincount((t // step).astype(np.int64)).max() / step) if len(t) else 0.0
        assert self.pattern is not None
        edges = np.arange(0.0, horizon + step, step)
        return max((self.pattern.bound(a, b) for a, b in zip(edges, edges[1:], strict=False)), default=0.0)

    def token_sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` (context, generated) token pairs typical of this source (for fluid service times)."""
        if self.trace is not None:
            rows = rng.integers(0, len(self.trace[0]), n)
            return self.trace[1][rows], self.trace[2][rows]
        return np.rint(Sampler(self.spec.tokens.context, rng).many(n)), np.rint(
            Sampler(self.spec.tokens.generated, rng).many(n))
