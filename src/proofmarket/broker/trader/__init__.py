"""The broker's transaction trader: one durable transaction queue per signing key.

Every on-chain write of a broker goes through :class:`Trader`::

    trader = Trader.for_market(w3, account, open_store("sqlite:///broker.db"), market)
    handle = trader.enqueue_call(market.functions.lockRequest(req, sig),
                                 purpose=TxPurpose.LOCK, order_id=oid, request_id=req_id,
                                 priority_fee_bonus=lockin_priority_gas)
    outcome = await trader.wait(handle)          # TxOutcome: status, receipt, error

with ``trader.run()`` (an asyncio task) or ``trader.start_thread()`` doing the sending.
See docs/broker.md ("The transaction trader").
"""

from proofmarket.broker.trader.reconcile import LockReconciler, Reconciler
from proofmarket.broker.trader.store import TxStore, TxStoreError, open_store
from proofmarket.broker.trader.trader import (
    Trader,
    TraderConfig,
    TraderError,
    TxHandle,
    TxWaitTimeout,
)
from proofmarket.broker.trader.types import (
    ACTIVE_STATUSES,
    IN_FLIGHT_STATUSES,
    TxAttempt,
    TxOutcome,
    TxPurpose,
    TxReceiptInfo,
    TxRecord,
    TxStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "IN_FLIGHT_STATUSES",
    "LockReconciler",
    "Reconciler",
    "Trader",
    "TraderConfig",
    "TraderError",
    "TxAttempt",
    "TxHandle",
    "TxOutcome",
    "TxPurpose",
    "TxReceiptInfo",
    "TxRecord",
    "TxStatus",
    "TxStore",
    "TxStoreError",
    "TxWaitTimeout",
    "open_store",
]
