"""Run many (configuration, seed) pairs over all cores, reusing and keeping finished runs.

Each run is a separate simulation in a worker process (``ProcessPoolExecutor`` with the
``spawn`` start method, so it behaves the same on Linux, macOS and Windows and in notebooks).
A worker receives only the scenario path, the override texts and the seed, all picklable,
and sends back the run's summary. The parent stores each summary in the cache the moment it
arrives, so Ctrl-C loses at most the runs still under way.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from sim.scenario import Scenario, load_scenario
from sim.whatif.cache import RunCache

__all__ = ["RunJob", "Workers", "execute", "replication_seeds", "run_job"]

_NOT_METRICS = ("scenario", "kubernetes_version")


@dataclass(frozen=True, slots=True)
class RunJob:
    """One simulation to run: a configuration (``point``), a replication and its seed."""

    point: int
    replication: int
    scenario: str
    overrides: tuple[str, ...]
    seed: int
    key: str  # the run's cache key
    content: str  # hash of the configuration's content (same for all its replications)


def replication_seeds(seed: int, count: int) -> list[int]:
    """Independent seeds for replications 0..count-1, derived from the scenario seed.

    Every configuration uses the same seeds (common random numbers), so differences between
    configurations are not blurred by differences in luck."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


@lru_cache(maxsize=16)
def _scenario(path: str, overrides: tuple[str, ...], content: str) -> Scenario:
    """Loaded once per worker for all replications of a configuration (a Scenario is frozen);
    ``content`` is part of the key so an edited file is read again."""
    return load_scenario(path, list(overrides))


def run_job(job: RunJob) -> dict[str, Any]:
    """Run one simulation and return its summary (the worker's whole job)."""
    from sim.engine import Simulation

    summary = Simulation(_scenario(job.scenario, job.overrides, job.content), seed=job.seed).run().summary
    return {k: v for k, v in summary.items() if k not in _NOT_METRICS}


class Workers:
    """Worker processes, started on first use and kept for later batches (plan's rounds)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        """The process pool (spawned now if this is its first use)."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.count, mp_context=context, initializer=_ignore_sigint)
        return self._pool

    def close(self) -> None:
        """Stop the workers (waiting for any run under way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def execute(jobs: Sequence[RunJob], cache: RunCache, workers: Workers | int = 1,
            progress: bool | None = None) -> tuple[dict[tuple[int, int], dict[str, Any]], int]:
    """Summaries of every job by (point, replication), from the cache or freshly run, and how
    many were run.

    Raises:
        KeyboardInterrupt: after storing every run that finished (re-running resumes).
    """
    results: dict[tuple[int, int], dict[str, Any]] = {}
    todo = []
    for job in jobs:
        cached = cache.get(job.key)
        if cached is None:
            todo.append(job)
        else:
            results[(job.point, job.replication)] = cached
    with _progress_bar(len(jobs), len(jobs) - len(todo), progress) as advance:
        def finished(job: RunJob, summary: dict[str, Any]) -> None:
            cache.put(job.key, summary)
            results[(job.point, job.replication)] = summary
            advance()

        count = workers.count if isinstance(workers, Workers) else workers
        if count <= 1 or len(todo) <= 1:
            for job in todo:
                finished(job, run_job(job))
        elif isinstance(workers, Workers):
            _run_in_pool(todo, workers.pool(), finished)
        else:
            own = Workers(min(count, len(todo)))
            try:
                _run_in_pool(todo, own.pool(), finished)
            finally:
                own.close()
    return results, len(todo)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which decides what to keep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_pool(todo: Sequence[RunJob], pool: ProcessPoolExecutor,
                 finished: Callable[[RunJob, dict[str, Any]], None]) -> None:
    futures: dict[Future[dict[str, Any]], RunJob] = {pool.submit(run_job, job): job for job in todo}
    handled: set[Future[dict[str, Any]]] = set()
    try:
        for future in as_completed(futures):
            handled.add(future)
            finished(futures[future], _result(future, futures[future]))
    except BaseException:
        for future in futures:
            future.cancel()
        _keep_runs_under_way(futures, handled, finished)
        raise


def _keep_runs_under_way(futures: dict[Future[dict[str, Any]], RunJob], handled: set[Future[dict[str, Any]]],
                         finished: Callable[[RunJob, dict[str, Any]], None]) -> None:
    """After Ctrl-C, wait for the runs already started and store them too."""
    for future, job in futures.items():
        if future in handled or future.cancelled():
            continue
        try:
            finished(job, future.result())
        except Exception:  # noqa: BLE001, PERF203 - a failed run is simply not stored
            continue


def _result(future: Future[dict[str, Any]], job: RunJob) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:
        exc.add_note(f"while running {job.scenario} {' '.join(job.overrides)} with seed {job.seed}")
        raise


@contextmanager
def _progress_bar(total: int, done: int, enabled: bool | None) -> Iterator[Callable[[], None]]:
    """A rich progress bar with ETA on stderr (only when it is a terminal, unless told)."""
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled or total == 0:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TextColumn("elapsed"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("runs", total=total, completed=done)
        yield lambda: bar.advance(task)
