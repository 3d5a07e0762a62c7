"""The pipeline's TransactionQueue on top of the trader: outcomes, events, hot txn_timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.exceptions import TransactionNotFound

from proofmarket.broker.trader import TxStore
from proofmarket.broker.trader.queue import TraderQueue
from proofmarket.broker.txn import TxIntent
from proofmarket.contracts.testing import ChainEnv, Market
from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient

pytestmark = pytest.mark.anvil


def _queue(chain: ChainEnv, prover: LocalAccount, store: TxStore, **kwargs: Any) -> TraderQueue:
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(chain.anvil.rpc_url, request_kwargs={"timeout": 30}))
    return TraderQueue(MarketClient(w3, chain.deployment.market, prover), store, **kwargs)


def _lock_intent(chain: ChainEnv, market: Market) -> tuple[int, TxIntent]:
    req, sig = market.request(start_in=-1)
    data = chain.market.functions.lockRequest(req.as_tuple(), sig)._encode_transaction_data()
    intent = TxIntent(
        purpose="lock",
        ref=f"{req.id:#x}-order",
        to=chain.deployment.market,
        data=bytes.fromhex(data[2:]),
        request_id=req.id,
    )
    return req.id, intent


def test_send_returns_the_lock_event_and_is_idempotent(
    chain: ChainEnv, market: Market, prover: LocalAccount, sqlite_store: TxStore
) -> None:
    queue = _queue(chain, prover, sqlite_store)
    try:
        request_id, intent = _lock_intent(chain, market)
        first = asyncio.run(queue.send(intent))
        again = asyncio.run(queue.send(intent))  # a restarted service asks again
    finally:
        queue.close()
    assert first.ok and first.block_number is not None and first.gas_used > 0
    locked = [e for e in first.events if isinstance(e, ev.RequestLocked)]
    assert [(e.request_id, e.prover) for e in locked] == [(request_id, prover.address)]
    assert again.tx_hash == first.tx_hash
    assert len(queue.trader.records()) == 1


def test_a_lock_without_a_visible_receipt_still_reports_its_event(
    chain: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = _queue(chain, prover, sqlite_store)

    def lost(tx_hash: Any) -> Any:
        raise TransactionNotFound(f"injected: no receipt for {tx_hash!r}")

    monkeypatch.setattr(queue.market.w3.eth, "get_transaction_receipt", lost)
    try:
        request_id, intent = _lock_intent(chain, market)
        outcome = asyncio.run(queue.send(intent))
    finally:
        queue.close()
    assert outcome.ok
    assert [e.request_id for e in outcome.events if isinstance(e, ev.RequestLocked)] == [request_id]
    assert queue.trader.get(1).reconciled


def test_txn_timeout_is_read_at_each_send(
    chain: ChainEnv,
    manual_mining: ChainEnv,
    market: Market,
    prover: LocalAccount,
    sqlite_store: TxStore,
) -> None:
    timeouts = iter([0.3])
    queue = _queue(chain, prover, sqlite_store, txn_timeout_source=lambda: next(timeouts))

    async def send_and_mine(intent: TxIntent) -> Any:
        task = asyncio.create_task(queue.send(intent))
        while not task.done():  # blocks only after the trader gave the lock up
            await asyncio.sleep(0.5)
            if queue.trader.records()[0].status.value == "cancelling":
                chain.mine()
        return await task

    try:
        request_id, intent = _lock_intent(chain, market)
        outcome = asyncio.run(asyncio.wait_for(send_and_mine(intent), 30))
    finally:
        queue.close()
    assert outcome.state == "timeout" and "txn_timeout (0.3 s)" in (outcome.error or "")
    assert not chain.market.functions.requestIsLocked(request_id).call()
