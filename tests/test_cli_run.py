"""`kubesim run`: outputs written atomically, overrides applied, Ctrl-C leaves nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import cli
from sim.engine import Simulation

EXPECTED = {"trace.jsonl", "summary.json", "report.md", "timeline.png", "pods.png", "allocation.png",
            "controlplane.png"}
SUMMARY_KEYS = {"scenario", "seed", "sim_time_s", "wall_time_s", "events", "pods_created", "pods_ready",
                "pod_startup_p50_s", "pod_startup_p99_s", "scheduling_throughput_pods_per_s"}


def test_run_writes_trace_summary_report_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The flagship run writes every output file and prints the report path."""
    out = tmp_path / "demo"
    assert cli.main(["run", "scenarios/serving-basic.yaml", "--out", str(out), "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} == EXPECTED
    summary = json.loads((out / "summary.json").read_text())
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["pods_ready"] == 16
    report = (out / "report.md").read_text()
    assert "Insufficient nvidia.com/gpu" in report
    assert "![Pod lifecycle](timeline.png)" in report
    assert capsys.readouterr().out.strip().endswith("report.md")


def test_seed_and_set_overrides_change_the_run(tmp_path: Path) -> None:
    """--seed is recorded; --set resizes a node pool by name."""
    out = tmp_path / "o"
    args = ["run", "scenarios/serving-basic.yaml", "--out", str(out), "--quiet", "--no-plots",
            "--seed", "11", "--set", "cluster.nodePools.gpu.count=3"]
    assert cli.main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 11
    assert summary["nodes"] == 7
    assert summary["pods_pending_at_end"] == 0


def test_interrupted_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C during the run exits 130 and leaves no files or temporary folders behind."""
    def interrupted(self: Simulation, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "run", interrupted)
    out = tmp_path / "never"
    assert cli.main(["run", "scenarios/pod-startup.yaml", "--out", str(out), "--quiet"]) == 130
    assert not out.exists() or not any(out.iterdir())
    assert "interrupted" in capsys.readouterr().err


def test_interrupt_while_writing_keeps_previous_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run interrupted while writing leaves the previous run's files whole and no temp folder."""
    out = tmp_path / "o"
    assert cli.main(["run", "scenarios/pod-startup.yaml", "--out", str(out), "--quiet", "--no-plots"]) == 0
    before = (out / "trace.jsonl").read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.report.render_report", broken)
    assert cli.main(["run", "scenarios/pod-startup.yaml", "--out", str(out), "--quiet", "--no-plots",
                     "--seed", "5"]) == 130
    assert (out / "trace.jsonl").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "summary.json", "trace.jsonl"]


def test_help_explains_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`kubesim --help` lists the commands and an example."""
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "run" in text
    assert "validate" in text
    assert "kubesim run scenarios/serving-basic.yaml" in text
