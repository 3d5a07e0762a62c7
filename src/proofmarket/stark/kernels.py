"""Compiled numba kernels shared by the prover and verifier.

* :func:`lincomb_rows` / :func:`lincomb_cols`: many committed base columns combined with
  extension coefficients (DEEP composition, constraint batching),
* :func:`deep_quotients`: the DEEP quotient for every LDE point in one fused pass.

Every kernel is compiled with ``cache=True``; :func:`proofmarket.stark.warmup` compiles
(or loads) all of them on tiny inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from proofmarket.stark import field as F

_PU = np.uint64(F.P)
_P_MINUS_2 = F.P - 2


_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_MU = np.uint64((-pow(F.P, -1, 1 << 32)) % (1 << 32))  # −P^{-1} mod 2^32
_R = (1 << 32) % F.P  # Montgomery radix mod P


@numba.njit(cache=True, inline="always")
def _mont(a: np.uint64, b: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """a·b·2^-32 mod P for canonical a, b; with b = w·2^32 mod P this is a·w mod P.

    Only 32×32-bit products, so loops of them vectorise (a 64-bit ``%`` does not)."""
    o = (a & _M32) * (b & _M32)
    q = ((o & _M32) * _MU) & _M32
    t = (o + q * _PU) >> _S32
    return t - _PU if t >= _PU else t


def _to_montgomery(a: np.ndarray) -> np.ndarray:
    """Canonical values as w·2^32 mod P (the second operand of :func:`_mont`)."""
    return F.mul(np.ascontiguousarray(a, dtype=np.uint64), np.uint64(_R))


@numba.njit(parallel=True, cache=True)
def _lincomb_kernel(
    mat: np.ndarray, coeffs_t: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """out[r, j] = Σ_c mat[r, c]·coeffs[c, j]; ``coeffs_t`` is (k, w), Montgomery form.

    Each sum is a contiguous dot product of canonical terms (< 2^33 of them fit in u64),
    reduced once at the end.
    """
    n, w = mat.shape
    k = coeffs_t.shape[0]
    for r in numba.prange(n):
        row = mat[r]
        for j in range(k):
            cj = coeffs_t[j]
            acc = np.uint64(0)
            for c in range(w):
                acc += _mont(np.uint64(row[c]), cj[c])
            out[r, j] = acc % _PU


def lincomb_rows(mat: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """``out[r, j] = Σ_c mat[r, c]·coeffs[c, j] mod P`` for a row-major base matrix.

    With ``coeffs`` of shape (w, 4·m) this is m extension-coefficient combinations at once.
    """
    m = np.asarray(mat)
    m = np.ascontiguousarray(m, dtype=np.uint32 if m.dtype == np.uint32 else np.uint64)
    c = np.ascontiguousarray(coeffs, dtype=np.uint64)
    if m.shape[1] != c.shape[0]:
        raise ValueError(f"lincomb_rows: {m.shape} and {c.shape} do not match")
    out = np.empty((m.shape[0], c.shape[1]), dtype=np.uint64)
    if m.shape[1] == 0:
        out[:] = 0
        return out
    _lincomb_kernel(m, np.ascontiguousarray(_to_montgomery(c).T), out)
    return out


@numba.njit(cache=True)
def _lincomb_cols_kernel(mat: np.ndarray, coeffs: np.ndarray, out: np.ndarray) -> None:
    w, n = mat.shape
    k = coeffs.shape[1]
    for j in range(k):
        acc = out[j]
        for r in range(n):
            acc[r] = 0
        for c in range(w):
            cj = coeffs[c, j]
            row = mat[c]
            for r in range(n):
                acc[r] += row[r] * cj
            if (c & 3) == 3:
                for r in range(n):
                    acc[r] %= _PU
        for r in range(n):
            acc[r] %= _PU


def lincomb_cols(mat: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """``out[j, r] = Σ_c mat[c, r]·coeffs[c, j] mod P`` for column-major ``mat`` (w, n).

    Single-threaded on purpose: it runs on cache-sized blocks inside a Python loop, where
    thread start-up would cost more than the work.
    """
    m = np.ascontiguousarray(mat, dtype=np.uint64)
    c = np.ascontiguousarray(coeffs, dtype=np.uint64)
    if m.shape[0] != c.shape[0]:
        raise ValueError(f"lincomb_cols: {m.shape} and {c.shape} do not match")
    out = np.empty((c.shape[1], m.shape[1]), dtype=np.uint64)
    _lincomb_cols_kernel(m, c, out)
    return out


@numba.njit(cache=True, inline="always")
def _emul(
    a0: np.uint64,
    a1: np.uint64,
    a2: np.uint64,
    a3: np.uint64,
    b0: np.uint64,
    b1: np.uint64,
    b2: np.uint64,
    b3: np.uint64,
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:  # pragma: no cover - compiled
    # x^4 = -11 in F_p[x]/(x^4 + 11)
    hi0 = ((a1 * b3) % _PU + (a2 * b2) % _PU + (a3 * b1) % _PU) % _PU
    hi1 = ((a2 * b3) % _PU + (a3 * b2) % _PU) % _PU
    hi2 = (a3 * b3) % _PU
    c0 = ((a0 * b0) % _PU + _PU - (hi0 * np.uint64(11)) % _PU) % _PU
    c1 = ((a0 * b1) % _PU + (a1 * b0) % _PU + _PU - (hi1 * np.uint64(11)) % _PU) % _PU
    c2 = (
        (a0 * b2) % _PU + (a1 * b1) % _PU + (a2 * b0) % _PU + _PU - (hi2 * np.uint64(11)) % _PU
    ) % _PU
    c3 = ((a0 * b3) % _PU + (a1 * b2) % _PU + (a2 * b1) % _PU + (a3 * b0) % _PU) % _PU
    return c0, c1, c2, c3


@numba.njit(cache=True, inline="always")
def _conj_norm(
    a0: np.uint64, a1: np.uint64, a2: np.uint64, a3: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64, np.uint64]:  # pragma: no cover
    # a(x)·a(−x) = b0 + b1·x² with b0 = a0² − 11a2² + 22a1a3, b1 = 2a0a2 − a1² + 11a3²;
    # norm = b0² + 11·b1²; a^{-1} = a(−x)·(b0 − b1·x²) / norm.
    e11 = np.uint64(11)
    b0 = ((a0 * a0) % _PU + _PU - (e11 * ((a2 * a2) % _PU)) % _PU) % _PU
    b0 = (b0 + (np.uint64(22) * ((a1 * a3) % _PU)) % _PU) % _PU
    b1 = ((np.uint64(2) * ((a0 * a2) % _PU)) % _PU + _PU - (a1 * a1) % _PU) % _PU
    b1 = (b1 + (e11 * ((a3 * a3) % _PU)) % _PU) % _PU
    norm = ((b0 * b0) % _PU + (e11 * ((b1 * b1) % _PU)) % _PU) % _PU
    nb1 = (_PU - b1) % _PU
    zero = np.uint64(0)
    c0, c1, c2, c3 = _emul(a0, (_PU - a1) % _PU, a2, (_PU - a3) % _PU, b0, zero, nb1, zero)
    return c0, c1, c2, c3, norm


@numba.njit(parallel=True, cache=True)
def _deep_kernel(
    comb: np.ndarray,
    v: np.ndarray,
    xs: np.ndarray,
    pts: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    n = xs.shape[0]
    for r in numba.prange(n):
        x = xs[r]
        # denominators x − z and x − z·g
        a0 = (x + _PU - pts[0, 0]) % _PU
        a1 = (_PU - pts[0, 1]) % _PU
        a2 = (_PU - pts[0, 2]) % _PU
        a3 = (_PU - pts[0, 3]) % _PU
        b0 = (x + _PU - pts[1, 0]) % _PU
        b1 = (_PU - pts[1, 1]) % _PU
        b2 = (_PU - pts[1, 2]) % _PU
        b3 = (_PU - pts[1, 3]) % _PU
        ca0, ca1, ca2, ca3, na = _conj_norm(a0, a1, a2, a3)
        cb0, cb1, cb2, cb3, nb = _conj_norm(b0, b1, b2, b3)
        # one exponentiation inverts both norms
        base = (na * nb) % _PU
        inv = np.uint64(1)
        e = _P_MINUS_2
        while e > 0:
            if e & 1:
                inv = (inv * base) % _PU
            base = (base * base) % _PU
            e >>= 1
        ia = (inv * nb) % _PU
        ib = (inv * na) % _PU
        f0 = (comb[r, 0] + _PU - v[0, 0]) % _PU
        f1 = (comb[r, 1] + _PU - v[0, 1]) % _PU
        f2 = (comb[r, 2] + _PU - v[0, 2]) % _PU
        f3 = (comb[r, 3] + _PU - v[0, 3]) % _PU
        g0 = (comb[r, 4] + _PU - v[1, 0]) % _PU
        g1 = (comb[r, 5] + _PU - v[1, 1]) % _PU
        g2 = (comb[r, 6] + _PU - v[1, 2]) % _PU
        g3 = (comb[r, 7] + _PU - v[1, 3]) % _PU
        p0, p1, p2, p3 = _emul(
            f0, f1, f2, f3, (ca0 * ia) % _PU, (ca1 * ia) % _PU, (ca2 * ia) % _PU, (ca3 * ia) % _PU
        )
        q0, q1, q2, q3 = _emul(
            g0, g1, g2, g3, (cb0 * ib) % _PU, (cb1 * ib) % _PU, (cb2 * ib) % _PU, (cb3 * ib) % _PU
        )
        out[r, 0] = (p0 + q0) % _PU
        out[r, 1] = (p1 + q1) % _PU
        out[r, 2] = (p2 + q2) % _PU
        out[r, 3] = (p3 + q3) % _PU


def deep_quotients(
    comb: np.ndarray,
    v_z: Sequence[int],
    v_zg: Sequence[int],
    xs: np.ndarray,
    z: Sequence[int],
    zg: Sequence[int],
) -> np.ndarray:
    """``(F_z(x) − V_z)/(x − z) + (F_zg(x) − V_zg)/(x − z·g)`` for every x in ``xs``.

    ``comb`` is ``(k, 8)``: ``[F_z | F_zg]`` per point. One fused parallel pass; both
    extension inverses per point share a single base-field exponentiation. ``z`` and
    ``z·g`` must not be among the points (guaranteed by the out-of-domain sampling).
    """
    c = np.ascontiguousarray(comb, dtype=np.uint64)
    x = np.ascontiguousarray(xs, dtype=np.uint64)
    v = np.array([list(v_z), list(v_zg)], dtype=np.uint64)
    pts = np.array([list(z), list(zg)], dtype=np.uint64)
    out = np.empty((x.shape[0], 4), dtype=np.uint64)
    _deep_kernel(c, v, x, pts, out)
    return out


_BARY_GROUP = 32  # columns per work item: a loop long enough to vectorise


@numba.njit(parallel=True, cache=True)
def _bary_kernel(mat: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """out[c, 0:4] = Σ_i mat[i, c]·w[i]; out[c, 4:8] = Σ_i mat[(i+1) mod n, c]·w[i].

    ``w`` is in Montgomery form; each product is canonical, so the sums (n ≤ 2^27 terms)
    stay below 2^58 and are reduced once.
    """
    n, m = mat.shape
    ngroups = (m + _BARY_GROUP - 1) // _BARY_GROUP
    for gi in numba.prange(ngroups):
        c0 = gi * _BARY_GROUP
        gw = min(m, c0 + _BARY_GROUP) - c0
        acc = np.zeros((8, gw), dtype=np.uint64)
        for i in range(n):
            nxt = i + 1 if i + 1 < n else 0
            row = mat[i, c0 : c0 + gw]
            rown = mat[nxt, c0 : c0 + gw]
            for k in range(4):
                wk = w[i, k]
                a = acc[k]
                b = acc[4 + k]
                for c in range(gw):
                    a[c] += _mont(np.uint64(row[c]), wk)
                    b[c] += _mont(np.uint64(rown[c]), wk)
        for c in range(gw):
            for k in range(8):
                out[c0 + c, k] = acc[k, c] % _PU


def evaluate_on_h_pair(
    mat: np.ndarray, z: Sequence[int], log_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every column at z and at z·g from its values on H (barycentric; z ∉ H).

    ``f(x) = (x^n − 1)/n · Σ_i f(g^i)·g^i/(x − g^i)``, and since (zg)^n = z^n the weights
    at z·g are those at z shifted by one row. So the prover needs no coefficient arrays
    for the out-of-domain openings. Returns two ``(m, 4)`` arrays.
    """
    from proofmarket.stark.expr import ext_mul_ints
    from proofmarket.stark.field import ext_batch_inv, ext_mul, ext_mul_base, powers

    a = np.asarray(mat)
    a = np.ascontiguousarray(a, dtype=np.uint32 if a.dtype == np.uint32 else np.uint64)
    n = 1 << log_n
    if a.shape[0] != n:
        raise ValueError(f"evaluate_on_h_pair: {a.shape[0]} rows, expected {n}")
    pts = powers(F.two_adic_generator(log_n), n)
    d = np.empty((n, 4), dtype=np.uint64)
    d[:, 0] = (np.uint64(int(z[0]) % F.P) + _PU - pts) % _PU
    for k in range(1, 4):
        d[:, k] = int(z[k]) % F.P
    w = ext_mul_base(ext_batch_inv(d), pts)
    del d
    out = np.empty((a.shape[1], 8), dtype=np.uint64)
    if a.shape[1]:
        _bary_kernel(a, _to_montgomery(w), out)
    zn = (int(z[0]), int(z[1]), int(z[2]), int(z[3]))
    for _ in range(log_n):  # z^n by squaring
        zn = ext_mul_ints(zn, zn)
    n_inv = pow(n, F.P - 2, F.P)
    scale = np.array(
        [
            ((zn[0] - 1) * n_inv) % F.P,
            zn[1] * n_inv % F.P,
            zn[2] * n_inv % F.P,
            zn[3] * n_inv % F.P,
        ],
        dtype=np.uint64,
    )
    return ext_mul(out[:, :4], scale), ext_mul(out[:, 4:], scale)
