"""Poseidon2 as the Merkle/transcript hash: definitions, and proofs that verify and reject."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from stark_cases import example_cases, parametrize_examples

from proofmarket.stark import field as F
from proofmarket.stark.air import TraceCheckError
from proofmarket.stark.examples import RangeCheckAir, range_check_trace
from proofmarket.stark.merkle import MerkleError, MerkleTree, verify_batch
from proofmarket.stark.params import TEST, ParamsError, StarkParams
from proofmarket.stark.poseidon2 import permute
from proofmarket.stark.poseidon2_hash import (
    Poseidon2HashError,
    bytes_to_elements,
    hash_bytes,
    hash_leaf,
    hash_node,
)
from proofmarket.stark.proof import ProofFormatError, StarkProof
from proofmarket.stark.prover import prove
from proofmarket.stark.transcript import Transcript, TranscriptError
from proofmarket.stark.verifier import VerificationError, verify

P2 = TEST.with_(hash="poseidon2")


def _elems(digest: bytes) -> list[int]:
    return np.frombuffer(digest, dtype="<u4").tolist()


def _sponge_ref(domain: int, length: int, elems: list[int]) -> list[int]:
    s = [0] * 24
    s[16], s[17] = domain, length
    blocks = [elems[i : i + 16] for i in range(0, len(elems), 16)] or [[]]
    for b in blocks:
        s[:16] = b + [0] * (16 - len(b))
        s = permute(s)
    return s[:8]


def test_leaf_node_and_bytes_follow_the_documented_sponge():
    row = list(range(1, 21))  # 20 elements: two blocks, the second zero-padded
    assert _elems(hash_leaf(row)) == _sponge_ref(1, 20, row)
    assert _elems(hash_leaf([])) == _sponge_ref(1, 0, [])
    left, right = hash_leaf([1]), hash_leaf([2])
    expected = permute(_elems(left) + _elems(right) + [2] + [0] * 7)[:8]
    assert _elems(hash_node(left, right)) == expected
    data = b"proofmarket!" + bytes(range(7))
    packed = [int.from_bytes(data[i : i + 3].ljust(3, b"\0"), "little") for i in range(0, 19, 3)]
    assert bytes_to_elements(data).tolist() == packed
    assert _elems(hash_bytes(data)) == _sponge_ref(3, len(data), packed)
    # the length in the capacity separates zero padding from real zeros
    assert hash_bytes(b"a") != hash_bytes(b"a\x00") and hash_leaf([5]) != hash_leaf([5, 0])
    assert hash_leaf([1, 2]) != hash_bytes(np.array([1, 2], "<u4").tobytes())


def test_poseidon2_merkle_tree_opens_and_rejects():
    rng = np.random.default_rng(3)
    rows = rng.integers(0, F.P, size=(64, 7), dtype=np.uint64)
    tree = MerkleTree.commit(rows, "poseidon2")
    assert tree.root != MerkleTree.commit(rows).root
    assert tree.levels[0].shape == (64, 4)
    assert _elems(tree.digest(0, 5)) == _elems(hash_leaf(rows[5]))
    assert tree.root == hash_node(tree.digest(tree.depth - 1, 0), tree.digest(tree.depth - 1, 1))
    idx = [3, 4, 40, 63, 3]
    proof = tree.open_batch(idx)
    assert verify_batch(tree.root, idx, tree.open_rows(idx), proof, 64, "poseidon2")
    assert not verify_batch(tree.root, idx, tree.open_rows(idx), proof, 64)  # wrong hash
    bad = tree.open_rows(idx).copy()
    bad[2, 1] = (bad[2, 1] + 1) % F.P
    assert not verify_batch(tree.root, idx, bad, proof, 64, "poseidon2")
    forged = dataclasses.replace(proof, siblings=(b"\xff" * 32, *proof.siblings[1:]))
    assert not verify_batch(tree.root, idx, tree.open_rows(idx), forged, 64, "poseidon2")
    with pytest.raises(MerkleError, match="unknown Merkle hash"):
        MerkleTree.commit(rows, "sha3")


def test_poseidon2_transcript_is_deterministic_and_distinct():
    def run(h: str) -> tuple[int, list[int], bytes]:
        t = Transcript(b"label", h)
        t.observe_digest(b"\x07" * 32)
        t.observe_field(np.arange(10, dtype=np.uint64))
        c = t.sample_base()
        idx = t.sample_indices(5, 10)
        t.grind(4)
        return c, idx, t.state_digest()

    a, b = run("poseidon2"), run("poseidon2")
    assert a == b and a != run("keccak")
    assert all(0 <= i < 1024 for i in a[1])
    assert Transcript(b"x", "poseidon2").fork(b"y").hash == "poseidon2"
    with pytest.raises(TranscriptError, match="unknown transcript hash"):
        Transcript(b"x", "md5")


def test_params_bind_the_hash():
    a, b = TEST.to_bytes(), P2.to_bytes()
    assert a != b and len(a) == len(b)  # the hash id is one word of the parameter block
    assert "poseidon2" in P2.describe()
    with pytest.raises(ParamsError, match="hash"):
        StarkParams(hash="blake3")


@parametrize_examples(example_cases([1, 2, 40000], [40000]))
def test_poseidon2_proofs_verify_and_bad_cells_fail(name, air, trace, pub):
    proof = prove(air, trace, pub, P2)
    assert proof.params.hash == "poseidon2"
    verify(air, proof.to_bytes(), pub, P2)
    with pytest.raises(VerificationError, match="parameters"):
        verify(air, proof.to_bytes(), pub, TEST)  # a keccak verifier refuses it
    bad = trace.copy()
    bad[trace.shape[0] // 2 + 1, 0] = (bad[trace.shape[0] // 2 + 1, 0] + 1) % F.P
    with pytest.raises(TraceCheckError):
        prove(air, bad, pub, P2)
    forged = prove(air, bad, pub, P2, check=False).to_bytes()
    with pytest.raises(VerificationError):
        verify(air, forged, pub, P2)


def test_poseidon2_proof_tampering_is_rejected():
    air = RangeCheckAir(1)
    t, pub = range_check_trace([10, 20, 65000], [20], 8)
    data = prove(air, t, pub, P2).to_bytes()
    assert StarkProof.from_bytes(data).to_bytes() == data
    rng = np.random.default_rng(77)
    accepted = []
    for pos in rng.choice(len(data), size=120, replace=False):
        corrupted = bytearray(data)
        corrupted[pos] ^= int(rng.integers(1, 256))
        try:
            verify(air, bytes(corrupted), pub, P2)
        except (ProofFormatError, VerificationError):
            continue
        accepted.append(int(pos))
    assert accepted == []
    other = prove(air, range_check_trace([10, 21, 65000], [21], 8)[0], pub, P2, check=False)
    proof = StarkProof.from_bytes(data)
    for field_name in ("main_root", "aux_root", "quotient_root"):
        table = dataclasses.replace(
            proof.tables[0], **{field_name: getattr(other.tables[0], field_name)}
        )
        mixed = dataclasses.replace(proof, tables=(table,))
        with pytest.raises(VerificationError):
            verify(air, mixed.to_bytes(), pub, P2)


def test_bad_poseidon2_inputs_are_rejected():
    with pytest.raises(Poseidon2HashError, match="32 bytes"):
        hash_node(b"\x00" * 31, b"\x00" * 32)
    with pytest.raises(Poseidon2HashError, match="non-canonical"):
        hash_node(b"\xff" * 32, b"\x00" * 32)
    with pytest.raises(Poseidon2HashError, match="canonical"):
        hash_leaf([F.P])
