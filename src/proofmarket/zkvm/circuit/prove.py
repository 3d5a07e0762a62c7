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

from proofmarket.stark import Machine, Table, check_machine, prove_machine, verify_machine
from proofmarket.stark.params import DEFAULT, StarkParams
from proofmarket.zkvm.circuit.boundary import MemoryBoundaryAir
from proofmarket.zkvm.circuit.cpu import CpuAir
from proofmarket.zkvm.circuit.record import SegmentRecord, record_segment
from proofmarket.zkvm.circuit.statement import CpuStatement
from proofmarket.zkvm.circuit.tables import FIXED_LOG_ROWS, FixedTableAir, fixed_trace
from proofmarket.zkvm.circuit.trace import CircuitTraces, UnsupportedInstruction, build_traces
from proofmarket.zkvm.layout import MAX_SEGMENT_PO2
from proofmarket.zkvm.segment import Segment

CPU_AIR = CpuAir()
BOUNDARY_AIR = MemoryBoundaryAir()
FIXED_AIR = FixedTableAir()
_HEIGHTS = range(CPU_AIR.min_log_rows(), MAX_SEGMENT_PO2 + 1)


def execution_tables() -> list[Table]:
    """The CPU table and the fixed u16-range / byte-logic table (in this order)."""
    return [
        Table(CPU_AIR, _HEIGHTS, name="cpu"),
        Table(FIXED_AIR, FIXED_LOG_ROWS, name="fixed"),
    ]


def standalone_machine() -> Machine:
    """The execution tables plus the memory boundary table (no paging)."""
    return Machine(
        [*execution_tables(), Table(BOUNDARY_AIR, range(2, 27), name="boundary")],
        name="zkvm-execution",
    )


def segment_traces(record: SegmentRecord) -> CircuitTraces:
    """Traces of the execution tables for a recorded segment (its final HALT included)."""
    return build_traces(record.rec, record.initial_words, record.post_pc)


def cpu_statement(traces: CircuitTraces) -> CpuStatement:
    """The statement the CPU trace proves (what a verifier must be given)."""
    pre, post, _, halted, lo, hi = traces.publics
    return CpuStatement(pre * 4, post * 4, traces.journal, lo | hi << 16 if halted else None)


def machine_traces(traces: CircuitTraces) -> tuple[list[np.ndarray], list[list[int]]]:
    """Traces and public inputs in :func:`standalone_machine`'s table order."""
    return (
        [traces.cpu, fixed_trace(traces.u16, traces.bitwise), traces.boundary],
        [traces.publics, [], []],
    )


def check_segment_circuit(traces: CircuitTraces) -> CpuStatement:
    """The engine's full check of the execution tables (every constraint and the bus
    balance, the journal's statement terms included); returns the statement checked.

    Raises :class:`~proofmarket.stark.air.TraceCheckError` naming the failing constraint.
    """
    tr, pubs = machine_traces(traces)
    statement = cpu_statement(traces)
    check_machine(standalone_machine(), tr, pubs, statement_terms=statement.terms())
    return statement


def prove_segment_circuit(
    segment: Segment, params: StarkParams = DEFAULT, *, check: bool = True
) -> tuple[bytes, CpuStatement]:
    """Prove a segment's execution tables; returns the proof and its CPU statement."""
    traces = segment_traces(record_segment(segment))
    tr, pubs = machine_traces(traces)
    statement = cpu_statement(traces)
    proof = prove_machine(
        standalone_machine(), tr, pubs, params, check=check, statement_terms=statement.terms()
    )
    return proof.to_bytes(), statement


def verify_segment_circuit(
    proof: bytes,
    statement: CpuStatement,
    params: StarkParams = DEFAULT,
    *,
    log_cpu_rows: int | None = None,
) -> list[int]:
    """Verify a proof of :func:`prove_segment_circuit`; returns the table heights.

    Raises :class:`~proofmarket.stark.VerificationError` when it does not verify.
    """
    pubs = [statement.publics(), [], []]
    heights = [log_cpu_rows, None, None]
    return verify_machine(
        standalone_machine(),
        proof,
        pubs,
        params,
        log_heights=heights,
        statement_terms=statement.terms(),
    )


__all__ = [
    "CpuStatement",
    "UnsupportedInstruction",
    "check_segment_circuit",
    "cpu_statement",
    "execution_tables",
    "machine_traces",
    "prove_segment_circuit",
    "segment_traces",
    "standalone_machine",
    "verify_segment_circuit",
]
