"""The ``kwok_cluster`` session fixture for tests marked ``cluster``.

Uses the kwok-kubesim control plane if one answers; otherwise starts one with
``labs/controlplane/cluster.sh up`` when its binaries are already built (about 9 s) and
stops it at the end of the session (unless another test session is still using it).
Without binaries the cluster tests are skipped with a message saying how to get them -
or fail, when ``KUBESIM_REQUIRE_CLUSTER=1`` (CI).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "labs" / "controlplane" / "cluster.sh"
CONTEXT = "kwok-kubesim"
HOW = ("run `make cluster` (builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl "
       "and kwok into ~/.cache/kubesim on first use - about 6 minutes, needs Go - then starts them on loopback)")


def _binaries() -> Path:
    version = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", (ROOT / "labs/controlplane/k8s/go.mod").read_text(), re.M)
    cache = Path(os.environ.get("KUBESIM_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or
                                                         Path.home() / ".cache") / "kubesim")
    return cache / (version.group(1) if version else "?") / "bin"


def _reachable() -> str | None:
    """None if the control plane answers, else why not."""
    from labs.cluster import LabError, connect

    try:
        connect(CONTEXT, timeout=3)
        return None
    except LabError as exc:
        return str(exc)


def _unavailable(why: str) -> None:
    message = f"no {CONTEXT} control plane ({why}); {HOW}"
    if os.environ.get("KUBESIM_REQUIRE_CLUSTER") == "1":
        pytest.fail(f"KUBESIM_REQUIRE_CLUSTER=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kwok_cluster() -> Iterator[str]:
    """The context name of a running kwok-kubesim control plane.

    Every session using it holds a shared lock on ``locks/cluster-sessions.lock`` in the
    cache; a session that started the cluster stops it only if no other session holds it."""
    import fcntl

    from labs.cluster import cache_dir

    (cache_dir() / "locks").mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / "locks" / "cluster-sessions.lock", "a+") as sessions:
        fcntl.flock(sessions, fcntl.LOCK_SH)
        yield from _cluster(sessions)


def _cluster(sessions: IO[str]) -> Iterator[str]:
    import fcntl

    why = _reachable()
    if why is None:
        yield CONTEXT
        return
    binaries = _binaries()
    if not all((binaries / b).is_file() for b in ("etcd", "kube-apiserver", "kube-scheduler", "kwok")):
        _unavailable(f"{why}; no binaries in {binaries}")
    env = {**os.environ, "KUBESIM_MERGE_KUBECONFIG": "0"}  # leave ~/.kube/config alone
    up = subprocess.run(["bash", str(CLUSTER_SH), "up"], env=env, capture_output=True, text=True, timeout=300,
                        check=False)
    try:
        if up.returncode != 0:
            _unavailable(f"cluster.sh up failed: {up.stderr.strip().splitlines()[-1] if up.stderr else up.returncode}")
        why = _reachable()
        if why is not None:
            _unavailable(f"started, but {why}")
        yield CONTEXT
    finally:
        try:
            fcntl.flock(sessions, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no other session uses it
        except BlockingIOError:
            pass  # another test session still uses the cluster: leave it running
        else:
            subprocess.run(["bash", str(CLUSTER_SH), "down"], env=env, capture_output=True, timeout=120,
                           check=False)
