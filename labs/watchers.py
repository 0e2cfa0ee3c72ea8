"""Background watches that put raw API objects, stamped with their receive time, on a queue.

Each ``Watcher`` is a thread running list-then-watch on one collection with the official
client, asking for the raw JSON (``_preload_content=False``) so the recorder sees exactly
what the server sent (camelCase fields, timestamps as strings). The time stamped on an
update is taken when its line arrives, before any processing. A watch that ends (server
timeout) resumes from the last resourceVersion; one that expired (410 Gone) lists again.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Watcher"]

WATCH_SECONDS = 60  # server-side timeout of one watch request; the watch then resumes


class Watcher(threading.Thread):
    """List and watch one collection; put (stream, t, type, object) on ``out``.

    Args:
        stream: a label put on every item (``"pod"``, ``"event"``, ``"node"``).
        list_fn: a bound list method of the official client (e.g. ``CoreV1Api.list_namespaced_pod``).
        kwargs: its arguments (namespace, label_selector...).
        out: the queue the replay's main loop drains.
        clock: seconds since the replay started.
    """

    def __init__(self, stream: str, list_fn: Callable[..., Any], kwargs: dict[str, Any],
                 out: queue.Queue[tuple[str, float, str, dict[str, Any]]], clock: Callable[[], float]) -> None:
        super().__init__(name=f"kubesim-watch-{stream}", daemon=True)
        self.stream, self.list_fn, self.kwargs, self.out, self.clock = stream, list_fn, kwargs, out, clock
        self.stopping = threading.Event()
        self.synced = threading.Event()  # set once the initial list has been delivered
        self.errors: list[str] = []
        self._response: Any = None

    def run(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            version: str | None = None
            while not self.stopping.is_set():
                try:
                    if version is None:
                        version = self._list()
                    version = self._watch(version)
                except Exception as exc:  # noqa: BLE001 - keep watching; the error is reported
                    if self.stopping.is_set():
                        break
                    self.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                    version = None
                    time.sleep(0.5)

    def _list(self) -> str:
        response = self.list_fn(**self.kwargs, _preload_content=False, _request_timeout=30)
        data = json.loads(response.data)
        t = self.clock()
        for item in data.get("items") or []:
            self.out.put((self.stream, t, "ADDED", item))
        self.synced.set()
        return str(data["metadata"]["resourceVersion"])

    def _watch(self, version: str) -> str | None:
        from kubernetes.watch.watch import iter_resp_lines

        response = self.list_fn(**self.kwargs, watch=True, resource_version=version, allow_watch_bookmarks=True,
                                timeout_seconds=WATCH_SECONDS, _preload_content=False,
                                _request_timeout=(10, WATCH_SECONDS + 15))
        self._response = response
        try:
            for line in iter_resp_lines(response):
                t = self.clock()
                if self.stopping.is_set():
                    return version
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        return None  # expired: list again
                    raise RuntimeError(obj.get("message") or "watch error")
                version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                if kind != "BOOKMARK":
                    self.out.put((self.stream, t, kind, obj))
        finally:
            self._response = None
            response.release_conn()
        return version

    def stop(self) -> None:
        """Ask the thread to end and unblock its open request."""
        self.stopping.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # best effort: the thread is a daemon anyway
                response.shutdown() if hasattr(response, "shutdown") else response.close()
