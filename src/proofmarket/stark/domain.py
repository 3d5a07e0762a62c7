"""Trace domain H, LDE coset and the vanishing factors the quotient divides by.

Notation: ``n = 2^log_n`` trace rows, generator ``g`` of H; the LDE coset is
``shift·⟨ω_N⟩`` with ``N = n·2^log_blowup`` in natural order, so LDE row ``i·B`` lies over
trace row ``i`` and the "next row" of LDE row ``j`` is row ``j + B`` (B = blowup).

The compiled kernels (linear combinations, DEEP quotients) live in
:mod:`proofmarket.stark.kernels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.expr import ExtValue, ext_inv_ints, ext_mul_ints
from proofmarket.stark.ntt import coset_points


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
