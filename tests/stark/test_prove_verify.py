"""Valid traces of every example AIR prove and verify; proofs round-trip through bytes."""

import pytest
from stark_cases import example_cases, parametrize_examples

from proofmarket.stark.examples import FibonacciAir, HashChainAir, fibonacci_trace, hash_chain_trace
from proofmarket.stark.params import DEFAULT, TEST
from proofmarket.stark.proof import StarkProof
from proofmarket.stark.prover import ProverError, ProverTimings, prove
from proofmarket.stark.verifier import verify


@parametrize_examples(example_cases([1, 2, 40000, 65535], [2, 40000]))
def test_examples_prove_and_verify(name, air, trace, pub):
    timings = ProverTimings()
    proof = prove(air, trace, pub, TEST, timings=timings)
    data = proof.to_bytes()
    assert StarkProof.from_bytes(data).to_bytes() == data
    verify(air, data, pub, TEST)
    verify(air, proof, pub, TEST)  # the object form too
    assert set(timings.phases) >= {"commit", "quotient", "openings", "fri", "total"}


def test_proving_is_deterministic():
    air = FibonacciAir()
    t, pub = fibonacci_trace(1, 2, 5)
    assert prove(air, t, pub, TEST).to_bytes() == prove(air, t, pub, TEST).to_bytes()


def test_default_params_proof_verifies():
    air = HashChainAir(3)
    t, pub = hash_chain_trace([1, 2, 3], 7)
    data = prove(air, t, pub, DEFAULT).to_bytes()
    verify(air, data, pub, DEFAULT)
    assert DEFAULT.conjectured_security_bits(7) >= 100


def test_prover_rejects_bad_inputs():
    air = FibonacciAir()
    t, pub = fibonacci_trace(1, 2, 5)
    with pytest.raises(ProverError):
        prove(air, t[:30], pub, TEST)  # not a power of two
    with pytest.raises(ProverError):
        prove(air, t[:, :1], pub, TEST)
    big, big_pub = fibonacci_trace(1, 2, TEST.max_log_trace_len + 1)
    with pytest.raises(ProverError, match="outside"):
        prove(air, big, big_pub, TEST)


def test_verifier_accepts_a_precomputed_fixed_root():
    from proofmarket.stark.verifier import VerificationError, preprocessed_root

    air = HashChainAir(2)
    t, pub = hash_chain_trace([1, 2], 6)
    data = prove(air, t, pub, TEST).to_bytes()
    root = preprocessed_root(air, 6, TEST)
    assert root is not None and len(root) == 32
    verify(air, data, pub, TEST, fixed_root=root)
    with pytest.raises(VerificationError):
        verify(air, data, pub, TEST, fixed_root=bytes(32))
    with pytest.raises(VerificationError):
        verify(air, data, pub, TEST, fixed_root=preprocessed_root(air, 7, TEST))
    assert preprocessed_root(FibonacciAir(), 6, TEST) is None


def test_u32_traces_give_the_same_proof():
    """Traces (and the prover's LDEs) may be stored as u32 words: same bytes, no copy."""
    import numpy as np

    from proofmarket.stark.merkle import MerkleTree
    from proofmarket.stark.ntt import NttError, coset_lde_and_coeffs

    air = HashChainAir(3)
    t, pub = hash_chain_trace([1, 2, 3], 6)
    assert (
        prove(air, t.astype(np.uint32), pub, TEST).to_bytes() == prove(air, t, pub, TEST).to_bytes()
    )
    lde32, coeffs32 = coset_lde_and_coeffs(t.astype(np.uint32), 2, dtype=np.uint32)
    lde64, coeffs64 = coset_lde_and_coeffs(t, 2)
    assert lde32.dtype == np.uint32 and np.array_equal(lde32, lde64)
    assert np.array_equal(coeffs32, coeffs64)
    assert MerkleTree.commit(lde32).root == MerkleTree.commit(lde64).root
    with pytest.raises(NttError, match="dtype"):
        coset_lde_and_coeffs(t, 2, dtype=np.int64)
