"""Fixed lookup tables of the segment circuit: 16-bit range and byte logic.

Both are preprocessed (their contents are committed once per size and cached), with one
main column of multiplicities per tuple kind, so any table of the machine range-checks a
limb by a lookup on :data:`~.buses.U16_BUS` or computes a byte ``and``/``or``/``xor`` by
a lookup on :data:`~.buses.BITWISE_BUS`.
"""

from __future__ import annotations

import numpy as np

from proofmarket.stark.air import Air, AirBuilder
from proofmarket.zkvm.circuit.buses import BITWISE_BUS, U16_BUS

U16_LOG_ROWS = 16
BITWISE_LOG_ROWS = 16
BITWISE_OPS = 4  # 0 and, 1 or, 2 xor, 3 byte pair (range check of x and y)
BYTE_PAIR = 3


class U16TableAir(Air):
    """Provides every value 0…65535 once per row, ``mult`` times."""

    name = "zkvm-u16"

    def __init__(self) -> None:
        super().__init__(main_width=1, preprocessed_width=1)

    def min_log_rows(self) -> int:
        return U16_LOG_ROWS

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return np.arange(1 << log_n, dtype=np.uint64).reshape(-1, 1)

    def define(self, b: AirBuilder) -> None:
        b.provide([b.pre(0)], b.main(0), bus=U16_BUS, name="u16 value")


class BitwiseTableAir(Air):
    """Row ``x·256 + y`` provides ``(op, x, y, x op y)`` for and, or, xor, and
    ``(3, x, y, 0)``, a range check of two bytes at once."""

    name = "zkvm-bitwise"

    def __init__(self) -> None:
        super().__init__(main_width=BITWISE_OPS, preprocessed_width=6)

    def min_log_rows(self) -> int:
        return BITWISE_LOG_ROWS

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        idx = np.arange(1 << log_n, dtype=np.uint64)
        x, y = idx >> np.uint64(8), idx & np.uint64(255)
        return np.stack([x, y, x & y, x | y, x ^ y, np.zeros_like(x)], axis=1)

    def define(self, b: AirBuilder) -> None:
        x, y = b.pre(0), b.pre(1)
        for op in range(BITWISE_OPS):
            b.provide([op, x, y, b.pre(2 + op)], b.main(op), bus=BITWISE_BUS, name=f"op {op}")


def u16_multiplicities(values: np.ndarray) -> np.ndarray:
    """The u16 table's main trace for a flat array of looked-up values (all < 2^16)."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size and (v.min() < 0 or v.max() >= 1 << 16):
        raise ValueError("a range-checked value is outside [0, 2^16)")
    return np.bincount(v, minlength=1 << 16).astype(np.uint64).reshape(-1, 1)


def bitwise_multiplicities(ops: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The bitwise table's main trace for flat arrays of (op, x, y) lookups."""
    out = np.zeros((1 << BITWISE_LOG_ROWS, BITWISE_OPS), dtype=np.uint64)
    idx = np.asarray(x, dtype=np.int64) * 256 + np.asarray(y, dtype=np.int64)
    for op in range(BITWISE_OPS):
        sel = np.asarray(ops) == op
        out[:, op] = np.bincount(idx[sel], minlength=1 << BITWISE_LOG_ROWS)
    return out
