"""FRI: honest low-degree codewords verify; high degree and tampered proofs are rejected."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.field import GENERATOR, P
from proofmarket.stark.fri import (
    FriError,
    FriLayerOpening,
    FriProof,
    fold_rows,
    fri_log_arities,
    fri_prove,
    fri_verify,
)
from proofmarket.stark.merkle import MerkleBatchProof
from proofmarket.stark.ntt import coset_intt, coset_lde, coset_ntt
from proofmarket.stark.params import TEST, StarkParams
from proofmarket.stark.transcript import Transcript

LABEL = b"fri-test"


def _low_degree_codeword(seed: int, log_degree: int, params: StarkParams) -> np.ndarray:
    rng = np.random.default_rng(seed)
    evals = rng.integers(0, P, size=(1 << log_degree, 4), dtype=np.uint64)
    return coset_lde(evals, params.log_blowup)


def _prove(codeword: np.ndarray, params: StarkParams) -> tuple[FriProof, list[int]]:
    return fri_prove(codeword, Transcript(LABEL), params)


def _verify(proof: FriProof, codeword: np.ndarray, params: StarkParams) -> list[int]:
    log_n = codeword.shape[0].bit_length() - 1
    return fri_verify(proof, Transcript(LABEL), params, log_n, lambda q: codeword[q])


@pytest.mark.parametrize(
    ("log_arity", "log_degree", "final"),
    [(2, 6, 2), (1, 5, 0), (3, 8, 1), (2, 7, 3), (2, 2, 3), (4, 9, 2)],
)
def test_honest_codewords_verify(log_arity: int, log_degree: int, final: int) -> None:
    params = TEST.with_(fri_log_arity=log_arity, fri_final_log_degree=final)
    cw = _low_degree_codeword(log_degree, log_degree, params)
    proof, queries = _prove(cw, params)
    assert len(queries) == params.num_queries
    assert all(0 <= q < cw.shape[0] for q in queries)
    assert _verify(proof, cw, params) == queries
    assert len(proof.commitments) == len(fri_log_arities(cw.shape[0].bit_length() - 1, params))
    # the proof survives a bytes round trip
    again = FriProof.from_bytes(proof.to_bytes())
    assert _verify(again, cw, params) == queries


def test_folding_matches_definition() -> None:
    """Folding by 4 gives Σ_k β^k f_k(X) where f(X) = Σ_k X^k f_k(X^4)."""
    rng = np.random.default_rng(11)
    n, log_big = 16, 6  # degree < 16 on a coset of size 64
    coeffs = rng.integers(0, P, size=(n, 4), dtype=np.uint64)
    padded = np.zeros((1 << log_big, 4), dtype=np.uint64)
    padded[:n] = coeffs
    s = GENERATOR
    cw = coset_ntt(padded, s)
    beta = rng.integers(0, P, size=4, dtype=np.uint64)
    m = (1 << log_big) // 4
    leaves = cw.reshape(4, m, 4).transpose(1, 0, 2)
    omega_inv = F.inv_int(F.two_adic_generator(log_big))
    x_inv = F.powers(omega_inv, m, start=F.inv_int(s))
    folded = fold_rows(np.ascontiguousarray(leaves), x_inv, beta)
    # expected coefficients: Σ_k β^k · coeffs[4i + k]
    bp = F.ext_powers(beta, 4)
    exp_coeffs = np.zeros((m, 4), dtype=np.uint64)
    for i in range(n // 4):
        acc = F.ext_zero()
        for k in range(4):
            acc = F.ext_add(acc, F.ext_mul(bp[k], coeffs[4 * i + k]))
        exp_coeffs[i] = acc
    assert (coset_intt(folded, pow(s, 4, P)) == exp_coeffs).all()


def test_degree_just_above_bound_is_rejected() -> None:
    params = TEST
    rng = np.random.default_rng(12)
    log_degree = 6
    n_big = 1 << (log_degree + params.log_blowup)
    coeffs = np.zeros((n_big, 4), dtype=np.uint64)
    coeffs[: (1 << log_degree) + 1] = rng.integers(
        1, P, size=((1 << log_degree) + 1, 4), dtype=np.uint64
    )
    cw = coset_ntt(coeffs, GENERATOR)
    proof, _ = _prove(cw, params)
    with pytest.raises(FriError):
        _verify(proof, cw, params)


def test_random_codeword_is_rejected() -> None:
    rng = np.random.default_rng(13)
    cw = rng.integers(0, P, size=(1 << 9, 4), dtype=np.uint64)
    proof, _ = _prove(cw, TEST)
    with pytest.raises(FriError):
        _verify(proof, cw, TEST)


@pytest.fixture(scope="module")
def honest() -> tuple[np.ndarray, FriProof]:
    cw = _low_degree_codeword(14, 7, TEST)
    proof, _ = _prove(cw, TEST)
    return cw, proof


def _bump(a: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    b = a.copy()
    b[index] = (int(b[index]) + 1) % P
    return b


def test_tampered_final_poly(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    bad = dataclasses.replace(proof, final_poly=_bump(proof.final_poly, (0, 0)))
    with pytest.raises(FriError):
        _verify(bad, cw, TEST)


def test_tampered_layer_values(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    for layer in range(len(proof.layer_openings)):
        openings = list(proof.layer_openings)
        op = openings[layer]
        openings[layer] = FriLayerOpening(_bump(op.rows, (0, 1, 2)), op.proof)
        bad = dataclasses.replace(proof, layer_openings=tuple(openings))
        with pytest.raises(FriError, match="Merkle"):
            _verify(bad, cw, TEST)


def test_tampered_merkle_siblings(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    op = proof.layer_openings[0]
    sib = list(op.proof.siblings)
    sib[-1] = bytes(32)
    openings = (FriLayerOpening(op.rows, MerkleBatchProof(tuple(sib))), *proof.layer_openings[1:])
    with pytest.raises(FriError, match="Merkle"):
        _verify(dataclasses.replace(proof, layer_openings=openings), cw, TEST)


def test_tampered_commitment_and_nonce(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    roots = (bytes(32), *proof.commitments[1:])
    with pytest.raises(FriError):
        _verify(dataclasses.replace(proof, commitments=roots), cw, TEST)
    # a nonce that does not give the required zero bits (pow_bits = 4 in TEST)
    for delta in range(1, 64):
        try:
            _verify(dataclasses.replace(proof, pow_nonce=proof.pow_nonce + delta), cw, TEST)
        except FriError as exc:
            assert "proof-of-work" in str(exc) or "inconsistent" in str(exc)
            break
    else:
        pytest.fail("no tampered nonce was rejected")


def test_wrong_first_layer_values(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    with pytest.raises(FriError, match="inconsistent"):
        # every position off by one: whichever is queried mismatches layer 0
        fri_verify(proof, Transcript(LABEL), TEST, 9, lambda q: F.add(cw[q], np.uint64(1)))
    with pytest.raises(FriError, match="shape"):
        fri_verify(proof, Transcript(LABEL), TEST, 9, lambda q: cw[q][:, :3])


def test_structural_mismatches(honest: tuple[np.ndarray, FriProof]) -> None:
    cw, proof = honest
    with pytest.raises(FriError, match="commitments"):
        _verify(dataclasses.replace(proof, commitments=proof.commitments[:-1]), cw, TEST)
    with pytest.raises(FriError, match="final polynomial"):
        _verify(dataclasses.replace(proof, final_poly=proof.final_poly[:-1]), cw, TEST)
    with pytest.raises(FriError):
        fri_verify(proof, Transcript(LABEL), TEST, 10, lambda q: cw[np.asarray(q) % cw.shape[0]])
    with pytest.raises(FriError, match=r"inconsistent|Merkle|final|proof-of-work"):
        fri_verify(proof, Transcript(b"other"), TEST, 9, lambda q: cw[q])


def test_malformed_bytes_rejected(honest: tuple[np.ndarray, FriProof]) -> None:
    _, proof = honest
    data = proof.to_bytes()
    with pytest.raises(FriError, match="truncated"):
        FriProof.from_bytes(data[:-5])
    with pytest.raises(FriError, match="trailing"):
        FriProof.from_bytes(data + b"\x00")


def test_bad_codeword_shape() -> None:
    with pytest.raises(FriError, match="power of two"):
        _prove(np.zeros((12, 4), dtype=np.uint64), TEST)
    with pytest.raises(FriError, match=r"\(N, 4\)"):
        _prove(np.zeros((16, 3), dtype=np.uint64), TEST)


def test_prover_that_folds_wrongly_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first fold shifted by a constant stays low-degree (so every later layer and the
    final polynomial are consistent with it) but disagrees with layer 0 at every query."""
    import proofmarket.stark.fri as fri_mod

    honest_fold = fri_mod.fold_rows
    calls = {"n": 0}

    def bad_fold(rows: np.ndarray, x_inv: np.ndarray, beta: np.ndarray) -> np.ndarray:
        out = honest_fold(rows, x_inv, beta)
        calls["n"] += 1
        if calls["n"] == 1:
            out = F.add(out, F.ext_one())
        return out

    cw = _low_degree_codeword(15, 7, TEST)
    monkeypatch.setattr(fri_mod, "fold_rows", bad_fold)  # fault injection in the prover
    proof, _ = _prove(cw, TEST)
    monkeypatch.setattr(fri_mod, "fold_rows", honest_fold)
    assert calls["n"] >= 2
    with pytest.raises(FriError, match=r"layer 1: .* inconsistent"):
        _verify(proof, cw, TEST)


def _verify_rolled(proof, big, small, params):
    log_big = big.shape[0].bit_length() - 1
    log_small = small.shape[0].bit_length() - 1
    return fri_verify(
        proof,
        Transcript(LABEL),
        params,
        log_big,
        lambda q: big[q],
        rolled={log_small: lambda q: small[[i % small.shape[0] for i in q]]},
    )


@pytest.mark.parametrize(("log_big", "log_small"), [(9, 5), (9, 8), (8, 3), (7, 6)])
def test_smaller_codewords_roll_in_at_their_size(log_big: int, log_small: int) -> None:
    params = TEST.with_(fri_final_log_degree=2)
    big = _low_degree_codeword(1, log_big - params.log_blowup, params)
    small = _low_degree_codeword(2, log_small - params.log_blowup, params)
    arities = fri_log_arities(log_big, params, [log_small])
    sizes = [log_big]
    for a in arities:
        sizes.append(sizes[-1] - a)
    assert log_small in sizes  # the schedule stops at every input size
    proof, queries = fri_prove(big, Transcript(LABEL), params, rolled={log_small: small})
    assert _verify_rolled(proof, big, small, params) == queries
    # a small codeword of too high degree is caught, though the big one is honest
    rng = np.random.default_rng(3)
    noisy = rng.integers(0, P, size=small.shape, dtype=np.uint64)
    bad, _ = fri_prove(big, Transcript(LABEL), params, rolled={log_small: noisy})
    with pytest.raises(FriError):
        _verify_rolled(bad, big, noisy, params)
    # and the verifier must be given the same rolled-in values the prover used
    with pytest.raises(FriError):
        _verify_rolled(proof, big, F.add(small, np.uint64(1)), params)
