"""Agent warm-up: run a tiny guest once at start so the executor's JIT compilation (or
cache load) happens before the first real task, not during a broker's preflight."""

from __future__ import annotations

import struct
import time

from proofmarket.cluster.zkvm_api import example_elf, execute, prove_segment

WARM_UP_SEGMENT_PO2 = 13


def warm_up(*, prove: bool, dev_mode: bool) -> float:
    """Execute the ``iter`` guest briefly (and prove one segment if asked); returns seconds."""
    started = time.monotonic()
    session = execute(example_elf("iter"), struct.pack("<I", 1), segment_po2=WARM_UP_SEGMENT_PO2)
    if prove and dev_mode and session.segments:
        prove_segment(session.segments[0], dev_mode=True)
    return time.monotonic() - started
