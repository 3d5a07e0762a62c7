"""``open_taskdb(url)``: pick the backend from the URL scheme and open it (migrating)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from proofmarket.cluster.taskdb.errors import InvalidTaskDBURL
from proofmarket.cluster.taskdb.interface import TaskDB

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_taskdb(url: str) -> TaskDB:
    """Open a TaskDB and apply pending migrations.

    * ``sqlite:///relative/path.sqlite`` or ``sqlite:////absolute/path.sqlite`` — embedded,
      one machine (several processes are fine). ``?lock_timeout=30`` (seconds) bounds the
      wait for the write lock before ``DatabaseUnavailable``.
    * ``postgresql://user@host:5432/dbname`` — the cluster backend. Extra query parameters
      ``pool_max`` (connections per process, default 8) and ``pool_timeout`` (seconds
      to wait when all of them are busy, default 10) are read by the TaskDB
      (``pool_min`` is accepted and ignored: connections open on demand); the rest go to
      libpq (e.g. ``options=-csearch_path%3Dmyschema``, ``connect_timeout``, default 2).
    """
    if not isinstance(url, str):
        raise InvalidTaskDBURL(f"TaskDB URL must be a string, got {type(url).__name__}")
    if url.startswith(SQLITE_PREFIX):
        from proofmarket.cluster.taskdb.sqlite_backend import SqliteTaskDB

        path, _, query = url[len(SQLITE_PREFIX) :].partition("?")
        if not path:
            raise InvalidTaskDBURL(f"SQLite TaskDB URL {url!r} names no file")
        options = dict(parse_qsl(query, keep_blank_values=True))
        lock_timeout = options.pop("lock_timeout", "30")
        if options:
            raise InvalidTaskDBURL(f"unknown SQLite TaskDB URL parameters: {sorted(options)}")
        try:
            timeout = float(lock_timeout)
        except ValueError:
            timeout = -1.0
        if not timeout > 0:
            raise InvalidTaskDBURL(f"lock_timeout={lock_timeout!r} must be a positive number")
        return SqliteTaskDB(path, lock_timeout_secs=timeout)
    if url.startswith(POSTGRES_SCHEMES):
        from proofmarket.cluster.taskdb.postgres_backend import PostgresTaskDB

        return PostgresTaskDB(url)
    raise InvalidTaskDBURL(
        f"unsupported TaskDB URL {url!r}: use sqlite:///path or postgresql://user@host/db"
    )
