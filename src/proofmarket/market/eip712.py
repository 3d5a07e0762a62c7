"""EIP-712 hashing and signing of proof requests, identical to the market contract's.

The domain is ``("ProofMarket", "1", chainId, market)``. ``request_digest`` is what the client
signs and what the contract's ``requestDigest(request)`` view returns; ``lock_request_digest``
is what a prover signs for ``lockRequestWithSignature``. Hashing goes through eth-account's
``encode_typed_data`` so the encoding follows the standard, not hand-rolled code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address

from proofmarket.market.types import Offer, ProofRequest

DOMAIN_NAME = "ProofMarket"
DOMAIN_VERSION = "1"

PERMIT_TYPES: dict[str, list[dict[str, str]]] = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
"""EIP-2612 ``Permit`` (collateral deposits without an ``approve`` transaction)."""

EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "ProofRequest": [
        {"name": "id", "type": "uint256"},
        {"name": "requirements", "type": "Requirements"},
        {"name": "imageUrl", "type": "string"},
        {"name": "input", "type": "Input"},
        {"name": "offer", "type": "Offer"},
    ],
    "Requirements": [
        {"name": "callback", "type": "Callback"},
        {"name": "predicate", "type": "Predicate"},
        {"name": "selector", "type": "bytes4"},
    ],
    "Callback": [
        {"name": "addr", "type": "address"},
        {"name": "gasLimit", "type": "uint96"},
    ],
    "Predicate": [
        {"name": "predicateType", "type": "uint8"},
        {"name": "data", "type": "bytes"},
    ],
    "Input": [
        {"name": "inputType", "type": "uint8"},
        {"name": "data", "type": "bytes"},
    ],
    "Offer": [
        {"name": "minPrice", "type": "uint256"},
        {"name": "maxPrice", "type": "uint256"},
        {"name": "rampUpStart", "type": "uint64"},
        {"name": "rampUpPeriod", "type": "uint32"},
        {"name": "lockTimeout", "type": "uint32"},
        {"name": "timeout", "type": "uint32"},
        {"name": "lockCollateral", "type": "uint256"},
    ],
}
LOCK_REQUEST_TYPES: dict[str, list[dict[str, str]]] = {
    "LockRequest": [
        {"name": "request", "type": "ProofRequest"},
        {"name": "minLockPrice", "type": "uint256"},
        {"name": "expiresAt", "type": "uint64"},
    ],
    **EIP712_TYPES,
}


@dataclass(frozen=True)
class MarketDomain:
    """The EIP-712 domain of one market deployment."""

    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def separator(self) -> bytes:
        """``eip712DomainSeparator()`` of the contract."""
        message = encode_typed_data(self.as_dict(), EIP712_TYPES, _message(_dummy()))
        return bytes(message.header)


def request_message(request: ProofRequest) -> dict[str, Any]:
    """The ProofRequest as an EIP-712 message (and as the ABI dict web3 accepts)."""
    return _message(request)


def _message(request: ProofRequest) -> dict[str, Any]:
    req = request.requirements
    return {
        "id": request.id,
        "requirements": {
            "callback": {"addr": req.callback.addr, "gasLimit": req.callback.gas_limit},
            "predicate": {
                "predicateType": int(req.predicate.predicate_type),
                "data": req.predicate.data,
            },
            "selector": req.selector,
        },
        "imageUrl": request.image_url,
        "input": {"inputType": int(request.input.input_type), "data": request.input.data},
        "offer": offer_message(request.offer),
    }


def offer_message(offer: Offer) -> dict[str, int]:
    """The Offer struct as an EIP-712 message / ABI dict."""
    return {
        "minPrice": offer.min_price,
        "maxPrice": offer.max_price,
        "rampUpStart": offer.ramp_up_start,
        "rampUpPeriod": offer.ramp_up_period,
        "lockTimeout": offer.lock_timeout,
        "timeout": offer.timeout,
        "lockCollateral": offer.lock_collateral,
    }


def _dummy() -> ProofRequest:
    return ProofRequest.model_validate(
        {
            "id": 0,
            "requirements": {"predicate": {"type": 2, "data": "0x" + "00" * 32}},
            "imageUrl": "",
            "input": {"type": 0, "data": "0x"},
            "offer": {
                "minPrice": 0,
                "maxPrice": 0,
                "rampUpStart": 0,
                "rampUpPeriod": 0,
                "lockTimeout": 0,
                "timeout": 0,
                "lockCollateral": 0,
            },
        }
    )


def signable_request(request: ProofRequest, domain: MarketDomain) -> SignableMessage:
    return encode_typed_data(domain.as_dict(), EIP712_TYPES, _message(request))


def signable_lock_request(
    request: ProofRequest, domain: MarketDomain, min_lock_price: int, expires_at: int
) -> SignableMessage:
    message = {
        "request": _message(request),
        "minLockPrice": min_lock_price,
        "expiresAt": expires_at,
    }
    return encode_typed_data(domain.as_dict(), LOCK_REQUEST_TYPES, message)


def request_struct_hash(request: ProofRequest) -> bytes:
    """``hashStruct(ProofRequest)`` (domain independent)."""
    return bytes(
        encode_typed_data(
            MarketDomain(1, "0x" + "00" * 20).as_dict(), EIP712_TYPES, _message(request)
        ).body
    )


def request_digest(request: ProofRequest, domain: MarketDomain) -> bytes:
    """``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(request))``."""
    return bytes(_hash_eip191_message(signable_request(request, domain)))


def lock_request_digest(
    request: ProofRequest, domain: MarketDomain, min_lock_price: int, expires_at: int
) -> bytes:
    """What a prover signs so that someone else can lock the request on its behalf: void
    after ``expires_at`` (unix seconds) and never at a price below ``min_lock_price`` wei."""
    signable = signable_lock_request(request, domain, min_lock_price, expires_at)
    return bytes(_hash_eip191_message(signable))


def _sign(message: SignableMessage, private_key: str | bytes) -> bytes:
    signed = Account.sign_message(message, private_key)
    return bytes(signed.signature)


def sign_request(request: ProofRequest, domain: MarketDomain, private_key: str | bytes) -> bytes:
    """65-byte ``r ‖ s ‖ v`` client signature over the request digest."""
    return _sign(signable_request(request, domain), private_key)


def sign_lock_request(
    request: ProofRequest,
    domain: MarketDomain,
    private_key: str | bytes,
    *,
    min_lock_price: int,
    expires_at: int,
) -> bytes:
    """65-byte prover signature for ``lockRequestWithSignature(..., minLockPrice, expiresAt)``."""
    return _sign(signable_lock_request(request, domain, min_lock_price, expires_at), private_key)


def recover_request_signer(request: ProofRequest, domain: MarketDomain, signature: bytes) -> str:
    """The address that produced ``signature`` over the request digest."""
    return str(Account.recover_message(signable_request(request, domain), signature=signature))


def type_hash(primary: str) -> bytes:
    """``keccak256`` of the encoded type string (for comparing with contract constants)."""
    return keccak(text=encode_type(primary))


def encode_type(primary: str) -> str:
    """The EIP-712 type string: the primary type then referenced types alphabetically."""
    types = LOCK_REQUEST_TYPES
    seen: set[str] = set()

    def collect(name: str) -> None:
        for field in types[name]:
            base = field["type"]
            if base in types and base not in seen:
                seen.add(base)
                collect(base)

    collect(primary)
    seen.discard(primary)

    def render(name: str) -> str:
        fields = ",".join(f"{f['type']} {f['name']}" for f in types[name])
        return f"{name}({fields})"

    return render(primary) + "".join(render(name) for name in sorted(seen))
