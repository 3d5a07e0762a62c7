"""The order book on disk: SQLite by default, PostgreSQL when configured.

Both backends run the same SQL (``?`` placeholders become ``%s`` for psycopg). The
``request_id`` and ``request_digest`` columns are UNIQUE, so two racing submissions of one
request cannot both be accepted. Handshake nonces live here too: consuming one is a single
``DELETE``, so a nonce opens at most one subscription even with several service processes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from proofmarket.market.types import ProofRequest
from proofmarket.orderstream.errors import DbErr, DuplicateOrder, InvalidOrder
from proofmarket.orderstream.models import Order

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
INSERT_LOCK_KEY = 0x6F7264657273  # "orders": the advisory lock that orders inserts
_ORDER_COLUMNS = "id, request_json, request_digest, signature, created_at"


def _schema(id_column: str, real: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS orders (
            id {id_column},
            request_id TEXT NOT NULL UNIQUE,
            request_digest TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL,
            request_json TEXT NOT NULL,
            signature TEXT NOT NULL,
            created_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS orders_client ON orders (client, id)",
        f"""CREATE TABLE IF NOT EXISTS handshake_nonces (
            nonce TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            issued_at {real} NOT NULL)""",
    ]


class OrderStore(ABC):
    """Orders and handshake nonces; every method is blocking (call from a thread pool)."""

    backend = "?"

    def __init__(self) -> None:
        self._create()

    @abstractmethod
    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor inside one committed transaction; errors become :class:`DbErr`."""

    @abstractmethod
    def _schema(self) -> list[str]: ...

    @abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    def _sql(self, text: str) -> str:
        return text

    @abstractmethod
    def _serialise_inserts(self, cur: Any) -> None:
        """Make inserts commit in id order."""

    def _create(self) -> None:
        with self._cursor() as cur:
            for statement in self._schema():
                cur.execute(statement)

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            cur.execute(self._sql(query), tuple(params))
            return list(cur.fetchall())

    # ------------------------------------------------------------------ orders
    def add(self, request: ProofRequest, digest: bytes, signature: bytes) -> Order:
        """Insert a new order; :class:`DuplicateOrder` when its ID or digest is present."""
        now = time.time()
        params = (
            hex(request.id),
            "0x" + digest.hex(),
            request.client.lower(),
            json.dumps(request.to_json_dict(), separators=(",", ":")),
            "0x" + signature.hex(),
            now,
        )
        query = self._sql(
            "INSERT INTO orders (request_id, request_digest, client, request_json, signature, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
        )
        try:
            with self._cursor() as cur:
                self._serialise_inserts(cur)
                cur.execute(query, params)
                row = cur.fetchone()
        except DbErr as exc:
            if exc.__cause__ is not None and self._is_unique_violation(exc.__cause__):
                raise DuplicateOrder(
                    f"request {hex(request.id)} is already in the order stream"
                ) from None
            raise
        return Order(int(row[0]), request, digest, signature, now)

    def get(self, request_id: int) -> Order | None:
        rows = self._rows(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE request_id = ?", [hex(request_id)]
        )
        return _order(rows[0]) if rows else None

    def list(self, after: int = 0, limit: int = 100, client: str | None = None) -> list[Order]:
        """Orders with ``id > after``, oldest first (``client`` filters by requestor)."""
        if client is None:
            rows = self._rows(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id > ? ORDER BY id LIMIT ?",
                [after, limit],
            )
        else:
            rows = self._rows(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                [client.lower(), after, limit],
            )
        return [_order(row) for row in rows]

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM orders")[0][0])

    def last_id(self) -> int:
        return int(self._rows("SELECT COALESCE(MAX(id), 0) FROM orders")[0][0])

    # ------------------------------------------------------------------ handshake nonces
    def issue_nonce(self, address: str, nonce: str, ttl: float) -> None:
        """Store a fresh nonce (and drop expired ones)."""
        now = time.time()
        with self._cursor() as cur:
            cur.execute(self._sql("DELETE FROM handshake_nonces WHERE issued_at < ?"), (now - ttl,))
            cur.execute(
                self._sql(
                    "INSERT INTO handshake_nonces (nonce, address, issued_at) VALUES (?, ?, ?)"
                ),
                (nonce, address.lower(), now),
            )

    def consume_nonce(self, address: str, nonce: str, ttl: float) -> bool:
        """Delete the nonce if it was issued to ``address`` less than ``ttl`` seconds ago;
        true only for the one caller that deleted it."""
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM handshake_nonces WHERE nonce = ? AND address = ? "
                    "AND issued_at >= ?"
                ),
                (nonce, address.lower(), time.time() - ttl),
            )
            return bool(cur.rowcount == 1)


def _order(row: Sequence[Any]) -> Order:
    order_id, request_json, digest, signature, created_at = row
    try:
        request = ProofRequest.model_validate(json.loads(request_json))
    except (ValueError, TypeError) as exc:  # a row this service did not write
        raise InvalidOrder(f"order {order_id} in the database is unreadable: {exc}") from None
    return Order(
        int(order_id),
        request,
        bytes.fromhex(digest[2:]),
        bytes.fromhex(signature[2:]),
        float(created_at),
    )


class SqliteOrderStore(OrderStore):
    backend = "sqlite"

    def __init__(self, path: str) -> None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise DbErr(f"cannot open the SQLite order database {path}: {exc}") from exc
        super().__init__()

    def _schema(self) -> list[str]:
        return _schema("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL")

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            try:
                with self._conn:
                    cur = self._conn.cursor()
                    yield cur
            except sqlite3.Error as exc:
                raise DbErr(f"order database error: {exc}") from exc

    def _serialise_inserts(self, cur: Any) -> None:
        del cur  # SQLite writes one transaction at a time already

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresOrderStore(OrderStore):
    backend = "postgresql"

    def __init__(self, url: str, max_connections: int = 4) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self._psycopg = psycopg
        try:
            psycopg.connect(url, connect_timeout=5).close()  # fail fast, with the reason
            self._pool = ConnectionPool(
                url, min_size=1, max_size=max_connections, timeout=10, open=False
            )
            self._pool.open(wait=True, timeout=10)
        except Exception as exc:  # psycopg errors and the pool's timeout
            raise DbErr(f"cannot connect to the PostgreSQL order database: {exc}") from exc
        super().__init__()

    def _schema(self) -> list[str]:
        return _schema("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION")

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _serialise_inserts(self, cur: Any) -> None:
        # held until commit: the next insert takes a larger id and commits after this one,
        # so a reader of "id > last" never sees id 7 before a later-committing id 6
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (INSERT_LOCK_KEY,))

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except self._psycopg.Error as exc:
            raise DbErr(f"order database error: {exc}") from exc
        except TimeoutError as exc:  # pool exhausted or server gone
            raise DbErr(f"order database unavailable: {exc}") from exc

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.UniqueViolation)

    def close(self) -> None:
        self._pool.close()


def open_store(url: str) -> OrderStore:
    """``sqlite:///path`` (relative) or ``sqlite:////abs/path``, or ``postgresql://…``."""
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if not path:
            raise DbErr(f"SQLite URL {url!r} names no file")
        return SqliteOrderStore(path)
    if url.startswith(POSTGRES_SCHEMES):
        return PostgresOrderStore(url)
    raise DbErr(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://…")
