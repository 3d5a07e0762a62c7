"""NTT / coset LDE against plain-Python evaluation, round trips and linearity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofmarket.stark import field as F
from proofmarket.stark import ntt as N
from proofmarket.stark.field import GENERATOR, P


def _eval_py(coeffs: list[int], x: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % P
    return acc


def _rand(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, P, size=shape, dtype=np.uint64)


@pytest.mark.parametrize("log_n", [0, 1, 2, 3, 5])
def test_ntt_matches_naive_evaluation(log_n: int) -> None:
    rng = np.random.default_rng(log_n)
    n = 1 << log_n
    coeffs = _rand(rng, (n, 3))
    w = F.two_adic_generator(log_n)
    expected = [[_eval_py(coeffs[:, c].tolist(), pow(w, j, P)) for c in range(3)] for j in range(n)]
    assert N.ntt(coeffs).tolist() == expected
    assert (N.intt(N.ntt(coeffs)) == coeffs).all()


@pytest.mark.parametrize(("log_n", "log_blowup"), [(0, 1), (2, 1), (3, 2), (4, 3)])
def test_coset_lde_matches_naive_evaluation(log_n: int, log_blowup: int) -> None:
    rng = np.random.default_rng(100 + log_n)
    n = 1 << log_n
    coeffs = _rand(rng, (n, 2))
    evals = N.ntt(coeffs)
    lde = N.coset_lde(evals, log_blowup)
    w = F.two_adic_generator(log_n + log_blowup)
    expected = [
        [_eval_py(coeffs[:, c].tolist(), GENERATOR * pow(w, j, P) % P) for c in range(2)]
        for j in range(n << log_blowup)
    ]
    assert lde.tolist() == expected
    # rows j·B of the LDE lie over trace row j shifted by the coset
    assert (N.coset_intt(lde, GENERATOR)[:n] == coeffs).all()
    assert (N.coset_intt(lde, GENERATOR)[n:] == 0).all()
    lde2, coeffs2 = N.coset_lde_and_coeffs(evals, log_blowup)
    assert (lde2 == lde).all()
    assert (coeffs2 == coeffs).all()
    assert (N.coset_lde_from_coeffs(coeffs, log_blowup) == lde).all()


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_large_coset_lde_in_column_groups(dtype: type) -> None:
    """Sizes past the cache block and widths past one column group (per worker scratch)."""
    rng = np.random.default_rng(7)
    n, m = 1 << 12, 37
    coeffs = _rand(rng, (n, m))
    padded = np.concatenate([coeffs, np.zeros((3 * n, m), dtype=np.uint64)])
    expected = N.coset_ntt(padded, GENERATOR)
    lde, back = N.coset_lde_and_coeffs(N.ntt(coeffs), 2, GENERATOR, dtype)
    assert lde.dtype == dtype and (lde == expected).all() and (back == coeffs).all()
    assert (N.coset_lde_from_coeffs(coeffs.astype(dtype), 2, GENERATOR, dtype) == expected).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=2**32))
def test_round_trips_and_linearity(log_n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1 << log_n
    a, b = _rand(rng, (n, 4)), _rand(rng, (n, 4))
    k = int(rng.integers(0, P))
    assert (N.intt(N.ntt(a)) == a).all()
    assert (N.ntt(N.intt(a)) == a).all()
    assert (N.coset_intt(N.coset_ntt(a, 7), 7) == a).all()
    assert (N.ntt(F.add(a, b)) == F.add(N.ntt(a), N.ntt(b))).all()
    assert (N.ntt(F.mul(a, np.uint64(k))) == F.mul(N.ntt(a), np.uint64(k))).all()
    # columns are independent: transforming a column alone gives the same result
    assert (N.ntt(a[:, 1]) == N.ntt(a)[:, 1]).all()
    lde = N.coset_lde(a, 2)
    assert (N.coset_lde(F.add(a, b), 2) == F.add(lde, N.coset_lde(b, 2))).all()


def test_convolution_theorem() -> None:
    rng = np.random.default_rng(3)
    n = 16
    a = np.zeros(n, dtype=np.uint64)
    b = np.zeros(n, dtype=np.uint64)
    a[:8] = _rand(rng, (8,))
    b[:8] = _rand(rng, (8,))
    product = N.intt(F.mul(N.ntt(a), N.ntt(b)))
    expected = [0] * n
    for i in range(8):
        for j in range(8):
            expected[i + j] = (expected[i + j] + int(a[i]) * int(b[j])) % P
    assert product.tolist() == expected


def test_evaluate_at_extension_point() -> None:
    rng = np.random.default_rng(4)
    coeffs = _rand(rng, (8, 3))
    z = _rand(rng, (4,))
    got = N.evaluate_at(coeffs, z)
    for c in range(3):
        acc = F.ext_zero()
        for i in reversed(range(8)):
            acc = F.ext_add(F.ext_mul(acc, z), F.ext_from_base(coeffs[i, c]))
        assert (got[c] == acc).all()
    # at a base point embedded in the extension it agrees with base evaluation
    x = 12345
    got_base = N.evaluate_at(coeffs, F.ext_from_base(np.uint64(x)))
    assert got_base[:, 0].tolist() == [_eval_py(coeffs[:, c].tolist(), x) for c in range(3)]
    assert (got_base[:, 1:] == 0).all()


def test_vanishing_and_domains() -> None:
    log_n, log_b = 3, 2
    pts = N.coset_points(log_n + log_b)
    z = N.vanishing_on_coset(log_n, log_b)
    assert z.tolist() == [(pow(int(x), 8, P) - 1) % P for x in pts]
    assert (z != 0).all()
    h = N.domain_points(log_n)
    assert all(pow(int(x), 8, P) == 1 for x in h)
    assert len(set(h.tolist())) == 8
    zz = N.vanishing_at(log_n, F.ext_from_base(np.uint64(int(h[3]))))
    assert (zz == 0).all()


def test_bad_inputs() -> None:
    with pytest.raises(N.NttError, match="power of two"):
        N.ntt(np.zeros((3, 2), dtype=np.uint64))
    with pytest.raises(N.NttError, match="uint64"):
        N.ntt(np.zeros((4, 2), dtype=np.int64))
    with pytest.raises(N.NttError, match="2-D"):
        N.ntt(np.zeros((4, 2, 2), dtype=np.uint64))
    with pytest.raises(N.NttError, match="two-adicity"):
        N.coset_lde(np.zeros((1 << 4, 1), dtype=np.uint64), 24)
