"""The broker: a prover's market agent that prices, locks, proves and fulfils requests.

Public API (loaded lazily so ``import proofmarket.broker`` stays cheap):

* :class:`Broker`, :class:`BrokerSettings` — connect and run the pipeline.
* :class:`BrokerConfig`, :func:`load_config`, :func:`parse_config`, :class:`ConfigWatcher`,
  :class:`BrokerConfigError` — ``broker.toml``.
* :class:`OrderDB`, :class:`Order`, :class:`OrderStatus`, :class:`BatchStatus`,
  :class:`FulfillmentType` — the order database and its read functions.
* :class:`TxIntent`, :class:`TxOutcome`, :class:`TransactionQueue` — what the pipeline
  asks of a transaction sender.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Broker": "proofmarket.broker.broker",
    "BrokerSettings": "proofmarket.broker.broker",
    "BrokerConfig": "proofmarket.broker.config",
    "BrokerConfigError": "proofmarket.broker.config",
    "ConfigWatcher": "proofmarket.broker.config",
    "load_config": "proofmarket.broker.config",
    "parse_config": "proofmarket.broker.config",
    "OrderDB": "proofmarket.broker.db",
    "Order": "proofmarket.broker.order",
    "OrderStatus": "proofmarket.broker.order",
    "BatchStatus": "proofmarket.broker.order",
    "FulfillmentType": "proofmarket.broker.order",
    "TxIntent": "proofmarket.broker.txn",
    "TxOutcome": "proofmarket.broker.txn",
    "TransactionQueue": "proofmarket.broker.txn",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'proofmarket.broker' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
