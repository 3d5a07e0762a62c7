"""Predicate builders and their off-chain evaluation, as the market checks them on chain.

* DigestMatch: ``data = imageId ‖ sha256(journal)`` — the exact journal is known in advance.
* PrefixMatch: ``data = imageId ‖ prefix`` — the journal must start with ``prefix``.
* ClaimDigestMatch: ``data = claimDigest`` — the RISC Zero claim digest of the run.

The claim a fulfilment proves is ``ReceiptClaim.ok(imageId, journal).digest()``; the seal is
verified against it.
"""

from __future__ import annotations

import hashlib

from proofmarket.market.errors import InvalidRequestError
from proofmarket.market.types import Predicate, PredicateType
from proofmarket.zkvm.claim import SYSTEM_STATE_ZERO, ExitCode, Output, ReceiptClaim

MAX_PREDICATE_DATA = 256


def _check32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise InvalidRequestError(f"{what} must be 32 bytes, got {len(value)}")
    return bytes(value)


def claim_digest(image_id: bytes, journal: bytes) -> bytes:
    """Digest of the claim "``image_id`` ran to completion and committed ``journal``"."""
    return ReceiptClaim.ok(_check32(image_id, "image ID"), journal).digest()


def claim_digest_from_journal_digest(image_id: bytes, journal_digest: bytes) -> bytes:
    """Claim digest of a successful run of ``image_id`` whose journal hashes to
    ``journal_digest`` (what DigestMatch proves without the journal itself)."""
    claim = ReceiptClaim(
        pre=_check32(image_id, "image ID"),
        post=SYSTEM_STATE_ZERO.digest(),
        exit_code=ExitCode.halted(0),
        output=Output(_check32(journal_digest, "journal digest")).digest(),
    )
    return claim.digest()


def digest_match(image_id: bytes, journal: bytes) -> Predicate:
    """Require exactly ``journal`` from ``image_id``."""
    data = _check32(image_id, "image ID") + hashlib.sha256(journal).digest()
    return Predicate(type=PredicateType.DIGEST_MATCH, data=data)


def digest_match_from_journal_digest(image_id: bytes, journal_digest: bytes) -> Predicate:
    """DigestMatch when only ``sha256(journal)`` is known."""
    data = _check32(image_id, "image ID") + _check32(journal_digest, "journal digest")
    return Predicate(type=PredicateType.DIGEST_MATCH, data=data)


def prefix_match(image_id: bytes, prefix: bytes) -> Predicate:
    """Require a journal from ``image_id`` that starts with ``prefix`` (empty = any journal)."""
    data = _check32(image_id, "image ID") + prefix
    if len(data) > MAX_PREDICATE_DATA:
        raise InvalidRequestError(
            f"prefix of {len(prefix)} bytes makes predicate data exceed {MAX_PREDICATE_DATA} bytes"
        )
    return Predicate(type=PredicateType.PREFIX_MATCH, data=data)


def claim_digest_match(digest: bytes) -> Predicate:
    """Require a proof of exactly this claim digest (no journal is delivered on chain)."""
    return Predicate(type=PredicateType.CLAIM_DIGEST_MATCH, data=_check32(digest, "claim digest"))


def predicate_problems(predicate: Predicate) -> list[str]:
    """Why the contract would reject this predicate's encoding (empty when well formed)."""
    size = len(predicate.data)
    kind = predicate.predicate_type
    if size > MAX_PREDICATE_DATA:
        return [f"predicate data is {size} bytes, the limit is {MAX_PREDICATE_DATA}"]
    if kind == PredicateType.DIGEST_MATCH and size != 64:
        return [f"DigestMatch data must be imageId ‖ journalDigest (64 bytes), got {size}"]
    if kind == PredicateType.PREFIX_MATCH and size < 32:
        return [f"PrefixMatch data must be imageId ‖ prefix (>= 32 bytes), got {size}"]
    if kind == PredicateType.CLAIM_DIGEST_MATCH and size != 32:
        return [f"ClaimDigestMatch data must be a 32-byte claim digest, got {size}"]
    return []


def predicate_image_id(predicate: Predicate) -> bytes | None:
    """The image ID the predicate names, or None for ClaimDigestMatch."""
    if predicate.predicate_type == PredicateType.CLAIM_DIGEST_MATCH:
        return None
    return predicate.data[:32]


def evaluate(predicate: Predicate, image_id: bytes, journal: bytes) -> bool:
    """Whether a run of ``image_id`` that committed ``journal`` satisfies the predicate."""
    if predicate_problems(predicate):
        return False
    kind = predicate.predicate_type
    if kind == PredicateType.DIGEST_MATCH:
        return predicate.data == image_id + hashlib.sha256(journal).digest()
    if kind == PredicateType.PREFIX_MATCH:
        return predicate.data[:32] == image_id and journal.startswith(predicate.data[32:])
    return predicate.data == claim_digest(image_id, journal)


def expected_claim_digest(predicate: Predicate, image_id: bytes, journal: bytes) -> bytes:
    """The claim digest the market verifies a seal against for this predicate."""
    if predicate.predicate_type == PredicateType.DIGEST_MATCH:
        return claim_digest_from_journal_digest(predicate.data[:32], predicate.data[32:64])
    if predicate.predicate_type == PredicateType.CLAIM_DIGEST_MATCH:
        return predicate.data
    return claim_digest(image_id, journal)
