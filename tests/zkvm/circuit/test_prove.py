"""Execution-table proofs: a valid segment verifies; a tampered witness never does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from proofmarket.stark import VerificationError, prove_machine
from proofmarket.stark.params import TEST
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.cpu import LAYOUT
from proofmarket.zkvm.circuit.isa_table import INDEX
from proofmarket.zkvm.circuit.record import record_segment
from zkvm.circuit.circuit_programs import SYSCALL_INPUT, all_kinds_program, first_segment

pytestmark = pytest.mark.slow


def test_segment_proves_and_verifies_and_its_statement_is_bound() -> None:
    seg = first_segment(all_kinds_program(), exit_code=9)
    proof, st = cp.prove_segment_circuit(seg, TEST)
    assert st.pre_pc == seg.pre_state.pc and st.exit_a0 == 9 << 8
    assert len(st.journal) == 14 and st.journal[:9] == SYSCALL_INPUT[:9]
    heights = cp.verify_segment_circuit(proof, st, TEST)
    assert 1 << heights[0] >= seg.user_cycles > 1 << (heights[0] - 1)  # HALT is a row
    wrong = [
        replace(st, post_pc=st.post_pc + 4),
        replace(st, journal=st.journal[:-1]),
        replace(st, journal=st.journal + b"!"),
        replace(st, journal=bytes([st.journal[0] ^ 1]) + st.journal[1:]),
        replace(st, journal=b""),
        replace(st, exit_a0=8 << 8),
        replace(st, exit_a0=(9 << 8) | 1),  # Paused instead of Halted
        replace(st, exit_a0=None),  # a split segment
    ]
    for bad in wrong:
        with pytest.raises(VerificationError):
            cp.verify_segment_circuit(proof, bad, TEST)
    with pytest.raises(VerificationError):
        cp.verify_segment_circuit(proof, st, TEST, log_cpu_rows=heights[0] + 1)
    with pytest.raises(ValueError, match="aligned"):
        replace(st, pre_pc=st.pre_pc + 2)


def _forced_proof_fails(traces: cp.CircuitTraces) -> None:
    """Prove past the prover's own check; the verifier must reject the proof."""
    tr, pubs = cp.machine_traces(traces)
    st = cp.cpu_statement(traces)
    proof = prove_machine(
        cp.standalone_machine(), tr, pubs, TEST, check=False, statement_terms=st.terms()
    )
    with pytest.raises(VerificationError):
        cp.verify_segment_circuit(proof.to_bytes(), st, TEST)


def _traces() -> cp.CircuitTraces:
    return cp.segment_traces(record_segment(first_segment(all_kinds_program())))


def _row(traces: cp.CircuitTraces, name: str) -> int:
    return int((traces.cpu[:, LAYOUT.sel[INDEX[name]]] == 1).nonzero()[0][0])


def test_tampered_alu_result_does_not_produce_a_verifying_proof() -> None:
    """One mul writes its product ± 1 to rd (product byte, result and bus write agree)."""
    traces = _traces()
    row = _row(traces, "mul")
    delta = 1 if int(traces.cpu[row, LAYOUT.wb[0]]) < 255 else -1
    for col in (LAYOUT.wb[0], LAYOUT.c[0], LAYOUT.new3[0]):
        traces.cpu[row, col] = int(traces.cpu[row, col]) + delta
    _forced_proof_fails(traces)


def test_tampered_memory_read_does_not_produce_a_verifying_proof() -> None:
    """One lw returns a different word than memory holds (row consistent, bus not)."""
    traces = _traces()
    row = _row(traces, "lw")
    for col in (LAYOUT.v2[0], LAYOUT.c[0], LAYOUT.new3[0]):
        traces.cpu[row, col] ^= 1
    _forced_proof_fails(traces)


def test_tampered_branch_witness_does_not_produce_a_verifying_proof() -> None:
    """A wrong pc after a branch: the prover is forced past its own check."""
    traces = _traces()
    cpu = traces.cpu
    row = int((cpu[:, LAYOUT.sel[INDEX["bne"]]] == 1).nonzero()[0][-1])  # loop back-edge
    cpu[row, LAYOUT.taken] ^= 1  # the branch "falls through" while the next row is the target
    _forced_proof_fails(traces)


def test_forged_journal_byte_does_not_produce_a_verifying_proof() -> None:
    """A WRITE to the journal emits a byte the guest's memory does not hold; the
    statement carries the forged journal, so only the memory bus can catch it."""
    traces = _traces()
    cpu = traces.cpu
    rows = np.flatnonzero(cpu[:, LAYOUT.jr] * cpu[:, LAYOUT.sel[INDEX["io_write"]]])
    row = int(rows[0])
    j = int(np.flatnonzero(cpu[row, LAYOUT.inb])[0])
    cpu[row, LAYOUT.mb[j]] ^= 1
    h = j // 2
    cpu[row, LAYOUT.v2[h]] ^= 1 << (8 * (j % 2))
    k = traces.journal.index(bytes([traces.journal[0]]))  # the first journal byte
    assert k == 0
    traces.journal = bytes([traces.journal[0] ^ 1]) + traces.journal[1:]
    _forced_proof_fails(traces)
