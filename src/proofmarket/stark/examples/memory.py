"""Offline memory checking with LogUp: the pattern the RV32IM circuit uses for memory.

One row per memory access. Columns::

    0 addr   1 clk   2 val   3 prev_clk   4 prev_val   5 is_write
    6 diff_lo   7 diff_hi   8 byte_mult

* ``clk`` is the row number + 1 (first row 1, +1 per row), so timestamps are unique.
* Each access *consumes* the cell's previous state ``(addr, prev_clk, prev_val)`` and
  *produces* its new state ``(addr, clk, val)`` on the memory bus.
* A read keeps the value: ``(1 − is_write)·(val − prev_val) = 0``.
* Time moves forward: ``clk − prev_clk − 1 = diff_lo + 256·diff_hi`` with both limbs looked
  up in a preprocessed byte table (so ``0 < clk − prev_clk ≤ 2^16``).
* The statement provides every cell's initial state ``(addr, 0, init)`` and consumes its
  final state ``(addr, last_clk, final)`` on the bus (public inputs, recomputed by the
  verifier). The bus balances iff every consumed state was produced exactly once — which
  is exactly memory consistency.

Public inputs: for each of the ``cells`` addresses 0..cells−1: initial value, final value,
clock of the last access (0 if never accessed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder

BYTE_BUS = 0
MEMORY_BUS = 1


class MemoryAir(Air):
    """Read/write memory over ``cells`` addresses, checked with a LogUp memory bus."""

    name = "memory-logup"

    def __init__(self, cells: int = 4) -> None:
        if cells < 1:
            raise ValueError("memory needs at least one cell")
        super().__init__(main_width=9, preprocessed_width=1, num_public_inputs=3 * cells)
        self.cells = cells

    def min_log_rows(self) -> int:
        return 8  # the byte table

    def params_tag(self) -> bytes:
        return self.cells.to_bytes(4, "little")

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return (np.arange(1 << log_n, dtype=np.uint64) % 256)[:, None]

    def define(self, b: AirBuilder) -> None:
        addr, clk, val, prev_clk, prev_val, is_write, lo, hi, mult = (b.main(i) for i in range(9))
        b.assert_first_row(clk - 1, name="clk starts at 1")
        b.assert_transition(b.main_next(1) - clk - 1, name="clk increments")
        b.assert_every_row(is_write * (is_write - 1), name="is_write is boolean")
        b.assert_every_row((1 - is_write) * (val - prev_val), name="reads keep the value")
        b.assert_every_row(clk - prev_clk - 1 - (lo + hi * 256), name="time moves forward")
        b.lookup([lo], bus=BYTE_BUS, name="diff_lo is a byte")
        b.lookup([hi], bus=BYTE_BUS, name="diff_hi is a byte")
        b.provide([b.pre(0)], mult, bus=BYTE_BUS, name="byte table")
        b.lookup([addr, prev_clk, prev_val], bus=MEMORY_BUS, name="consume previous state")
        b.provide([addr, clk, val], 1, bus=MEMORY_BUS, name="produce new state")
        for a in range(self.cells):
            init, final, last = (b.public(3 * a + k) for k in range(3))
            b.public_provide([a, 0, init], 1, bus=MEMORY_BUS, name=f"initial cell {a}")
            b.public_lookup([a, last, final], 1, bus=MEMORY_BUS, name=f"final cell {a}")


def memory_trace(
    initial: Sequence[int], ops: Sequence[tuple[int, bool, int]], log_n: int
) -> tuple[np.ndarray, list[int]]:
    """Run ``ops`` = (addr, is_write, value) on memory ``initial``; pad with reads of cell 0.

    Returns the trace and the public inputs (init, final, last clock per cell).
    """
    n = 1 << log_n
    cells = len(initial)
    if len(ops) > n:
        raise ValueError(f"{len(ops)} accesses do not fit in {n} rows")
    mem = [int(v) % F.P for v in initial]
    last = [0] * cells
    rows = []
    padded = list(ops) + [(0, False, 0)] * (n - len(ops))
    for r, (addr, is_write, value) in enumerate(padded):
        if not 0 <= addr < cells:
            raise ValueError(f"address {addr} outside memory of {cells} cells")
        clk = r + 1
        prev_clk, prev_val = last[addr], mem[addr]
        val = int(value) % F.P if is_write else prev_val
        diff = clk - prev_clk - 1
        if diff >= 1 << 16:
            raise ValueError("a cell was not accessed for 2^16 cycles (add a refresh read)")
        rows.append([addr, clk, val, prev_clk, prev_val, int(is_write), diff % 256, diff // 256, 0])
        mem[addr], last[addr] = val, clk
    trace = np.array(rows, dtype=np.uint64)
    counts = np.bincount(trace[:, 6].astype(np.int64), minlength=256) + np.bincount(
        trace[:, 7].astype(np.int64), minlength=256
    )
    trace[:256, 8] = counts[:256].astype(np.uint64)
    public: list[int] = []
    for a in range(cells):
        public += [int(initial[a]) % F.P, mem[a], last[a]]
    return trace, public
