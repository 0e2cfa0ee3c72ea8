"""Requirements such as ``pod_ready_p99_s < 2m``, checked with a stated confidence.

A requirement is met at a configuration only if the data say so with confidence ``c``: for
``<`` and ``<=`` the one-sided upper bound ``mean + t(c, n-1)·s/√n`` must be under the limit;
for ``>`` and ``>=`` the lower bound must be over it; ``==`` needs every replication to equal
the value (pending pods: *no* run may leave one behind). A metric some run could not measure
(a p99 with no ready pods) fails. Limits on ``*_s`` metrics may carry a unit (``200ms``,
``8h``), on ``*_bytes`` metrics a quantity (``2Gi``).
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.api.quantity import QuantityError, parse_bytes, parse_duration
from sim.whatif.stats import bound
from sim.yamlio import SourceError

__all__ = ["Check", "Requirement", "parse_requirement"]

_FORM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|<|>)\s*(\S.*?)\s*$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True, slots=True)
class Check:
    """A requirement at one configuration: met or not, the figure compared, the margin."""

    requirement: Requirement
    met: bool
    figure: float  # the bound (or, for ==, the worst run) compared with the limit
    mean: float
    margin: float  # how far inside (+) or outside (-) the limit the figure is

    def describe(self) -> str:
        """``upper 95% bound 84.2 s < 120 s: met (margin 35.8 s)``."""
        req = self.requirement
        unit = " s" if req.metric.endswith("_s") else ""
        if math.isnan(self.figure):
            return f"{req.text}: not measured in every run (or too few runs for a bound) -> fails"
        verdict = "met" if self.met else "fails"
        if req.op == "==":
            what = f"every run = {self.figure:g}" if self.met else \
                f"mean {self.mean:.4g}, not {req.limit:g} in every run"
        else:
            side = "upper" if req.op in ("<", "<=") else "lower"
            what = f"{side} bound {self.figure:.4g}{unit} (mean {self.mean:.4g}{unit})"
        if req.op == "==":
            return f"{req.text}: {what} -> {verdict}"
        return f"{req.text}: {what} -> {verdict} (margin {self.margin:+.4g}{unit})"


@dataclass(frozen=True, slots=True)
class Requirement:
    """``metric op limit`` as written (``text``) and parsed."""

    text: str
    metric: str
    op: str
    limit: float

    def check(self, row: Mapping[str, Any], confidence: float) -> Check:
        """Whether an aggregated row (``<metric>_mean``, ``_std``, ``replications``) meets this."""
        mean = float(row.get(f"{self.metric}_mean", math.nan))
        std = float(row.get(f"{self.metric}_std", math.nan))
        n = int(row.get("replications", 0))
        if self.op == "==":
            figure = self._worst_of_equal(row, mean, std)
            met = not math.isnan(figure) and figure == self.limit
            return Check(self, met, figure, mean, -abs(figure - self.limit))
        upper = self.op in ("<", "<=")
        if n == 1 or std == 0:
            figure = mean  # one run: no spread to bound; all equal: the bound is the value
        else:
            figure = bound(mean, std, n, confidence, upper)
        met = not math.isnan(figure) and _OPS[self.op](figure, self.limit)
        margin = (self.limit - figure) if upper else (figure - self.limit)
        return Check(self, met, figure, mean, margin)

    def _worst_of_equal(self, row: Mapping[str, Any], mean: float, std: float) -> float:
        if math.isnan(mean):
            return math.nan
        if std == 0 or math.isnan(std):
            return mean
        lo, hi = float(row.get(f"{self.metric}_ci_lo", mean)), float(row.get(f"{self.metric}_ci_hi", mean))
        return hi if abs(hi - self.limit) >= abs(lo - self.limit) else lo


def parse_requirement(text: str, known: list[str] | None = None) -> Requirement:
    """``'pod_ready_p99_s < 2m'`` -> ``Requirement``; unknown metrics get a did-you-mean."""
    from sim.metrics import METRICS

    match = _FORM.match(text)
    if not match:
        raise SourceError(f"{text!r}: expected METRIC OP VALUE, e.g. 'pod_ready_p99_s < 120s' "
                          "(OP is one of < <= > >= ==)", "--require")
    metric, op, raw = match.groups()
    names = known if known is not None else list(METRICS)
    if metric not in names:
        close = difflib.get_close_matches(metric, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SourceError(f"unknown metric {metric!r}{hint}", "--require")
    return Requirement(text.strip(), metric, op, _limit(metric, raw, text))


def _limit(metric: str, raw: str, text: str) -> float:
    try:
        if metric.endswith("_s"):
            return parse_duration(raw)
        if metric.endswith("_bytes"):
            return float(parse_bytes(raw))
        return float(raw)
    except (QuantityError, ValueError):
        unit = " (a duration such as 200ms, 90s, 8h)" if metric.endswith("_s") else ""
        raise SourceError(f"{text!r}: {raw!r} is not a number{unit}", "--require") from None
