"""The queue's records survive a round trip through each durable backend."""

from __future__ import annotations

import time

import pytest

from proofmarket.broker.trader import (
    TxAttempt,
    TxPurpose,
    TxReceiptInfo,
    TxRecord,
    TxStatus,
    TxStoreError,
    open_store,
)

SENDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
OTHER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


def _record(sender: str = SENDER, key: str = "", **changes: object) -> TxRecord:
    record = TxRecord(
        sender=sender,
        purpose=TxPurpose.LOCK,
        to="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        data="0xdeadbeef",
        order_id="0x1-ab-LockAndFulfill",
        request_id=(1 << 180) | 7,
        idempotency_key=key,
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def test_records_round_trip_and_filter(store_url: str) -> None:
    store = open_store(store_url)
    try:
        first = store.insert(_record(key="lock:a"))
        second = store.insert(_record(key="lock:b"))
        third = store.insert(_record(sender=OTHER))
        assert len({first.id, second.id, third.id}) == 3
        first.status = TxStatus.PENDING
        first.nonce = 12
        first.attempts.append(TxAttempt("0x" + "11" * 32, "0x02ab", 3, 2, 1.5))
        store.save(first)
        second.status = TxStatus.CONFIRMED
        second.receipt = TxReceiptInfo("0x" + "22" * 32, 9, 21_000, 7, 1)
        store.save(second)

        loaded = store.get(first.id)
        assert loaded == first
        assert loaded is not None and loaded.request_id == (1 << 180) | 7
        assert store.get(second.id) == second
        assert store.get(10**9) is None
        assert [r.id for r in store.list(SENDER)] == [first.id, second.id]
        assert [r.id for r in store.list(SENDER, [TxStatus.PENDING])] == [first.id]
        assert [r.id for r in store.list(OTHER, [TxStatus.QUEUED])] == [third.id]
        assert [r.id for r in store.list(None, None, limit=2)] == [second.id, third.id]
        assert store.find_idempotent(SENDER, "lock:b") == second
        assert store.find_idempotent(SENDER, "lock:zzz") is None
        assert store.find_idempotent(OTHER, "lock:a") is None
        assert second.receipt is not None and second.receipt.fee_wei == 147_000
    finally:
        store.close()


def test_records_persist_across_reopen(store_url: str) -> None:
    store = open_store(store_url)
    record = store.insert(_record(key="fulfil:x"))
    store.close()
    again = open_store(store_url)
    try:
        assert again.get(record.id) == record
    finally:
        again.close()


@pytest.mark.parametrize(
    "url",
    ["mysql://localhost/x", "sqlite://", "not a url", "postgresql://127.0.0.1:1/none"],
)
def test_bad_store_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(TxStoreError):
        open_store(url)


def test_one_loop_holds_a_key_lease(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert store.claim_lease(SENDER, "host:1:a", 30) is None
        assert store.claim_lease(SENDER, "host:1:a", 30) is None  # renewal
        assert store.claim_lease(SENDER, "host:2:b", 30) == "host:1:a"
        assert store.claim_lease(OTHER, "host:2:b", 30) is None  # another key is free
        assert store.claim_lease(SENDER, "host:2:b", 30, force=True) is None
        assert store.claim_lease(SENDER, "host:1:a", 30) == "host:2:b"
        store.release_lease(SENDER, "host:1:a")  # not the holder: no effect
        assert store.claim_lease(SENDER, "host:1:a", 30) == "host:2:b"
        store.release_lease(SENDER, "host:2:b")
        assert store.claim_lease(SENDER, "host:1:a", 0.05) is None
        time.sleep(0.15)  # expired: anyone may take it
        assert store.claim_lease(SENDER, "host:2:b", 30) is None
    finally:
        store.close()
