"""A toy hash chain: iterate a cubing-and-mixing round with round constants per row.

State ``s`` has ``width`` base-field words. One round (row r → r + 1) is::

    s'_i = Σ_j M[i][j]·s_j^3 + rc_i(r)

with a fixed circulant mixing matrix ``M`` and round constants ``rc_i(r)`` kept in
preprocessed columns (derived from keccak, committed once per trace size). Public inputs
are the initial and the final state, so a proof shows "iterating the round n − 1 times
maps this input to that output". Degree 3. A toy permutation-like function for testing,
not a cryptographic hash.
"""

from __future__ import annotations

import numpy as np
from Crypto.Hash import keccak

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder
from proofmarket.stark.expr import Expr


def _mix_row(width: int) -> list[int]:
    # circulant first row: 2, 1, 1, ... (invertible for the widths used here)
    return [2] + [1] * (width - 1)


def round_constants(width: int, log_n: int) -> np.ndarray:
    """``(2^log_n, width)`` round constants derived from keccak (deterministic)."""
    n = 1 << log_n
    seed = keccak.new(digest_bits=256, data=f"hash-chain-rc/{width}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(seed[:8], "little"))
    return rng.integers(0, F.P, size=(n, width), dtype=np.uint64)


class HashChainAir(Air):
    """Iterated degree-3 round function over ``width`` columns."""

    name = "hash-chain"

    def __init__(self, width: int = 4) -> None:
        if width < 2:
            raise ValueError("hash chain width must be at least 2")
        super().__init__(main_width=width, preprocessed_width=width, num_public_inputs=2 * width)
        self.width = width

    def params_tag(self) -> bytes:
        return self.width.to_bytes(4, "little")

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return round_constants(self.width, log_n)

    def define(self, b: AirBuilder) -> None:
        w = self.width
        cubes: list[Expr] = [b.main(j) ** 3 for j in range(w)]
        row = _mix_row(w)
        for i in range(w):
            mixed: Expr = b.pre(i)
            for j in range(w):
                mixed = mixed + cubes[j] * row[(j - i) % w]
            b.assert_transition(b.main_next(i) - mixed, name=f"round s{i}")
            b.assert_first_row(b.main(i) - b.public(i), name=f"input s{i}")
            b.assert_last_row(b.main(i) - b.public(w + i), name=f"output s{i}")


def hash_chain_trace(inputs: list[int], log_n: int) -> tuple[np.ndarray, list[int]]:
    """Run the chain from ``inputs``; returns the trace and public inputs (input ‖ output)."""
    w = len(inputs)
    n = 1 << log_n
    rc = round_constants(w, log_n)
    row = _mix_row(w)
    trace = np.zeros((n, w), dtype=np.uint64)
    state = [int(v) % F.P for v in inputs]
    for r in range(n):
        trace[r] = state
        cubes = [pow(s, 3, F.P) for s in state]
        state = [
            (int(rc[r, i]) + sum(cubes[j] * row[(j - i) % w] for j in range(w))) % F.P
            for i in range(w)
        ]
    final = [int(v) for v in trace[-1]]
    return trace, [int(v) % F.P for v in inputs] + final
