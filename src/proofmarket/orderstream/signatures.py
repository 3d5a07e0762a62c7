"""Who signed a request: ECDSA for ordinary clients, ERC-1271 for smart-contract clients
(request ID bit 192), checked exactly as the market contract checks them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3.exceptions import ContractLogicError, Web3RPCError

from proofmarket.market.eip712 import MarketDomain, recover_request_signer, request_digest
from proofmarket.market.types import ProofRequest
from proofmarket.orderstream.errors import ChainUnavailable, InvalidSignature

if TYPE_CHECKING:
    from proofmarket.market.client import MarketClient

IS_VALID_SIGNATURE = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
ERC1271_MAX_GAS = 100_000
"""The gas the market gives a wallet's ``isValidSignature`` (``ERC1271_MAX_GAS``)."""


def check_request_signature(
    request: ProofRequest, signature: bytes, domain: MarketDomain, market: MarketClient
) -> bytes:
    """The request digest, once ``signature`` is shown to be the client's; else
    :class:`InvalidSignature` (or :class:`ChainUnavailable` when a wallet cannot be asked)."""
    digest = request_digest(request, domain)
    if request.request_id.smart_contract_signed:
        _check_erc1271(request, digest, signature, market)
        return digest
    try:
        signer = recover_request_signer(request, domain, signature)
    except Exception as exc:  # r/s/v out of range
        raise InvalidSignature(f"signature cannot be recovered: {exc}") from None
    if signer != request.client:
        raise InvalidSignature(
            f"request {hex(request.id)} belongs to {request.client} but the signature is "
            f"by {signer} (signed for another market or chain?)"
        )
    return digest


def _check_erc1271(
    request: ProofRequest, digest: bytes, signature: bytes, market: MarketClient
) -> None:
    wallet = request.client
    data = IS_VALID_SIGNATURE + encode(["bytes32", "bytes"], [digest, signature])
    call = {"to": to_checksum_address(wallet), "data": data, "gas": ERC1271_MAX_GAS}
    try:
        answer = bytes(market.w3.eth.call(call))  # type: ignore[arg-type]
    except (ContractLogicError, Web3RPCError, ValueError):
        answer = b""  # the wallet reverted, or has no code
    except requests.exceptions.RequestException as exc:
        raise ChainUnavailable(f"cannot ask the wallet {wallet}: {exc}") from None
    if len(answer) != 32 or answer[:4] != IS_VALID_SIGNATURE:
        raise InvalidSignature(
            f"request {hex(request.id)} is smart-contract signed (ERC-1271) and the wallet "
            f"{wallet} does not accept this signature"
        )
