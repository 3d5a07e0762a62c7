"""proofmarket.orderstream: the off-chain order book (FastAPI + WebSocket) and its client.

Requestors post signed requests without gas; the service checks the EIP-712 signature
against the market's domain and the requestor's on-chain balance, stores the order
(SQLite or PostgreSQL) and streams it to subscribed brokers, who lock it on chain with the
requestor's signature. Names load lazily so that importing the client does not pull in
FastAPI or uvicorn.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Order": "proofmarket.orderstream.models",
    "OrderPage": "proofmarket.orderstream.client",
    "OrderStreamClient": "proofmarket.orderstream.client",
    "OrderStreamError": "proofmarket.orderstream.errors",
    "ServiceConfig": "proofmarket.orderstream.server",
    "StreamContext": "proofmarket.orderstream.app",
    "StreamServer": "proofmarket.orderstream.server",
    "StreamSettings": "proofmarket.orderstream.settings",
    "Subscription": "proofmarket.orderstream.client",
    "create_app": "proofmarket.orderstream.app",
    "open_store": "proofmarket.orderstream.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'proofmarket.orderstream' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
