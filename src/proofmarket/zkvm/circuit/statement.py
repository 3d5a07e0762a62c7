"""What a segment proof's CPU table states: pcs, the journal bytes written and the exit.

The CPU table's public inputs are ``[pre pc / 4, post pc / 4, journal length, halted,
exit a0 low, exit a0 high]``; the journal bytes themselves are statement bus terms
(``(index, byte)`` provided on :data:`~proofmarket.zkvm.circuit.buses.JOURNAL_BUS`),
which the CPU table's journal WRITE rows must consume exactly. Prover and verifier build
both from this one object, so they cannot disagree on the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proofmarket.stark.statement_bus import StatementTerms
from proofmarket.zkvm.circuit.buses import JOURNAL_BUS


@dataclass(frozen=True)
class CpuStatement:
    """The CPU table's statement for one segment."""

    pre_pc: int
    post_pc: int
    journal: bytes = b""
    exit_a0: int | None = None
    """``a0`` of the segment's final HALT (exit kind | user code << 8); None: no HALT."""

    def __post_init__(self) -> None:
        if self.pre_pc & 3 or self.post_pc & 3:
            raise ValueError("segment pcs are word-aligned")
        for name, pc in (("pre", self.pre_pc), ("post", self.post_pc)):
            if not 0 <= pc < 1 << 32:
                raise ValueError(f"{name} pc {pc:#x} is not a 32-bit address")
        if self.exit_a0 is not None and not 0 <= self.exit_a0 < 1 << 32:
            raise ValueError(f"exit a0 {self.exit_a0:#x} is not a 32-bit word")

    def publics(self) -> list[int]:
        a0 = self.exit_a0 or 0
        halted = 0 if self.exit_a0 is None else 1
        return [
            self.pre_pc >> 2,
            self.post_pc >> 2,
            len(self.journal),
            halted,
            a0 & 0xFFFF,
            a0 >> 16,
        ]

    def terms(self) -> list[StatementTerms]:
        """The journal bytes, provided once each as ``(index, byte)``."""
        if not self.journal:
            return []
        data = np.frombuffer(self.journal, dtype=np.uint8).astype(np.uint64)
        idx = np.arange(len(data), dtype=np.uint64)
        return [StatementTerms(JOURNAL_BUS, np.stack([idx, data], axis=1), multiplicity=-1)]
