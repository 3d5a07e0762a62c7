"""Fulfilment commitments (commit-reveal), computed exactly as the market does.

A prover commits ``keccak256(abi.encode(fillDigest, prover))`` with
``fillDigest = keccak256(abi.encode(requestDigest, claimDigest, keccak256(seal)))`` at least one
block before it reveals the fill. The commitment names the prover and hides the seal, so a
copier who sees it learns nothing it could fulfil with, and a copier who replays the reveal
from its own address has no commitment of its own: the market refuses the copy.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

FILL_ENCODING_MAX = 6720
"""ABI size bound of one Fulfillment (the contract's ``FILL_ENCODING_MAX``)."""
BATCH_CALLDATA_PADDING = bytes(FILL_ENCODING_MAX)
"""Zero bytes appended to ``fulfillBatch`` calldata: the market decodes each fill from a
fixed-size window at its offset, which must lie inside the calldata."""


def fill_digest(request_digest: bytes, claim_digest: bytes, seal: bytes) -> bytes:
    """What binds a commitment to one fill: the request, the claim it proves, the seal."""
    return keccak(
        encode(["bytes32", "bytes32", "bytes32"], [request_digest, claim_digest, keccak(seal)])
    )


def fill_commitment(digest: bytes, prover: str) -> bytes:
    """The value ``prover`` passes to ``commitFulfillment`` for a fill with ``digest``."""
    return keccak(encode(["bytes32", "address"], [digest, to_checksum_address(prover)]))
