"""Grinding before the LogUp challenges and before DEEP batching: proved, checked, bound."""

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

GROUND = TEST.with_(lookup_pow_bits=8, batch_pow_bits=6)


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
    assert (back.lookup_pow_nonce, back.batch_pow_nonce) == (
        proof.lookup_pow_nonce,
        proof.batch_pow_nonce,
    )
    assert GROUND.to_bytes() != TEST.to_bytes()
    with pytest.raises(VerificationError, match="parameters"):
        verify(air, data, pub, TEST)  # the grinding bits are part of the statement


@pytest.mark.parametrize("field_name", ["lookup_pow_nonce", "batch_pow_nonce"])
def test_a_changed_nonce_is_rejected(lookup_proof, field_name):
    air, pub, proof = lookup_proof
    for delta in (1, 1 << 40):
        bad = dataclasses.replace(proof, **{field_name: getattr(proof, field_name) ^ delta})
        with pytest.raises(VerificationError):
            verify(air, bad.to_bytes(), pub, GROUND)


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
