"""The broker's SQLite database, in Boundless's shape.

``orders(id TEXT PRIMARY KEY, data JSON)`` and ``batches(id INTEGER PRIMARY KEY, data
JSON)`` hold whole JSON documents, so an operator can inspect and repair them with plain
SQL (``data->>'status'``, ``json_set``); ``last_block`` keeps the last processed block and
``locked_requests`` / ``fulfilled_requests`` what the chain said about requests. Every
state change is one transaction, so a crash leaves either the old or the new state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from proofmarket.broker.order import COMMITTED, BatchStatus, Order, OrderStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, data JSON);
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT, data JSON);
CREATE TABLE IF NOT EXISTS last_block (id INTEGER PRIMARY KEY, block TEXT);
CREATE TABLE IF NOT EXISTS fulfilled_requests (id TEXT PRIMARY KEY, block_number INTEGER);
CREATE TABLE IF NOT EXISTS locked_requests (
    id TEXT PRIMARY KEY, locker TEXT, block_number INTEGER
);
CREATE TABLE IF NOT EXISTS order_stream (id INTEGER PRIMARY KEY, last_order INTEGER);
CREATE INDEX IF NOT EXISTS orders_status ON orders (data->>'status');
"""


def _rid(request_id: int) -> str:
    return f"0x{request_id:x}"


class OrderDB:
    """Thread-safe access to one broker database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, tuple(args)).fetchall())

    # ------------------------------------------------------------------ orders
    def put_order(self, order: Order) -> None:
        """Insert or replace the whole order."""
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO orders (id, data) VALUES (?, ?)",
                (order.id, order.model_dump_json()),
            )

    def insert_order_if_absent(self, order: Order) -> bool:
        """Insert unless an order with this ID exists (or exists only as Skipped)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT data->>'status' FROM orders WHERE id = ?", (order.id,)
            ).fetchone()
            if row is not None and row[0] != OrderStatus.SKIPPED:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO orders (id, data) VALUES (?, ?)",
                (order.id, order.model_dump_json()),
            )
            return True

    def get_order(self, order_id: str) -> Order | None:
        rows = self._query("SELECT data FROM orders WHERE id = ?", (order_id,))
        return Order.model_validate_json(rows[0][0]) if rows else None

    def orders_with_status(self, *statuses: OrderStatus) -> list[Order]:
        marks = ",".join("?" for _ in statuses)
        rows = self._query(
            f"SELECT data FROM orders WHERE data->>'status' IN ({marks}) ORDER BY id",
            [s.value for s in statuses],
        )
        return [Order.model_validate_json(r[0]) for r in rows]

    def all_orders(self) -> list[Order]:
        return [Order.model_validate_json(r[0]) for r in self._query("SELECT data FROM orders")]

    def committed_orders(self) -> list[Order]:
        return self.orders_with_status(*COMMITTED)

    def count_by_status(self) -> dict[str, int]:
        rows = self._query("SELECT data->>'status', COUNT(*) FROM orders GROUP BY 1")
        return {str(status): int(count) for status, count in rows}

    def orders_for_request(self, request_id: int) -> list[Order]:
        rows = self._query("SELECT data FROM orders WHERE id LIKE ?", (_rid(request_id) + "-%",))
        return [Order.model_validate_json(r[0]) for r in rows]

    def set_status(self, order_id: str, status: OrderStatus, **changes: Any) -> Order:
        """Change an order's status (and fields) atomically; returns the new order."""
        with self._tx() as conn:
            row = conn.execute("SELECT data FROM orders WHERE id = ?", (order_id,)).fetchone()
            if row is None:
                raise KeyError(f"no order {order_id}")
            order = Order.model_validate_json(row[0]).with_status(status, **changes)
            conn.execute(
                "UPDATE orders SET data = ? WHERE id = ?", (order.model_dump_json(), order_id)
            )
            return order

    def transition(
        self,
        order_id: str,
        from_statuses: tuple[OrderStatus, ...],
        to_status: OrderStatus,
        **changes: Any,
    ) -> Order | None:
        """Move an order only if it is in one of ``from_statuses``; None when it was not."""
        with self._tx() as conn:
            row = conn.execute("SELECT data FROM orders WHERE id = ?", (order_id,)).fetchone()
            if row is None:
                return None
            order = Order.model_validate_json(row[0])
            if order.status not in from_statuses:
                return None
            order = order.with_status(to_status, **changes)
            conn.execute(
                "UPDATE orders SET data = ? WHERE id = ?", (order.model_dump_json(), order_id)
            )
            return order

    def take_order(self, from_status: OrderStatus, to_status: OrderStatus) -> Order | None:
        """Atomically move the first order in ``from_status`` to ``to_status``."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT data FROM orders WHERE data->>'status' = ? ORDER BY id LIMIT 1",
                (from_status.value,),
            ).fetchone()
            if row is None:
                return None
            order = Order.model_validate_json(row[0]).with_status(to_status)
            conn.execute(
                "UPDATE orders SET data = ? WHERE id = ?", (order.model_dump_json(), order.id)
            )
            return order

    # ------------------------------------------------------------------ chain facts
    def get_last_block(self) -> int | None:
        rows = self._query("SELECT block FROM last_block WHERE id = 0")
        return int(rows[0][0]) if rows else None

    def set_last_block(self, block: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO last_block (id, block) VALUES (0, ?)", (str(block),)
            )

    def get_stream_cursor(self) -> int | None:
        """Id of the last order taken from the off-chain order stream."""
        rows = self._query("SELECT last_order FROM order_stream WHERE id = 0")
        return int(rows[0][0]) if rows else None

    def set_stream_cursor(self, order_id: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO order_stream (id, last_order) VALUES (0, ?)", (order_id,)
            )

    def set_request_locked(self, request_id: int, locker: str, block: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO locked_requests (id, locker, block_number) VALUES (?,?,?)",
                (_rid(request_id), locker, block),
            )

    def request_locker(self, request_id: int) -> str | None:
        rows = self._query("SELECT locker FROM locked_requests WHERE id = ?", (_rid(request_id),))
        return str(rows[0][0]) if rows else None

    def set_request_fulfilled(self, request_id: int, block: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO fulfilled_requests (id, block_number) VALUES (?, ?)",
                (_rid(request_id), block),
            )

    def is_request_fulfilled(self, request_id: int) -> bool:
        return bool(
            self._query("SELECT 1 FROM fulfilled_requests WHERE id = ?", (_rid(request_id),))
        )

    # ------------------------------------------------------------------ batches
    def get_batch(self, batch_id: int) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM batches WHERE id = ?", (batch_id,))
        return dict(json.loads(rows[0][0])) if rows else None

    def all_batches(self) -> list[tuple[int, dict[str, Any]]]:
        rows = self._query("SELECT id, data FROM batches ORDER BY id")
        return [(int(i), dict(json.loads(d))) for i, d in rows]

    def current_batch(self) -> int:
        """The open (Aggregating) batch, created if there is none."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id FROM batches WHERE data->>'status' = ? ORDER BY id LIMIT 1",
                (BatchStatus.AGGREGATING.value,),
            ).fetchone()
            if row is not None:
                return int(row[0])
            data = {
                "status": BatchStatus.AGGREGATING.value,
                "orders": [],
                "start_time": int(time.time()),
                "deadline": None,
                "fees": "0x0",
                "journal_bytes": 0,
                "claim_digests": [],
                "root": None,
                "error_msg": None,
            }
            cursor = conn.execute("INSERT INTO batches (data) VALUES (?)", (json.dumps(data),))
            return int(cursor.lastrowid or 0)

    def add_to_batch(self, batch_id: int, orders: list[Order]) -> None:
        """Append ReadyForBatch orders to an open batch and mark them Batching."""
        with self._tx() as conn:
            row = conn.execute("SELECT data FROM batches WHERE id = ?", (batch_id,)).fetchone()
            data = json.loads(row[0])
            for order in orders:
                data["orders"].append(order.id)
                data["journal_bytes"] += len(order.journal_bytes)
                data["fees"] = hex(int(data["fees"], 16) + int(order.lock_price or "0x0", 16))
                deadline = data["deadline"]
                data["deadline"] = (
                    order.expire_timestamp
                    if deadline is None
                    else min(deadline, order.expire_timestamp)
                )
                moved = order.with_status(OrderStatus.BATCHING)
                conn.execute(
                    "UPDATE orders SET data = ? WHERE id = ?", (moved.model_dump_json(), order.id)
                )
            conn.execute("UPDATE batches SET data = ? WHERE id = ?", (json.dumps(data), batch_id))

    def update_batch(
        self,
        batch_id: int,
        status: BatchStatus,
        *,
        order_status: OrderStatus | None = None,
        **fields: Any,
    ) -> None:
        """Set a batch's status and fields, and optionally all its orders' status."""
        with self._tx() as conn:
            row = conn.execute("SELECT data FROM batches WHERE id = ?", (batch_id,)).fetchone()
            data = json.loads(row[0])
            data.update(fields)
            data["status"] = status.value
            conn.execute("UPDATE batches SET data = ? WHERE id = ?", (json.dumps(data), batch_id))
            if order_status is not None:
                for oid in data["orders"]:
                    orow = conn.execute("SELECT data FROM orders WHERE id = ?", (oid,)).fetchone()
                    if orow is None:
                        continue
                    order = Order.model_validate_json(orow[0])
                    if order.status in (OrderStatus.DONE, OrderStatus.FAILED):
                        continue
                    conn.execute(
                        "UPDATE orders SET data = ? WHERE id = ?",
                        (order.with_status(order_status).model_dump_json(), oid),
                    )

    def take_batch(self, from_status: BatchStatus, to_status: BatchStatus) -> int | None:
        """Atomically move the first batch in ``from_status`` to ``to_status``."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id FROM batches WHERE data->>'status' = ? ORDER BY id LIMIT 1",
                (from_status.value,),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE batches SET data = json_set(data, '$.status', ?) WHERE id = ?",
                (to_status.value, row[0]),
            )
            return int(row[0])

    def batches_with_status(self, status: BatchStatus) -> list[int]:
        rows = self._query(
            "SELECT id FROM batches WHERE data->>'status' = ? ORDER BY id", (status.value,)
        )
        return [int(r[0]) for r in rows]
