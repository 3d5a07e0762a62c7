"""Trace domain H, LDE coset and the vanishing factors the quotient divides by.

Notation: ``n = 2^log_n`` trace rows, generator ``g`` of H; the LDE coset is
``shift·⟨ω_N⟩`` with ``N = n·2^log_blowup`` in natural order, so LDE row ``i·B`` lies over
trace row ``i`` and the "next row" of LDE row ``j`` is row ``j + B`` (B = blowup).

Also holds :func:`lincomb_rows`, the numba kernel that combines many committed base
columns with extension coefficients (DEEP composition and constraint batching).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.expr import ExtValue, ext_inv_ints, ext_mul_ints
from proofmarket.stark.ntt import coset_points

_PU = np.uint64(F.P)


@dataclass(frozen=True)
class Domain:
    """The trace domain and its LDE coset for one proof."""

    log_n: int
    log_blowup: int
    shift: int = F.GENERATOR

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def blowup(self) -> int:
        return 1 << self.log_blowup

    @property
    def log_lde(self) -> int:
        return self.log_n + self.log_blowup

    @property
    def lde_size(self) -> int:
        return 1 << self.log_lde

    @cached_property
    def g(self) -> int:
        """Generator of the trace domain H."""
        return F.two_adic_generator(self.log_n)

    @cached_property
    def lde_points(self) -> np.ndarray:
        """``shift·ω_N^j`` for j < N (natural order)."""
        return coset_points(self.log_lde, self.shift)

    def row_point(self, row: int) -> int:
        """``g^row`` (the trace-domain point of a row)."""
        return pow(self.g, row % self.n, F.P)

    @cached_property
    def inv_vanishing(self) -> np.ndarray:
        """``1 / (x^n − 1)`` over the LDE coset (periodic with period B, full length)."""
        b = self.blowup
        xn = F.powers(F.two_adic_generator(self.log_blowup), b, start=pow(self.shift, self.n, F.P))
        period = F.batch_inv(F.sub(xn, np.uint64(1)))
        return np.tile(period, self.n)

    def vanishing_factor(self, key: tuple[str, int]) -> np.ndarray:
        """The per-point factor multiplying a constraint group's combination on the LDE."""
        x = self.lde_points
        if key[0] == "transition":
            last = np.uint64(self.row_point(self.n - 1))
            return F.mul(F.sub(x, last), self.inv_vanishing)
        if key[0] == "every_row":
            return self.inv_vanishing
        return F.batch_inv(F.sub(x, np.uint64(self.row_point(key[1]))))

    def vanishing_factor_at(self, key: tuple[str, int], z: ExtValue) -> ExtValue:
        """The same factor at an extension point (verifier side)."""
        if key[0] in ("transition", "every_row"):
            zn = ext_pow_ints(z, self.n)
            inv_zh = ext_inv_ints(((zn[0] - 1) % F.P, zn[1], zn[2], zn[3]))
            if key[0] == "every_row":
                return inv_zh
            last = self.row_point(self.n - 1)
            return ext_mul_ints(((z[0] - last) % F.P, z[1], z[2], z[3]), inv_zh)
        k = self.row_point(key[1])
        return ext_inv_ints(((z[0] - k) % F.P, z[1], z[2], z[3]))

    def ood_point_ok(self, z: Sequence[int]) -> bool:
        """True unless z lies in H or in the LDE coset (where the checks would divide by 0)."""
        zt = tuple(int(c) for c in z)
        zn = ext_pow_ints(zt, self.n)
        if zn == (1, 0, 0, 0):
            return False
        s_inv = pow(self.shift, F.P - 2, F.P)
        zs = tuple((c * s_inv) % F.P for c in zt)
        return ext_pow_ints(zs, self.lde_size) != (1, 0, 0, 0)


def ext_pow_ints(a: Sequence[int], e: int) -> ExtValue:
    """a^e for an extension element given as Python ints."""
    result: tuple[int, int, int, int] = (1, 0, 0, 0)
    base = (int(a[0]), int(a[1]), int(a[2]), int(a[3]))
    while e:
        if e & 1:
            result = ext_mul_ints(result, base)
        e >>= 1
        if e:
            base = ext_mul_ints(base, base)
    return result


def ext_powers_ints(a: Sequence[int], count: int) -> list[tuple[int, int, int, int]]:
    """``[1, a, a², …]`` (count entries) as Python-int extension tuples."""
    out: list[tuple[int, int, int, int]] = []
    cur: tuple[int, int, int, int] = (1, 0, 0, 0)
    base = (int(a[0]), int(a[1]), int(a[2]), int(a[3]))
    for _ in range(count):
        out.append(cur)
        cur = ext_mul_ints(cur, base)
    return out


@numba.njit(parallel=True, cache=True)
def _lincomb_kernel(mat: np.ndarray, coeffs: np.ndarray, out: np.ndarray) -> None:
    n, w = mat.shape
    k = coeffs.shape[1]
    for r in numba.prange(n):
        for j in range(k):
            out[r, j] = 0
        for c in range(w):
            v = mat[r, c]
            for j in range(k):
                out[r, j] += v * coeffs[c, j]
            if (c & 3) == 3:  # ≤ 4 products of two values < 2^31 each: < 2^64
                for j in range(k):
                    out[r, j] %= _PU
        for j in range(k):
            out[r, j] %= _PU


def lincomb_rows(mat: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """``out[r, j] = Σ_c mat[r, c]·coeffs[c, j] mod P`` for a row-major base matrix.

    With ``coeffs`` of shape (w, 4·m) this is m extension-coefficient combinations at once.
    """
    m = np.ascontiguousarray(mat, dtype=np.uint64)
    c = np.ascontiguousarray(coeffs, dtype=np.uint64)
    if m.shape[1] != c.shape[0]:
        raise ValueError(f"lincomb_rows: {m.shape} and {c.shape} do not match")
    out = np.empty((m.shape[0], c.shape[1]), dtype=np.uint64)
    if m.shape[1] == 0:
        out[:] = 0
        return out
    _lincomb_kernel(m, c, out)
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
