"""LISTEN/NOTIFY hub: one dedicated listening connection per PostgreSQL TaskDB object.

Each hub listens on a channel of its own (``taskdb_w_<random>``). A waiting
``request_work`` call registers a row in ``taskdb_waiters`` naming that channel and its
waiter id; when a task becomes ready the stored function ``notify_ready`` removes ONE
fresh waiter row of that worker type and NOTIFYs its channel with the waiter id (at
commit), so one new task wakes one waiting agent, not all of them. The hub thread turns
each notification into a wake-up of that waiter only. A waiter reads its token *before*
it tries to claim, so a notification arriving between its attempt and its wait is never
lost. When the listening connection drops, the hub reconnects with backoff, re-LISTENs
and wakes every local waiter (notifications may have been missed); waiters also re-check
about every second on their own.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import psycopg
from psycopg import sql

from proofmarket.cluster.taskdb.postgres_schema import WAITER_CHANNEL_PREFIX

log = logging.getLogger(__name__)

NOTIFY_POLL_SECS = 0.1
RECONNECT_BACKOFF_MAX = 2.0

Token = tuple[int, int]


class NotificationHub:
    """Background listener turning NOTIFYs on this hub's channel into per-waiter wake-ups."""

    def __init__(self, conninfo: str, connect_kwargs: dict[str, Any]) -> None:
        self._conninfo = conninfo
        self._connect_kwargs = connect_kwargs
        self.channel = WAITER_CHANNEL_PREFIX + uuid.uuid4().hex
        self._cond = threading.Condition()
        self._woken: dict[str, int] = {}
        self._epoch = 0  # bumped on every (re)connect: all waiters re-check
        self._listening = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.wakeups = 0  # notifications received (for tests and benchmarks)

    def ensure_listening(self, timeout: float) -> bool:
        """Start the listener if needed; ``False`` if it is not listening within ``timeout``."""
        with self._cond:
            if self._listening:
                return True
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="taskdb-listen", daemon=True)
                self._thread.start()
            self._cond.wait_for(lambda: self._listening or self._closed, timeout=timeout)
            return self._listening

    def token(self, waiter: str) -> Token:
        with self._cond:
            return (self._epoch, self._woken.setdefault(waiter, 0))

    def wait(self, waiter: str, token: Token, timeout: float) -> bool:
        """Sleep until ``waiter`` is notified after ``token`` (or timeout); True if woken."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (self._epoch, self._woken.get(waiter, 0)) != token or self._closed,
                timeout=timeout,
            )

    def forget(self, waiter: str) -> None:
        with self._cond:
            self._woken.pop(waiter, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=2 * NOTIFY_POLL_SECS + 5)

    def _run(self) -> None:
        backoff = 0.05
        while not self._closed:
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, **self._connect_kwargs
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    backoff = 0.05
                    with self._cond:
                        self._listening = True
                        self._epoch += 1
                        self._cond.notify_all()
                    while not self._closed:
                        for note in conn.notifies(timeout=NOTIFY_POLL_SECS):
                            with self._cond:
                                self.wakeups += 1
                                if note.payload in self._woken:  # else: that call is gone
                                    self._woken[note.payload] += 1
                                    self._cond.notify_all()
            except psycopg.Error as exc:
                log.warning("TaskDB notification listener lost its connection: %s", exc)
            with self._cond:
                self._listening = False
                self._epoch += 1
                self._cond.notify_all()
            if self._closed:
                break
            time.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_BACKOFF_MAX)
