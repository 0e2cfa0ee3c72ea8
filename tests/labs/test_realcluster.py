"""The real-cluster step degrades to instructions when there is no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from labs.realcluster import on_real_cluster


def test_offline_prints_how_to_get_a_cluster(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KUBESIM_LABS_OFFLINE", "1")
    assert on_real_cluster(Path("scenarios/pod-startup.yaml")) is None
    out = capsys.readouterr().out
    assert "make cluster" in out and "kubesim replay scenarios/pod-startup.yaml" in out


def test_missing_context_is_reported(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    monkeypatch.delenv("KUBESIM_LABS_OFFLINE", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert on_real_cluster("scenarios/pod-startup.yaml", context="no-such-context") is None
    assert "No real cluster" in capsys.readouterr().out
