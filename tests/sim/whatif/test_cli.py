"""`kubesim sweep` and `kubesim plan` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.whatif.runner as runner
from sim.cli import main

SCENARIO = "scenarios/capacity-gpu.yaml"
Capsys = pytest.CaptureFixture[str]


def test_sweep_prints_a_table_and_writes_tables_and_plots(tmp_path: Path, capsys: Capsys) -> None:
    """A 2-D sweep shows mean ± CI per configuration and writes CSV, Parquet, a plot and a heatmap."""
    argv = ["sweep", SCENARIO, "--vary", "cluster.nodePools.gpu.count=1..3", "--vary",
            "workloads.model-server.spec.replicas=4,8", "--replications", "2", "--jobs", "1", "--out",
            str(tmp_path), "--require", "pods_pending_at_end == 0", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "6 configurations × 2 runs" in out
    assert "meets all" in out
    assert "12 runs (12 simulated, the rest from the cache)" in out
    assert {"sweep.csv", "sweep.parquet", "runs.csv", "runs.parquet", "pods_pending_at_end.png",
            "pods_pending_at_end-heatmap.png"} <= {p.name for p in tmp_path.iterdir()}


def test_plan_prints_the_answer_and_exits_zero(tmp_path: Path, capsys: Capsys) -> None:
    """plan names the cheapest configuration and the binding constraint."""
    argv = ["plan", SCENARIO, "--vary", "cluster.nodePools.gpu.count=1..8", "--set",
            "workloads.model-server.spec.replicas=16", "--require", "pods_pending_at_end == 0", "--require",
            "pod_ready_p99_s < 8m", "--replications", "2", "--jobs", "1", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "cluster.nodePools.gpu.count = 4" in out
    assert "Binding constraint: pods_pending_at_end == 0" in out


def test_plan_without_an_answer_exits_one(tmp_path: Path, capsys: Capsys) -> None:
    """No configuration in range meets the requirement: exit status 1 and the closest miss."""
    argv = ["plan", SCENARIO, "--vary", "cluster.nodePools.gpu.count=1..2", "--set",
            "workloads.model-server.spec.replicas=16", "--require", "pods_pending_at_end == 0",
            "--replications", "2", "--jobs", "1", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 1
    assert "Closest: cluster.nodePools.gpu.count=2" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "message"), [
    (["--vary", "cluster.nodePools.gpu.count"], "--vary: 'cluster.nodePools.gpu.count' must look like PATH=VALUES"),
    (["--vary", "cluster.nodePools.cpu.count=1,2"], "no list item named 'cpu'"),
    (["--vary", "cluster.nodePools.gpu.count=1..2", "--require", "pod_ready_p99 < 2m"],
     "--require: unknown metric 'pod_ready_p99'; did you mean 'pod_ready_p99_s'?"),
    (["--vary", "cluster.nodePools.gpu.count=1..2", "--replications", "1"], "at least 2 replications"),
], ids=["vary-without-values", "unknown-pool", "unknown-metric", "one-replication"])
def test_bad_input_is_one_line_and_exit_two(tmp_path: Path, capsys: Capsys, extra: list[str], message: str) -> None:
    """Mistakes are reported in one line with status 2, no traceback."""
    argv = ["plan", SCENARIO, *extra, "--jobs", "1", "--out", str(tmp_path), "--quiet"]
    if "--require" not in extra:
        argv += ["--require", "pods_pending_at_end == 0"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_ctrl_c_says_finished_runs_are_kept(tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupted sweep exits 130 and tells the user that re-running resumes."""
    def interrupted(job: runner.RunJob) -> dict[str, object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_job", interrupted)
    argv = ["sweep", SCENARIO, "--vary", "cluster.nodePools.gpu.count=1..2", "--jobs", "1", "--out", str(tmp_path),
            "--quiet"]
    assert main(argv) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
