"""Entry points: the execution tables of a segment, their traces, prove and verify.

``execution_tables()`` are the tables the paging side composes with its page-in/page-out
tables into one :class:`~proofmarket.stark.Machine` (which then replace the memory
boundary table). ``prove_segment_circuit`` / ``verify_segment_circuit`` prove the
execution tables with the boundary table standing in for paging: the proof shows that
the recorded instructions ran correctly from *some* initial memory, not that this memory
is the pre-state root's (that binding is the paging tables' job).
"""

from __future__ import annotations

import numpy as np

from proofmarket.stark import Machine, Table, prove_machine, verify_machine
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.zkvm.circuit.boundary import MemoryBoundaryAir
from proofmarket.zkvm.circuit.cpu import CpuAir
from proofmarket.zkvm.circuit.record import SegmentRecord, record_segment
from proofmarket.zkvm.circuit.tables import (
    BITWISE_LOG_ROWS,
    U16_LOG_ROWS,
    BitwiseTableAir,
    U16TableAir,
)
from proofmarket.zkvm.circuit.trace import CircuitTraces, UnsupportedInstruction, build_traces
from proofmarket.zkvm.layout import MAX_SEGMENT_PO2
from proofmarket.zkvm.segment import Segment

CPU_AIR = CpuAir()
BOUNDARY_AIR = MemoryBoundaryAir()
U16_AIR = U16TableAir()
BITWISE_AIR = BitwiseTableAir()
_HEIGHTS = range(CPU_AIR.min_log_rows(), MAX_SEGMENT_PO2 + 1)


def execution_tables() -> list[Table]:
    """CPU, u16 range and byte-logic tables (in this order)."""
    return [
        Table(CPU_AIR, _HEIGHTS, name="cpu"),
        Table(U16_AIR, U16_LOG_ROWS, name="u16"),
        Table(BITWISE_AIR, BITWISE_LOG_ROWS, name="bitwise"),
    ]


def standalone_machine() -> Machine:
    """The execution tables plus the memory boundary table (no paging)."""
    return Machine(
        [*execution_tables(), Table(BOUNDARY_AIR, range(2, 27), name="boundary")],
        name="zkvm-execution",
    )


def segment_traces(record: SegmentRecord) -> CircuitTraces:
    """Traces of the execution tables for a recorded segment.

    A final HALT is the last record; its ``ecall`` is not constrained yet, so the proven
    rows stop before it and the post-state pc is the ``ecall``'s.
    """
    rec = record.rec
    post_pc = record.post_pc
    if len(rec) and int(rec[-1, 1]) == 0x73:
        post_pc = int(rec[-1, 0])
        rec = rec[:-1]
    return build_traces(rec, record.initial_words, post_pc)


def machine_traces(traces: CircuitTraces) -> tuple[list[np.ndarray], list[list[int]]]:
    """Traces and public inputs in :func:`standalone_machine`'s table order."""
    return (
        [traces.cpu, traces.u16, traces.bitwise, traces.boundary],
        [traces.publics, [], [], []],
    )


def prove_segment_circuit(
    segment: Segment, params: StarkParams = DEFAULT, *, check: bool = True
) -> tuple[bytes, list[int]]:
    """Prove a segment's execution tables; returns the proof and the CPU publics
    ``[pre pc / 4, post pc / 4]``."""
    traces = segment_traces(record_segment(segment))
    tr, pubs = machine_traces(traces)
    proof = prove_machine(standalone_machine(), tr, pubs, params, check=check)
    return proof.to_bytes(), traces.publics


def verify_segment_circuit(
    proof: bytes,
    pre_pc: int,
    post_pc: int,
    params: StarkParams = DEFAULT,
    *,
    log_cpu_rows: int | None = None,
) -> list[int]:
    """Verify a proof of :func:`prove_segment_circuit`; returns the table heights.

    Raises :class:`~proofmarket.stark.VerificationError` when it does not verify.
    """
    if pre_pc & 3 or post_pc & 3:
        raise ValueError("segment pcs are word-aligned")
    pubs = [[pre_pc >> 2, post_pc >> 2], [], [], []]
    heights = [log_cpu_rows, None, None, None]
    return verify_machine(standalone_machine(), proof, pubs, params, log_heights=heights)


__all__ = [
    "UnsupportedInstruction",
    "execution_tables",
    "machine_traces",
    "prove_segment_circuit",
    "segment_traces",
    "standalone_machine",
    "verify_segment_circuit",
]
