"""Run a segment from its pre-state with the interpreter's trace recording switched on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proofmarket.zkvm.layout import PAGE_BYTES
from proofmarket.zkvm.segment import Segment, replay_machine


@dataclass
class SegmentRecord:
    """The per-instruction records of one segment and the memory it starts from."""

    rec: np.ndarray  # (instructions, REC_WIDTH) int64
    pages: dict[int, bytes]
    post_pc: int

    def initial_words(self, word_addresses: np.ndarray) -> np.ndarray:
        """Values of words before the segment (every touched word lies in a carried page)."""
        out = np.zeros(len(word_addresses), dtype=np.int64)
        per_page = PAGE_BYTES // 4
        views = {p: np.frombuffer(b, dtype="<u4") for p, b in self.pages.items()}
        for i, wa in enumerate(np.asarray(word_addresses, dtype=np.int64)):
            page, off = divmod(int(wa), per_page)
            view = views.get(page)
            if view is None:
                raise ValueError(f"word {int(wa) * 4:#x} lies in a page the segment does not carry")
            out[i] = int(view[off])
        return out


def record_segment(segment: Segment) -> SegmentRecord:
    """Replay ``segment`` (numba backend) recording every instruction it executes."""
    machine = replay_machine(segment, "numba")
    machine.start_recording((1 << segment.po2) + 1)
    run = machine.run_segment(segment.po2, record=False)
    return SegmentRecord(machine.records.copy(), dict(segment.pages), run.pc)
