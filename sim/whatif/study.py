"""Sweeps: a scenario run at many configurations, each replicated with independent seeds.

``sweep("scenarios/capacity-gpu.yaml", {"cluster.nodePools.gpu.count": range(1, 7)})`` runs
every configuration N times, and returns one row per configuration with the mean, standard
deviation and confidence interval of every summary figure. The same tables are written to
``<out>/sweep.csv|parquet`` (per configuration) and ``<out>/runs.csv|parquet`` (per run),
and finished runs are cached under ``<out>/cache`` (see ``sim.whatif.cache``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.overrides import format_override
from sim.scenario import load_scenario
from sim.whatif.cache import RunCache, content_hash, run_key, scenario_content
from sim.whatif.runner import RunJob, Workers, execute, replication_seeds
from sim.whatif.space import Point, axes_of, grid, parse_sample
from sim.whatif.space import sample as draw_sample
from sim.whatif.stats import aggregate

__all__ = ["Study", "metric_columns", "sweep", "write_tables"]

NOT_METRICS = ("point", "replication", "seed", "sim_time_s", "wall_time_s", "events_per_wall_s")
"""Run columns that are bookkeeping, not outcomes of the model."""


def cpu_count() -> int:
    """Cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Study:
    """Evaluates configurations of one scenario: fixed overrides, replications, cache, cores."""

    def __init__(self, scenario: str | Path, sets: Sequence[str] = (), replications: int = 3,
                 seed: int | None = None, out: str | Path | None = None, jobs: int | None = None,
                 confidence: float = 0.95, progress: bool | None = None) -> None:
        if replications < 1:
            raise ValueError(f"replications must be >= 1, got {replications}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        self.scenario = str(scenario)
        self.sets = tuple(sets)
        base = load_scenario(self.scenario, list(self.sets))  # validates the fixed overrides once
        self.name = base.name
        self.seed = base.seed if seed is None else seed
        self.seeds = replication_seeds(self.seed, replications)
        self.out = Path(out) if out is not None else Path("runs") / "whatif" / base.name
        self.cache = RunCache(self.out / "cache")
        self.workers = Workers(jobs or cpu_count())
        self.confidence = confidence
        self.progress = progress
        self.ran = 0  # runs simulated (not found in the cache) so far

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.workers.close()

    def jobs_for(self, points: Sequence[Point]) -> list[RunJob]:
        """Validate every configuration, then one job per (configuration, replication)."""
        jobs = []
        for index, point in enumerate(points):
            overrides = (*self.sets, *(format_override(path, value) for path, value in point.items()))
            content = content_hash(scenario_content(load_scenario(self.scenario, list(overrides))))
            jobs += [RunJob(index, rep, self.scenario, overrides, seed, run_key(content, seed), content)
                     for rep, seed in enumerate(self.seeds)]
        return jobs

    def runs(self, points: Sequence[Point]) -> pd.DataFrame:
        """One row per run: ``point``, ``replication``, ``seed``, the parameters, the summary."""
        jobs = self.jobs_for(points)
        results, ran = execute(jobs, self.cache, self.workers, self.progress)
        self.ran += ran
        rows = [{"point": job.point, "replication": job.replication, "seed": job.seed, **points[job.point],
                 **results[(job.point, job.replication)]} for job in jobs]
        return pd.DataFrame(rows)

    def evaluate(self, points: Sequence[Point], metrics: Sequence[str] | None = None) -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
        """(runs, one row per configuration with mean/std/CI of each metric)."""
        runs = self.runs(points)
        params = list(points[0]) if points else []
        chosen = list(metrics) if metrics else metric_columns(runs, params)
        return runs, aggregate(runs, params, chosen, self.confidence)


def metric_columns(runs: pd.DataFrame, params: Sequence[str]) -> list[str]:
    """The numeric summary figures present in the runs (not parameters or bookkeeping)."""
    return [c for c in runs.columns if c not in NOT_METRICS and c not in params
            and pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])]


def sweep(scenario: str | Path, vary: Mapping[str, Any] | Sequence[str], *, sample: str | None = None,
          replications: int = 3, jobs: int | None = None, out: str | Path | None = None,
          sets: Sequence[str] = (), seed: int | None = None, metrics: Sequence[str] | None = None,
          confidence: float = 0.95, progress: bool | None = None) -> pd.DataFrame:
    """Run ``scenario`` over a grid (or ``sample="lhs:20"``) of the ``vary`` axes.

    Args:
        vary: ``{"cluster.nodePools.gpu.count": range(1, 7)}`` or CLI texts ``["PATH=1,2,4"]``.
        replications: runs per configuration, with seeds derived from the scenario seed.
        jobs: worker processes (default: every core).
        out: folder for tables and the run cache (default ``runs/whatif/<scenario name>``).
        sets: fixed ``PATH=VALUE`` overrides applied to every configuration.

    Returns:
        One row per configuration: the parameters, ``replications`` and, per metric,
        ``<metric>_mean``, ``_std``, ``_ci_lo``, ``_ci_hi`` (``attrs`` names the parameters,
        metrics, confidence and output folder).
    """
    axes = axes_of(vary)
    with Study(scenario, sets, replications, seed, out, jobs, confidence, progress) as study:
        if sample:
            method, count = parse_sample(sample)
            points = draw_sample(axes, method, count, study.seed)
        else:
            points = grid(axes)
        runs, table = study.evaluate(points, metrics)
    params = [a.path for a in axes]
    spec = {"scenario": study.scenario, "sets": list(study.sets), "vary": {a.path: _axis_text(a) for a in axes},
            "sample": sample, "replications": replications, "seed": study.seed, "seeds": study.seeds,
            "confidence": confidence}
    write_tables(study.out, "sweep", runs, table, spec)
    table.attrs.update(params=params, metrics=metric_columns(runs, params) if not metrics else list(metrics),
                       confidence=confidence, replications=replications, out=str(study.out),
                       runs_simulated=study.ran, runs_total=len(runs))
    return table


def _axis_text(axis: Any) -> Any:
    if axis.is_interval:
        return f"{axis.low:g}{axis.unit}..{axis.high:g}{axis.unit}"
    return list(axis.values)


def write_tables(out: Path, stem: str, runs: pd.DataFrame, table: pd.DataFrame, spec: dict[str, Any]) -> None:
    """``runs`` and ``<stem>`` as CSV and Parquet, and ``<stem>.json`` (the definition), atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("runs", runs), (stem, table)):
        frame = _parquet_safe(frame)
        _atomic(out / f"{name}.csv", lambda p, f=frame: f.to_csv(p, index=False))
        _atomic(out / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
    _atomic(out / f"{stem}.json", lambda p: Path(p).write_text(json.dumps(spec, indent=2, default=str) + "\n"))


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing types (``2ms`` beside ``0.005``) become text, which Parquet can store."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object and len({type(v) for v in frame[col]}) > 1:
            frame[col] = frame[col].map(str)
    return frame


def _atomic(path: Path, write: Callable[[str], Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
