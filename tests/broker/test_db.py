"""The order database: Boundless's shape, atomic moves, and the guide's recovery SQL."""

from __future__ import annotations

import subprocess

from proofmarket.broker.db import OrderDB
from proofmarket.broker.order import BatchStatus, FulfillmentType, Order, OrderStatus, order_id
from proofmarket.market.predicates import prefix_match
from proofmarket.market.types import Offer, ProofRequest, RequestInput, Requirements


def make_order(index: int, status: OrderStatus = OrderStatus.READY_FOR_BATCH) -> Order:
    request = ProofRequest(
        id=(0xABCD << 32) | index,
        requirements=Requirements(predicate=prefix_match(bytes(32), b"")),
        image_url="file:///x",
        input=RequestInput.inline(b"\x00"),
        offer=Offer(
            min_price=1,
            max_price=2,
            ramp_up_start=10,
            ramp_up_period=1,
            lock_timeout=100,
            timeout=200,
            lock_collateral=3,
        ),
    )
    order = Order.new(
        request,
        b"\x01" * 65,
        bytes([index]) * 32,
        FulfillmentType.LOCK_AND_FULFILL,
        chain_id=1,
        market_address="0x" + "11" * 20,
    )
    return order.with_status(
        status, journal="ab" * index, claim_digest=f"{index:064x}", lock_price="0x5"
    )


def test_schema_matches_the_reference(tmp_path):
    db = OrderDB(tmp_path / "b.db")
    db.close()
    out = subprocess.run(
        ["sqlite3", str(tmp_path / "b.db"), ".schema"], capture_output=True, text=True, check=True
    ).stdout
    assert "CREATE TABLE orders (id TEXT PRIMARY KEY, data JSON)" in out
    assert "CREATE TABLE batches (id INTEGER PRIMARY KEY AUTOINCREMENT, data JSON)" in out
    assert "last_block" in out


def test_order_round_trip_and_moves(tmp_path):
    db = OrderDB(tmp_path / "b.db")
    order = make_order(1, OrderStatus.PENDING_PROVING)
    assert order.id == order_id(order.request_id, bytes([1]) * 32, FulfillmentType.LOCK_AND_FULFILL)
    assert db.insert_order_if_absent(order)
    assert not db.insert_order_if_absent(order)
    assert db.get_order(order.id) == order
    taken = db.take_order(OrderStatus.PENDING_PROVING, OrderStatus.PROVING)
    assert taken is not None and taken.status is OrderStatus.PROVING
    assert db.take_order(OrderStatus.PENDING_PROVING, OrderStatus.PROVING) is None
    assert db.count_by_status() == {"Proving": 1}
    assert [o.id for o in db.committed_orders()] == [order.id]
    db.set_last_block(42)
    assert db.get_last_block() == 42


def test_stuck_order_recovery_sql_as_written(tmp_path):
    """The guide: find the batch holding ORDER_ID, set it Complete, the submitter re-runs."""
    path = tmp_path / "b.db"
    db = OrderDB(path)
    orders = [make_order(i) for i in (1, 2)]
    for order in orders:
        db.put_order(order)
    batch = db.current_batch()
    db.add_to_batch(batch, orders)
    db.update_batch(batch, BatchStatus.FAILED, order_status=OrderStatus.PENDING_SUBMISSION)
    assert db.batches_with_status(BatchStatus.COMPLETE) == []
    target = orders[1].id
    found = subprocess.run(
        [
            "sqlite3",
            str(path),
            f"SELECT id FROM batches WHERE data->>'orders' LIKE '%\"{target}\"%';",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == [str(batch)]
    subprocess.run(
        [
            "sqlite3",
            str(path),
            "UPDATE batches SET data = json_set(data, '$.status', 'Complete') "
            f"WHERE id = {found[0]};",
        ],
        check=True,
    )
    assert db.take_batch(BatchStatus.COMPLETE, BatchStatus.PENDING_SUBMISSION) == batch
    data = db.get_batch(batch)
    assert data is not None and data["orders"] == [o.id for o in orders]
    assert data["journal_bytes"] == 3
    assert data["fees"] == "0xa"
