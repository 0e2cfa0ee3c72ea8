"""Figures of a sweep: a metric against a parameter with CI bands, and 2-D heatmaps.

Where requirements are given, configurations that meet all of them are shaded green: spans
of the x axis on a line plot (or green rings when lines are grouped), hatched cells on a heatmap.
Figures are built without pyplot, so they work headless and display in notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.api.quantity import QuantityError, parse_duration
from sim.metrics import METRICS
from sim.whatif.requirements import Requirement

__all__ = ["feasible", "heatmap_figure", "metric_figure", "save_sweep_plots"]

FEASIBLE = "#2a9d8f"


def feasible(table: pd.DataFrame, requirements: Sequence[Requirement], confidence: float = 0.95) -> np.ndarray:
    """Per row of an aggregated table: does it meet every requirement?"""
    rows = table.to_dict("records")
    return np.array([all(r.check(row, confidence).met for r in requirements) for row in rows], dtype=bool)


def _numeric(values: pd.Series) -> tuple[np.ndarray, str]:
    """Plot positions for parameter values: numbers, durations in seconds, or category ranks."""
    try:
        return values.to_numpy(dtype=float), ""
    except (TypeError, ValueError):
        pass
    try:
        return np.array([parse_duration(v) for v in values], dtype=float), " (s)"
    except QuantityError:
        ranks = {v: i for i, v in enumerate(dict.fromkeys(values))}
        return np.array([ranks[v] for v in values], dtype=float), ""


def _label(metric: str) -> str:
    label, unit = METRICS.get(metric, (metric, ""))
    return f"{label} ({unit})" if unit else label


def metric_figure(table: pd.DataFrame, x: str, metric: str, by: str | None = None,
                  requirements: Sequence[Requirement] = (), confidence: float | None = None) -> Figure:
    """Mean of ``metric`` against parameter ``x`` with its CI band; one line per ``by`` value."""
    confidence = confidence or table.attrs.get("confidence", 0.95)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    ok = feasible(table, requirements, confidence) if requirements else None
    groups = [(None, table)] if by is None else list(table.groupby(by, sort=True))
    for value, group in groups:
        xs, unit = _numeric(group[x])
        order = np.argsort(xs, kind="stable")
        mean = group[f"{metric}_mean"].to_numpy(dtype=float)[order]
        lo, hi = (group[f"{metric}_{s}"].to_numpy(dtype=float)[order] for s in ("ci_lo", "ci_hi"))
        label = None if value is None else f"{by.rsplit('.', 1)[-1] if by else ''} = {value}"
        line = ax.plot(xs[order], mean, marker="o", label=label)[0]
        ax.fill_between(xs[order], lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
        if ok is not None and by is not None:
            good = ok[group.index.to_numpy()][order]
            ax.plot(xs[order][good], mean[good], "o", color=FEASIBLE, markersize=12, markerfacecolor="none", zorder=3,
                    markeredgecolor=FEASIBLE, markeredgewidth=2,
                    label="meets every requirement" if value == groups[0][0] else None)
    if ok is not None and by is None:
        _shade_spans(ax, *_numeric(table[x]), ok)
    for req in requirements:
        if req.metric == metric and req.op != "==":
            ax.axhline(req.limit, color="#e76f51", linestyle="--", linewidth=1, label=f"limit: {req.text}")
    ax.set_xlabel(x + _numeric(table[x])[1])
    ax.set_ylabel(_label(metric))
    pct = f"{confidence:.0%}"
    ax.set_title(f"{_label(metric)} vs {x.rsplit('.', 1)[-1]} (mean, {pct} CI"
                 + (", green: meets every requirement)" if requirements else ")"), fontsize=10)
    if by is not None or requirements:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _shade_spans(ax: Any, xs: np.ndarray, _unit: str, ok: np.ndarray) -> None:
    """Shade the x ranges around feasible configurations (halfway to the neighbours)."""
    order = np.argsort(xs, kind="stable")
    xs, ok = xs[order], ok[order]
    edges = np.concatenate([[xs[0] - (xs[1] - xs[0]) / 2 if len(xs) > 1 else xs[0] - 0.5],
                            (xs[1:] + xs[:-1]) / 2,
                            [xs[-1] + (xs[-1] - xs[-2]) / 2 if len(xs) > 1 else xs[-1] + 0.5]])
    for i in np.flatnonzero(ok):
        ax.axvspan(edges[i], edges[i + 1], color=FEASIBLE, alpha=0.15, linewidth=0)


def heatmap_figure(table: pd.DataFrame, x: str, y: str, metric: str,
                   requirements: Sequence[Requirement] = (), confidence: float | None = None) -> Figure:
    """Mean of ``metric`` over a 2-D grid of parameters ``x`` and ``y``; feasible cells hatched."""
    confidence = confidence or table.attrs.get("confidence", 0.95)
    xs, ys = list(dict.fromkeys(table[x])), list(dict.fromkeys(table[y]))
    xs.sort(key=_sort_key)
    ys.sort(key=_sort_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    good = np.zeros_like(grid, dtype=bool)
    ok = feasible(table, requirements, confidence) if requirements else np.zeros(len(table), dtype=bool)
    for (xv, yv, mean), fit in zip(table[[x, y, f"{metric}_mean"]].itertuples(index=False), ok, strict=True):
        grid[ys.index(yv), xs.index(xv)] = mean
        good[ys.index(yv), xs.index(xv)] = fit
    fig = Figure(figsize=(1.2 + 0.7 * len(xs), 1.5 + 0.45 * len(ys)) if len(xs) > 6 else (6.5, 4.5))
    ax = fig.subplots()
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label=_label(metric))
    for (row, col), fit in np.ndenumerate(good):
        if fit:
            ax.add_patch(_cell(col, row))
        if len(xs) * len(ys) <= 150 and not np.isnan(grid[row, col]):
            ax.text(col, row, f"{grid[row, col]:.3g}", ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{_label(metric)} (mean)" + (" — hatched: meets every requirement" if requirements else ""),
                 fontsize=10)
    fig.tight_layout()
    return fig


def _cell(col: int, row: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#b7f5c5", linewidth=1.5)


def _sort_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, int | float):
        return (0, float(value), "")
    try:
        return (0, parse_duration(value), "")
    except QuantityError:
        return (1, 0.0, str(value))


def save_sweep_plots(table: pd.DataFrame, out: Path, metrics: Sequence[str],
                     requirements: Sequence[Requirement] = ()) -> list[Path]:
    """PNG files for a sweep, per metric: the metric against the parameter; for a 2-D grid, lines
    grouped by the second parameter and a heatmap; nothing for three or more (use the functions)."""
    params = list(table.attrs.get("params", []))
    is_grid = len(params) == 2 and table[params[0]].nunique() * table[params[1]].nunique() == len(table)
    written = []
    for metric in metrics:
        figures: dict[str, Figure] = {}
        if is_grid:
            figures[f"{metric}.png"] = metric_figure(table, params[0], metric, params[1], requirements)
            figures[f"{metric}-heatmap.png"] = heatmap_figure(table, params[0], params[1], metric, requirements)
        elif len(params) <= 2:  # one parameter, or a sample: the metric against each parameter
            for param in params:
                suffix = "" if len(params) == 1 else f"-vs-{param.rsplit('.', 1)[-1]}"
                figures[f"{metric}{suffix}.png"] = metric_figure(table, param, metric, None, requirements)
        for name, fig in figures.items():
            fig.savefig(out / name, dpi=110)
            written.append(out / name)
    return written
