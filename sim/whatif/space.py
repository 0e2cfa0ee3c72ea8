"""The parameter space of a sweep: ``--vary PATH=VALUES`` axes, grids and random samples.

An axis is a scenario path (the ``--set`` syntax) and the values it takes::

    cluster.nodePools.gpu.count=1,2,4          a list (YAML scalars: 10ms, 0.5, true, ...)
    cluster.nodePools.gpu.count=1..32          an inclusive integer range
    controlPlane.scheduler.qps=range(10, 110, 20)   Python's range: 10, 30, 50, 70, 90
    controlPlane.etcd.fsync=1ms..20ms          a grid steps by 1 (1ms, 2ms, ...); --sample draws
                                               any value in it (an integer for unitless ranges)

A grid is the Cartesian product of the axes. A sample (``random:N`` or ``lhs:N``) draws N
points instead; Latin-hypercube sampling cuts each axis into N equal strata and uses each
stratum once, so N points cover every axis evenly (McKay, Beckman & Conover, 1979).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from sim.yamlio import SourceError

__all__ = ["Axis", "Point", "axes_of", "grid", "parse_sample", "parse_vary", "sample"]

Point = dict[str, Any]
"""One configuration: scenario path -> value."""

_RANGE = re.compile(r"^range\(\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?(?:,\s*(-?\d+)\s*)?\)$")
_NUMBER_UNIT = re.compile(r"^(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)([A-Za-z]*)$")
_SAMPLERS = ("random", "lhs")


@dataclass(frozen=True, slots=True)
class Axis:
    """One varied path: either listed ``values`` or an interval ``low..high`` (with a unit)."""

    path: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    unit: str = ""
    integer: bool = False

    @property
    def is_interval(self) -> bool:
        """True for ``lo..hi``: a grid takes every integer in it, a sample any value."""
        return self.low is not None

    def grid_values(self) -> tuple[Any, ...]:
        """The values a grid takes along this axis."""
        if not self.is_interval:
            return self.values
        if not self.integer:
            raise SourceError(f"{self.path}={self.low:g}..{self.high:g}{self.unit} is a continuous interval; "
                              "give a list or an integer range for a grid, or use --sample", "--vary")
        return tuple(self._with_unit(v) for v in range(int(self.low), int(self.high) + 1))  # type: ignore[arg-type]

    def at(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1) of this axis (uniform over values or interval)."""
        if not self.is_interval:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.high is not None
        assert self.low is not None
        if self.integer and not self.unit:  # counts are sampled as integers, durations continuously
            return int(self.low) + min(int(u * (self.high - self.low + 1)), int(self.high - self.low))
        return self._with_unit(round(self.low + u * (self.high - self.low), 9))

    def _with_unit(self, number: float) -> Any:
        return f"{number:g}{self.unit}" if self.unit else number


def parse_vary(text: str) -> Axis:
    """``PATH=VALUES`` -> ``Axis``; raises ``SourceError`` naming ``--vary`` on bad input."""
    path, sep, raw = text.partition("=")
    path, raw = path.strip(), raw.strip()
    if not sep or not path or not raw:
        raise SourceError(f"{text!r} must look like PATH=VALUES, e.g. cluster.nodePools.gpu.count=1,2,4", "--vary")
    match = _RANGE.match(raw)
    if match:
        args = [int(g) for g in match.groups() if g is not None]
        values = tuple(range(*args))
        if not values:
            raise SourceError(f"{text!r}: {raw} is empty", "--vary")
        return Axis(path, values)
    if ".." in raw and "," not in raw:
        return _interval(text, path, raw)
    return Axis(path, tuple(_scalar(item) for item in _split(raw)))


def axes_of(vary: Mapping[str, Any] | Iterable[str]) -> list[Axis]:
    """Axes from CLI texts or from a mapping of path to values (a list, range or ``"lo..hi"``)."""
    if isinstance(vary, Mapping):
        axes = []
        for path, values in vary.items():
            if isinstance(values, str):
                axes.append(parse_vary(f"{path}={values}"))
            else:
                axes.append(Axis(path, tuple(v.item() if hasattr(v, "item") else v for v in values)))
        return axes
    return [parse_vary(text) for text in vary]


def parse_sample(text: str) -> tuple[str, int]:
    """``lhs:20`` or ``random:20`` -> (method, number of points)."""
    method, _, count = text.partition(":")
    if method not in _SAMPLERS or not count.isdigit() or int(count) < 1:
        raise SourceError(f"{text!r}: expected lhs:N or random:N, e.g. lhs:20", "--sample")
    return method, int(count)


def grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the last axis varying fastest."""
    names = [a.path for a in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a.grid_values() for a in axes))]


def sample(axes: Sequence[Axis], method: str, count: int, seed: int) -> list[Point]:
    """``count`` points drawn by ``random`` or ``lhs`` from a stream derived from ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5A3F1E,)))
    if method == "lhs":
        # one column per axis: a random permutation of the strata, jittered within each
        u = (np.stack([rng.permutation(count) for _ in axes], axis=1) + rng.random((count, len(axes)))) / count
    else:
        u = rng.random((count, len(axes)))
    return [{a.path: a.at(float(row[i])) for i, a in enumerate(axes)} for row in u]


def _split(raw: str) -> list[str]:
    """Split on commas outside brackets, so ``{dist: constant, value: 2ms},5ms`` is two items."""
    items, depth, current = [], 0, ""
    for char in raw:
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def _scalar(item: str) -> Any:
    try:
        return yaml.safe_load(item)
    except yaml.YAMLError:
        return item


def _interval(text: str, path: str, raw: str) -> Axis:
    low_text, _, high_text = raw.partition("..")
    low, high = _NUMBER_UNIT.match(low_text.strip()), _NUMBER_UNIT.match(high_text.strip())
    if not low or not high or low.group(2) != high.group(2):
        raise SourceError(f"{text!r}: expected lo..hi with numbers in the same unit, e.g. 1..32 or 1ms..20ms",
                          "--vary")
    lo, hi = float(low.group(1)), float(high.group(1))
    if hi < lo:
        raise SourceError(f"{text!r}: the interval ends before it starts", "--vary")
    integer = all(re.fullmatch(r"-?\d+", m.group(1)) for m in (low, high))
    return Axis(path, low=lo, high=hi, unit=low.group(2), integer=integer)
