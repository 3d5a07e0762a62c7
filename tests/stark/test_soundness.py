"""Soundness: bad traces, wrong statements and replayed proofs must not verify."""

import dataclasses

import numpy as np
import pytest
from stark_cases import example_cases, parametrize_examples

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder, TraceCheckError
from proofmarket.stark.examples import (
    FibonacciAir,
    HashChainAir,
    RangeCheckAir,
    fibonacci_trace,
    hash_chain_trace,
    range_check_trace,
)
from proofmarket.stark.params import TEST
from proofmarket.stark.proof import ProofFormatError
from proofmarket.stark.prover import prove
from proofmarket.stark.verifier import VerificationError, verify


def _replace(proof, **changes):
    """The one-table proof with fields of its table replaced."""
    return dataclasses.replace(proof, tables=(dataclasses.replace(proof.tables[0], **changes),))


@parametrize_examples(example_cases([1, 2, 40000], [40000]))
@pytest.mark.parametrize("row_choice", ["first", "middle", "last"])
def test_one_bad_cell_cannot_produce_a_verifying_proof(name, air, trace, pub, row_choice):
    n = trace.shape[0]
    row = {"first": 0, "middle": n // 2 + 1, "last": n - 1}[row_choice]
    bad = trace.copy()
    bad[row, 0] = (bad[row, 0] + 1) % F.P
    with pytest.raises(TraceCheckError):
        prove(air, bad, pub, TEST)  # the honest prover refuses loudly
    forged = prove(air, bad, pub, TEST, check=False).to_bytes()
    with pytest.raises(VerificationError):
        verify(air, forged, pub, TEST)


def test_changed_public_input_fails():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    data = prove(air, t, pub, TEST).to_bytes()
    for i in range(3):
        other = list(pub)
        other[i] = (other[i] + 1) % F.P
        with pytest.raises(VerificationError):
            verify(air, data, other, TEST)
    with pytest.raises(VerificationError):
        verify(air, data, pub[:2], TEST)


def test_proof_for_a_false_statement_with_consistent_trace_fails():
    """Prover claims another result and builds the trace to match at the last row only."""
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    lie = (pub[2] + 1) % F.P
    t[-1, 1] = lie
    forged = prove(air, t, [pub[0], pub[1], lie], TEST, check=False).to_bytes()
    with pytest.raises(VerificationError):
        verify(air, forged, [pub[0], pub[1], lie], TEST)


class _Lucas(FibonacciAir):
    """Same shape as Fibonacci but y' = x + 2y: a different statement."""

    name = "lucas-variant"

    def define(self, b: AirBuilder) -> None:
        x, y = b.main(0), b.main(1)
        b.assert_first_row(x - b.public(0))
        b.assert_first_row(y - b.public(1))
        b.assert_transition(b.main_next(0) - y)
        b.assert_transition(b.main_next(1) - (x + y * 2))
        b.assert_last_row(y - b.public(2))


def test_replay_for_another_air_fails():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    proof = prove(air, t, pub, TEST)
    other = _Lucas()
    with pytest.raises(VerificationError, match="AIR id"):
        verify(other, proof.to_bytes(), pub, TEST)
    # even with the id field rewritten, the transcript binds the original AIR
    relabelled = _replace(proof, air_id=other.air_id)
    with pytest.raises(VerificationError):
        verify(other, relabelled.to_bytes(), pub, TEST)
    # and a hash-chain proof is not a Fibonacci proof
    hc = HashChainAir(2)
    ht, hpub = hash_chain_trace([1, 2], 6)
    with pytest.raises(VerificationError):
        verify(air, prove(hc, ht, hpub, TEST).to_bytes(), hpub[:3], TEST)


def test_other_params_or_size_fail():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    proof = prove(air, t, pub, TEST)
    stricter = TEST.with_(num_queries=TEST.num_queries + 1)
    with pytest.raises(VerificationError, match="parameters"):
        verify(air, proof.to_bytes(), pub, stricter)
    resized = _replace(proof, log_n=proof.log_n + 1)
    with pytest.raises(VerificationError):
        verify(air, resized.to_bytes(), pub, TEST)


def test_swapped_commitments_fail():
    air = RangeCheckAir(1)
    t, pub = range_check_trace([5, 6, 7], [6], 8)
    proof = prove(air, t, pub, TEST)
    t2, _ = range_check_trace([5, 6, 8], [6], 8)
    proof2 = prove(air, t2, pub, TEST)
    for field_name in ("main_root", "aux_root", "quotient_root", "openings", "main_opening"):
        mixed = _replace(proof, **{field_name: getattr(proof2.tables[0], field_name)})
        # an opening of another proof may hold another number of rows: undecodable bytes
        with pytest.raises((VerificationError, ProofFormatError)):
            verify(air, mixed.to_bytes(), pub, TEST)


def test_degree_too_high_witness_is_caught_by_fri():
    """Tampered opened rows (not on the committed polynomial) fail the Merkle check."""
    air = HashChainAir(2)
    t, pub = hash_chain_trace([3, 4], 6)
    proof = prove(air, t, pub, TEST)
    opening = proof.tables[0].main_opening
    rows = opening.rows.copy()
    rows[0, 0] = (rows[0, 0] + 1) % F.P
    bad = _replace(proof, main_opening=dataclasses.replace(opening, rows=rows))
    with pytest.raises(VerificationError, match="Merkle"):
        verify(air, bad.to_bytes(), pub, TEST)


class _Squares(Air):
    name = "squares"

    def __init__(self) -> None:
        super().__init__(1, num_public_inputs=1)

    def define(self, b: AirBuilder) -> None:
        b.assert_first_row(b.main(0) - b.public(0))
        b.assert_transition(b.main_next(0) - b.main(0) * b.main(0))


def test_random_traces_never_verify():
    air = _Squares()
    rng = np.random.default_rng(11)
    for _ in range(3):
        t = rng.integers(0, F.P, size=(32, 1), dtype=np.uint64)
        pub = [int(t[0, 0])]
        with pytest.raises(VerificationError):
            verify(air, prove(air, t, pub, TEST, check=False).to_bytes(), pub, TEST)


def test_malformed_proof_objects_are_rejected_cleanly():
    air = FibonacciAir()
    t, pub = fibonacci_trace(3, 5, 6)
    proof = prove(air, t, pub, TEST)
    op = proof.tables[0].openings
    short = _replace(proof, openings=dataclasses.replace(op, main_z=op.main_z[:1]))
    with pytest.raises(VerificationError, match="main@z"):
        verify(air, short, pub, TEST)
    with pytest.raises(VerificationError, match="32 bytes"):
        verify(air, _replace(proof, main_root=b"\x00"), pub, TEST)
    wide = _replace(proof, main_width=3)
    with pytest.raises(VerificationError, match="widths"):
        verify(air, wide, pub, TEST)


class _OtherConstants(HashChainAir):
    """Same name, widths and constraints as HashChainAir(2) but other round constants."""

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return (super().preprocessed_trace(log_n) + 1) % F.P


def test_fixed_columns_are_bound_even_with_the_same_air_id():
    honest, other = HashChainAir(2), _OtherConstants(2)
    assert honest.air_id == other.air_id
    t, pub = hash_chain_trace([5, 6], 6)
    data = prove(honest, t, pub, TEST).to_bytes()
    verify(honest, data, pub, TEST)  # warms the preprocessed cache for the honest AIR
    with pytest.raises(VerificationError):
        verify(other, data, pub, TEST)
