"""kind clusters shaped like a scenario: ``kubesim kind-config`` and ``kubesim kind up|down``.

``kind_config`` writes a kind cluster config (``kind.x-k8s.io/v1alpha4``): one control-plane
node plus one worker per simulated node, up to ``max_workers``. Each worker carries its
pool's labels (``kubesim.io/node-pool``, the pool's own labels and the round-robin zone, as
``sim.engine.build_nodes`` assigns them) and its taints, set when the kubelet registers via a
``JoinConfiguration`` patch (``kubeletExtraArgs: register-with-taints``). What kind cannot
do is said in comments at the top: workers share the host's CPU and memory whatever the
pool's capacity says, and extended resources such as ``nvidia.com/gpu`` are not real -
``kubesim replay`` advertises them on the pool's workers by patching node status.

When the scenario has more nodes than ``max_workers``, each pool keeps a share proportional
to its size (at least one worker per non-empty pool) and a comment says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from sim.engine import POOL_LABEL, ZONE_LABEL, build_nodes
from sim.scenario import Scenario

from labs.cluster import LabError

__all__ = ["DEFAULT_MAX_WORKERS", "cluster_name", "kind_command", "kind_config", "scaled_counts"]

DEFAULT_MAX_WORKERS = 8
KIND_INSTALL = ("kind is not installed: see https://kind.sigs.k8s.io/docs/user/quick-start/#installation "
                "(e.g. `go install sigs.k8s.io/kind@v0.32.0`; it also needs Docker or Podman). "
                "Without a container runtime, use the KWOK control plane instead: `make cluster` and "
                "`kubesim replay SCENARIO --context kwok-kubesim`")
# The kubelet refuses to set labels under these prefixes on itself (NodeRestriction), except
# a few well-known ones; they would make the kind node fail to join.
_RESTRICTED = re.compile(r"(^|\.)(kubernetes\.io|k8s\.io)/")
_KUBELET_ALLOWED = {"kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", ZONE_LABEL,
                    "topology.kubernetes.io/region", "node.kubernetes.io/instance-type"}


def cluster_name(scenario: Scenario) -> str:
    """The kind cluster name for a scenario: ``kubesim-<name>`` (its context is ``kind-<that>``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")
    return f"kubesim-{slug}"[:40].rstrip("-")


def scaled_counts(counts: list[int], limit: int) -> list[int]:
    """Shrink pool sizes to at most ``limit`` in total, proportionally (largest remainders),
    keeping at least one node for every non-empty pool when the limit allows."""
    total = sum(counts)
    if total <= limit:
        return list(counts)
    floor = [1 if c > 0 else 0 for c in counts]
    if sum(floor) >= limit:
        out, left = [0] * len(counts), limit
        for i in sorted(range(len(counts)), key=lambda i: -counts[i]):
            if counts[i] > 0 and left > 0:
                out[i], left = 1, left - 1
        return out
    shares = [c * limit / total for c in counts]
    out = [max(f, int(s)) for f, s in zip(floor, shares, strict=True)]
    order = sorted(range(len(counts)), key=lambda i: -(shares[i] - int(shares[i])))
    i = 0
    while sum(out) < limit and order:
        j = order[i % len(order)]
        if out[j] < counts[j]:
            out[j] += 1
        i += 1
    while sum(out) > limit:
        j = max(range(len(out)), key=lambda k: out[k])
        out[j] -= 1
    return out


class _Block(str):
    """A string written as a YAML literal block (``|``), as kind's docs write patches."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style="|"))


def _worker(labels: dict[str, str], taints: list[str]) -> dict[str, object]:
    node: dict[str, object] = {"role": "worker", "labels": labels}
    if taints:
        patch = {"kind": "JoinConfiguration",
                 "nodeRegistration": {"kubeletExtraArgs": {"register-with-taints": ",".join(taints)}}}
        node["kubeadmConfigPatches"] = [_Block(yaml.safe_dump(patch, sort_keys=False))]
    return node


def kind_config(scenario: Scenario, max_workers: int = DEFAULT_MAX_WORKERS) -> str:
    """The kind cluster config for ``scenario`` as YAML text (see the module docstring)."""
    if max_workers < 1:
        raise LabError("--max-workers must be at least 1")
    pools = scenario.cluster.node_pools
    counts = scaled_counts([p.count for p in pools], max_workers)
    by_pool: dict[str, list] = {}
    for node in build_nodes(pools):
        by_pool.setdefault(node.pool, []).append(node)
    comments = [f"kind cluster for kubesim scenario {scenario.name!r} ({scenario.source})",
                f"  kind create cluster --name {cluster_name(scenario)} --config THIS_FILE   "
                f"(or: kubesim kind up {scenario.source})",
                "Workers share the host's CPU and memory: pool capacities are not enforced by kind."]
    if sum(counts) < scenario.node_count:
        kept = ", ".join(f"{p.name} {c} of {p.count}" for p, c in zip(pools, counts, strict=True))
        comments.append(f"Scaled down: the scenario has {scenario.node_count} nodes, this config has "
                        f"{sum(counts)} workers (--max-workers {max_workers}): {kept}.")
    dropped: set[str] = set()
    nodes: list[dict[str, object]] = [{"role": "control-plane"}]
    for pool, count in zip(pools, counts, strict=True):
        extended = sorted(k for k in (by_pool[pool.name][0].capacity if by_pool.get(pool.name) else {})
                          if "/" in k)
        if extended and count:
            comments.append(f"Pool {pool.name}: {', '.join(extended)} is advertised by `kubesim replay` "
                            f"(node status patch on workers labelled {POOL_LABEL}={pool.name}).")
        for node in by_pool.get(pool.name, [])[:count]:
            labels = {}
            for key, value in node.meta.labels.items():
                if key in ("kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch"):
                    continue  # the kubelet sets these itself (kind names nodes <cluster>-worker<N>)
                if _RESTRICTED.search(key) and key not in _KUBELET_ALLOWED:
                    dropped.add(key)
                    continue
                labels[key] = value
            taints = [f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}" for t in node.taints]
            nodes.append(_worker(labels, taints))
    if dropped:
        comments.append(f"Labels the kubelet may not set on itself were left out: {', '.join(sorted(dropped))}.")
    body = yaml.dump({"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": cluster_name(scenario),
                      "nodes": nodes}, Dumper=_Dumper, sort_keys=False, width=120)
    return "".join(f"# {line}\n" for line in comments) + body


def kind_command(action: str, scenario: Scenario, max_workers: int = DEFAULT_MAX_WORKERS,
                 kind_binary: str | None = None) -> int:
    """``kind create cluster`` (action ``up``) or ``kind delete cluster`` (``down``) for a scenario."""
    binary = kind_binary or shutil.which("kind")
    if binary is None:
        raise LabError(KIND_INSTALL)
    name = cluster_name(scenario)
    if action == "down":
        return subprocess.run([binary, "delete", "cluster", "--name", name], check=False).returncode
    with tempfile.TemporaryDirectory(prefix="kubesim-kind-") as tmp:
        config = Path(tmp) / "kind.yaml"
        config.write_text(kind_config(scenario, max_workers))
        code = subprocess.run([binary, "create", "cluster", "--name", name, "--config", str(config)],
                              check=False).returncode
    if code == 0:
        print(f"kind cluster {name} is up; replay with: kubesim replay {scenario.source} --context kind-{name}")
    return code
