"""The CPU table on real executor records: every constrained kind, proofs, bad paths."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from proofmarket.stark import field as F
from proofmarket.stark.air import TraceCheckError
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.cpu import LAYOUT
from proofmarket.zkvm.circuit.isa_table import INDEX, INSNS
from proofmarket.zkvm.circuit.record import record_segment
from proofmarket.zkvm.circuit.trace import CircuitTraces, UnsupportedInstruction
from proofmarket.zkvm.isa import asm
from zkvm.circuit.circuit_programs import all_kinds_program, first_segment


@pytest.fixture(scope="module")
def traces() -> CircuitTraces:
    return cp.segment_traces(record_segment(first_segment(all_kinds_program())))


def _check(t: CircuitTraces) -> None:
    cp.check_segment_circuit(t)


def _rows_of(t: CircuitTraces, name: str) -> np.ndarray:
    return np.flatnonzero(t.cpu[:, LAYOUT.sel[INDEX[name]]] == 1)


def test_every_constrained_kind_is_executed_and_checks(traces: CircuitTraces) -> None:
    used = traces.cpu[:, LAYOUT.sel].sum(axis=0)
    assert all(used > 0), [i.name for i, u in zip(INSNS, used, strict=True) if not u]
    _check(traces)


def test_records_match_the_executor() -> None:
    seg = first_segment(all_kinds_program())
    rec = record_segment(seg).rec
    assert len(rec) == seg.user_cycles
    assert int(rec[0, 0]) == seg.pre_state.pc


def test_unsupported_instruction_is_refused() -> None:
    """A record holding a word the circuit has no kind for (ebreak) is refused."""
    record = record_segment(first_segment([asm("addi", "a0", "a0", 1)]))
    record.rec[0, 1] = 0x0010_0073
    with pytest.raises(UnsupportedInstruction, match="not constrained"):
        cp.segment_traces(record)


def test_wrong_alu_result_is_caught(traces: CircuitTraces) -> None:
    """A tampered executor: one add writes sum + 1 to rd (consistently on the bus)."""
    row = int(_rows_of(traces, "add")[0])
    saved = traces.cpu[row].copy()
    for col in (LAYOUT.s[0], LAYOUT.c[0], LAYOUT.new3[0]):
        traces.cpu[row, col] = (int(traces.cpu[row, col]) + 1) % 65536
    try:
        with pytest.raises(TraceCheckError, match="adder low"):
            _check(traces)
    finally:
        traces.cpu[row] = saved


def test_wrong_memory_read_is_caught(traces: CircuitTraces) -> None:
    row = int(_rows_of(traces, "lw")[0])
    saved = traces.cpu[row].copy()
    for col in (LAYOUT.v2[0], LAYOUT.c[0], LAYOUT.new3[0]):
        traces.cpu[row, col] ^= 1
    try:
        with pytest.raises(TraceCheckError, match="buses must balance"):
            _check(traces)
    finally:
        traces.cpu[row] = saved


def test_wrong_pc_after_branch_is_caught(traces: CircuitTraces) -> None:
    row = int(_rows_of(traces, "beq")[0])  # taken: the next row fetches pc + 8
    saved = traces.cpu[row].copy()
    traces.cpu[row, LAYOUT.taken] = 0
    try:
        with pytest.raises(TraceCheckError, match="branch taken"):
            _check(traces)
    finally:
        traces.cpu[row] = saved
    _check(traces)


def test_division_with_a_too_large_remainder_is_caught(traces: CircuitTraces) -> None:
    """divu answers q − 1 with remainder r + b: q·b + r = a still holds, r < b does not."""
    row = int(_rows_of(traces, "divu")[0])
    cpu = traces.cpu
    saved = cpu[row].copy()
    L = LAYOUT

    def word(cols: list[int]) -> int:
        return sum(int(cpu[row, c]) << (8 * j) for j, c in enumerate(cols))

    a = int(cpu[row, L.v1[0]]) | int(cpu[row, L.v1[1]]) << 16
    b = int(cpu[row, L.b[0]]) | int(cpu[row, L.b[1]]) << 16
    q, r = word(L.xb), word(L.zb)
    assert b and q * b + r == a and r < b
    q, r = q - 1, r + b
    for j in range(4):
        cpu[row, L.xb[j]] = (q >> (8 * j)) & 255
        cpu[row, L.zb[j]] = (r >> (8 * j)) & 255
    carry = 0
    for k in range(8):  # the product bytes stay a's; only the carries move
        col = carry + (((r >> (8 * k)) & 255) if k < 4 else 0)
        col += sum(
            ((q >> (8 * i)) & 255) * ((b >> (8 * (k - i))) & 255)
            for i in range(k + 1)
            if i < 4 and k - i < 4
        )
        assert col & 255 == int(cpu[row, L.wb[k]])
        carry = col >> 8
        cpu[row, L.mc[k]] = carry
    lo = (r & 0xFFFF) + (0xFFFF - (b & 0xFFFF)) + 1
    hi = (r >> 16) + (0xFFFF - (b >> 16)) + (lo >> 16)
    cpu[row, L.s[0]], cpu[row, L.s[1]] = lo & 0xFFFF, hi & 0xFFFF
    cpu[row, L.carry[0]], cpu[row, L.carry[1]] = lo >> 16, hi >> 16
    cpu[row, L.sd], cpu[row, L.drest] = (hi & 0xFFFF) >> 15, hi & 0x7FFF
    s_sum = (lo & 0xFFFF) + (hi & 0xFFFF)
    cpu[row, L.eq] = int(s_sum == 0)
    cpu[row, L.eq_inv] = pow(s_sum, F.P - 2, F.P) if s_sum else 0
    cpu[row, L.c[0]], cpu[row, L.c[1]] = q & 0xFFFF, q >> 16
    cpu[row, L.new3[0]], cpu[row, L.new3[1]] = q & 0xFFFF, q >> 16
    try:
        with pytest.raises(TraceCheckError, match="remainder below divisor"):
            _check(traces)
    finally:
        cpu[row] = saved


def _tampered_fails(traces: CircuitTraces, row: int, changes: dict[int, int]) -> None:
    saved = traces.cpu[row].copy()
    for col, value in changes.items():
        traces.cpu[row, col] = value
    try:
        with pytest.raises(TraceCheckError):
            _check(traces)
    finally:
        traces.cpu[row] = saved


def test_a_read_outside_its_buffer_is_caught(traces: CircuitTraces) -> None:
    row = int(_rows_of(traces, "io_read")[1])  # an inner word of the unaligned READ
    _tampered_fails(traces, row, {LAYOUT.wq: int(traces.cpu[row, LAYOUT.wq]) + 1})


def test_a_skipped_journal_byte_is_caught(traces: CircuitTraces) -> None:
    rows = _rows_of(traces, "io_write")
    row = int(rows[traces.cpu[rows, LAYOUT.jr] == 1][0])
    j = int(np.flatnonzero(traces.cpu[row, LAYOUT.inb])[-1])
    _tampered_fails(traces, row, {LAYOUT.inb[j]: 0})


def test_a_syscall_result_above_the_request_is_caught(traces: CircuitTraces) -> None:
    """READ claims one byte more than it moved (a0, the bus write and k agree)."""
    row = int(np.flatnonzero(traces.cpu[:, LAYOUT.sys[1]])[0])
    k = int(traces.cpu[row, LAYOUT.c[0]]) + 1
    _tampered_fails(traces, row, {LAYOUT.c[0]: k, LAYOUT.new3[0]: k, LAYOUT.b[0]: k})


def test_a_write_dressed_as_a_read_is_caught(traces: CircuitTraces) -> None:
    row = int(np.flatnonzero(traces.cpu[:, LAYOUT.sys[2]])[0])
    _tampered_fails(traces, row, {LAYOUT.sys[2]: 0, LAYOUT.sys[1]: 1, LAYOUT.jr: 0})


def _restate_journal(t: CircuitTraces) -> CircuitTraces:
    """Recount the journal columns and statement after a change of journal flags."""
    cpu = t.cpu.copy()
    inb = cpu[:, LAYOUT.inb].astype(bool)
    moved = cpu[:, LAYOUT.jr].astype(np.int64) * inb.sum(axis=1)
    cpu[:, LAYOUT.jcount] = np.concatenate([[0], np.cumsum(moved)[:-1]])
    words = cpu[:, LAYOUT.mb].astype(np.uint8)
    journal = words[inb & (cpu[:, LAYOUT.jr] == 1)[:, None]].tobytes()
    publics = [*t.publics[:2], len(journal), *t.publics[3:]]
    return dataclasses.replace(t, cpu=cpu, publics=publics, journal=journal)


@pytest.mark.parametrize("flag", [0, 1])
def test_io_rows_cannot_change_the_journal_flag(traces: CircuitTraces, flag: int) -> None:
    """Dropping a journal WRITE's bytes from the journal, or adding a stdout WRITE's,
    with the journal count and the statement recomputed to match, is caught."""
    rows = _rows_of(traces, "io_write")
    target = int(rows[traces.cpu[rows, LAYOUT.jr] == 1 - flag][0])
    forged = dataclasses.replace(traces, cpu=traces.cpu.copy())
    start = target
    while forged.cpu[start, LAYOUT.first] == 0:
        start -= 1
    row = start
    while True:  # every I/O row of that WRITE
        forged.cpu[row, LAYOUT.jr] = flag
        if forged.cpu[row, LAYOUT.last]:
            break
        row += 1
    with pytest.raises(TraceCheckError, match="keep the journal flag"):
        _check(_restate_journal(forged))
