"""The compiled instruction program and the array-ops evaluator give the same quotient."""

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import generate_aux_trace
from proofmarket.stark.aux_trace import claimed_sum
from proofmarket.stark.constraint_vm import MAC, MACC, Recorder, allocate, run
from proofmarket.stark.domain import Domain
from proofmarket.stark.examples import (
    BenchAir,
    FibonacciAir,
    HashChainAir,
    MemoryAir,
    RangeCheckAir,
    bench_trace,
    fibonacci_trace,
    hash_chain_trace,
    memory_trace,
    range_check_trace,
)
from proofmarket.stark.ntt import coset_lde
from proofmarket.stark.prover import quotient_compiled, quotient_degree_ok, quotient_on_lde
from proofmarket.stark.verifier import preprocessed_data


@pytest.mark.parametrize(
    "air,trace,pub",
    [
        (FibonacciAir(), *fibonacci_trace(1, 2, 5)),
        (HashChainAir(3), *hash_chain_trace([4, 5, 6], 5)),
        (RangeCheckAir(1), *range_check_trace([3, 60000], [3], 8)),
        (BenchAir(7), *bench_trace(7, 8)),
        (MemoryAir(3), *memory_trace([1, 2, 3], [(0, True, 5), (2, False, 0)], 8)),
    ],
    ids=["fibonacci", "hash-chain", "range-check", "bench", "memory"],
)
def test_compiled_and_array_quotients_agree(air, trace, pub):
    log_n = trace.shape[0].bit_length() - 1
    domain = Domain(log_n, 2)
    pre = preprocessed_data(air, domain)
    rng = np.random.default_rng(1)
    chals = [tuple(int(v) for v in rng.integers(0, F.P, 4)) for _ in range(2)]
    alpha = tuple(int(v) for v in rng.integers(0, F.P, 4))
    aux = generate_aux_trace(air, trace, pre.trace if pre else None, pub, chals)
    if aux is not None:
        chals.append(claimed_sum(air, aux, pub, chals))
    main_lde = coset_lde(trace, 2)
    aux_lde = coset_lde(aux, 2) if aux is not None else None
    pre_lde = pre.lde if pre else None
    args = (air, domain, main_lde, pre_lde, aux_lde, pub, chals, alpha)
    compiled = quotient_compiled(*args)
    arrays = quotient_on_lde(*args, block_rows=64)
    assert np.array_equal(compiled, arrays)
    # a valid trace gives a quotient of the promised degree
    assert quotient_degree_ok(compiled, domain, air.system.num_quotient_chunks)
    bad = trace.copy()
    bad[3, 0] = (bad[3, 0] + 1) % F.P
    bad_q = quotient_compiled(air, domain, coset_lde(bad, 2), pre_lde, aux_lde, pub, chals, alpha)
    assert not quotient_degree_ok(bad_q, domain, air.system.num_quotient_chunks)


def test_vm_arithmetic_and_fusion():
    rng = np.random.default_rng(4)
    mat = rng.integers(0, F.P, size=(16, 3), dtype=np.uint64)
    rec = Recorder()
    a, b, c = (rec.load(0, j, 0) for j in range(3))
    nxt = rec.load(0, 0, 1)
    t = rec.add(rec.add(rec.mul(a, b), c), rec.mul(c, rec.scalar(7)))  # MAC, then MACC
    u = rec.sub(rec.scalar(5), rec.neg(nxt))
    rec.store(t, 0)
    rec.store(rec.mul(u, t), 1)
    rec.store(rec.scalar(9), 2)
    prog = allocate(rec)
    assert {MAC, MACC} <= set(prog.code[:, 0].tolist())
    out = run(prog, [mat], 16, 3, block_rows=4)
    for r in range(16):
        x, y, z = (int(v) for v in mat[r])
        tv = (x * y + z + 7 * z) % F.P
        uv = (5 + int(mat[(r + 1) % 16, 0])) % F.P
        assert [int(v) for v in out[r]] == [tv, (uv * tv) % F.P, 9]


def test_fused_deep_quotients_match_scalar_arithmetic():
    from proofmarket.stark.expr import ext_inv_ints, ext_mul_ints
    from proofmarket.stark.kernels import deep_quotients

    rng = np.random.default_rng(8)
    k = 9
    comb = rng.integers(0, F.P, size=(k, 8), dtype=np.uint64)
    xs = rng.integers(0, F.P, size=k, dtype=np.uint64)
    z, zg, vz, vzg = (tuple(int(v) for v in rng.integers(0, F.P, 4)) for _ in range(4))
    got = deep_quotients(comb, vz, vzg, xs, z, zg)
    for r in range(k):
        x = int(xs[r])
        fz = tuple((int(comb[r, i]) - vz[i]) % F.P for i in range(4))
        fzg = tuple((int(comb[r, 4 + i]) - vzg[i]) % F.P for i in range(4))
        dz = ((x - z[0]) % F.P, -z[1] % F.P, -z[2] % F.P, -z[3] % F.P)
        dzg = ((x - zg[0]) % F.P, -zg[1] % F.P, -zg[2] % F.P, -zg[3] % F.P)
        a = ext_mul_ints(fz, ext_inv_ints(dz))
        b = ext_mul_ints(fzg, ext_inv_ints(dzg))
        want = [(a[i] + b[i]) % F.P for i in range(4)]
        assert [int(v) for v in got[r]] == want


def test_barycentric_openings_match_coefficient_evaluation():
    """Out-of-domain openings from values on H equal Horner on the coefficients."""
    from proofmarket.stark.kernels import evaluate_on_h_pair
    from proofmarket.stark.ntt import evaluate_at, intt

    rng = np.random.default_rng(12)
    log_n = 7
    mat = rng.integers(0, F.P, size=(1 << log_n, 41), dtype=np.uint64)  # > 1 column group
    mat[:3] = F.P - 1  # largest terms
    z = [int(v) for v in rng.integers(0, F.P, 4)]
    g = F.two_adic_generator(log_n)
    zg = np.array([v * g % F.P for v in z], dtype=np.uint64)
    coeffs = intt(mat)
    for words in (mat, mat.astype(np.uint32)):
        at_z, at_zg = evaluate_on_h_pair(words, z, log_n)
        assert np.array_equal(at_z, evaluate_at(coeffs, np.array(z, dtype=np.uint64)))
        assert np.array_equal(at_zg, evaluate_at(coeffs, zg))


def test_lincomb_rows_matches_python_sums():
    """Montgomery dot products (one reduction per sum) equal exact integer sums mod P."""
    from proofmarket.stark.kernels import lincomb_rows

    rng = np.random.default_rng(13)
    mat = rng.integers(0, F.P, size=(9, 300), dtype=np.uint64)
    mat[0] = F.P - 1
    coeffs = rng.integers(0, F.P, size=(300, 4), dtype=np.uint64)
    coeffs[:, 0] = F.P - 1
    want = [
        [sum(int(a) * int(b) for a, b in zip(row, col, strict=True)) % F.P for col in coeffs.T]
        for row in mat
    ]
    for words in (mat, mat.astype(np.uint32)):
        assert lincomb_rows(words, coeffs).tolist() == want
