"""Keccak-256 vectors and Merkle multi-openings: honest openings verify, tampered ones fail."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from Crypto.Hash import keccak as ckeccak
from hypothesis import given, settings
from hypothesis import strategies as st

from proofmarket.stark.field import P
from proofmarket.stark.keccak import keccak256, keccak256_rows
from proofmarket.stark.merkle import (
    MerkleBatchProof,
    MerkleError,
    MerkleTree,
    hash_leaf,
    hash_node,
    verify_batch,
)


def test_keccak_known_vectors() -> None:
    assert (
        keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert (
        keccak256(b"abc").hex()
        == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # Ethereum keccak is not NIST SHA3
    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


@pytest.mark.parametrize("length", [0, 1, 8, 31, 65, 135, 136, 137, 257, 272, 273, 600])
def test_batched_keccak_matches_pycryptodome(length: int) -> None:
    rng = np.random.default_rng(length)
    msgs = rng.integers(0, 256, size=(7, length), dtype=np.uint8)
    digests = keccak256_rows(msgs)
    for row, digest in zip(msgs, digests, strict=True):
        ref = ckeccak.new(digest_bits=256, data=bytes(row)).digest()
        assert bytes(digest) == ref


def _matrix(rng: np.random.Generator, n: int, w: int) -> np.ndarray:
    return rng.integers(0, P, size=(n, w), dtype=np.uint64)


def test_root_matches_definition() -> None:
    rng = np.random.default_rng(1)
    rows = _matrix(rng, 4, 3)
    tree = MerkleTree.commit(rows)
    leaves = [keccak256(b"\x00" + r.astype("<u4").tobytes()) for r in rows]
    assert leaves[2] == hash_leaf(rows[2])
    root = hash_node(hash_node(leaves[0], leaves[1]), hash_node(leaves[2], leaves[3]))
    assert tree.root == root
    assert tree.num_leaves == 4 and tree.depth == 2
    one = MerkleTree.commit(rows[:1])
    assert one.root == leaves[0]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=6),
    st.lists(st.integers(min_value=0, max_value=63), min_size=1, max_size=12),
)
def test_batch_openings_verify(log_n: int, raw: list[int]) -> None:
    rng = np.random.default_rng(log_n)
    n = 1 << log_n
    rows = _matrix(rng, n, 5)
    tree = MerkleTree.commit(rows)
    idx = [i % n for i in raw]
    proof = tree.open_batch(idx)
    assert verify_batch(tree.root, idx, tree.open_rows(idx), proof, n)
    # deduplication: never more siblings than separate single paths would need
    assert len(proof.siblings) <= len(set(idx)) * log_n
    assert MerkleBatchProof.from_bytes(proof.to_bytes()) == proof


def test_full_opening_needs_no_siblings() -> None:
    rng = np.random.default_rng(2)
    rows = _matrix(rng, 8, 2)
    tree = MerkleTree.commit(rows)
    proof = tree.open_batch(range(8))
    assert proof.siblings == ()
    assert verify_batch(tree.root, list(range(8)), rows, proof, 8)


def test_tampering_is_detected() -> None:
    rng = np.random.default_rng(3)
    rows = _matrix(rng, 32, 4)
    tree = MerkleTree.commit(rows)
    idx = [3, 17, 18, 30]
    proof = tree.open_batch(idx)
    opened = tree.open_rows(idx)
    assert verify_batch(tree.root, idx, opened, proof, 32)

    bad_rows = opened.copy()
    bad_rows[1, 2] = (int(bad_rows[1, 2]) + 1) % P
    assert not verify_batch(tree.root, idx, bad_rows, proof, 32)

    sib = list(proof.siblings)
    sib[0] = bytes(32)
    assert not verify_batch(tree.root, idx, opened, MerkleBatchProof(tuple(sib)), 32)
    assert not verify_batch(tree.root, idx, opened, MerkleBatchProof(proof.siblings[:-1]), 32)
    assert not verify_batch(
        tree.root, idx, opened, MerkleBatchProof((*proof.siblings, bytes(32))), 32
    )
    assert not verify_batch(tree.root, [3, 17, 18, 31], opened, proof, 32)  # wrong index
    assert not verify_batch(tree.root, idx, opened, proof, 64)  # wrong tree size
    assert not verify_batch(bytes(32), idx, opened, proof, 32)  # wrong root
    assert not verify_batch(tree.root, [3, 40, 18, 30], opened, proof, 32)  # out of range
    dup = tree.open_rows([3, 3])
    dup[1, 0] = (int(dup[1, 0]) + 1) % P
    assert not verify_batch(tree.root, [3, 3], dup, tree.open_batch([3]), 32)
    non_canonical = opened.copy()
    non_canonical[0, 0] = P
    assert not verify_batch(tree.root, idx, non_canonical, proof, 32)


def test_leaf_and_node_domains_are_separated() -> None:
    # A node preimage presented as a two-row leaf must not verify as a one-leaf tree.
    rng = np.random.default_rng(4)
    rows = _matrix(rng, 2, 8)
    tree = MerkleTree.commit(rows)
    as_words = np.frombuffer(
        bytes(tree.levels[0][0]) + bytes(tree.levels[0][1]), dtype="<u4"
    ).astype(np.uint64)
    assert hash_leaf(as_words) != tree.root


def test_bad_inputs() -> None:
    with pytest.raises(MerkleError, match="power of two"):
        MerkleTree.commit(np.zeros((3, 2), dtype=np.uint64))
    with pytest.raises(MerkleError, match="canonical"):
        MerkleTree.commit(np.full((2, 2), P, dtype=np.uint64))
    tree = MerkleTree.commit(np.zeros((4, 1), dtype=np.uint64))
    with pytest.raises(MerkleError, match="out of range"):
        tree.open_batch([4])
    with pytest.raises(MerkleError, match="declares"):
        MerkleBatchProof.from_bytes(b"\x02\x00\x00\x00" + bytes(32))


def test_extension_rows_flatten() -> None:
    rng = np.random.default_rng(5)
    rows = rng.integers(0, P, size=(8, 2, 4), dtype=np.uint64)
    tree = MerkleTree.commit(rows)
    assert tree.root == MerkleTree.commit(rows.reshape(8, 8)).root
    proof = tree.open_batch([1, 6])
    assert verify_batch(tree.root, [1, 6], rows[[1, 6]], proof, 8)
