"""Prometheus metrics of a broker, served at ``/metrics`` (``prometheus_client``).

Two kinds:

* **read at scrape time from the durable state** – orders by state, locked collateral,
  revenue, gas spent, profit and the transaction queue come from the order database and
  the trader's store, so they survive restarts and cannot drift from what ``broker
  status`` shows;
* **observed by the pipeline** – lock latency (request seen → lock transaction sent),
  preflight time, locks, proofs, fulfilments and slashes, through the broker's hook
  (:meth:`BrokerMetrics.hook`) or the ``observe_*`` methods.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from proofmarket.broker.trader.store import TxStore
from proofmarket.broker.trader.types import TxStatus

log = logging.getLogger(__name__)

PREFIX = "proofmarket_broker"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
PREFLIGHT_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


def _wei(value: Any) -> int:
    """A stored amount: int, decimal text or 0x-hex text (Boundless stores U256 as hex)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return 0


def read_orders(db_path: str | Path) -> list[dict[str, Any]]:
    """Every order's status, type, lock price and collateral (read-only, plain SQL)."""
    path = Path(db_path)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT id, data->>'status', data->>'fulfillment_type', data->>'lock_price', "
            "data->'request'->'offer'->>'lockCollateral' FROM orders"
        ).fetchall()
    except sqlite3.OperationalError:  # no orders table yet
        return []
    finally:
        conn.close()
    return [
        {
            "id": row[0],
            "status": row[1] or "Unknown",
            "fulfillment_type": row[2] or "",
            "lock_price": _wei(row[3]),
            "collateral": _wei(row[4]),
        }
        for row in rows
    ]


COMMITTED_STATES = (
    "Locking",
    "PendingProving",
    "Proving",
    "ReadyForBatch",
    "Batching",
    "PendingSubmission",
)


def order_totals(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Orders by state, collateral locked by committed orders, revenue of done ones."""
    by_state: dict[str, int] = {}
    for order in orders:
        by_state[order["status"]] = by_state.get(order["status"], 0) + 1
    locked = sum(
        o["collateral"]
        for o in orders
        if o["status"] in COMMITTED_STATES and o["fulfillment_type"] != "FulfillAfterLockExpire"
    )
    revenue = sum(o["lock_price"] for o in orders if o["status"] == "Done")
    return {"by_state": by_state, "locked_collateral": locked, "revenue_wei": revenue}


def gas_spent(store: TxStore, sender: str | None = None) -> dict[str, int]:
    """Wei paid in fees per transaction purpose (every mined record, reverted ones too)."""
    spent: dict[str, int] = {}
    for record in store.list(sender, [TxStatus.CONFIRMED, TxStatus.REVERTED, TxStatus.FAILED]):
        if record.receipt is not None:
            purpose = str(record.purpose)
            spent[purpose] = spent.get(purpose, 0) + record.receipt.fee_wei
    return spent


class StateCollector(Collector):
    """Gauges computed from the order database and the trader store on every scrape."""

    def __init__(self, db_path: str | Path | None, store: TxStore | None, sender: str | None):
        self.db_path = db_path
        self.store = store
        self.sender = sender

    def collect(self) -> Iterator[Metric]:
        orders = order_totals(read_orders(self.db_path) if self.db_path else [])
        by_state = GaugeMetricFamily(f"{PREFIX}_orders", "Orders by state.", labels=["state"])
        for state, count in sorted(orders["by_state"].items()):
            by_state.add_metric([state], count)
        yield by_state
        yield GaugeMetricFamily(
            f"{PREFIX}_locked_collateral",
            "Collateral (token base units) held by committed, locked orders.",
            value=orders["locked_collateral"],
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_revenue_wei", "Lock prices of fulfilled orders.", value=orders["revenue_wei"]
        )
        spent = gas_spent(self.store, self.sender) if self.store is not None else {}
        gas = GaugeMetricFamily(
            f"{PREFIX}_gas_spent_wei", "Fees paid, by transaction purpose.", labels=["purpose"]
        )
        for purpose, wei in sorted(spent.items()):
            gas.add_metric([purpose], wei)
        yield gas
        yield GaugeMetricFamily(
            f"{PREFIX}_profit_wei",
            "Revenue of fulfilled orders minus every fee paid.",
            value=orders["revenue_wei"] - sum(spent.values()),
        )
        queue = GaugeMetricFamily(
            f"{PREFIX}_transactions", "Trader queue records by status.", labels=["status"]
        )
        if self.store is not None:
            counts = {status: 0 for status in TxStatus}
            for record in self.store.list(self.sender):
                counts[record.status] += 1
            for status, count in counts.items():
                queue.add_metric([str(status)], count)
        yield queue


class BrokerMetrics:
    """The broker's metric set on its own registry (several brokers in one process)."""

    def __init__(
        self,
        db_path: str | Path | None = None,
        store: TxStore | None = None,
        sender: str | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.lock_latency = Histogram(
            f"{PREFIX}_lock_latency_seconds",
            "From seeing a request to sending its lock transaction.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.preflight_seconds = Histogram(
            f"{PREFIX}_preflight_seconds",
            "Preflight (execute-only) time per request.",
            buckets=PREFLIGHT_BUCKETS,
            registry=self.registry,
        )
        self.proofs = Counter(
            f"{PREFIX}_proofs",
            "Proofs finished on the cluster.",
            ["outcome"],
            registry=self.registry,
        )
        self.fulfilments = Counter(
            f"{PREFIX}_fulfilments",
            "Orders fulfilled on chain.",
            ["outcome"],
            registry=self.registry,
        )
        self.locks = Counter(
            f"{PREFIX}_locks", "Lock transactions by outcome.", ["outcome"], registry=self.registry
        )
        self.slashes = Counter(
            f"{PREFIX}_slashes", "Our locked orders that were slashed.", registry=self.registry
        )
        self.registry.register(StateCollector(db_path, store, sender))
        self._server: Any = None

    # -------------------------------------------------------------- pipeline hooks
    def observe_lock_latency(self, seconds: float) -> None:
        self.lock_latency.observe(seconds)

    def observe_preflight(self, seconds: float) -> None:
        self.preflight_seconds.observe(seconds)

    def observe_lock(self, ok: bool) -> None:
        self.locks.labels("confirmed" if ok else "failed").inc()

    def observe_proof(self, ok: bool) -> None:
        self.proofs.labels("succeeded" if ok else "failed").inc()

    def observe_fulfilment(self, ok: bool, count: int = 1) -> None:
        self.fulfilments.labels("fulfilled" if ok else "failed").inc(count)

    def observe_slash(self) -> None:
        self.slashes.inc()

    def hook(self, event: str, fields: dict[str, Any]) -> None:
        """The pipeline's hook (``Broker.connect(..., hooks=[metrics.hook])``)."""
        if event == "preflight":
            self.observe_preflight(float(fields["seconds"]))
        elif event == "lock_sent":
            self.observe_lock_latency(float(fields["latency"]))
        elif event == "tx" and fields.get("purpose") == "lock":
            self.observe_lock(fields.get("state") == "confirmed")
        elif (
            event == "tx"
            and fields.get("purpose") == "fulfil"
            and fields.get("state") != "confirmed"
        ):
            self.fulfilments.labels("failed").inc()
        elif event == "proved":
            self.observe_proof(True)
        elif event == "fulfilled":
            self.observe_fulfilment(True)
        elif event == "slashed":
            self.observe_slash()

    # -------------------------------------------------------------- serving
    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` on ``addr:port`` in a daemon thread; returns the bound port."""
        server, thread = start_http_server(port, addr, registry=self.registry)
        self._server = (server, thread)
        bound = int(server.server_address[1])
        log.info("broker metrics at http://%s:%d/metrics", addr, bound)
        return bound

    def stop(self) -> None:
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._server = None


__all__ = [
    "BrokerMetrics",
    "StateCollector",
    "gas_spent",
    "order_totals",
    "read_orders",
]
