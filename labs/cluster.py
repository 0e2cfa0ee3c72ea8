"""Which cluster kubesim may touch, and how to talk to it.

``kubesim replay`` creates and deletes objects, so before anything is sent it decides
whether the kubeconfig context points at a throw-away local test cluster:

* the context is named like the ones local tools write: ``kind-*`` (kind) or ``kwok-*``
  (kwokctl, and ``kwok-kubesim`` from ``make cluster``), or
* its API server is on loopback (``127.0.0.0/8``, ``::1``, ``localhost``).

Anything else (a cloud cluster, a shared staging cluster) is refused unless the same
context is named again with ``--allow-context NAME``. The check reads only the kubeconfig's
``contexts`` and ``clusters`` sections: credentials (``users``) are never read by kubesim
itself, and no error message or output file contains them; only the official client sees
them when it connects.

Then ``connect`` checks, with one-line errors, that the server answers and that the
context may do what a replay does (SelfSubjectAccessReview), and finds out what kind of
cluster it is: ``kwok`` (the Stage CRD of KWOK is served: nodes are fake and created by
the replay), ``kind`` (nodes are containers with providerID ``kind://...``) or ``other``.
"""

from __future__ import annotations

import ipaddress
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sim.yamlio import SourceError, load_documents

__all__ = ["LOCAL_CONTEXT_PREFIXES", "LabError", "Target", "cache_dir", "connect", "describe_api_error",
           "exclusive", "is_local", "kubeconfig_files", "resolve_context", "wait_until"]

LOCAL_CONTEXT_PREFIXES = ("kind-", "kwok-")
KUBESIM_CONTEXT = "kwok-kubesim"


class LabError(Exception):
    """A problem with the real cluster, reported as one line; the CLI exits with status 2."""


@dataclass(frozen=True)
class ContextInfo:
    """A kubeconfig context: its name, its API server URL and the files it came from."""

    name: str
    server: str
    files: tuple[Path, ...]


@dataclass
class Target:
    """A connected cluster: the client and what kind of cluster it is."""

    context: str
    server: str
    api: Any  # kubernetes.client.ApiClient
    flavor: str  # "kwok", "kind" or "other"
    version: str  # the server's gitVersion, e.g. v1.36.5


def is_local(context: str, server: str) -> bool:
    """True for a context that looks like a local test cluster (see the module docstring)."""
    if context.startswith(LOCAL_CONTEXT_PREFIXES):
        return True
    host = urlparse(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def kubeconfig_files(explicit: str | Path | None = None) -> list[Path]:
    """The kubeconfig files to read: ``explicit``, else $KUBECONFIG (a path list), else
    ~/.kube/config; the kubeconfig of ``make cluster`` is appended as a fallback, so
    ``--context kwok-kubesim`` works even when it was not merged into ~/.kube/config."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    files = [Path(p).expanduser() for p in env.split(os.pathsep) if p] or [Path("~/.kube/config").expanduser()]
    files.append(cache_dir() / "kubeconfig")
    return files


def _named(data: Any, section: str) -> dict[str, dict[str, Any]]:
    items = data.get(section) if isinstance(data, dict) else None
    return {i["name"]: i.get(section[:-1]) or {} for i in items or [] if isinstance(i, dict) and "name" in i}


def resolve_context(context: str, kubeconfig: str | Path | None = None) -> ContextInfo:
    """Find ``context`` and its server URL in the kubeconfig files (first definition wins)."""
    contexts: dict[str, dict[str, Any]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    read: list[Path] = []
    for file in kubeconfig_files(kubeconfig):
        if not file.is_file():
            continue
        try:
            docs = load_documents(file)
        except SourceError as exc:
            raise LabError(f"cannot read kubeconfig {file}: {exc.message}") from None
        data = docs[0].data if docs else None
        read.append(file)
        for name, ctx in _named(data, "contexts").items():
            if name not in contexts:
                contexts[name], origin[name] = ctx, file
        for name, cluster in _named(data, "clusters").items():
            clusters.setdefault(name, cluster)
    if not read:
        where = ", ".join(str(f) for f in kubeconfig_files(kubeconfig))
        raise LabError(f"no kubeconfig found (looked at {where}); start a local cluster with `make cluster`")
    if context not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        hint = " (start it with `make cluster`)" if context == KUBESIM_CONTEXT else ""
        raise LabError(f"unknown context {context!r}{hint}; contexts in the kubeconfig: {known}")
    cluster = clusters.get(contexts[context].get("cluster", ""), {})
    server = str(cluster.get("server") or "")
    if not server:
        raise LabError(f"context {context!r} names cluster {contexts[context].get('cluster')!r}, "
                       "which has no server in the kubeconfig")
    return ContextInfo(context, server, tuple(read))


def check_safe(info: ContextInfo, allow_context: str | None) -> None:
    """Refuse a context that does not look like a local test cluster, unless allowed by name."""
    if is_local(info.name, info.server) or allow_context == info.name:
        return
    raise LabError(f"refusing context {info.name!r} (server {info.server}): it does not look like a local "
                   f"test cluster (kind-*, kwok-*, or a loopback server); kubesim creates and deletes "
                   f"objects there. If that is really what you want, add --allow-context {info.name}")


def describe_api_error(exc: Exception) -> str:
    """The server's own message from an ApiException (its Status body), else the exception."""
    import json

    body = getattr(exc, "body", None)
    if body:
        try:
            status = json.loads(body)
            if isinstance(status, dict) and status.get("message"):
                return str(status["message"])
        except (ValueError, TypeError):
            pass
    reason = getattr(exc, "reason", None)
    return f"{getattr(exc, 'status', '')} {reason}".strip() if reason else str(exc).splitlines()[0]


def _client(info: ContextInfo, timeout: float) -> Any:
    from kubernetes import config

    try:
        api = config.new_client_from_config(config_file=os.pathsep.join(str(f) for f in info.files),
                                            context=info.name, persist_config=False)
    except Exception as exc:  # noqa: BLE001 - any loader failure is one line for the user
        raise LabError(f"cannot load context {info.name!r}: {type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    api.configuration.connection_pool_maxsize = 16
    api.configuration.retries = 1
    api.user_agent = "kubesim-replay"
    return api


def _check_reachable(api: Any, info: ContextInfo, timeout: float) -> str:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            version = client.VersionApi(api).get_code(_request_timeout=timeout)
        except ApiException as exc:
            if exc.status in (401, 403):
                raise LabError(f"insufficient permissions on context {info.name!r}: the server at "
                               f"{info.server} answered {exc.status} {exc.reason}") from None
            raise LabError(f"cluster at {info.server} (context {info.name!r}) answered "
                           f"{describe_api_error(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - connection refused, TLS, DNS, timeout
            why = str(getattr(exc, "reason", exc)).splitlines()[0][-160:]
            hint = "; start it with `make cluster`" if info.name == KUBESIM_CONTEXT else ""
            raise LabError(f"no cluster reachable at {info.server} (context {info.name!r}): {why}{hint}") from None
    return str(version.git_version)


def check_permissions(api: Any, context: str, needs: list[tuple[str, str, str, str]]) -> None:
    """Ask the server (SelfSubjectAccessReview) for each (verb, group, resource, subresource)."""
    from kubernetes import client

    authz = client.AuthorizationV1Api(api)
    for verb, group, resource, sub in needs:
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, group=group, resource=resource,
                                                            subresource=sub or None)))
        answer = authz.create_self_subject_access_review(review)
        if not answer.status.allowed:
            what = f"{resource}/{sub}" if sub else resource
            raise LabError(f"insufficient permissions on context {context!r}: cannot {verb} {what} "
                           "(a replay needs to create a namespace and nodes or node status patches)")


def _flavor(api: Any) -> str:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        client.ApiextensionsV1Api(api).read_custom_resource_definition("stages.kwok.x-k8s.io")
        return "kwok"
    except ApiException as exc:
        if exc.status not in (403, 404):
            raise
    try:
        nodes = client.CoreV1Api(api).list_node(limit=20).items
    except ApiException as exc:
        if exc.status != 403:
            raise
        return "other"
    if any((n.spec.provider_id or "").startswith("kind://") for n in nodes):
        return "kind"
    return "other"


def connect(context: str, allow_context: str | None = None, kubeconfig: str | Path | None = None,
            timeout: float = 5.0) -> Target:
    """Resolve, safety-check and connect to ``context``; raises ``LabError`` with one line."""
    info = resolve_context(context, kubeconfig)
    check_safe(info, allow_context)
    api = _client(info, timeout)
    version = _check_reachable(api, info, timeout)
    check_permissions(api, context, [("create", "", "namespaces", ""), ("delete", "", "namespaces", ""),
                                     ("create", "", "pods", ""), ("create", "apps", "deployments", ""),
                                     ("list", "", "events", ""), ("list", "", "nodes", "")])
    flavor = _flavor(api)
    check_permissions(api, context, [("create", "", "nodes", ""), ("delete", "", "nodes", "")] if flavor == "kwok"
                      else [("patch", "", "nodes", "status")])
    return Target(context, info.server, api, flavor, version)


def cache_dir() -> Path:
    """kubesim's cache folder (``$KUBESIM_CACHE``, default ``~/.cache/kubesim``), as cluster.sh uses it."""
    return Path(os.environ.get("KUBESIM_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or
                                                         Path.home() / ".cache") / "kubesim")


@contextmanager
def exclusive(target: Target, timeout: float, log: Callable[[str], None]) -> Iterator[None]:
    """Hold this machine's lock for ``target``'s API server while a replay uses it.

    Two replays on one cluster would see each other's nodes (the scheduler would mix their
    pods) and clash on node names, so a second one waits. The lock is a file lock in the
    cache folder: nothing is written to the cluster, and it goes away with a dead process."""
    import fcntl
    import hashlib

    folder = cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"replay-{hashlib.sha256(target.server.encode()).hexdigest()[:16]}.lock"
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    log(f"another kubesim replay is using {target.context}; waiting for it to finish")
                    waiting = True
                if time.monotonic() > deadline:
                    raise LabError(f"timed out after {timeout:g}s waiting for another kubesim replay on "
                                   f"context {target.context!r} to finish (lock {path})") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_until(what: str, check: Callable[[], bool], timeout: float, hint: str = "") -> None:
    """Poll ``check`` every 0.1 s; a ``LabError`` naming ``what`` if it is still false after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:g}s waiting for {what}{hint}")
        time.sleep(0.1)
