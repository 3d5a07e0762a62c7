"""The broker's /metrics endpoint: state from the order DB and trader store, plus hooks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from proofmarket.broker.metrics import BrokerMetrics
from proofmarket.broker.trader import TxPurpose, TxReceiptInfo, TxRecord, TxStatus, open_store

SENDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def _orders_db(path: Path, orders: list[tuple[str, str, str, int | str, int]]) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, data JSON)")
    for oid, status, kind, price, collateral in orders:
        data = {
            "id": oid,
            "status": status,
            "fulfillment_type": kind,
            "lock_price": price,
            "request": {"offer": {"lockCollateral": collateral}},
        }
        conn.execute("INSERT INTO orders VALUES (?, ?)", (oid, json.dumps(data)))
    conn.commit()
    conn.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_endpoint_reports_orders_gas_profit_and_hooks(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    _orders_db(
        db,
        [
            ("a", "Done", "LockAndFulfill", "0x3e8", 5),  # 1000 wei earned
            ("b", "Done", "LockAndFulfill", 2000, 5),
            ("c", "Proving", "LockAndFulfill", 0, 7),  # collateral at stake
            ("d", "Proving", "FulfillAfterLockExpire", 0, 9),  # not our collateral
            ("e", "Skipped", "LockAndFulfill", 0, 11),
        ],
    )
    store = open_store(f"sqlite:///{tmp_path / 'broker.db'}")
    mined = TxRecord(sender=SENDER, purpose=TxPurpose.LOCK, to=SENDER, data="0x")
    store.insert(mined)
    mined.status = TxStatus.CONFIRMED
    mined.receipt = TxReceiptInfo("0x" + "aa" * 32, 5, 100, 3, 1)  # 300 wei
    store.save(mined)
    store.insert(TxRecord(sender=SENDER, purpose=TxPurpose.FULFIL, to=SENDER, data="0x"))

    metrics = BrokerMetrics(db, store, SENDER)
    for event, fields in [
        ("preflight", {"order_id": "c", "seconds": 1.5}),
        ("lock_sent", {"order_id": "c", "latency": 0.3}),
        ("lock_sent", {"order_id": "d", "latency": 4.0}),
        ("tx", {"purpose": "lock", "order_id": "c", "gas_used": 1, "state": "confirmed"}),
        ("tx", {"purpose": "lock", "order_id": "d", "gas_used": 0, "state": "rejected"}),
        ("proved", {"order_id": "c", "cycles": 10}),
        ("fulfilled", {"order_id": "a", "lock_price": "0x3e8"}),
        ("fulfilled", {"order_id": "b", "lock_price": "0x7d0"}),
        ("tx", {"purpose": "fulfil", "batch_id": 3, "gas_used": 0, "state": "timeout"}),
        ("order_status", {"order_id": "c", "status": "Proving", "error": None}),
    ]:
        metrics.hook(event, fields)
    metrics.observe_slash()
    port = metrics.serve(0)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        metrics.stop()
        store.close()
    assert response.status_code == 200
    got = _samples(response.text)
    p = "proofmarket_broker"
    assert got[(f"{p}_orders", (("state", "Done"),))] == 2
    assert got[(f"{p}_orders", (("state", "Proving"),))] == 2
    assert got[(f"{p}_orders", (("state", "Skipped"),))] == 1
    assert got[(f"{p}_locked_collateral", ())] == 7
    assert got[(f"{p}_revenue_wei", ())] == 3000
    assert got[(f"{p}_gas_spent_wei", (("purpose", "lock"),))] == 300
    assert got[(f"{p}_profit_wei", ())] == 2700
    assert got[(f"{p}_transactions", (("status", "queued"),))] == 1
    assert got[(f"{p}_transactions", (("status", "confirmed"),))] == 1
    assert got[(f"{p}_lock_latency_seconds_count", ())] == 2
    assert got[(f"{p}_lock_latency_seconds_sum", ())] == 4.3
    assert got[(f"{p}_lock_latency_seconds_bucket", (("le", "0.5"),))] == 1
    assert got[(f"{p}_preflight_seconds_count", ())] == 1
    assert got[(f"{p}_locks_total", (("outcome", "confirmed"),))] == 1
    assert got[(f"{p}_locks_total", (("outcome", "failed"),))] == 1
    assert got[(f"{p}_proofs_total", (("outcome", "succeeded"),))] == 1
    assert got[(f"{p}_fulfilments_total", (("outcome", "fulfilled"),))] == 2
    assert got[(f"{p}_fulfilments_total", (("outcome", "failed"),))] == 1
    assert got[(f"{p}_slashes_total", ())] == 1


def test_metrics_without_a_database_yet_still_serve(tmp_path: Path) -> None:
    metrics = BrokerMetrics(tmp_path / "missing.db")
    port = metrics.serve(0)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        metrics.stop()
    assert _samples(text)[("proofmarket_broker_profit_wei", ())] == 0
    assert not (tmp_path / "missing.db").exists()
