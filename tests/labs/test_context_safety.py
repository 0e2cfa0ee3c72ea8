"""Which contexts kubesim may touch, and the one-line errors when it may not (no cluster needed)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from sim.cli import main

from labs.cluster import LabError, connect, is_local, resolve_context
from labs.replay import namespace_name

SECRET = "s3cr3t-t0ken-never-printed"


def _kubeconfig(tmp_path: Path, contexts: dict[str, str]) -> Path:
    """A kubeconfig with one cluster per context (server URL) and a token user."""
    data = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": f"c-{n}", "cluster": {"server": s, "insecure-skip-tls-verify": True}}
                     for n, s in contexts.items()],
        "users": [{"name": "u", "user": {"token": SECRET}}],
        "contexts": [{"name": n, "context": {"cluster": f"c-{n}", "user": "u"}} for n in contexts],
        "current-context": next(iter(contexts)),
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(data))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("context", "server", "local"), [
    ("kind-dev", "https://10.1.2.3:6443", True),
    ("kwok-kubesim", "https://192.168.0.10:6443", True),
    ("dev", "https://127.0.0.1:16443", True),
    ("dev", "https://127.3.0.1:6443", True),
    ("dev", "https://localhost:6443", True),
    ("dev", "https://[::1]:6443", True),
    ("gke_prod_europe", "https://34.76.1.1", False),
    ("kind", "https://10.0.0.1:6443", False),          # "kind" alone is not the kind-* prefix
    ("dev", "https://127.example.com:6443", False),    # a host name starting with 127 is not loopback
    ("arn:aws:eks:eu-west-1:1:cluster/x", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", False),
])
def test_is_local(context: str, server: str, local: bool) -> None:
    assert is_local(context, server) is local


def test_remote_context_is_refused_unless_allowed_by_name(tmp_path: Path) -> None:
    """A cloud-looking context is refused before any request; --allow-context must name it."""
    config = _kubeconfig(tmp_path, {"prod": "https://203.0.113.7:6443"})
    with pytest.raises(LabError, match="refusing context 'prod'.*--allow-context prod") as info:
        connect("prod", kubeconfig=config)
    assert SECRET not in str(info.value)
    with pytest.raises(LabError, match="refusing"):
        connect("prod", allow_context="other", kubeconfig=config)


def test_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    config = _kubeconfig(tmp_path, {"kind-a": "https://127.0.0.1:1", "kind-b": "https://127.0.0.1:2"})
    with pytest.raises(LabError, match=r"unknown context 'kind-c'; contexts in the kubeconfig: kind-a, kind-b"):
        resolve_context("kind-c", config)


def test_no_kubeconfig_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("KUBESIM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LabError, match="no kubeconfig found"):
        resolve_context("kwok-kubesim")


def test_unreachable_local_cluster_is_one_line_without_credentials(tmp_path: Path) -> None:
    """Nothing listens on the port: a clear error naming the server, never the token."""
    server = f"https://127.0.0.1:{_free_port()}"
    config = _kubeconfig(tmp_path, {"kwok-test": server})
    with pytest.raises(LabError) as info:
        connect("kwok-test", kubeconfig=config, timeout=2)
    message = str(info.value)
    assert message.startswith(f"no cluster reachable at {server} (context 'kwok-test')")
    assert "\n" not in message
    assert SECRET not in message


def test_cli_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kubesim replay` turns every cluster problem into exit status 2 and one stderr line."""
    config = _kubeconfig(tmp_path, {"prod": "https://203.0.113.7:6443",
                                    "kind-x": f"https://127.0.0.1:{_free_port()}"})
    for context in ("prod", "nope", "kind-x"):
        code = main(["replay", "scenarios/pod-startup.yaml", "--context", context, "--kubeconfig", str(config),
                     "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert len(err) == 1
        assert err[0].startswith("kubesim: error: ")
        assert SECRET not in err[0]
    assert not (tmp_path / "out").exists()


def test_namespace_names_are_valid_and_distinct() -> None:
    long = namespace_name("A Very_Long scenario name " * 5)
    assert len(long) <= 63
    assert long.startswith("kubesim-a-very-long-scenario-name")
    assert namespace_name("pod-startup", "abcde") == "kubesim-pod-startup-abcde"
    assert namespace_name("pod-startup") != namespace_name("pod-startup")
    assert all(c.isalnum() or c == "-" for c in long)
    assert long == long.lower()


def test_timeouts_and_the_replay_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A condition that never holds is a one-line timeout; a second replay on one cluster waits."""
    from labs.cluster import Target, exclusive, wait_until

    with pytest.raises(LabError, match=r"^timed out after 0.2s waiting for 3 fake nodes to become Ready \(hint\)$"):
        wait_until("3 fake nodes to become Ready", lambda: False, 0.2, " (hint)")
    monkeypatch.setenv("KUBESIM_CACHE", str(tmp_path))
    target = Target("kwok-x", "https://127.0.0.1:16443", None, "kwok", "v1.36.5")
    said: list[str] = []
    with (exclusive(target, 1, said.append),
          pytest.raises(LabError, match="waiting for another kubesim replay on context 'kwok-x'"),
          exclusive(target, 0.3, said.append)):  # a separate open file description, as another process would have
        pass
    assert said == ["another kubesim replay is using kwok-x; waiting for it to finish"]
    with exclusive(target, 0.3, said.append):  # released: free again
        pass
