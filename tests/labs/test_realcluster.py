"""The real-cluster step degrades to instructions when there is no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from labs.realcluster import on_real_cluster


def test_offline_prints_how_to_get_a_cluster(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KUBESIM_LABS_OFFLINE", "1")
    assert on_real_cluster(Path("scenarios/pod-startup.yaml")) is None
    out = capsys.readouterr().out
    assert "make cluster" in out
    assert "kubesim replay scenarios/pod-startup.yaml" in out


def test_missing_context_is_reported(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    monkeypatch.delenv("KUBESIM_LABS_OFFLINE", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert on_real_cluster("scenarios/pod-startup.yaml", context="no-such-context") is None
    assert "No real cluster" in capsys.readouterr().out


def test_unreachable_cluster_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A kubeconfig that names the context but whose API server is down gives the instructions."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("""
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: kwok-kubesim, context: {cluster: c, user: u}}]
current-context: kwok-kubesim
""")
    monkeypatch.delenv("KUBESIM_LABS_OFFLINE", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert on_real_cluster("scenarios/labs/lab01-pod-startup.yaml", out=tmp_path / "real") is None
    out = capsys.readouterr().out
    assert "No real cluster for this step" in out
    assert "make cluster" in out


def test_scenario_a_kwok_replay_cannot_reproduce_says_why(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Gang scheduling needs the Coscheduling plugin, which the real default scheduler lacks: no replay."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("""
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: kwok-kubesim, context: {cluster: c, user: u}}]
""")
    monkeypatch.delenv("KUBESIM_LABS_OFFLINE", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert on_real_cluster("scenarios/training-gang.yaml") is None
    assert "cannot be replayed on fake (KWOK) nodes as it is: PodGroup" in capsys.readouterr().out
