"""Sweeps: reproducible numbers, cores, tables on disk, the run cache and resuming after Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim.whatif.runner as runner
from sim.whatif import sweep
from sim.whatif.runner import replication_seeds

SCENARIO = "scenarios/capacity-gpu.yaml"
COUNT = "cluster.nodePools.gpu.count"
REPLICAS = "workloads.model-server.spec.replicas"
VARY = {COUNT: [1, 2, 3], REPLICAS: [4, 8]}
NUMBERS = ["pods_pending_at_end_mean", "pod_ready_p99_s_mean", "pod_ready_p99_s_ci_hi", "cost_per_hour_mean",
           "etcd_writes_mean"]


def _sweep(out: Path, **kwargs: object) -> pd.DataFrame:
    options: dict[str, object] = {"replications": 2, "jobs": 1, "progress": False, **kwargs}
    return sweep(SCENARIO, VARY, out=out, **options)  # type: ignore[arg-type]


def test_same_sweep_twice_gives_identical_numbers(tmp_path: Path) -> None:
    """Two sweeps in separate folders (no shared cache) agree exactly."""
    first, second = _sweep(tmp_path / "a"), _sweep(tmp_path / "b")
    pd.testing.assert_frame_equal(first[NUMBERS], second[NUMBERS])
    assert first.attrs["runs_simulated"] == second.attrs["runs_simulated"] == 12


def test_one_process_and_two_give_identical_numbers(tmp_path: Path) -> None:
    """Spreading runs over two worker processes changes nothing but the wall time."""
    one, two = _sweep(tmp_path / "one", jobs=1), _sweep(tmp_path / "two", jobs=2)
    pd.testing.assert_frame_equal(one[NUMBERS], two[NUMBERS])


def test_rows_are_configurations_with_stats_per_metric(tmp_path: Path) -> None:
    """One row per grid point with mean/std/CI columns; pending pods are max(0, R - 4·nodes)."""
    table = _sweep(tmp_path)
    assert table[[COUNT, REPLICAS]].values.tolist() == [[1, 4], [1, 8], [2, 4], [2, 8], [3, 4], [3, 8]]
    assert table["pods_pending_at_end_mean"].tolist() == [0, 4, 0, 0, 0, 0]
    assert {"pod_ready_p99_s_std", "pod_ready_p99_s_ci_lo", "replications"} <= set(table.columns)
    assert (table["pod_ready_p99_s_ci_lo"] <= table["pod_ready_p99_s_mean"]).all()
    assert table.attrs["params"] == [COUNT, REPLICAS]


def test_tables_are_written_as_csv_and_parquet(tmp_path: Path) -> None:
    """sweep.* has a row per configuration, runs.* a row per run with its seed."""
    table = _sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "runs.csv", "runs.parquet", "sweep.csv", "sweep.json", "sweep.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sweep.parquet")[NUMBERS], table[NUMBERS])
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 12
    assert sorted(set(runs["seed"])) == sorted(replication_seeds(11, 2))


def test_replications_use_independent_seeds_derived_from_the_scenario_seed() -> None:
    """Seeds differ per replication, are stable, and change with the scenario seed."""
    seeds = replication_seeds(11, 4)
    assert len(set(seeds)) == 4
    assert seeds == replication_seeds(11, 4)
    assert seeds[:2] == replication_seeds(11, 2)
    assert set(seeds).isdisjoint(replication_seeds(12, 4))


def test_adding_points_reuses_finished_runs(tmp_path: Path) -> None:
    """A second sweep with one more node count only simulates the new configurations."""
    _sweep(tmp_path)
    wider = sweep(SCENARIO, {COUNT: [1, 2, 3, 4], REPLICAS: [4, 8]}, out=tmp_path, replications=2, jobs=1,
                  progress=False)
    assert wider.attrs["runs_simulated"] == 4
    assert wider.attrs["runs_total"] == 16


def test_interrupted_sweep_keeps_finished_runs_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after five runs keeps those five; the re-run simulates only the other seven."""
    real, calls = runner.run_job, []

    def interrupted_after_five(job: runner.RunJob) -> dict[str, object]:
        calls.append(job)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(runner, "run_job", interrupted_after_five)
    with pytest.raises(KeyboardInterrupt):
        _sweep(tmp_path)
    assert len(list((tmp_path / "cache").glob("*/*.json"))) == 5
    monkeypatch.setattr(runner, "run_job", real)
    resumed = _sweep(tmp_path)
    assert resumed.attrs["runs_simulated"] == 7
    pd.testing.assert_frame_equal(resumed[NUMBERS], _sweep(tmp_path / "fresh")[NUMBERS])


def test_confidence_interval_narrows_with_replications(tmp_path: Path) -> None:
    """Sixteen replications instead of four shrink the CI of ready p99 by about 2·t(3)/t(15) ≈ 3."""
    widths = {}
    for n in (4, 16):
        row = sweep(SCENARIO, {COUNT: [2]}, out=tmp_path, replications=n, jobs=1, progress=False).iloc[0]
        widths[n] = row["pod_ready_p99_s_ci_hi"] - row["pod_ready_p99_s_ci_lo"]
    assert 2.0 < widths[4] / widths[16] < 5.0


def test_latin_hypercube_sweep_over_a_duration_interval(tmp_path: Path) -> None:
    """--sample lhs:N runs N sampled configurations of a continuous knob."""
    table = sweep(SCENARIO, ["controlPlane.etcd.fsync=1ms..20ms"], sample="lhs:4", out=tmp_path,
                  replications=1, jobs=1, progress=False)
    assert len(table) == 4
    assert sorted(int(float(v[:-2]) // 5) for v in table["controlPlane.etcd.fsync"]) == [0, 1, 2, 3]
