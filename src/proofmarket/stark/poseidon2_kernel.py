"""Vectorised Poseidon2: many BabyBear permutations at once in a numba kernel.

:func:`permute_many` permutes every row of an ``(N, width)`` array in parallel; it must
agree with the reference :func:`proofmarket.stark.poseidon2.permute` (tested). Values are
``uint64`` canonical field elements. Reductions are lazy where the bounds allow it: an
S-box input may be below 2P (4P² < 2^64), and the external layer sums unreduced terms
(below 49P) before its single ``%`` per element.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from .field import P
from .poseidon2 import Poseidon2Error, params

_PU = np.uint64(P)
_U64 = npt.NDArray[np.uint64]


@cache
def constants(width: int) -> tuple[_U64, _U64, _U64]:
    """``(external (8, w), internal (R_P,), diag (w,))`` as uint64 arrays for the kernels."""
    prm = params(width)
    ext = np.array(prm.external_initial + prm.external_terminal, dtype=np.uint64)
    return ext, np.array(prm.internal, dtype=np.uint64), np.array(prm.diag, dtype=np.uint64)


@numba.njit(cache=True, inline="always")
def _sbox(x: Any) -> Any:  # pragma: no cover - compiled
    """x^7 mod P for x < 2P."""
    x2 = x * x % _PU
    x3 = x2 * x % _PU
    return x3 * x3 % _PU * x % _PU


@numba.njit(cache=True, inline="always")
def _external(s: Any) -> None:  # pragma: no cover - compiled
    w = s.shape[0]
    c0 = np.uint64(0)
    c1 = np.uint64(0)
    c2 = np.uint64(0)
    c3 = np.uint64(0)
    for b in range(0, w, 4):
        x0, x1, x2, x3 = s[b], s[b + 1], s[b + 2], s[b + 3]
        t01 = x0 + x1
        t23 = x2 + x3
        t0123 = t01 + t23
        y0 = t0123 + x0 + x1 + x1  # each < 7P (inputs canonical)
        y1 = t0123 + x1 + x2 + x2
        y2 = t0123 + x2 + x3 + x3
        y3 = t0123 + x3 + x0 + x0
        s[b], s[b + 1], s[b + 2], s[b + 3] = y0, y1, y2, y3
        c0 += y0  # < 6 blocks · 7P; s[b] + c0 < 49P
        c1 += y1
        c2 += y2
        c3 += y3
    for b in range(0, w, 4):
        s[b] = (s[b] + c0) % _PU
        s[b + 1] = (s[b + 1] + c1) % _PU
        s[b + 2] = (s[b + 2] + c2) % _PU
        s[b + 3] = (s[b + 3] + c3) % _PU


@numba.njit(cache=True, inline="always")
def permute_inplace(s: Any, ext: Any, internal: Any, diag: Any) -> None:  # pragma: no cover
    """Permute one state ``s`` (1-D uint64, width 16 or 24) in place."""
    w = s.shape[0]
    half = ext.shape[0] // 2
    _external(s)
    for r in range(half):
        for i in range(w):
            s[i] = _sbox(s[i] + ext[r, i])
        _external(s)
    for r in range(internal.shape[0]):
        s[0] = _sbox(s[0] + internal[r])
        total = np.uint64(0)
        for i in range(w):
            total += s[i]
        total %= _PU
        for i in range(w):
            s[i] = (total + diag[i] * s[i]) % _PU
    for r in range(half, 2 * half):
        for i in range(w):
            s[i] = _sbox(s[i] + ext[r, i])
        _external(s)


@numba.njit(parallel=True, cache=True)
def _permute_rows(states: Any, ext: Any, internal: Any, diag: Any) -> None:  # pragma: no cover
    n, w = states.shape
    for r in numba.prange(n):
        s = np.empty(w, dtype=np.uint64)
        for i in range(w):
            s[i] = states[r, i]
        permute_inplace(s, ext, internal, diag)
        for i in range(w):
            states[r, i] = s[i]


def check_states(states: Any) -> npt.NDArray[np.uint64]:
    """A C-contiguous uint64 copy of ``states`` (N, 16|24), or Poseidon2Error."""
    arr = np.asarray(states)
    if arr.ndim != 2 or arr.shape[1] not in (16, 24):
        raise Poseidon2Error(f"Poseidon2 states must have shape (N, 16|24), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise Poseidon2Error(f"Poseidon2 states must be integers, got dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= P):
        raise Poseidon2Error("Poseidon2 states must hold canonical field elements (< P)")
    return np.array(arr, dtype=np.uint64, order="C", copy=True)


def permute_many(states: Any) -> npt.NDArray[np.uint64]:
    """The Poseidon2 permutation of every row of ``states`` (a new ``(N, w)`` array)."""
    out = check_states(states)
    if out.shape[0]:
        _permute_rows(out, *constants(out.shape[1]))
    return out
