"""Delay distributions for scenario fields, and fast seeded samplers for them.

A scenario writes a delay either as a plain duration (``2ms``: constant) or as a mapping
(``{dist: lognormal, median: 2ms, p99: 10ms}``). Samplers draw from a component's own
numpy stream in blocks, so a draw costs a step through a list rather than a numpy call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from itertools import chain, repeat
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from sim.api.quantity import parse_bytes, parse_duration

__all__ = ["ByteSize", "Dist", "Duration", "Sampler", "Z99"]

Z99 = 2.3263478740408408  # standard normal quantile at 0.99


def _duration(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
]
"""Seconds, written as ``250ms``, ``90s``, ``30m``, ``2h``, ``1h30m`` or a number of seconds."""


ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
"""Bytes, written as a quantity (``2Gi``, ``500M``) or a plain number."""


def _scalar_is_constant(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


class Dist(BaseModel):
    """A non-negative delay distribution: constant, uniform, exponential or lognormal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dist: Literal["constant", "uniform", "exponential", "lognormal"] = "constant"
    value: Duration | None = None
    low: Duration | None = None
    high: Duration | None = None
    mean: Duration | None = None
    median: Duration | None = None
    sigma: float | None = None
    p99: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _scalar_is_constant(data)

    @model_validator(mode="after")
    def _check_params(self) -> Dist:
        needed = {
            "constant": ("value",),
            "uniform": ("low", "high"),
            "exponential": ("mean",),
            "lognormal": ("median",),
        }[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if self.dist == "uniform" and self.high < self.low:  # type: ignore[operator]
            raise ValueError("uniform distribution needs low <= high")
        if self.dist == "lognormal":
            if self.sigma is None and self.p99 is None:
                raise ValueError("a lognormal distribution needs sigma or p99")
            if self.p99 is not None and self.p99 < self.median:  # type: ignore[operator]
                raise ValueError("lognormal p99 must be >= median")
        return self

    @property
    def log_sigma(self) -> float:
        """Sigma of the underlying normal for a lognormal (from ``p99`` if given)."""
        if self.sigma is not None:
            return self.sigma
        assert self.median is not None
        assert self.p99 is not None
        return math.log(self.p99 / self.median) / Z99 if self.median > 0 else 0.0

    @property
    def expected(self) -> float:
        """The distribution's mean in seconds."""
        if self.dist == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "uniform":
            return (self.low + self.high) / 2  # type: ignore[operator]
        if self.dist == "exponential":
            return float(self.mean)  # type: ignore[arg-type]
        return float(self.median) * math.exp(self.log_sigma**2 / 2)  # type: ignore[arg-type]

    def describe(self) -> str:
        """Short human text, e.g. ``lognormal(median 2ms, p99 10ms)``."""
        if self.dist == "constant":
            return _fmt(self.value)
        if self.dist == "uniform":
            return f"uniform({_fmt(self.low)}, {_fmt(self.high)})"
        if self.dist == "exponential":
            return f"exponential(mean {_fmt(self.mean)})"
        p99 = float(self.median) * math.exp(Z99 * self.log_sigma)  # type: ignore[arg-type]
        return f"lognormal(median {_fmt(self.median)}, p99 {_fmt(p99)})"


def _fmt(seconds: float | None) -> str:
    s = float(seconds or 0.0)
    if s == 0:
        return "0s"
    if s < 1e-3:
        return f"{s * 1e6:.0f}µs"
    if s < 1:
        return f"{s * 1e3:.3g}ms"
    return f"{s:.3g}s"


class Sampler:
    """Draws from a ``Dist`` with a component's generator, a block at a time.

    ``sampler()`` is the next draw; ``sampler.draw`` is the same thing as a C-level callable
    (the ``__next__`` of a chain over the blocks, or of ``itertools.repeat`` for a constant),
    which hot paths keep in place of the sampler to spare a Python call per draw. Both take
    from one stream: the next block is drawn at the first draw that finds the current one
    used up."""

    __slots__ = ("_block", "_dist", "_rng", "draw")

    def __init__(self, dist: Dist, rng: np.random.Generator, block: int = 1024) -> None:
        self._dist = dist
        self._rng = rng
        self._block = block
        if dist.dist == "constant":
            values: Iterator[float] = repeat(float(dist.value))  # type: ignore[arg-type]
        else:  # the blocks one after another, each drawn when the one before is used up
            values = chain.from_iterable(map(self._next_block, repeat(None)))
        self.draw: Callable[[], float] = values.__next__

    def __call__(self) -> float:
        return self.draw()

    def _next_block(self, _: None) -> list[float]:
        return self._draw(self._block).tolist()

    def many(self, n: int) -> np.ndarray:
        """``n`` draws at once, as an array (for vectorised callers; bypasses the block buffer)."""
        if self._dist.dist == "constant":
            return np.full(n, float(self._dist.value))  # type: ignore[arg-type]
        return self._draw(n)

    def _draw(self, n: int) -> np.ndarray:
        d, rng = self._dist, self._rng
        if d.dist == "uniform":
            return rng.uniform(d.low, d.high, n)
        if d.dist == "exponential":
            return rng.exponential(d.mean, n)
        if d.median == 0:
            return np.zeros(n)
        return np.exp(rng.normal(math.log(d.median), d.log_sigma, n))  # type: ignore[arg-type]
