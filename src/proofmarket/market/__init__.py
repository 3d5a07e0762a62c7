"""proofmarket.market: off-chain types, price curve, EIP-712, predicates, storage and the
Python client of the market contract.

Names are imported lazily (PEP 562) so that ``import proofmarket.market.errors`` or a CLI
start-up does not pay for web3 unless the client is actually used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Callback": "proofmarket.market.types",
    "ConfigError": "proofmarket.market.errors",
    "ContractRevert": "proofmarket.market.errors",
    "Fulfillment": "proofmarket.market.types",
    "FulfillmentDataType": "proofmarket.market.types",
    "InputType": "proofmarket.market.types",
    "InvalidOfferError": "proofmarket.market.errors",
    "InvalidRequestError": "proofmarket.market.errors",
    "MarketClient": "proofmarket.market.client",
    "MarketDomain": "proofmarket.market.eip712",
    "MarketError": "proofmarket.market.errors",
    "Offer": "proofmarket.market.types",
    "OfferParams": "proofmarket.market.builder",
    "Predicate": "proofmarket.market.types",
    "PredicateType": "proofmarket.market.types",
    "ProofRequest": "proofmarket.market.types",
    "RequestBuilder": "proofmarket.market.builder",
    "RequestId": "proofmarket.market.request_id",
    "RequestInput": "proofmarket.market.types",
    "RequestLock": "proofmarket.market.client",
    "RequestStatus": "proofmarket.market.client",
    "Requirements": "proofmarket.market.types",
    "RpcUnavailableError": "proofmarket.market.errors",
    "StorageProvider": "proofmarket.market.storage",
    "TxResult": "proofmarket.market.client",
    "TxTimeout": "proofmarket.market.errors",
    "WaitTimeout": "proofmarket.market.errors",
    "claim_digest": "proofmarket.market.predicates",
    "claim_digest_match": "proofmarket.market.predicates",
    "connect_web3": "proofmarket.market.client",
    "deadline": "proofmarket.market.pricing",
    "digest_match": "proofmarket.market.predicates",
    "evaluate": "proofmarket.market.predicates",
    "fetch_url": "proofmarket.market.storage",
    "load_account": "proofmarket.market.client",
    "lock_deadline": "proofmarket.market.pricing",
    "lock_request_digest": "proofmarket.market.eip712",
    "prefix_match": "proofmarket.market.predicates",
    "price_at": "proofmarket.market.pricing",
    "request_digest": "proofmarket.market.eip712",
    "sign_lock_request": "proofmarket.market.eip712",
    "sign_request": "proofmarket.market.eip712",
    "slash_split": "proofmarket.market.pricing",
    "storage_from_env": "proofmarket.market.storage",
    "time_at_price": "proofmarket.market.pricing",
    "validate_offer": "proofmarket.market.pricing",
    "validate_request": "proofmarket.market.validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
