"""A small connection pool that connects on demand and fails fast.

Why not ``psycopg_pool``: when the server goes away its background reconnect waits
1, 2, 4, 8 … s between attempts and callers queue for ``timeout`` (10 s) before being
told, so an API call hung 10 s before answering 503 and work resumed up to ~8 s after the
database came back. Here a caller that finds no idle connection opens one itself: while
the server is down that fails at once (connection refused) or after ``connect_timeout``,
and the first call after it is back simply succeeds. Only a pool that is *full* (every
connection busy) makes a caller wait, up to ``timeout``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import pq


class PoolExhausted(Exception):
    """Every connection stayed busy for ``timeout`` seconds."""


class ConnectionPool:
    """Up to ``max_size`` autocommit connections; idle ones are reused (newest first)."""

    def __init__(
        self,
        conninfo: str,
        *,
        max_size: int,
        timeout: float,
        connect_kwargs: dict[str, Any],
    ) -> None:
        self._conninfo = conninfo
        self._max_size = max_size
        self._timeout = timeout
        self._connect_kwargs = connect_kwargs
        self._idle: list[psycopg.Connection[Any]] = []
        self._open = 0  # idle + in use + being opened
        self._cond = threading.Condition()
        self._closed = False

    def _reserve(self) -> psycopg.Connection[Any] | None:
        """An idle connection, or None after reserving a slot to open a new one."""
        deadline = time.monotonic() + self._timeout
        with self._cond:
            while True:
                if self._closed:
                    raise psycopg.OperationalError("connection pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self._max_size:
                    self._open += 1
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolExhausted(
                        f"all {self._max_size} connections busy for {self._timeout:.1f} s"
                    )
                self._cond.wait(remaining)

    def _release_slot(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._reserve()
        if conn is None:
            try:
                conn = psycopg.connect(self._conninfo, autocommit=True, **self._connect_kwargs)
            except BaseException:
                self._release_slot()
                raise
        try:
            yield conn
        except BaseException:
            self._give_back(conn)
            raise
        self._give_back(conn)

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        healthy = not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(conn)
                self._cond.notify()
                return
            self._open -= 1
            self._cond.notify()
        with suppress(psycopg.Error):
            conn.close()

    def drop_idle(self) -> None:
        """Close every idle connection (after an error they are likely dead too)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            with suppress(psycopg.Error):
                conn.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.drop_idle()
