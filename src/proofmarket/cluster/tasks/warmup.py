"""Agent warm-up: run a tiny guest once at start so the executor's JIT compilation (or
cache load) happens before the first real task, not during a broker's preflight.

A dev-mode prove agent also proves that guest's first segment (a replay). A real prove
agent imports the STARK prover and the segment circuit instead (about a second): proving
a segment here would hold the agent for the length of a real proof before it serves.
"""

from __future__ import annotations

import importlib
import struct
import time

from proofmarket.cluster.zkvm_api import example_elf, execute, prove_segment

WARM_UP_SEGMENT_PO2 = 13
STARK_MODULES = ("proofmarket.zkvm.stark_seal", "proofmarket.zkvm.circuit.paging_machine")


def warm_up(*, prove: bool, dev_mode: bool) -> float:
    """Execute the ``iter`` guest briefly (and prepare proving if asked); returns seconds."""
    started = time.monotonic()
    session = execute(example_elf("iter"), struct.pack("<I", 1), segment_po2=WARM_UP_SEGMENT_PO2)
    if prove and dev_mode and session.segments:
        prove_segment(session.segments[0], dev_mode=True)
    elif prove:
        for module in STARK_MODULES:
            importlib.import_module(module)
    return time.monotonic() - started
