"""The PostgreSQL transaction store: the same ``txs`` table with a JSONB record."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from proofmarket.broker.trader.store import TxStoreError
from proofmarket.broker.trader.types import TxRecord, TxStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS trader_txs (
    id BIGSERIAL PRIMARY KEY,
    sender TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    nonce BIGINT,
    data JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS trader_txs_sender_status ON trader_txs(sender, status);
CREATE INDEX IF NOT EXISTS trader_txs_idempotency ON trader_txs(sender, idempotency_key);
CREATE TABLE IF NOT EXISTS trader_leases (
    sender TEXT PRIMARY KEY, owner TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL
);
"""


class PostgresTxStore:
    """Records in ``trader_txs``; every call is one autocommit statement."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
            self._conn.execute(SCHEMA)
        except psycopg.Error as exc:
            raise TxStoreError(f"cannot open the transaction store {url}: {exc}") from exc

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                cur = self._conn.execute(sql, tuple(params))
                return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise TxStoreError(f"transaction store: {exc}") from exc

    def insert(self, record: TxRecord) -> TxRecord:
        # Take the id first so the row is written whole in one statement.
        rows = self._rows("SELECT nextval(pg_get_serial_sequence('trader_txs', 'id'))")
        record.id = int(rows[0][0])
        self._rows(
            "INSERT INTO trader_txs(id, sender, idempotency_key, status, nonce, data) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb)",
            (
                record.id,
                record.sender,
                record.idempotency_key,
                str(record.status),
                record.nonce,
                record.to_json(),
            ),
        )
        return record

    def save(self, record: TxRecord) -> None:
        self._rows(
            "UPDATE trader_txs SET status = %s, nonce = %s, data = %s::jsonb WHERE id = %s",
            (str(record.status), record.nonce, record.to_json(), record.id),
        )

    @staticmethod
    def _decode(value: Any) -> TxRecord:
        return TxRecord.from_json(value if isinstance(value, str) else json.dumps(value))

    def get(self, tx_id: int) -> TxRecord | None:
        rows = self._rows("SELECT data FROM trader_txs WHERE id = %s", (tx_id,))
        return self._decode(rows[0][0]) if rows else None

    def find_idempotent(self, sender: str, key: str) -> TxRecord | None:
        rows = self._rows(
            "SELECT data FROM trader_txs WHERE sender = %s AND idempotency_key = %s "
            "ORDER BY id DESC LIMIT 1",
            (sender, key),
        )
        return self._decode(rows[0][0]) if rows else None

    def list(
        self,
        sender: str | None = None,
        statuses: Sequence[TxStatus] | None = None,
        limit: int | None = None,
    ) -> list[TxRecord]:
        where, params = "", list[Any]()
        if statuses:
            where += " AND status = ANY(%s)"
            params.append([str(s) for s in statuses])
        if sender is not None:
            where += " AND sender = %s"
            params.append(sender)
        sql = f"SELECT data FROM trader_txs WHERE TRUE{where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._decode(row[0]) for row in reversed(self._rows(sql, params))]

    def claim_lease(
        self, sender: str, owner: str, ttl: float, *, force: bool = False
    ) -> str | None:
        now = time.time()
        rows = self._rows(
            "INSERT INTO trader_leases(sender, owner, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (sender) DO UPDATE SET owner = EXCLUDED.owner, expires = EXCLUDED.expires "
            "WHERE trader_leases.owner = EXCLUDED.owner OR trader_leases.expires < %s OR %s "
            "RETURNING owner",
            (sender, owner, now + ttl, now, force),
        )
        if rows:
            return None
        held = self._rows("SELECT owner FROM trader_leases WHERE sender = %s", (sender,))
        return str(held[0][0]) if held else None

    def release_lease(self, sender: str, owner: str) -> None:
        self._rows("DELETE FROM trader_leases WHERE sender = %s AND owner = %s", (sender, owner))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
