"""Settle a lock from the chain's ``RequestLocked`` events when our receipt is missing.

Boundless #547: a lock transaction reported as unconfirmed had in fact been mined, the
broker gave the order up, and the prover was slashed. Before the queue calls a lock
failed (timeout, nonce used without a receipt we can see, cancellation), it asks the
chain whether ``RequestLocked(request_id, prover = us)`` exists since the record was queued.
"""

from __future__ import annotations

from typing import Protocol

from eth_typing import HexStr
from eth_utils import to_checksum_address

from proofmarket.broker.trader.types import TxReceiptInfo, TxRecord
from proofmarket.market import events as ev
from proofmarket.market.client import MarketClient


class Reconciler(Protocol):
    """Looks for proof on chain that a record's effect happened without our receipt."""

    def __call__(self, record: TxRecord) -> TxReceiptInfo | None: ...


class LockReconciler:
    """Finds our ``RequestLocked`` event for a lock record's ``request_id``."""

    def __init__(self, market: MarketClient) -> None:
        self.market = market

    def find_lock(
        self, request_id: int, prover: str, from_block: int = 0
    ) -> ev.RequestLocked | None:
        """Our lock event for the request, if the chain has one."""
        ours = to_checksum_address(prover)
        for event in self.market.iter_events(
            ev.RequestLocked, from_block=from_block, request_id=request_id
        ):
            if to_checksum_address(event.prover) == ours:
                return event
        return None

    def __call__(self, record: TxRecord) -> TxReceiptInfo | None:
        if record.request_id is None:
            return None
        event = self.find_lock(record.request_id, record.sender, record.from_block)
        if event is None:
            return None
        gas_used, price = 0, 0
        try:
            receipt = self.market.w3.eth.get_transaction_receipt(HexStr(event.meta.tx_hash))
            gas_used = int(receipt["gasUsed"])
            price = int(receipt.get("effectiveGasPrice", 0))
        except Exception:  # the receipt is what went missing; the event is enough
            pass
        return TxReceiptInfo(
            tx_hash=event.meta.tx_hash,
            block_number=event.meta.block_number,
            gas_used=gas_used,
            effective_gas_price=price,
            status=1,
        )
