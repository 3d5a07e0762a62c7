"""Seal formats the verifier contracts accept, built in Python.

* Mock (dev mode) seal: ``selector || claimDigest`` -- proves nothing; only dev deployments
  register the mock verifier.
* Set-inclusion seal: ``SET_SELECTOR || abi.encode((bytes32[] path, bytes rootSeal))`` where
  ``path`` proves ``keccak256("LEAF_TAG" || claimDigest)`` is a leaf of a Merkle tree with
  sorted-pair keccak nodes. The tree shape follows risc0-aggregation (split at the largest
  power of two below the length), but any valid path verifies.
"""

from __future__ import annotations

import hashlib

from eth_abi import encode as abi_encode
from eth_utils import keccak

from proofmarket.zkvm.claim import ReceiptClaim

MOCK_VERIFIER_SELECTOR = bytes.fromhex("ffffffff")
OPTIMISTIC_SELECTOR_PREFIX = 0x0F  # selectors 0x0F000000-0x0FFFFFFF reserved
SET_BUILDER_IMAGE_ID_DEV = hashlib.sha256(b"proofmarket.set-builder.v1").digest()
LEAF_TAG = b"LEAF_TAG"
FINALIZED_FLAG = (1 << 255).to_bytes(32, "big")
MAX_SET_PATH = 32


class SealError(ValueError):
    """A seal cannot be built from the given parts."""


def _digest32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise SealError(f"{what} must be 32 bytes, got {len(value)}")
    return bytes(value)


def mock_seal(claim_digest: bytes, selector: bytes = MOCK_VERIFIER_SELECTOR) -> bytes:
    """DEV MODE seal accepted by the mock verifier for ``claim_digest``."""
    if len(selector) != 4:
        raise SealError("selector must be 4 bytes")
    return bytes(selector) + _digest32(claim_digest, "claim digest")


def set_verifier_selector(set_builder_image_id: bytes) -> bytes:
    """The set verifier's selector for a set-builder image id (as its constructor computes)."""
    tag = hashlib.sha256(b"risc0.SetInclusionReceiptVerifierParameters").digest()
    image = _digest32(set_builder_image_id, "image id")
    return hashlib.sha256(tag + image + b"\x01\x00").digest()[:4]


def set_leaf(claim_digest: bytes) -> bytes:
    return keccak(LEAF_TAG + _digest32(claim_digest, "claim digest"))


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def _root_of_leaves(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return _hash_pair(_root_of_leaves(leaves[:split]), _root_of_leaves(leaves[split:]))


def merkle_root(claim_digests: list[bytes]) -> bytes:
    """Root of the tree whose leaves are ``set_leaf(d)`` for each claim digest."""
    if not claim_digests:
        raise SealError("a set needs at least one claim")
    return _root_of_leaves([set_leaf(d) for d in claim_digests])


def merkle_path(claim_digests: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes from the leaf ``index`` up to the root."""
    if not 0 <= index < len(claim_digests):
        raise SealError(f"index {index} outside a set of {len(claim_digests)}")
    leaves = [set_leaf(d) for d in claim_digests]
    path: list[bytes] = []

    def walk(nodes: list[bytes], i: int) -> None:
        if len(nodes) == 1:
            return
        split = 1 << ((len(nodes) - 1).bit_length() - 1)
        if i < split:
            walk(nodes[:split], i)
            path.append(_root_of_leaves(nodes[split:]))
        else:
            walk(nodes[split:], i - split)
            path.append(_root_of_leaves(nodes[:split]))

    walk(leaves, index)
    if len(path) > MAX_SET_PATH:
        raise SealError(f"path of {len(path)} nodes exceeds the verifier's {MAX_SET_PATH}")
    return path


def set_inclusion_seal(selector: bytes, path: list[bytes], root_seal: bytes = b"") -> bytes:
    """``selector || abi.encode((bytes32[] path, bytes rootSeal))``."""
    if len(selector) != 4:
        raise SealError("selector must be 4 bytes")
    nodes = [_digest32(p, "path node") for p in path]
    return bytes(selector) + abi_encode(["(bytes32[],bytes)"], [(nodes, bytes(root_seal))])


def set_builder_journal(set_builder_image_id: bytes, root: bytes) -> bytes:
    """Journal of a finalized set-builder run: ``imageId || uint256(1 << 255) || root``."""
    return _digest32(set_builder_image_id, "image id") + FINALIZED_FLAG + _digest32(root, "root")


def set_root_claim_digest(set_builder_image_id: bytes, root: bytes) -> bytes:
    """Claim digest a root seal must prove for ``root``."""
    journal = set_builder_journal(set_builder_image_id, root)
    return ReceiptClaim.ok(set_builder_image_id, journal).digest()


def dev_root_seal(set_builder_image_id: bytes, root: bytes) -> bytes:
    """DEV MODE root seal (mock verifier) vouching for ``root``."""
    return mock_seal(set_root_claim_digest(set_builder_image_id, root))
