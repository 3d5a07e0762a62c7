"""The transaction queue against a real anvil: nonces, fee bumps, timeouts, reverts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.exceptions import TransactionNotFound

from proofmarket.broker.trader import (
    Trader,
    TraderConfig,
    TxPurpose,
    TxStatus,
    TxStore,
)
from proofmarket.contracts.testing import ChainEnv, Market, Request, fulfillment

pytestmark = pytest.mark.anvil


def _tick_until_final(trader: Trader, ids: list[int], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trader.tick()
        if all(trader.get(i).status.final for i in ids):
            return
        time.sleep(0.05)
    states = {i: str(trader.get(i).status) for i in ids}
    raise AssertionError(f"records not final in {timeout} s: {states}")


def _lock_call(chain: ChainEnv, req: Request, sig: bytes) -> Any:
    return chain.market.functions.lockRequest(req.as_tuple(), sig)


def _fulfil_call(chain: ChainEnv, req: Request, sig: bytes) -> Any:
    return chain.market.functions.fulfill(fulfillment(req, sig))


def _enqueue_lock(trader: Trader, chain: ChainEnv, req: Request, sig: bytes) -> int:
    handle = trader.enqueue_call(
        _lock_call(chain, req, sig),
        purpose=TxPurpose.LOCK,
        order_id=f"{req.id:#x}-lock",
        request_id=req.id,
    )
    return handle.id


def test_concurrent_locks_and_fulfils_from_one_key_get_one_nonce_each(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    market: Market,
    trader: Trader,
) -> None:
    requests = [market.request(start_in=-1) for _ in range(3)]
    start_nonce = chain.w3.eth.get_transaction_count(trader.address)
    ids: dict[str, int] = {}

    def lock_and_fulfil(index: int) -> None:
        req, sig = requests[index]
        ids[f"lock{index}"] = _enqueue_lock(trader, chain, req, sig)
        ids[f"fulfil{index}"] = trader.enqueue_call(
            _fulfil_call(chain, req, sig), purpose=TxPurpose.FULFIL, order_id=f"{req.id:#x}"
        ).id

    threads = [threading.Thread(target=lock_and_fulfil, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Blocks come only when mined by hand: the fulfils cannot run until their locks land.
    deadline = time.monotonic() + 30
    while not all(trader.get(i).status.final for i in ids.values()):
        assert time.monotonic() < deadline, {k: trader.get(v).status for k, v in ids.items()}
        trader.tick()
        chain.mine()
    records = {name: trader.get(i) for name, i in ids.items()}
    assert {r.status for r in records.values()} == {TxStatus.CONFIRMED}, {
        k: (r.status, r.error) for k, r in records.items()
    }
    nonces = sorted(r.nonce for r in records.values() if r.nonce is not None)
    assert nonces == list(range(start_nonce, start_nonce + 6))
    for index, (req, _) in enumerate(requests):
        lock, fill = records[f"lock{index}"], records[f"fulfil{index}"]
        assert lock.nonce is not None and fill.nonce is not None and lock.nonce < fill.nonce
        assert chain.market.functions.requestIsFulfilled(req.id).call()
    assert not any("underpriced" in r.error for r in records.values())


def test_a_stuck_transaction_is_bumped_on_its_nonce_and_runs_once(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    trader = make_trader(sqlite_store, TraderConfig(txn_timeout=60, bump_after=0.2))
    before = chain.balance(prover.address)
    deposit = chain.market.functions.deposit()
    tx_id = trader.enqueue_call(deposit, purpose=TxPurpose.DEPOSIT, value=12345).id
    trader.tick()
    first = trader.get(tx_id)
    assert first.status is TxStatus.PENDING and len(first.attempts) == 1
    for _ in range(2):
        time.sleep(0.25)
        trader.tick()
    bumped = trader.get(tx_id)
    assert len(bumped.attempts) == 3
    assert bumped.nonce == first.nonce
    fees = [a.max_priority_fee_per_gas for a in bumped.attempts]
    assert fees[0] < fees[1] < fees[2]
    assert fees[1] * 100 >= fees[0] * 110  # every replacement clears the 10 % rule
    chain.mine()
    trader.tick()
    done = trader.get(tx_id)
    assert done.status is TxStatus.CONFIRMED
    assert done.receipt is not None
    assert done.receipt.tx_hash == bumped.attempts[-1].tx_hash
    assert chain.balance(prover.address) - before == 12345  # deposited exactly once


def test_a_refused_estimate_fails_without_spending_a_nonce(
    chain: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    req, sig = market.request(start_in=-1)
    market.lock(req, sig, chain.provers[1])  # someone else locked it first
    trader = make_trader(sqlite_store)
    nonce_before = chain.w3.eth.get_transaction_count(prover.address)
    tx_id = _enqueue_lock(trader, chain, req, sig)
    _tick_until_final(trader, [tx_id])
    record = trader.get(tx_id)
    assert record.status is TxStatus.FAILED
    assert record.error_name == "RequestIsLocked"
    assert record.nonce is None and not record.attempts
    assert chain.w3.eth.get_transaction_count(prover.address) == nonce_before


def test_a_mined_revert_reports_the_contract_error(
    chain: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    req, sig = market.request(start_in=-1)
    market.lock(req, sig, chain.provers[1])
    trader = make_trader(sqlite_store)
    handle = trader.enqueue_call(
        _lock_call(chain, req, sig), purpose=TxPurpose.LOCK, gas_limit=400_000
    )
    _tick_until_final(trader, [handle.id])
    record = trader.get(handle.id)
    assert record.status is TxStatus.REVERTED
    assert record.error_name == "RequestIsLocked"
    assert record.receipt is not None and record.receipt.status == 0


def test_enqueue_is_idempotent_per_order(
    chain: ChainEnv,
    market: Market,
    trader: Trader,
) -> None:
    req, sig = market.request(start_in=-1)
    first = _enqueue_lock(trader, chain, req, sig)
    assert _enqueue_lock(trader, chain, req, sig) == first
    _tick_until_final(trader, [first])
    assert trader.get(first).status is TxStatus.CONFIRMED
    assert _enqueue_lock(trader, chain, req, sig) == first  # confirmed: still the same
    assert len(trader.records()) == 1


def test_a_timed_out_lock_that_landed_is_reconciled_from_lock_events(
    chain: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Boundless #547: the node never shows our receipt, but the lock is on chain."""
    trader = make_trader(sqlite_store, TraderConfig(txn_timeout=0.3, bump_after=60))

    def no_receipts(tx_hash: Any) -> Any:
        raise TransactionNotFound(f"injected: receipt of {tx_hash!r} unavailable")

    monkeypatch.setattr(trader.w3.eth, "get_transaction_receipt", no_receipts)
    req, sig = market.request(start_in=-1)
    tx_id = _enqueue_lock(trader, chain, req, sig)
    _tick_until_final(trader, [tx_id])
    record = trader.get(tx_id)
    assert record.status is TxStatus.CONFIRMED, record.error
    assert record.reconciled
    assert record.receipt is not None and record.receipt.tx_hash == record.attempts[0].tx_hash
    assert chain.market.functions.requestIsLocked(req.id).call()


def test_a_timed_out_lock_is_cancelled_on_its_nonce_and_never_lands(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    trader = make_trader(sqlite_store, TraderConfig(txn_timeout=0.3, bump_after=60))
    req, sig = market.request(start_in=-1)
    tx_id = _enqueue_lock(trader, chain, req, sig)
    trader.tick()
    assert trader.get(tx_id).status is TxStatus.PENDING
    time.sleep(0.35)
    trader.tick()
    cancelling = trader.get(tx_id)
    assert cancelling.status is TxStatus.CANCELLING
    assert cancelling.attempts[-1].cancel and cancelling.attempts[-1].tx_hash
    chain.mine()
    _tick_until_final(trader, [tx_id])
    record = trader.get(tx_id)
    assert record.status is TxStatus.FAILED
    assert record.error_name == "TxTimeout"
    assert not chain.market.functions.requestIsLocked(req.id).call()
    # The nonce is spent by the cancellation: the next transaction goes right after it.
    follow = trader.enqueue_call(chain.market.functions.deposit(), value=1).id
    trader.tick()
    chain.mine()
    _tick_until_final(trader, [follow])
    assert trader.get(follow).nonce == (record.nonce or 0) + 1


def test_async_wait_returns_the_receipt(
    chain: ChainEnv,
    market: Market,
    trader: Trader,
) -> None:
    import asyncio

    req, sig = market.request(start_in=-1)

    async def scenario() -> Any:
        stop = asyncio.Event()
        loop_task = asyncio.create_task(trader.run(stop))
        handle = trader.enqueue_call(
            _lock_call(chain, req, sig), purpose=TxPurpose.LOCK, request_id=req.id
        )
        outcome = await trader.wait(handle, timeout=20)
        stop.set()
        await loop_task
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome.ok and outcome.receipt is not None and outcome.receipt.gas_used > 0
    receipt = chain.w3.eth.get_transaction_receipt(outcome.tx_hash)
    assert receipt["blockNumber"] == outcome.receipt.block_number
    assert chain.market.functions.requestIsLocked(req.id).call()


def test_a_refused_transaction_does_not_leave_a_nonce_gap(
    chain: ChainEnv,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    """The node refuses tx A (its gas cost exceeds the balance) but takes tx B, queued on
    the next nonce; A's nonce is filled by a cheap cancellation so B still runs."""
    trader = make_trader(sqlite_store, TraderConfig(max_send_retries=1, poll_interval=0.05))
    chain.rpc("anvil_setBalance", prover.address, hex(10**15))
    deposit = chain.market.functions.deposit()
    big = trader.enqueue_call(deposit, purpose=TxPurpose.DEPOSIT, value=0, gas_limit=3_000_000)
    small = trader.enqueue_call(deposit, purpose=TxPurpose.DEPOSIT, value=7, gas_limit=80_000)
    before = chain.balance(prover.address)
    _tick_until_final(trader, [big.id, small.id])
    refused, taken = trader.get(big.id), trader.get(small.id)
    assert refused.status is TxStatus.FAILED and refused.error_name == "NodeRefused"
    assert "insufficient funds" in refused.error.lower()
    assert refused.attempts[-1].cancel and refused.receipt is not None
    assert taken.status is TxStatus.CONFIRMED
    assert taken.nonce == (refused.nonce or 0) + 1
    assert chain.balance(prover.address) - before == 7


def test_a_low_fee_transaction_left_behind_by_the_base_fee_is_bumped_until_mined(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    prover: LocalAccount,
    sqlite_store: TxStore,
    make_trader: Callable[..., Trader],
) -> None:
    trader = make_trader(sqlite_store, TraderConfig(txn_timeout=120, bump_after=0.2))
    tx_id = trader.enqueue_call(chain.market.functions.deposit(), value=5).id
    trader.tick()
    low = trader.get(tx_id).attempts[0]
    high_base = low.max_fee_per_gas * 10
    chain.rpc("anvil_setNextBlockBaseFeePerGas", hex(high_base))
    chain.mine()  # the base fee jumps above what the transaction offers: it stays out
    assert trader.get(tx_id).status is TxStatus.PENDING
    with pytest.raises(TransactionNotFound):
        chain.w3.eth.get_transaction_receipt(low.tx_hash)
    time.sleep(0.25)
    trader.tick()  # bumped against the new base fee
    bumped = trader.get(tx_id)
    assert len(bumped.attempts) == 2 and bumped.attempts[1].max_fee_per_gas > high_base // 2
    chain.mine()
    _tick_until_final(trader, [tx_id])
    done = trader.get(tx_id)
    assert done.status is TxStatus.CONFIRMED and done.nonce == bumped.nonce
    assert done.receipt is not None and done.receipt.tx_hash == bumped.attempts[1].tx_hash
    assert done.receipt.effective_gas_price > low.max_fee_per_gas


def test_a_second_loop_on_the_same_key_waits_until_the_first_lets_go(
    chain: ChainEnv, trader: Trader, make_trader: Callable[..., Trader], sqlite_store: TxStore
) -> None:
    import os
    import socket

    other = make_trader(sqlite_store)
    trader.tick()  # the first loop holds the key
    tx_id = other.enqueue_call(chain.market.functions.deposit(), value=3).id
    other.tick()
    assert other.get(tx_id).status is TxStatus.QUEUED  # the second one sent nothing
    trader.close()
    _tick_until_final(other, [tx_id])
    assert other.get(tx_id).status is TxStatus.CONFIRMED
    # A lease left by a process of this host that is gone is taken over at once.
    dead = f"{socket.gethostname()}:{2**22 + os.getpid()}:x"
    other.close()
    assert sqlite_store.claim_lease(trader.address, dead, 60) is None
    again = trader.enqueue_call(chain.market.functions.deposit(), value=4).id
    _tick_until_final(trader, [again])
    assert trader.get(again).status is TxStatus.CONFIRMED
