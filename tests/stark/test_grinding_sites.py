"""Grinding sites (LogUp challenges, OOD point, DEEP batching, FRI folds): proved, checked."""

from __future__ import annotations

import dataclasses

import pytest

from proofmarket.stark.examples import (
    FibonacciAir,
    RangeCheckAir,
    fibonacci_trace,
    range_check_trace,
)
from proofmarket.stark.params import TEST
from proofmarket.stark.proof import StarkProof
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import VerificationError, verify

GROUND = TEST.with_(lookup_pow_bits=8, batch_pow_bits=6, ood_pow_bits=5, fold_pow_bits=4)


@pytest.fixture(scope="module")
def lookup_proof():
    air = RangeCheckAir(1)
    t, pub = range_check_trace([10, 20, 65000], [20], 8)
    return air, pub, prove(air, t, pub, GROUND)


def test_ground_proof_verifies_and_nonces_round_trip(lookup_proof):
    air, pub, proof = lookup_proof
    data = proof.to_bytes()
    verify(air, data, pub, GROUND)
    back = StarkProof.from_bytes(data)
    nonces = ("lookup_pow_nonce", "ood_pow_nonce", "batch_pow_nonce")
    assert [getattr(back, n) for n in nonces] == [getattr(proof, n) for n in nonces]
    assert back.fri.fold_nonces == proof.fri.fold_nonces
    assert len(proof.fri.fold_nonces) == len(proof.fri.commitments) > 1
    assert GROUND.to_bytes() != TEST.to_bytes()
    with pytest.raises(VerificationError, match="parameters"):
        verify(air, data, pub, TEST)  # the grinding bits are part of the statement


@pytest.mark.parametrize("field_name", ["lookup_pow_nonce", "ood_pow_nonce", "batch_pow_nonce"])
def test_a_changed_nonce_is_rejected(lookup_proof, field_name):
    air, pub, proof = lookup_proof
    for delta in (1, 1 << 40):
        bad = dataclasses.replace(proof, **{field_name: getattr(proof, field_name) ^ delta})
        with pytest.raises(VerificationError):
            verify(air, bad.to_bytes(), pub, GROUND)


@pytest.mark.parametrize("layer", [0, -1])
def test_a_changed_fold_nonce_is_rejected(lookup_proof, layer):
    air, pub, proof = lookup_proof
    nonces = list(proof.fri.fold_nonces)
    nonces[layer] ^= 1
    fri = dataclasses.replace(proof.fri, fold_nonces=tuple(nonces))
    with pytest.raises(VerificationError):
        verify(air, dataclasses.replace(proof, fri=fri).to_bytes(), pub, GROUND)
    short = dataclasses.replace(proof.fri, fold_nonces=tuple(nonces[:-1]))
    with pytest.raises(VerificationError, match="folding nonces"):
        verify(air, dataclasses.replace(proof, fri=short).to_bytes(), pub, GROUND)


def test_no_lookups_means_no_lookup_grind():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    proof = prove(air, t, pub, GROUND)
    assert proof.lookup_pow_nonce == 0
    verify(air, proof.to_bytes(), pub, GROUND)
    bad = dataclasses.replace(proof, lookup_pow_nonce=5)
    with pytest.raises(VerificationError, match="LogUp grinding"):
        verify(air, bad.to_bytes(), pub, GROUND)
    plain = prove(air, t, pub, TEST)
    assert plain.batch_pow_nonce == 0
    with pytest.raises(VerificationError, match="batching grinding"):
        verify(air, dataclasses.replace(plain, batch_pow_nonce=1).to_bytes(), pub, TEST)
