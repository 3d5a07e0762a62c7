"""Memory boundary table: the initial and final state of every word a segment touches.

Each row provides ``(addr, 0, initial value)`` and consumes ``(addr, ts_final, final
value)`` on the memory bus. The paging tables play this role in a full segment proof
(where the initial values are bound to the pre-state root and the final ones to the
post-state root); on its own this table binds nothing to a root, so it is what tests of
the execution tables use in place of paging.
"""

from __future__ import annotations

from proofmarket.stark.air import Air, AirBuilder
from proofmarket.zkvm.circuit.buses import INITIAL_TIMESTAMP, MEMORY_BUS, U16_BUS

ADDR, INIT_LO, INIT_HI, FINAL_TS, FINAL_LO, FINAL_HI, IS_REAL = range(7)
WIDTH = 7


class MemoryBoundaryAir(Air):
    """Provides initial word states and consumes final ones (one row per word)."""

    name = "zkvm-memory-boundary"

    def __init__(self) -> None:
        super().__init__(main_width=WIDTH)

    def define(self, b: AirBuilder) -> None:
        real = b.main(IS_REAL)
        b.assert_every_row(real * (real - 1), name="is_real boolean")
        addr = b.main(ADDR)
        b.provide(
            [addr, INITIAL_TIMESTAMP, b.main(INIT_LO), b.main(INIT_HI)], real, bus=MEMORY_BUS,
            name="initial state",
        )  # fmt: skip
        b.lookup(
            [addr, b.main(FINAL_TS), b.main(FINAL_LO), b.main(FINAL_HI)], real, bus=MEMORY_BUS,
            name="final state",
        )  # fmt: skip
        b.lookup([b.main(INIT_LO)], real, bus=U16_BUS, name="initial low limb")
        b.lookup([b.main(INIT_HI)], real, bus=U16_BUS, name="initial high limb")
