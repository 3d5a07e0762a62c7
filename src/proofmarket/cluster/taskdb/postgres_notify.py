"""LISTEN/NOTIFY hub: one dedicated listening connection per PostgreSQL TaskDB object.

The stored functions ``NOTIFY taskdb_ready_<worker_type>`` whenever a task of that worker
type becomes ready (at commit). Each waiting ``request_work`` registers interest in its
worker type; the hub thread LISTENs on those channels and bumps a per-type generation
counter on every notification, waking the waiters. A waiter snapshots the generation
*before* it tries to claim, so a notification that arrives between its attempt and its
wait is never lost. When the listening connection drops, the hub reconnects with backoff,
re-LISTENs and bumps every generation (notifications may have been missed meanwhile);
waiters also re-check periodically on their own.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from proofmarket.cluster.taskdb.postgres_schema import READY_CHANNEL_PREFIX

log = logging.getLogger(__name__)

NOTIFY_POLL_SECS = 0.1
RECONNECT_BACKOFF_MAX = 2.0


def ready_channel(worker_type: str) -> str:
    return READY_CHANNEL_PREFIX + worker_type


class NotificationHub:
    """Background listener turning NOTIFYs into per-worker-type wake-ups."""

    def __init__(self, conninfo: str, connect_kwargs: dict[str, Any]) -> None:
        self._conninfo = conninfo
        self._connect_kwargs = connect_kwargs
        self._cond = threading.Condition()
        self._generations: dict[str, int] = {}
        self._wanted: set[str] = set()
        self._listening: set[str] = set()
        self._closed = False
        self._thread: threading.Thread | None = None

    def subscribe(self, worker_type: str, timeout: float) -> bool:
        """Make sure we LISTEN for ``worker_type``; ``False`` if not active within ``timeout``."""
        with self._cond:
            if worker_type in self._listening:
                return True
            self._wanted.add(worker_type)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="taskdb-listen", daemon=True)
                self._thread.start()
            self._cond.wait_for(
                lambda: worker_type in self._listening or self._closed, timeout=timeout
            )
            return worker_type in self._listening

    def generation(self, worker_type: str) -> int:
        with self._cond:
            return self._generations.get(worker_type, 0)

    def wait(self, worker_type: str, generation: int, timeout: float) -> bool:
        """Sleep until a notification for ``worker_type`` newer than ``generation`` (or timeout)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._generations.get(worker_type, 0) != generation or self._closed,
                timeout=timeout,
            )

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=2 * NOTIFY_POLL_SECS + 5)

    def _bump(self, worker_types: set[str] | list[str]) -> None:
        with self._cond:
            for worker_type in worker_types:
                self._generations[worker_type] = self._generations.get(worker_type, 0) + 1
            self._cond.notify_all()

    def _run(self) -> None:
        backoff = 0.05
        prefix_len = len(READY_CHANNEL_PREFIX)
        while not self._closed:
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, **self._connect_kwargs
                ) as conn:
                    backoff = 0.05
                    while not self._closed:
                        with self._cond:
                            new = self._wanted - self._listening
                        for worker_type in sorted(new):
                            conn.execute(
                                sql.SQL("LISTEN {}").format(
                                    sql.Identifier(ready_channel(worker_type))
                                )
                            )
                        if new:
                            with self._cond:
                                self._listening |= new
                            self._bump(new)
                        for note in conn.notifies(timeout=NOTIFY_POLL_SECS):
                            self._bump([note.channel[prefix_len:]])
            except psycopg.Error as exc:
                log.warning("TaskDB notification listener lost its connection: %s", exc)
            with self._cond:
                self._listening.clear()
                missed = set(self._wanted)
            self._bump(missed)
            if self._closed:
                break
            time.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_BACKOFF_MAX)
