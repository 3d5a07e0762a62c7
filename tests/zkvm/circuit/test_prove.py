"""Execution-table proofs: a valid segment verifies; a tampered witness never does."""

from __future__ import annotations

import pytest

from proofmarket.stark import VerificationError, prove_machine
from proofmarket.stark.params import TEST
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.cpu import LAYOUT
from proofmarket.zkvm.circuit.isa_table import INDEX
from proofmarket.zkvm.circuit.record import record_segment
from zkvm.circuit.circuit_programs import all_kinds_program, first_segment

pytestmark = pytest.mark.slow


def test_segment_proves_and_verifies_and_pcs_are_bound() -> None:
    seg = first_segment(all_kinds_program())
    proof, pubs = cp.prove_segment_circuit(seg, TEST)
    assert pubs[0] * 4 == seg.pre_state.pc
    heights = cp.verify_segment_circuit(proof, pubs[0] * 4, pubs[1] * 4, TEST)
    assert 1 << heights[0] >= seg.user_cycles - 1 > 1 << (heights[0] - 1)  # HALT not proven
    with pytest.raises(VerificationError):
        cp.verify_segment_circuit(proof, pubs[0] * 4, pubs[1] * 4 + 4, TEST)
    with pytest.raises(VerificationError):
        pre, post = pubs[0] * 4, pubs[1] * 4
        cp.verify_segment_circuit(proof, pre, post, TEST, log_cpu_rows=heights[0] + 1)
    with pytest.raises(ValueError, match="aligned"):
        cp.verify_segment_circuit(proof, pubs[0] * 4 + 2, pubs[1] * 4, TEST)


def _forced_proof_fails(traces: cp.CircuitTraces) -> None:
    """Prove past the prover's own check; the verifier must reject the proof."""
    tr, pubs = cp.machine_traces(traces)
    proof = prove_machine(cp.standalone_machine(), tr, pubs, TEST, check=False)
    with pytest.raises(VerificationError):
        cp.verify_segment_circuit(proof.to_bytes(), pubs[0][0] * 4, pubs[0][1] * 4, TEST)


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
