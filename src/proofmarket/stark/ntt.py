"""Number-theoretic transforms, coset low-degree extension and domain helpers.

Conventions
-----------
* A *matrix* of columns has shape ``(n, m)``: ``n`` rows (a power of two), ``m`` columns,
  canonical ``np.uint64`` entries. Every transform acts on all columns at once.
* ``ntt(coeffs)[j] = Σ_i coeffs[i]·ω_n^(i·j)`` with ``ω_n = two_adic_generator(log2 n)``:
  evaluations over the subgroup ``H = ⟨ω_n⟩`` in **natural order** (row j ↔ point ω_n^j).
* ``coset_lde(evals, log_blowup, shift)`` returns the evaluations on the coset
  ``shift·H'`` with ``|H'| = n·2^log_blowup``, natural order: row j ↔ ``shift·ω_N^j``.
  Because ``ω_N^(j·2^log_blowup) = ω_n^j``, LDE row ``j·2^log_blowup`` lies over trace row j
  (shifted by ``shift``), and the "next row" of LDE row j is LDE row ``j + 2^log_blowup``.

Implementation: radix-2 butterflies compiled with numba (``cache=True``), parallel over
groups of 8 columns. Each group is gathered into a small column-major scratch so every
column stays in cache through all its stages; twiddles are precomputed per stage in
Montgomery form so the butterflies vectorise. The LDE needs no bit-reversal pass (DIF
interpolation → bit-reversed coefficients → DIT evaluation → natural order); see
docs/stark-primitives.md.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numba
import numpy as np

from .field import (
    GENERATOR,
    TWO_ADICITY,
    FieldArray,
    FieldError,
    P,
    ext_powers,
    inv_int,
    pow_int,
    powers,
    sub,
    two_adic_generator,
)

_PU = np.uint64(P)


class NttError(FieldError):
    """Bad input to a transform (size not a power of two, wrong shape or dtype)."""


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def log2_exact(n: int) -> int:
    """log2 of a power of two; NttError otherwise."""
    if n <= 0 or n & (n - 1):
        raise NttError(f"size must be a power of two, got {n}")
    return n.bit_length() - 1


_R_MOD_P = (1 << 32) % P
_MU = np.uint64((-pow(P, -1, 1 << 32)) % (1 << 32))  # −P^{-1} mod 2^32
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_BLOCK = 1 << 11  # butterflies with h < _BLOCK run block by block (2^11 u64 = 16 KiB, in L1)


@lru_cache(maxsize=64)
def _stage_twiddles(log_n: int, inverse: bool) -> FieldArray:
    """Per-stage twiddles in Montgomery form: entry ``h − 1 + k`` is ``w_{2h}^k · 2^32 mod P``.

    Multiplying a canonical value by a Montgomery-form twiddle with :func:`_mont_mul`
    gives the plain product, so data never leaves canonical form; only the twiddles are
    pre-scaled. Montgomery reduction needs only 32×32-bit products, which the compiler
    vectorises (64-bit ``%`` does not vectorise).
    """
    n = 1 << log_n
    root = two_adic_generator(log_n)
    if inverse:
        root = inv_int(root)
    out = np.zeros(max(n - 1, 1), dtype=np.uint64)
    if n == 1:
        return out
    full = powers(root, n // 2, start=_R_MOD_P)  # w_n^k · R
    h = 1
    while h < n:
        step = n // (2 * h)
        out[h - 1 : 2 * h - 1] = full[: h * step : step]
        h *= 2
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def bit_reverse_indices(log_n: int) -> np.ndarray:
    """``rev[i]`` = i with its ``log_n`` low bits reversed (int64 array)."""
    n = 1 << log_n
    idx = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(log_n):
        rev |= ((idx >> b) & 1) << (log_n - 1 - b)
    rev.setflags(write=False)
    return rev


@numba.njit(cache=True, inline="always")
def _mont_mul(a: Any, b_mont: Any) -> Any:  # pragma: no cover - compiled
    """a · b for a < 2^32 and b_mont = b·2^32 mod P; result canonical."""
    o = (a & _M32) * (b_mont & _M32)
    q = ((o & _M32) * _MU) & _M32
    t = (o + q * _PU) >> _S32
    return t - _PU if t >= _PU else t


@numba.njit(cache=True)
def _dif_bfly(x: Any, y: Any, tw: Any) -> None:  # pragma: no cover - compiled
    """x, y ← x + y, (x − y)·tw over whole slices (separate arrays, so LLVM vectorises)."""
    for k in range(x.size):
        u = x[k]
        v = y[k]
        s = u + v
        x[k] = s - _PU if s >= _PU else s
        y[k] = _mont_mul(u + _PU - v, tw[k])


@numba.njit(cache=True)
def _dit_bfly(x: Any, y: Any, tw: Any) -> None:  # pragma: no cover - compiled
    """x, y ← x + y·tw, x − y·tw over whole slices."""
    for k in range(x.size):
        u = x[k]
        v = _mont_mul(y[k], tw[k])
        s = u + v
        x[k] = s - _PU if s >= _PU else s
        y[k] = u + _PU - v if u < v else u - v


_VEC_MIN = 16  # below this half-size, slicing overhead beats SIMD gains


@numba.njit(cache=True, inline="always")
def _dif_stage(col: Any, lo: int, hi: int, h: int, tw: Any) -> None:  # pragma: no cover
    base = h - 1
    if h >= _VEC_MIN:
        t = tw[base : base + h]
        for start in range(lo, hi, 2 * h):
            _dif_bfly(col[start : start + h], col[start + h : start + 2 * h], t)
        return
    for start in range(lo, hi, 2 * h):
        for k in range(h):
            i = start + k
            u = col[i]
            v = col[i + h]
            s = u + v
            col[i] = s - _PU if s >= _PU else s
            col[i + h] = _mont_mul(u + _PU - v, tw[base + k])


@numba.njit(cache=True, inline="always")
def _dit_stage(col: Any, lo: int, hi: int, h: int, tw: Any) -> None:  # pragma: no cover
    base = h - 1
    if h >= _VEC_MIN:
        t = tw[base : base + h]
        for start in range(lo, hi, 2 * h):
            _dit_bfly(col[start : start + h], col[start + h : start + 2 * h], t)
        return
    for start in range(lo, hi, 2 * h):
        for k in range(h):
            i = start + k
            u = col[i]
            v = _mont_mul(col[i + h], tw[base + k])
            s = u + v
            col[i] = s - _PU if s >= _PU else s
            col[i + h] = u + _PU - v if u < v else u - v


@numba.njit(cache=True)
def _dif_col(col: Any, tw: Any) -> None:  # pragma: no cover - compiled
    """In-place DIF NTT of one contiguous column: natural in, bit-reversed out."""
    n = col.size
    bs = min(n, _BLOCK)
    h = n // 2
    while h >= bs:
        _dif_stage(col, 0, n, h, tw)
        h //= 2
    for blk in range(0, n, bs):
        hh = bs // 2
        while hh >= 1:
            _dif_stage(col, blk, blk + bs, hh, tw)
            hh //= 2


@numba.njit(cache=True)
def _dit_col(col: Any, tw: Any, first_h: int) -> None:  # pragma: no cover - compiled
    """In-place DIT NTT of one contiguous column: bit-reversed in, natural out.

    Stages with ``h < first_h`` are skipped (used when the input is known to be
    replicated in blocks of ``first_h``, as for a zero-padded LDE).
    """
    n = col.size
    bs = min(n, _BLOCK)
    for blk in range(0, n, bs):
        hh = first_h
        while hh < bs:
            _dit_stage(col, blk, blk + bs, hh, tw)
            hh *= 2
    h = max(bs, first_h)
    while h < n:
        _dit_stage(col, 0, n, h, tw)
        h *= 2


_GROUP = 8  # columns per NTT work item: one 64-byte cache line of a u64 output row


@numba.njit(parallel=True, cache=True)
def _lde_kernel(
    mat: Any,
    out: Any,
    coeffs: Any,
    want_coeffs: bool,
    tw_inv: Any,
    tw_fwd: Any,
    rev: Any,
    scale_br: Any,
    n_inv: Any,
    log_b: int,
    scratch: Any,
    from_coeffs: bool,
) -> None:  # pragma: no cover - compiled
    """Coset LDE of ``mat`` (n, m) into ``out`` (n·B, m), one group of columns at a time.

    Per group the columns are gathered into a column-major scratch of length N each,
    interpolated (DIF, inverse twiddles → bit-reversed coefficients), optionally copied
    out as natural-order coefficients, scaled by n^{-1}·shift^i and spread in place over
    the blocks the first log B DIT stages would fill, evaluated (DIT → natural order) and
    written back row-wise. Each column stays cache-resident through all of its steps.

    ``scratch`` is (workers, group, N): worker w takes groups w, w + workers, … and keeps
    its scratch for all of them (a fresh per-group scratch costs a page fault per 4 KiB
    on every group); the group width is ``scratch.shape[1]`` (a cache line of output).
    With ``from_coeffs`` the columns of ``mat`` are coefficients already: they are
    gathered in bit-reversed order and the interpolation is skipped (``scale_br`` then
    holds shift^i without n^{-1}).
    """
    n, m = mat.shape
    big_n = out.shape[0]
    b = 1 << log_b
    workers, group = scratch.shape[0], scratch.shape[1]
    ngroups = (m + group - 1) // group
    for w in numba.prange(workers):
        for g in range(w, ngroups, workers):
            c0 = g * group
            gw = min(group, m - c0)
            for j in range(n):
                src = rev[j] if from_coeffs else j
                for cc in range(gw):
                    scratch[w, cc, j] = mat[src, c0 + cc]
            for cc in range(gw):
                col = scratch[w, cc]
                if not from_coeffs:
                    _dif_col(col[:n], tw_inv)
                if want_coeffs:
                    for j in range(n):
                        coeffs[j, c0 + cc] = (col[rev[j]] * n_inv) % _PU
                for p in range(n - 1, -1, -1):  # descending: p·B ≥ p, so no value is lost
                    v = (col[p] * scale_br[p]) % _PU
                    for t in range(b):
                        col[p * b + t] = v
                _dit_col(col, tw_fwd, b)
            for j in range(big_n):
                for cc in range(gw):
                    out[j, c0 + cc] = scratch[w, cc, j]


@numba.njit(parallel=True, cache=True)
def _ntt_kernel(mat: Any, out: Any, tw: Any, rev: Any, scale: Any) -> None:  # pragma: no cover
    """out = NTT of every column of ``mat`` (natural order), times ``scale``.

    Grouped like :func:`_lde_kernel`: gather a few columns, DIF each in cache, and write
    them back through the bit-reversal.
    """
    n, m = mat.shape
    ngroups = (m + _GROUP - 1) // _GROUP
    for g in numba.prange(ngroups):
        c0 = g * _GROUP
        gw = min(_GROUP, m - c0)
        scratch = np.empty((gw, n), dtype=np.uint64)
        for j in range(n):
            for cc in range(gw):
                scratch[cc, j] = mat[j, c0 + cc]
        for cc in range(gw):
            _dif_col(scratch[cc], tw)
        for j in range(n):
            r = rev[j]
            for cc in range(gw):
                out[j, c0 + cc] = (scratch[cc, r] * scale) % _PU


def _check_matrix(a: Any, what: str, allow_u32: bool = False) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype != np.uint64 and not (allow_u32 and arr.dtype == np.uint32):
        raise NttError(f"{what}: expected a np.uint64 array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise NttError(f"{what}: expected a 2-D (rows, columns) array, got shape {arr.shape}")
    log2_exact(arr.shape[0])
    return arr


def _transform(mat: np.ndarray, inverse: bool) -> FieldArray:
    n, m = mat.shape
    log_n = log2_exact(n)
    if log_n > TWO_ADICITY:
        raise NttError(f"size 2^{log_n} exceeds the two-adicity 2^{TWO_ADICITY}")
    out = np.empty((n, m), dtype=np.uint64)
    scale = np.uint64(inv_int(n) if inverse else 1)
    _ntt_kernel(
        np.ascontiguousarray(mat),
        out,
        _stage_twiddles(log_n, inverse),
        bit_reverse_indices(log_n),
        scale,
    )
    return out


# ---------------------------------------------------------------------------------------
# public transforms
# ---------------------------------------------------------------------------------------


def ntt(coeffs: Any) -> FieldArray:
    """Evaluate each column polynomial over H = ⟨ω_n⟩ (natural order). Shape (n, m) → (n, m).

    A 1-D input is treated as one column and a 1-D result is returned.
    """
    arr = np.asarray(coeffs)
    if arr.ndim == 1:
        return ntt(arr[:, None])[:, 0]
    return _transform(_check_matrix(arr, "ntt"), inverse=False)


def intt(evals: Any) -> FieldArray:
    """Interpolate: inverse of :func:`ntt` (evaluations over H, natural order → coefficients)."""
    arr = np.asarray(evals)
    if arr.ndim == 1:
        return intt(arr[:, None])[:, 0]
    return _transform(_check_matrix(arr, "intt"), inverse=True)


def coset_ntt(coeffs: Any, shift: int = GENERATOR) -> FieldArray:
    """Evaluate each column polynomial over the coset ``shift·H`` (natural order)."""
    arr = np.asarray(coeffs)
    if arr.ndim == 1:
        return coset_ntt(arr[:, None], shift)[:, 0]
    mat = _check_matrix(arr, "coset_ntt")
    scaled = (mat * powers(shift, mat.shape[0])[:, None]) % _PU
    return _transform(scaled, inverse=False)


def coset_intt(evals: Any, shift: int = GENERATOR) -> FieldArray:
    """Interpolate evaluations on ``shift·H`` (natural order) back to coefficients."""
    arr = np.asarray(evals)
    if arr.ndim == 1:
        return coset_intt(arr[:, None], shift)[:, 0]
    coeffs = _transform(_check_matrix(arr, "coset_intt"), inverse=True)
    return (coeffs * powers(inv_int(shift), coeffs.shape[0])[:, None]) % _PU


def coset_lde(
    evals: Any, log_blowup: int, shift: int = GENERATOR, dtype: Any = np.uint64
) -> FieldArray:
    """Low-degree extend columns given by their evaluations over H (natural order).

    Returns ``(n·2^log_blowup, m)`` evaluations on the coset ``shift·H'`` in natural order
    (row j ↔ ``shift·ω_N^j``). ``shift`` must not lie in H' (the default GENERATOR never
    does, being a non-residue of every 2-power order).
    """
    arr = np.asarray(evals)
    if arr.ndim == 1:
        return coset_lde(arr[:, None], log_blowup, shift, dtype)[:, 0]
    mat = _check_matrix(arr, "coset_lde", allow_u32=True)
    return _coset_lde(mat, log_blowup, shift, False, dtype)[0]


def coset_lde_and_coeffs(
    evals: Any, log_blowup: int, shift: int = GENERATOR, dtype: Any = np.uint64
) -> tuple[FieldArray, FieldArray]:
    """:func:`coset_lde` plus the columns' coefficients (as :func:`intt` would give them).

    Saves the prover a separate interpolation: the coefficients are a by-product.
    Returns ``(lde (n·2^log_blowup, m), coeffs (n, m))``. The input may be uint32 or
    uint64; ``dtype=np.uint32`` stores both results as u32 words (half the memory; the
    kernel works on u64 scratch columns, so no matrix-sized u64 temporary is made).
    """
    mat = _check_matrix(np.asarray(evals), "coset_lde_and_coeffs", allow_u32=True)
    lde, coeffs = _coset_lde(mat, log_blowup, shift, True, dtype)
    assert coeffs is not None
    return lde, coeffs


def coset_lde_from_coeffs(
    coeffs: Any, log_blowup: int, shift: int = GENERATOR, dtype: Any = np.uint64
) -> FieldArray:
    """Evaluate column polynomials of degree < n, given by their ``(n, m)`` coefficients,
    on the coset ``shift·H'`` of size n·2^log_blowup (natural order), like
    :func:`coset_lde` without its interpolation."""
    mat = _check_matrix(np.asarray(coeffs), "coset_lde_from_coeffs", allow_u32=True)
    return _coset_lde(mat, log_blowup, shift, False, dtype, from_coeffs=True)[0]


def _coset_lde(
    mat: np.ndarray,
    log_blowup: int,
    shift: int,
    want_coeffs: bool,
    dtype: Any = np.uint64,
    from_coeffs: bool = False,
) -> tuple[FieldArray, FieldArray | None]:
    if log_blowup < 0:
        raise NttError(f"log_blowup must be ≥ 0, got {log_blowup}")
    n, m = mat.shape
    log_n = log2_exact(n)
    log_big = log_n + log_blowup
    if log_big > TWO_ADICITY:
        raise NttError(f"LDE size 2^{log_big} exceeds the two-adicity 2^{TWO_ADICITY}")
    big_n = 1 << log_big
    rev = bit_reverse_indices(log_n)
    scale_br = powers(shift, n, start=1 if from_coeffs else inv_int(n))[rev]
    if np.dtype(dtype) not in (np.dtype(np.uint32), np.dtype(np.uint64)):
        raise NttError(f"LDE dtype must be uint32 or uint64, got {dtype}")
    out = np.empty((big_n, m), dtype=dtype)
    coeffs = np.empty((n, m) if want_coeffs else (1, 1), dtype=dtype)
    threads = numba.get_num_threads()
    group = 64 // np.dtype(dtype).itemsize  # columns per 64-byte line of an output row
    if -(-m // group) < threads:  # too few lines to share: split them (the quotient's 16)
        group = max(1, -(-m // threads))
    ngroups = (m + group - 1) // group
    workers = max(1, min(threads, ngroups))
    scratch = np.empty((workers, min(group, m), big_n), dtype=np.uint32)
    _lde_kernel(
        np.ascontiguousarray(mat),
        out,
        coeffs,
        want_coeffs,
        _stage_twiddles(log_n, True),
        _stage_twiddles(log_big, False),
        rev,
        scale_br,
        np.uint64(inv_int(n)),
        log_blowup,
        scratch,
        from_coeffs,
    )
    return out, (coeffs if want_coeffs else None)


# ---------------------------------------------------------------------------------------
# evaluation at a point
# ---------------------------------------------------------------------------------------


@numba.njit(parallel=True, cache=True)
def _eval_cols_ext(coeffs: np.ndarray, zp: np.ndarray, out: np.ndarray) -> None:
    n, m = coeffs.shape
    for c in numba.prange(m):
        a0 = np.uint64(0)
        a1 = np.uint64(0)
        a2 = np.uint64(0)
        a3 = np.uint64(0)
        for i in range(n):
            v = coeffs[i, c]
            a0 += (v * zp[i, 0]) % _PU
            a1 += (v * zp[i, 1]) % _PU
            a2 += (v * zp[i, 2]) % _PU
            a3 += (v * zp[i, 3]) % _PU
            if (i & 0xFFFFFFF) == 0xFFFFFFF:  # keep the sums far from 2^64
                a0 %= _PU
                a1 %= _PU
                a2 %= _PU
                a3 %= _PU
        out[c, 0] = a0 % _PU
        out[c, 1] = a1 % _PU
        out[c, 2] = a2 % _PU
        out[c, 3] = a3 % _PU


def evaluate_at(coeffs: Any, z_ext: Any) -> FieldArray:
    """Evaluate every column polynomial (coefficients, shape (n, m)) at one extension point.

    Returns shape (m, 4). A 1-D ``coeffs`` is one column and gives shape (4,).
    """
    arr = np.asarray(coeffs)
    if arr.dtype != np.uint32:
        arr = np.asarray(arr, dtype=np.uint64)
    if arr.ndim == 1:
        return evaluate_at(arr[:, None], z_ext)[0]
    if arr.ndim != 2:
        raise NttError(f"evaluate_at: expected (n, m) coefficients, got shape {arr.shape}")
    z = np.asarray(z_ext, dtype=np.uint64)
    zp = ext_powers(z, arr.shape[0])
    out = np.empty((arr.shape[1], 4), dtype=np.uint64)
    _eval_cols_ext(np.ascontiguousarray(arr), zp, out)
    return out


def evaluate_base_at(coeffs: Any, x: int) -> FieldArray:
    """Evaluate every column polynomial at a base-field point; shape (n, m) → (m,)."""
    arr = np.asarray(coeffs, dtype=np.uint64)
    if arr.ndim == 1:
        return evaluate_base_at(arr[:, None], x)[0:1].reshape(())
    xp = powers(x, arr.shape[0])
    acc = np.zeros(arr.shape[1], dtype=np.uint64)
    for i in range(arr.shape[0]):  # small helper for tests / scalar checks
        acc = (acc + arr[i] * xp[i]) % _PU
    return acc


# ---------------------------------------------------------------------------------------
# domains
# ---------------------------------------------------------------------------------------


def domain_points(log_n: int) -> FieldArray:
    """Points of H = ⟨ω_n⟩ in natural order: ``[ω_n^0, …, ω_n^(n−1)]``."""
    return powers(two_adic_generator(log_n), 1 << log_n)


def coset_points(log_size: int, shift: int = GENERATOR) -> FieldArray:
    """Points of ``shift·⟨ω_N⟩`` in natural order (the LDE domain when N = n·blowup)."""
    return powers(two_adic_generator(log_size), 1 << log_size, start=shift)


def vanishing_on_coset(log_n: int, log_blowup: int, shift: int = GENERATOR) -> FieldArray:
    """``Z_H(x) = x^n − 1`` evaluated on the LDE coset ``shift·H'`` (natural order).

    The values repeat with period ``2^log_blowup`` (x_j^n = shift^n·ω_B^j); the full
    length-N array is returned. None of them is zero because ``shift ∉ H'``.
    """
    b = 1 << log_blowup
    period = powers(two_adic_generator(log_blowup), b, start=pow_int(shift, 1 << log_n))
    period = sub(period, np.uint64(1))
    return np.tile(period, 1 << log_n)


def vanishing_at(log_n: int, z_ext: Any) -> FieldArray:
    """``Z_H(z) = z^n − 1`` at an extension point (shape (4,))."""
    from .field import ext_one, ext_pow, ext_sub

    return ext_sub(ext_pow(np.asarray(z_ext, dtype=np.uint64), 1 << log_n), ext_one())
