"""The SQLite transaction store (default): a ``txs`` table, WAL mode, one writer."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from proofmarket.broker.trader.store import TxStoreError
from proofmarket.broker.trader.types import TxRecord, TxStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS txs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    nonce INTEGER,
    data JSON NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_sender_status ON txs(sender, status);
CREATE INDEX IF NOT EXISTS txs_idempotency ON txs(sender, idempotency_key);
CREATE TABLE IF NOT EXISTS trader_leases (
    sender TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL
);
"""


def _status_filter(statuses: Sequence[TxStatus] | None) -> tuple[str, list[str]]:
    if not statuses:
        return "", []
    marks = ",".join("?" for _ in statuses)
    return f" AND status IN ({marks})", [str(s) for s in statuses]


class SqliteTxStore:
    """Records in ``txs(id, sender, idempotency_key, status, nonce, data JSON)``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise TxStoreError(f"cannot open the transaction store {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> SqliteTxStore:
        """``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``."""
        if not url.startswith("sqlite:///") or not url[len("sqlite:///") :]:
            raise TxStoreError(f"sqlite store URL {url!r} must be sqlite:///PATH")
        return cls(url[len("sqlite:///") :])

    def _exec(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        try:
            with self._lock:
                return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise TxStoreError(f"transaction store {self.path}: {exc}") from exc

    def insert(self, record: TxRecord) -> TxRecord:
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    cur = self._conn.execute(
                        "INSERT INTO txs(sender, idempotency_key, status, nonce, data) "
                        "VALUES (?, ?, ?, ?, '{}')",
                        (record.sender, record.idempotency_key, str(record.status), record.nonce),
                    )
                    record.id = int(cur.lastrowid or 0)
                    self._conn.execute(
                        "UPDATE txs SET data = ? WHERE id = ?", (record.to_json(), record.id)
                    )
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TxStoreError(f"transaction store {self.path}: {exc}") from exc
        return record

    def save(self, record: TxRecord) -> None:
        self._exec(
            "UPDATE txs SET status = ?, nonce = ?, data = ? WHERE id = ?",
            (str(record.status), record.nonce, record.to_json(), record.id),
        )

    def get(self, tx_id: int) -> TxRecord | None:
        rows = self._exec("SELECT data FROM txs WHERE id = ?", (tx_id,))
        return TxRecord.from_json(str(rows[0][0])) if rows else None

    def find_idempotent(self, sender: str, key: str) -> TxRecord | None:
        rows = self._exec(
            "SELECT data FROM txs WHERE sender = ? AND idempotency_key = ? "
            "ORDER BY id DESC LIMIT 1",
            (sender, key),
        )
        return TxRecord.from_json(str(rows[0][0])) if rows else None

    def list(
        self,
        sender: str | None = None,
        statuses: Sequence[TxStatus] | None = None,
        limit: int | None = None,
    ) -> list[TxRecord]:
        where, params = _status_filter(statuses)
        if sender is not None:
            where += " AND sender = ?"
            params.append(sender)
        sql = f"SELECT data FROM txs WHERE 1=1{where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._exec(sql, params)
        return [TxRecord.from_json(str(row[0])) for row in reversed(rows)]

    def claim_lease(
        self, sender: str, owner: str, ttl: float, *, force: bool = False
    ) -> str | None:
        now = time.time()
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    row = self._conn.execute(
                        "SELECT owner, expires FROM trader_leases WHERE sender = ?", (sender,)
                    ).fetchone()
                    if row is not None and row[0] != owner and row[1] > now and not force:
                        self._conn.execute("ROLLBACK")
                        return str(row[0])
                    self._conn.execute(
                        "INSERT OR REPLACE INTO trader_leases(sender, owner, expires) "
                        "VALUES (?, ?, ?)",
                        (sender, owner, now + ttl),
                    )
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TxStoreError(f"transaction store {self.path}: {exc}") from exc
        return None

    def release_lease(self, sender: str, owner: str) -> None:
        self._exec("DELETE FROM trader_leases WHERE sender = ? AND owner = ?", (sender, owner))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
