"""The pipeline's :class:`~proofmarket.broker.txn.TransactionQueue` backed by the trader.

``TraderQueue.send(intent)`` queues the intent durably (idempotent per purpose and order
or batch), waits for the trader's final outcome and hands back the pipeline's
``TxOutcome`` with the market events of the receipt. The trader's loop runs in a daemon
thread started here, so the broker's services only see ``await send(...)``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from eth_typing import HexStr

from proofmarket.broker.trader.store import TxStore
from proofmarket.broker.trader.trader import Trader, TraderConfig
from proofmarket.broker.trader.types import TxOutcome as TraderOutcome
from proofmarket.broker.trader.types import TxPurpose, TxStatus
from proofmarket.broker.txn import TxIntent, TxOutcome
from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient

log = logging.getLogger(__name__)

_PURPOSES = {p.value: p for p in TxPurpose}


class TraderQueue:
    """One key's trader, started in a thread, speaking the pipeline's protocol."""

    def __init__(
        self,
        market: MarketClient,
        store: TxStore,
        config: TraderConfig | None = None,
        *,
        start: bool = True,
        txn_timeout_source: Callable[[], float] | None = None,
        **trader_kwargs: Any,
    ) -> None:
        """``txn_timeout_source`` is read before each send (broker.toml hot reload)."""
        self.market = market
        self.txn_timeout_source = txn_timeout_source
        self.trader = Trader.for_market(
            market.w3, market.signer, store, market.address, config, **trader_kwargs
        )
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        if start:
            self.start()

    def start(self) -> None:
        if self._thread is None:
            self._thread, self._stop = self.trader.start_thread()

    def close(self) -> None:
        if self._stop is not None and self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)  # the loop releases the key's lease on its way out
        self._thread = self._stop = None

    async def send(self, intent: TxIntent) -> TxOutcome:
        if self.txn_timeout_source is not None:
            self.trader.config.txn_timeout = float(self.txn_timeout_source())
        enqueue = functools.partial(
            self.trader.enqueue,
            intent.to,
            intent.data,
            purpose=_PURPOSES.get(intent.purpose, TxPurpose.OTHER),
            order_id=intent.ref,
            request_id=intent.request_id,
            value=intent.value,
            priority_fee_bonus=intent.priority_gas,
        )
        handle = await asyncio.to_thread(enqueue)
        outcome = await self.trader.wait(handle)
        return self._translate(outcome)

    def _events(self, outcome: TraderOutcome) -> list[ev.MarketEvent]:
        if outcome.tx_hash is None:
            return []
        try:
            receipt = self.market.w3.eth.get_transaction_receipt(HexStr(outcome.tx_hash))
        except Exception:  # reconciled without a visible receipt: use the lock event
            receipt = None
        if receipt is not None:
            return self.market.decode_receipt_events(receipt)
        record = self.trader.get(outcome.id)
        if record.request_id is None:
            return []
        from proofmarket.broker.trader.reconcile import LockReconciler

        found = LockReconciler(self.market).find_lock(
            record.request_id, record.sender, record.from_block
        )
        return [found] if found is not None else []

    def _translate(self, outcome: TraderOutcome) -> TxOutcome:
        receipt = outcome.receipt
        common: dict[str, Any] = {
            "tx_hash": outcome.tx_hash,
            "block_number": receipt.block_number if receipt else None,
            "gas_used": receipt.gas_used if receipt else 0,
        }
        if outcome.status is TxStatus.CONFIRMED:
            return TxOutcome("confirmed", events=self._events(outcome), **common)
        if outcome.status is TxStatus.REVERTED:
            return TxOutcome(
                "reverted", error=outcome.error, revert=outcome.error_name or None, **common
            )
        if outcome.error_name == "TxTimeout":
            # The cancellation was mined on its nonce: it can no longer land.
            return TxOutcome("timeout", error=outcome.error, **common)
        return TxOutcome(
            "rejected", error=outcome.error, revert=outcome.error_name or None, **common
        )
