"""Field laws for BabyBear and its quartic extension, checked against plain Python ints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofmarket.stark import field as F
from proofmarket.stark.field import FieldError, P

elem = st.integers(min_value=0, max_value=P - 1)
nonzero = st.integers(min_value=1, max_value=P - 1)
ext_elem = st.tuples(elem, elem, elem, elem)
vec = st.lists(elem, min_size=1, max_size=40)


def _arr(xs: list[int]) -> np.ndarray:
    return np.array(xs, dtype=np.uint64)


def _ref_ext_mul(a: tuple[int, ...], b: tuple[int, ...]) -> list[int]:
    """Schoolbook product reduced with x^4 = -11, on Python ints."""
    prod = [0] * 7
    for i in range(4):
        for j in range(4):
            prod[i + j] += a[i] * b[j]
    for k in range(6, 3, -1):
        prod[k - 4] -= 11 * prod[k]
    return [c % P for c in prod[:4]]


@settings(max_examples=60, deadline=None)
@given(vec, vec)
def test_base_ops_match_python(xs: list[int], ys: list[int]) -> None:
    n = min(len(xs), len(ys))
    a, b = _arr(xs[:n]), _arr(ys[:n])
    assert F.add(a, b).tolist() == [(x + y) % P for x, y in zip(xs, ys, strict=False)]
    assert F.sub(a, b).tolist() == [(x - y) % P for x, y in zip(xs, ys, strict=False)]
    assert F.mul(a, b).tolist() == [(x * y) % P for x, y in zip(xs, ys, strict=False)]
    assert F.neg(a).tolist() == [(-x) % P for x in xs[:n]]


@settings(max_examples=60, deadline=None)
@given(elem, elem, elem)
def test_base_field_laws(x: int, y: int, z: int) -> None:
    a, b, c = _arr([x]), _arr([y]), _arr([z])
    assert (F.mul(F.mul(a, b), c) == F.mul(a, F.mul(b, c))).all()
    assert (F.add(F.add(a, b), c) == F.add(a, F.add(b, c))).all()
    assert (F.mul(a, b) == F.mul(b, a)).all()
    assert (F.mul(a, F.add(b, c)) == F.add(F.mul(a, b), F.mul(a, c))).all()
    assert (F.add(a, F.neg(a)) == 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(nonzero, min_size=1, max_size=50))
def test_batch_inverse(xs: list[int]) -> None:
    inv = F.batch_inv(_arr(xs))
    assert inv.tolist() == [pow(x, P - 2, P) for x in xs]
    assert (F.mul(inv, _arr(xs)) == 1).all()


@settings(max_examples=40, deadline=None)
@given(elem, st.integers(min_value=-5, max_value=3 * P))
def test_pow_matches_python(x: int, e: int) -> None:
    if x == 0 and e < 0:
        with pytest.raises(FieldError):
            F.pow_(_arr([x]), e)
        return
    expected = pow(x, e, P) if e >= 0 else pow(pow(x, P - 2, P), -e, P)
    assert int(F.pow_(_arr([x]), e)[0]) == expected


def test_inverse_of_zero_is_an_error() -> None:
    with pytest.raises(FieldError, match="inverse of zero"):
        F.batch_inv(_arr([3, 0, 5]))
    with pytest.raises(FieldError):
        F.inv_int(0)
    with pytest.raises(FieldError, match="extension"):
        F.ext_inv(F.ext_zero((2,)))


def test_generator_and_two_adic_roots() -> None:
    # 31 generates F_p^*: P - 1 = 2^27 · 3 · 5
    for q in (2, 3, 5):
        assert pow(F.GENERATOR, (P - 1) // q, P) != 1
    for k in range(F.TWO_ADICITY + 1):
        w = F.two_adic_generator(k)
        assert pow(w, 1 << k, P) == 1
        if k:
            assert pow(w, 1 << (k - 1), P) == P - 1
            assert pow(w, 2, P) == F.two_adic_generator(k - 1)
    with pytest.raises(FieldError):
        F.two_adic_generator(28)


@settings(max_examples=60, deadline=None)
@given(ext_elem, ext_elem)
def test_ext_mul_matches_schoolbook(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    got = F.ext_mul(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64))
    assert got.tolist() == _ref_ext_mul(a, b)


@settings(max_examples=60, deadline=None)
@given(ext_elem, ext_elem, ext_elem)
def test_ext_field_laws(a: tuple[int, ...], b: tuple[int, ...], c: tuple[int, ...]) -> None:
    x, y, z = (np.array(v, dtype=np.uint64) for v in (a, b, c))
    assert (F.ext_mul(F.ext_mul(x, y), z) == F.ext_mul(x, F.ext_mul(y, z))).all()
    assert (F.ext_mul(x, y) == F.ext_mul(y, x)).all()
    assert (F.ext_mul(x, F.ext_add(y, z)) == F.ext_add(F.ext_mul(x, y), F.ext_mul(x, z))).all()
    assert (F.ext_add(x, F.ext_neg(x)) == 0).all()
    assert (F.ext_sub(x, y) == F.ext_add(x, F.ext_neg(y))).all()
    if any(a):
        assert (F.ext_mul(x, F.ext_inv(x)) == F.ext_one()).all()


def test_ext_batch_inverse_and_pow() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, P, size=(64, 4), dtype=np.uint64)
    inv = F.ext_batch_inv(x)
    assert (F.ext_mul(x, inv) == F.ext_one((64,))).all()
    # Frobenius-free check: x^(|F^*|) = 1 and x^5 = x·x·x·x·x
    assert (F.ext_pow(x[:3], P**4 - 1) == F.ext_one((3,))).all()
    x5 = x[:3]
    for _ in range(4):
        x5 = F.ext_mul(x5, x[:3])
    assert (F.ext_pow(x[:3], 5) == x5).all()
    assert (F.ext_mul(F.ext_pow(x[:3], -2), F.ext_pow(x[:3], 2)) == F.ext_one((3,))).all()
    pw = F.ext_powers(x[0], 5)
    assert (pw[4] == F.ext_pow(x[0], 4)).all()


def test_ext_mul_base_and_embedding() -> None:
    rng = np.random.default_rng(8)
    x = rng.integers(0, P, size=(10, 4), dtype=np.uint64)
    s = rng.integers(0, P, size=10, dtype=np.uint64)
    assert (F.ext_mul_base(x, s) == F.ext_mul(x, F.ext_from_base(s))).all()
    # the extension really has x^4 = -11
    xvar = np.array([0, 1, 0, 0], dtype=np.uint64)
    assert F.ext_pow(xvar, 4).tolist() == [P - 11, 0, 0, 0]


def test_bytes_round_trip_and_rejects_non_canonical() -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(0, P, size=(3, 5), dtype=np.uint64)
    assert (F.from_bytes(F.to_bytes(a), (3, 5)) == a).all()
    assert F.to_bytes(np.array([1, 2], dtype=np.uint64)) == b"\x01\x00\x00\x00\x02\x00\x00\x00"
    e = rng.integers(0, P, size=(2, 4), dtype=np.uint64)
    assert (F.ext_from_bytes(F.ext_to_bytes(e), (2,)) == e).all()
    with pytest.raises(FieldError, match="non-canonical"):
        F.from_bytes(P.to_bytes(4, "little"))
    with pytest.raises(FieldError, match="multiple of 4"):
        F.from_bytes(b"\x00\x00\x00")
    with pytest.raises(FieldError, match="trailing axis"):
        F.ext_to_bytes(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(FieldError, match="canonical"):
        F.check_canonical(np.array([P], dtype=np.uint64))
    assert F.as_field([-1, P + 2]).tolist() == [P - 1, 2]


def test_extension_modulus_is_irreducible() -> None:
    # x^4 − W is irreducible over F_p (p ≡ 1 mod 4) iff W is a quadratic non-residue
    assert pow(F.EXT_NONRESIDUE, (P - 1) // 2, P) == P - 1
    assert (P - 1) % 4 == 0
