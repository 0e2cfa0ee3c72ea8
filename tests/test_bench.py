"""``make bench`` (sim/bench.py): repeated runs, targets, the JSON record and bad arguments."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sim import bench
from sim.bench import Benchmark, Target, best_of

RUN = {"wall_time_s": 2.0, "peak_rss_bytes": 100, "sim_time_s": 600.0, "events": 10, "pods": 3,
       "pod_startup_p50_s": 1.5, "pod_startup_p99_s": 3.0, "cycles": 3, "requests": None,
       "trace_digest": "0123456789abcdef"}


def test_best_of_keeps_the_fastest_run_and_the_highest_peak() -> None:
    slow, fast = RUN | {"wall_time_s": 3.0, "peak_rss_bytes": 300}, RUN | {"wall_time_s": 1.0, "cpu_time_s": 1.1}
    row = best_of("x", [slow, fast, RUN])
    assert row["wall_time_s"] == 1.0
    assert row["cpu_time_s"] == 1.1  # the fastest run's own figures
    assert row["peak_rss_bytes"] == 300
    assert row["wall_runs_s"] == [3.0, 1.0, 2.0]
    assert "wall_runs_s" not in best_of("x", [RUN])


@pytest.mark.parametrize("field", ["trace_digest", "pod_startup_p99_s", "cycles", "requests"])
def test_runs_that_simulated_differently_fail(field) -> None:
    with pytest.raises(RuntimeError, match=f"x: repeated runs simulated different results \\({field}\\)"):
        best_of("x", [RUN, RUN | {field: 7}])


def test_engine_event_counts_are_not_what_was_simulated() -> None:
    """Two runs with the same event records may take different numbers of engine events (a
    faster engine schedules fewer): that is not a different simulation."""
    assert best_of("x", [RUN, RUN | {"events": 7}])["events"] == 10


def test_target_bounds() -> None:
    under = Target("wall_time_s", 5, "wall < 5 s")
    assert under.met({"wall_time_s": 4.99})
    assert not under.met({"wall_time_s": 5})
    assert Target("schedule_us_per_pod", 100, "<= 100", or_equal=True).met({"schedule_us_per_pod": 100})


def test_repeated_benchmark_record(tmp_path, monkeypatch, capsys) -> None:
    """Two real runs of a small scenario in fresh processes; one target it meets, one it cannot."""
    small = Benchmark("small", "scenarios/serving-basic.yaml", "6 nodes, 20 pods",
                      targets=(Target("wall_time_s", 1e6, "wall < 1e6 s"), Target("pods", 0, "no pods")))
    monkeypatch.setattr(bench, "BENCHMARKS", [small])
    assert bench.main(["--only", "small", "--repeat", "2", "--no-real", "--out", str(tmp_path)]) == 0
    record = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    assert record["repeat"] == 2
    assert record["sweeps"] == []
    (row,) = record["results"]
    assert len(row["wall_runs_s"]) == 2
    assert row["wall_time_s"] == min(row["wall_runs_s"])
    assert row["pods"] == 20
    assert row["events_per_s"] == round(row["events"] / row["wall_time_s"])
    assert row["targets"] == [{"target": "wall < 1e6 s", "met": True}, {"target": "no pods", "met": False}]
    out = capsys.readouterr().out
    assert "best of 2" in out
    assert "no pods: NOT met" in out


@pytest.mark.parametrize("argv", [["--only", "nope"], ["--repeat", "0"], ["--repeat", "two"]])
def test_bad_arguments(argv, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main([*argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "kubesim-bench: error:" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


in_git_checkout = pytest.mark.skipif(shutil.which("git") is None or _git("rev-parse", "HEAD").returncode != 0,
                                     reason="needs git and a git checkout of kubesim")


@in_git_checkout
def test_against_a_commit_runs_both_sides_alternately(tmp_path, monkeypatch, capsys) -> None:
    """--against HEAD: the small scenario runs twice here and twice on HEAD's exported files."""
    small = Benchmark("small", "scenarios/serving-basic.yaml", "6 nodes, 20 pods")
    monkeypatch.setattr(bench, "BENCHMARKS", [small])
    calls: list[str | None] = []
    real_run_once = bench._run_once

    def noting(b, tree=None):  # type: ignore[no-untyped-def]
        calls.append(None if tree is None else str(tree))
        return real_run_once(b, tree)

    monkeypatch.setattr(bench, "_run_once", noting)
    assert bench.main(["--only", "small", "--against", "HEAD", "--repeat", "2", "--no-real",
                       "--out", str(tmp_path)]) == 0
    assert [c is None for c in calls] == [True, False, True, False]  # alternated, here first
    assert not Path(calls[1]).exists()  # the exported commit is removed afterwards
    record = json.loads(next(tmp_path.glob("bench-*.json")).read_text())
    head = _git("rev-parse", "--short", "HEAD").stdout.strip()
    assert record["against"]["rev"] == "HEAD"
    assert record["against"]["commit"] == head
    (row,) = record["against"]["results"]
    assert row["against_row"]["pods"] == 20
    assert len(row["wall_runs_s"]) == len(row["against_wall_runs_s"]) == 2
    assert row["change"] == pytest.approx(row["wall_time_s"] / row["against_wall_time_s"] - 1)
    if _git("diff", "--quiet", "HEAD", "--", "sim", "scenarios").returncode == 0:
        assert row["differs"] == []  # the same code and scenario simulate the same figures
    out = capsys.readouterr().out
    assert f"this checkout against HEAD ({head}): alternated runs, best of 2" in out


def test_against_reports_a_different_simulation(tmp_path, monkeypatch, capsys) -> None:
    """A side that simulated other figures is named in the comparison (it is not a speed-up)."""
    small = Benchmark("small", "scenarios/serving-basic.yaml", "6 nodes, 20 pods")
    monkeypatch.setattr(bench, "BENCHMARKS", [small])
    monkeypatch.setattr(bench, "export_commit", lambda rev, into: bench.Baseline(rev, "abc1234", into))
    shown = RUN | {"cpu_time_s": 2.0, "schedule_us_per_pod": 50.0}  # what the table prints
    monkeypatch.setattr(bench, "_run_once", lambda b, tree=None: shown | (
        {"wall_time_s": 1.0, "trace_digest": "fedcba9876543210"} if tree else {"wall_time_s": 2.0}))
    assert bench.main(["--only", "small", "--against", "old", "--no-real", "--out", str(tmp_path)]) == 0
    (row,) = json.loads(next(tmp_path.glob("bench-*.json")).read_text())["against"]["results"]
    assert row["differs"] == ["trace_digest"]
    assert row["change"] == pytest.approx(1.0)  # twice the old wall time
    assert "NO: event records differ" in capsys.readouterr().out


@in_git_checkout
@pytest.mark.parametrize(("argv", "message"), [
    (["--against", "no-such-revision-xyz"], "--against: 'no-such-revision-xyz' is not a commit of this repository"),
    (["--against", "HEAD", "--only", "sweep-100"], "--against compares the scenario benchmarks, not sweeps"),
])
def test_against_errors(argv, message, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main([*argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
