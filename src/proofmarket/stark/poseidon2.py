"""The Poseidon2 permutation over BabyBear (widths 16 and 24), pure-Python reference.

Parameters are those of Plonky3's ``default_babybear_poseidon2_{16,24}`` (Poseidon2 paper,
eprint 2023/323), so the published Plonky3 test vectors hold:

* S-box x^7; 8 full rounds (4 before, 4 after the partial rounds); 13 partial rounds at
  width 16 and 21 at width 24 (the round counts RISC Zero also uses at width 24).
* Round constants: the Grain LFSR of the Poseidon paper (appendix E) seeded with
  ``field=1, sbox=0, n=31, t, R_F=8, R_P``; ``R_F·t + R_P`` field elements drawn in
  order and split as initial external (4·t), internal (R_P), terminal external (4·t).
  They are regenerated here rather than stored.
* External layer: ``circ(2·M4, M4, …, M4)`` with ``M4 = [[2,3,1,1],[1,2,3,1],[1,1,2,3],
  [3,1,1,2]]``; it is also applied once before the first round.
* Internal layer: ``s_i ← Σ s + V_i·s_i`` with Plonky3's diagonal ``V`` (small values and
  inverse powers of two, see ``_DIAG_SPEC``).

:func:`permute` is the specification used by tests; the vectorised numba kernel in
:mod:`proofmarket.stark.poseidon2_kernel` must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .field import P

SBOX_DEGREE = 7
HALF_FULL_ROUNDS = 4
PARTIAL_ROUNDS = {16: 13, 24: 21}
WIDTHS = tuple(PARTIAL_ROUNDS)

M4 = ((2, 3, 1, 1), (1, 2, 3, 1), (1, 1, 2, 3), (3, 1, 1, 2))
"""The 4×4 MDS block of the external layer (Plonky3 ``MDSMat4``)."""

# Diagonal V of the internal matrix 1 + Diag(V), as (sign, numerator, k) meaning
# sign · numerator / 2^k (Plonky3's choice: cheap multiplications).
_DiagSpec = tuple[tuple[int, int, int], ...]
_DIAG_HEAD: _DiagSpec = (
    (-1, 2, 0), (1, 1, 0), (1, 2, 0), (1, 1, 1), (1, 3, 0), (1, 4, 0), (-1, 1, 1),
    (-1, 3, 0), (-1, 4, 0), (1, 1, 8), (1, 1, 2), (1, 1, 3),
)  # fmt: skip
_DIAG_SPEC: dict[int, _DiagSpec] = {
    16: (*_DIAG_HEAD, (1, 1, 27), (-1, 1, 8), (-1, 1, 4), (-1, 1, 27)),
    24: (
        *_DIAG_HEAD,
        *((1, 1, k) for k in (4, 7, 9, 27)),
        *((-1, 1, k) for k in (8, 2, 3, 4, 5, 6, 7, 27)),
    ),
}


class Poseidon2Error(ValueError):
    """Unsupported width or a state that is not ``width`` canonical field elements."""


@dataclass(frozen=True)
class Poseidon2Params:
    """Everything that defines one Poseidon2 instance (all values canonical in F_p)."""

    width: int
    partial_rounds: int
    external_initial: tuple[tuple[int, ...], ...]
    internal: tuple[int, ...]
    external_terminal: tuple[tuple[int, ...], ...]
    diag: tuple[int, ...]

    @property
    def num_rounds(self) -> int:
        return 2 * HALF_FULL_ROUNDS + self.partial_rounds


class _Grain:
    """Grain LFSR in self-shrinking mode (Poseidon paper, appendix E)."""

    def __init__(self, n: int, t: int, r_f: int, r_p: int):
        seed = (1, 2), (0, 4), (n, 12), (t, 12), (r_f, 10), (r_p, 10)
        bits: list[int] = []
        for value, size in seed:
            bits += [(value >> (size - 1 - i)) & 1 for i in range(size)]
        self._bits = bits + [1] * 30
        for _ in range(160):
            self._clock()

    def _clock(self) -> int:
        b = self._bits
        new = b[0] ^ b[13] ^ b[23] ^ b[38] ^ b[51] ^ b[62]
        del b[0]
        b.append(new)
        return new

    def _bit(self) -> int:
        while True:
            keep = self._clock()
            bit = self._clock()
            if keep:
                return bit

    def field_element(self, n: int, p: int) -> int:
        """``n`` output bits MSB first, rejected and redrawn while ≥ p."""
        while True:
            v = 0
            for _ in range(n):
                v = (v << 1) | self._bit()
            if v < p:
                return v


def _diag(width: int) -> tuple[int, ...]:
    out = []
    for sign, num, k in _DIAG_SPEC[width]:
        v = num * pow(pow(2, k, P), P - 2, P) % P
        out.append(v if sign > 0 else (P - v) % P)
    return tuple(out)


@cache
def params(width: int) -> Poseidon2Params:
    """The Poseidon2 parameters for ``width`` (16 or 24), computed once per process."""
    if width not in PARTIAL_ROUNDS:
        raise Poseidon2Error(f"Poseidon2 width must be one of {WIDTHS}, got {width}")
    r_p = PARTIAL_ROUNDS[width]
    r_f = 2 * HALF_FULL_ROUNDS
    grain = _Grain(P.bit_length(), width, r_f, r_p)
    raw = [grain.field_element(P.bit_length(), P) for _ in range(r_f * width + r_p)]

    def rows(flat: list[int]) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(flat[i * width : (i + 1) * width]) for i in range(HALF_FULL_ROUNDS))

    half = HALF_FULL_ROUNDS * width
    return Poseidon2Params(
        width=width,
        partial_rounds=r_p,
        external_initial=rows(raw[:half]),
        internal=tuple(raw[half : half + r_p]),
        external_terminal=rows(raw[half + r_p :]),
        diag=_diag(width),
    )


def _mod_p(x: Any) -> Any:
    return x % P


def external_linear(state: Sequence[Any], reduce: Callable[[Any], Any] = _mod_p) -> list[Any]:
    """``circ(2·M4, M4, …)·state``: M4 on each block of 4, then add the column sums.

    Works on ints, on NumPy columns and (with ``reduce`` the identity) on AIR expressions.
    """
    w = len(state)
    out: list[Any] = []
    for b in range(0, w, 4):
        x = state[b : b + 4]
        out += [reduce(sum(M4[r][c] * x[c] for c in range(4))) for r in range(4)]
    sums = [reduce(sum(out[j + k] for j in range(0, w, 4))) for k in range(4)]
    return [reduce(v + sums[i % 4]) for i, v in enumerate(out)]


def internal_linear(
    state: Sequence[Any], diag: Sequence[int], reduce: Callable[[Any], Any] = _mod_p
) -> list[Any]:
    """``(1 + Diag(V))·state``, i.e. ``s_i ← Σ s + V_i·s_i``."""
    total = reduce(sum(state))
    return [reduce(total + d * s) for s, d in zip(state, diag, strict=True)]


def sbox(x: int) -> int:
    return pow(x, SBOX_DEGREE, P)


def check_state(state: Sequence[int], width: int) -> list[int]:
    """``state`` as a list of ints, or Poseidon2Error when not ``width`` canonical values."""
    vals = [int(v) for v in state]
    if len(vals) != width:
        raise Poseidon2Error(f"Poseidon2 state must have {width} elements, got {len(vals)}")
    if any(not 0 <= v < P for v in vals):
        raise Poseidon2Error("Poseidon2 state must hold canonical field elements (< P)")
    return vals


def rounds(
    state: Sequence[Any], sbox: Callable[[Any], Any], reduce: Callable[[Any], Any] = _mod_p
) -> list[Any]:
    """The round structure, generic in how an S-box input becomes its output.

    :func:`permute` passes x ↦ x^7; the permutation chip passes a function that records
    the S-box in trace columns (or, for constraints, returns the committed column).
    """
    prm = params(len(state))
    s = external_linear(state, reduce)
    for rc in prm.external_initial:
        s = external_linear([sbox(reduce(v + c)) for v, c in zip(s, rc, strict=True)], reduce)
    for c in prm.internal:
        s[0] = sbox(reduce(s[0] + c))
        s = internal_linear(s, prm.diag, reduce)
    for rc in prm.external_terminal:
        s = external_linear([sbox(reduce(v + c)) for v, c in zip(s, rc, strict=True)], reduce)
    return s


def permute(state: Sequence[int], width: int | None = None) -> list[int]:
    """The Poseidon2 permutation of one state (reference; slow, exact)."""
    w = len(state) if width is None else width
    params(w)  # Poseidon2Error for an unsupported width
    return rounds(check_state(state, w), sbox)
