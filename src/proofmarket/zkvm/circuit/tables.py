"""The fixed lookup table of the segment circuit: 16-bit range and byte logic.

It is preprocessed (its contents are committed once per size and cached), with one main
column of multiplicities per tuple kind, so any table of the machine range-checks a limb
by a lookup on :data:`~.buses.U16_BUS` or computes a byte ``and``/``or``/``xor`` by a
lookup on :data:`~.buses.BITWISE_BUS`.
"""

from __future__ import annotations

import numpy as np

from proofmarket.stark.air import Air, AirBuilder
from proofmarket.zkvm.circuit.buses import BITWISE_BUS, U16_BUS

BITWISE_LOG_ROWS = 16
U16_LOG_ROWS = 16
BITWISE_OPS = 4  # 0 and, 1 or, 2 xor, 3 byte pair (range check of x and y)
BYTE_PAIR = 3


FIXED_LOG_ROWS = 16
FIXED_COLUMNS = BITWISE_OPS + 1  # multiplicities: and, or, xor, byte pair, u16 value
U16_COLUMN = BITWISE_OPS


class FixedTableAir(Air):
    """The fixed 2^16-row table behind both lookup buses, one row per byte pair (x, y):
    it provides ``(op, x, y, x op y)`` on :data:`~.buses.BITWISE_BUS` for and, or, xor and
    ``(3, x, y, 0)`` (a range check of two bytes), and ``x·256 + y`` on
    :data:`~.buses.U16_BUS`, each with its own multiplicity column.

    One table instead of a u16 table and a byte table of the same height: one
    preprocessed commitment, one main and one LogUp commitment fewer per segment.
    """

    name = "zkvm-fixed"

    def __init__(self) -> None:
        super().__init__(main_width=FIXED_COLUMNS, preprocessed_width=6)

    def min_log_rows(self) -> int:
        return FIXED_LOG_ROWS

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        idx = np.arange(1 << log_n, dtype=np.uint64)
        x, y = idx >> np.uint64(8), idx & np.uint64(255)
        return np.stack([x, y, x & y, x | y, x ^ y, np.zeros_like(x)], axis=1)

    def define(self, b: AirBuilder) -> None:
        x, y = b.pre(0), b.pre(1)
        for op in range(BITWISE_OPS):
            b.provide([op, x, y, b.pre(2 + op)], b.main(op), bus=BITWISE_BUS, name=f"op {op}")
        b.provide([x * 256 + y], b.main(U16_COLUMN), bus=U16_BUS, name="u16 value")


def fixed_trace(u16: np.ndarray, bitwise: np.ndarray) -> np.ndarray:
    """The fixed table's main trace from the u16 and byte-logic multiplicities."""
    return np.hstack([bitwise, u16]).astype(np.uint64)


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
