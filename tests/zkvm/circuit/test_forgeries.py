"""Forged witnesses: a lying prover edits CPU columns, recomputes everything derived
(:mod:`zkvm.circuit.forgery`), and the circuit must still refuse.

Each case models one attack surface of the CPU table (decode, x0, immediates, pc
updates, adder and comparator, multiplier, division, loads and stores, the memory
argument, syscall rows, padding). Every forgery first passes through
:func:`forgery.restate`, so what catches it is the constraint named in the case, not a
stale derived column.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pytest

from proofmarket.stark.air import TraceCheckError
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.buses import REG_WORD_BASE
from proofmarket.zkvm.circuit.isa_table import INDEX
from proofmarket.zkvm.circuit.record import record_segment
from proofmarket.zkvm.circuit.trace import CircuitTraces
from zkvm.circuit import forgery as fg
from zkvm.circuit.circuit_programs import all_kinds_program, first_segment

L = fg.L
BALANCE = "buses must balance"


@pytest.fixture(scope="module")
def traces() -> CircuitTraces:
    return cp.segment_traces(record_segment(first_segment(all_kinds_program())))


def _row(cpu: np.ndarray, name: str, pick: Callable[[np.ndarray], bool] = lambda r: True) -> int:
    rows = np.flatnonzero(cpu[:, L.sel[INDEX[name]]] == 1)
    return int(next(r for r in rows if pick(cpu[r])))


def _insn(r: np.ndarray) -> int:
    return sum(int(r[L.bits[i]]) << i for i in range(32))


def _journal_write(cpu: np.ndarray) -> int:
    """The first journal WRITE that moves more than one word."""
    return int(
        np.flatnonzero((cpu[:, L.sys[2]] == 1) & (cpu[:, L.jr] == 1) & (cpu[:, L.c[0]] > 4))[0]
    )


def _forge(t: CircuitTraces, edit: Callable[[np.ndarray], np.ndarray | None]) -> CircuitTraces:
    cpu = t.cpu.astype(np.int64)
    out = edit(cpu)
    return fg.restate(dataclasses.replace(t, cpu=(cpu if out is None else out).astype(np.uint32)))


# --- the attacks ---------------------------------------------------------------------------


def short_journal_write(cpu: np.ndarray) -> np.ndarray:
    """A 9-byte journal WRITE that moves 5: the journal loses its tail (a0 says 5)."""
    return fg.shorten_transfer(cpu, _journal_write(cpu), 5)


def empty_journal_write(cpu: np.ndarray) -> np.ndarray:
    """A journal WRITE that moves nothing at all (no I/O rows, a0 = 0)."""
    return fg.shorten_transfer(cpu, _journal_write(cpu), 0)


def add_decoded_as_sub(cpu: np.ndarray) -> None:
    """The add word selected as sub (same opcode and funct3), rd gets a − b."""
    r = _row(cpu, "add", lambda x: x[L.z[2]] == 0)
    cpu[r, L.sel[INDEX["add"]]], cpu[r, L.sel[INDEX["sub"]]] = 0, 1
    a, b = fg.word(cpu, r, L.v1), fg.word(cpu, r, L.b)
    fg.set_adder(cpu, r, a, b ^ 0xFFFFFFFF, 1)
    diff = (a - b) & 0xFFFFFFFF
    fg.set_limbs(cpu, r, L.c, diff)
    fg.set_limbs(cpu, r, L.new3, diff)


def write_to_x0(cpu: np.ndarray) -> None:
    """``add zero, a0, a1`` writes x0 (the register word at REGS_ADDR)."""
    r = _row(cpu, "add", lambda x: x[L.z[2]] == 1)
    cpu[r, L.z[2]], cpu[r, L.act[3]] = 0, 1
    cpu[r, L.addr3] = REG_WORD_BASE
    cpu[r, L.new3[0]], cpu[r, L.new3[1]] = cpu[r, L.c[0]], cpu[r, L.c[1]]


def x0_reads_nonzero(cpu: np.ndarray) -> None:
    """``add a2, zero, a1`` reads 5 from x0 (without a memory access)."""
    r = _row(cpu, "add", lambda x: x[L.z[0]] == 1)
    cpu[r, L.v1[0]] = 5
    cpu[r, L.ra] = 0
    total = 5 + fg.word(cpu, r, L.b)
    fg.set_adder(cpu, r, 5, fg.word(cpu, r, L.b), 0)
    fg.set_limbs(cpu, r, L.c, total)
    fg.set_limbs(cpu, r, L.new3, total)


def addi_other_immediate(cpu: np.ndarray) -> None:
    """addi uses an immediate one more than its word's."""
    r = _row(cpu, "addi", lambda x: x[L.z[2]] == 0 and x[L.z[0]] == 0)
    a, b = fg.word(cpu, r, L.v1), fg.word(cpu, r, L.b) + 1
    fg.set_limbs(cpu, r, L.b, b)
    cpu[r, L.rb] = (b >> 16) & 0x7FFF
    fg.set_adder(cpu, r, a, b & 0xFFFFFFFF, 0)
    fg.set_limbs(cpu, r, L.c, (a + b) & 0xFFFFFFFF)
    fg.set_limbs(cpu, r, L.new3, (a + b) & 0xFFFFFFFF)


def sltu_flipped(cpu: np.ndarray) -> None:
    """sltu answers 1 for 0x80000001 < 7."""
    r = _row(cpu, "sltu")
    cpu[r, L.lt], cpu[r, L.c[0]], cpu[r, L.new3[0]] = 1, 1, 1


def beq_equal_claimed(cpu: np.ndarray) -> None:
    """A not-taken beq (a0 != a1) claims equality through eq (the inverse says no)."""
    r = _row(cpu, "beq", lambda x: x[L.taken] == 0)
    cpu[r, L.eq], cpu[r, L.taken] = 1, 1


def jalr_to_half_word(cpu: np.ndarray) -> None:
    """jalr whose immediate has bit 1 set: the target word is the same, bit 1 of the
    byte target is 1 (the executor faults; the circuit must refuse, not round it)."""
    r = _row(cpu, "jalr")
    cpu[r, L.bits[21]] = 1  # imm_i bit 1 (also a bit of the unused rs2 field)
    field = (_insn(cpu[r]) >> 20) & 31
    cpu[r, L.z[1]], cpu[r, L.z_inv[1]] = 0, pow(field, fg.F.P - 2, fg.F.P)
    a, b = fg.word(cpu, r, L.v1), fg.word(cpu, r, L.b) + 2
    fg.set_limbs(cpu, r, L.b, b)
    fg.set_adder(cpu, r, a, b, 0)
    cpu[r, L.s1] = 1


def shift_amount_plus_32(cpu: np.ndarray) -> None:
    """srl by 35 read as a shift by 35 (sh = 3 + 32, the rest one less)."""
    r = _row(cpu, "srl", lambda x: x[L.sh] == 3)
    cpu[r, L.sh] += 32
    cpu[r, L.sh_rest] -= 1


def division_by_zero_quotient(cpu: np.ndarray) -> None:
    """divu by zero answers 0 instead of all ones (q·0 + r = a still holds)."""
    r = _row(cpu, "divu", lambda x: x[L.bz] == 1)
    for j in range(4):
        cpu[r, L.xb[j]] = 0
    cpu[r, L.c[0]], cpu[r, L.c[1]] = 0, 0
    cpu[r, L.new3[0]], cpu[r, L.new3[1]] = 0, 0


def lb_without_sign(cpu: np.ndarray) -> None:
    """lb of 0x81 zero-extends (sign 0, rest 0x81)."""
    r = _row(cpu, "lb", lambda x: x[L.lsgn] == 1 and x[L.lrest] == 1)
    cpu[r, L.lsgn], cpu[r, L.lrest] = 0, 0x81
    cpu[r, L.c[0]], cpu[r, L.c[1]] = 0x81, 0
    cpu[r, L.new3[0]], cpu[r, L.new3[1]] = 0x81, 0


def sb_changes_a_kept_byte(cpu: np.ndarray) -> None:
    """sb replaces its byte and also changes another byte of the word."""
    r = _row(cpu, "sb")
    cpu[r, L.new3[1]] ^= 0x0100


def lw_reads_a_stale_value(cpu: np.ndarray) -> None:
    """lw after sw returns the word's value from before the store."""
    r = _row(cpu, "lw", lambda x: x[L.s[0]] == 8)
    old = 0  # the word was zero before the sw
    fg.set_limbs(cpu, r, L.v2, old)
    fg.set_limbs(cpu, r, L.c, old)
    fg.set_limbs(cpu, r, L.new3, old)


def journal_write_as_stdout(cpu: np.ndarray) -> None:
    """A journal WRITE flagged as a stdout one: its bytes leave the journal."""
    r = _journal_write(cpu)
    cpu[r, L.fd[0]] = 1
    while True:
        cpu[r, L.jr] = 0
        if cpu[r, L.last]:
            break
        r += 1


def write_starts_elsewhere(cpu: np.ndarray) -> None:
    """The first I/O row of a WRITE starts one byte after the pointer in a1."""
    r = _journal_write(cpu) + 1
    lo = int(np.argmax(cpu[r, L.lsel]))
    cpu[r, L.lsel] = 0
    cpu[r, L.lsel[lo + 1]] = 1
    cpu[r, L.inb[lo]] = 0
    cpu[r + 1, L.rem] += 1  # one byte less moved by the first row: the count goes on
    cpu[r + 2, L.rem] += 1
    last = r + 2
    hi = int(np.argmax(cpu[last, L.hsel])) + 1
    cpu[last, L.hsel] = 0
    cpu[last, L.hsel[hi]] = 1
    cpu[last, L.inb[hi]] = 1


def read_changes_an_unmoved_byte(cpu: np.ndarray) -> None:
    """The first I/O row of an unaligned READ also overwrites byte 0 (not in the buffer)."""
    r = _row(cpu, "io_read", lambda x: x[L.first] == 1 and x[L.lsel[0]] == 0)
    cpu[r, L.new3[0]] ^= 0x0001


def write_fd_stdout_to_journal(cpu: np.ndarray) -> None:
    """A stdout WRITE's bytes counted as journal bytes (ecall and I/O rows flagged)."""
    r = int(np.flatnonzero((cpu[:, L.sys[2]] == 1) & (cpu[:, L.fd[0]] == 1))[0])
    cpu[r, L.fd[0]], cpu[r, L.jr] = 0, 1
    cpu[r + 1, L.jr] = 1


def transfer_cut_by_the_table_end(cpu: np.ndarray) -> np.ndarray:
    """The table ends after the first I/O row of a three-word READ (and is padded)."""
    r = _row(cpu, "io_read", lambda x: x[L.first] == 1 and x[L.last] == 0)
    return cpu[: r + 1]


def padding_row_writes_memory(cpu: np.ndarray) -> np.ndarray:
    """A row with is_real = 0 after the HALT writes a word of user memory."""
    pad = np.zeros((1, cpu.shape[1]), dtype=np.int64)
    pad[0, L.row] = len(cpu)
    pad[0, L.act[3]], pad[0, L.addr3] = 1, 0x0030_0000 >> 2
    pad[0, L.new3[0]] = 0xBEEF
    return np.concatenate([cpu, pad])


def halt_not_last(cpu: np.ndarray) -> np.ndarray:
    """The HALT row is followed by a fence fetched at the next word (the segment runs on)."""
    nop = _row(cpu, "fence")
    extra = cpu[nop : nop + 1].copy()
    extra[0, L.row] = len(cpu)
    extra[0, L.pq] = cpu[-1, L.pq] + 1
    extra[0, L.ph] = cpu[-1, L.ph]
    return np.concatenate([cpu, extra])


CASES: list[tuple[Callable[[np.ndarray], np.ndarray | None], str]] = [
    (short_journal_write, "WRITE moves every byte"),
    (empty_journal_write, "WRITE moves"),
    (add_decoded_as_sub, "decode: funct7"),
    (write_to_x0, "x0 flag 2"),
    (x0_reads_nonzero, "x0 reads 0"),
    (addi_other_immediate, "operand limb 0"),
    (sltu_flipped, "less than"),
    (beq_equal_claimed, "equal (zero)"),
    (jalr_to_half_word, "jalr target aligned"),
    (shift_amount_plus_32, "shift power"),
    (division_by_zero_quotient, "division by zero gives all ones"),
    (lb_without_sign, BALANCE),
    (sb_changes_a_kept_byte, "slot 3 value"),
    (lw_reads_a_stale_value, BALANCE),
    (journal_write_as_stdout, "WRITE fd"),
    (write_starts_elsewhere, "WRITE pointer low"),
    (read_changes_an_unmoved_byte, "slot 3 value"),
    (write_fd_stdout_to_journal, "WRITE fd"),
    (transfer_cut_by_the_table_end, "READ rows follow"),
    (padding_row_writes_memory, "slot 3 active"),
    (halt_not_last, "HALT"),
]


@pytest.mark.parametrize(("edit", "caught_by"), CASES, ids=[c[0].__name__ for c in CASES])
def test_forgery_is_refused(
    traces: CircuitTraces, edit: Callable[[np.ndarray], np.ndarray | None], caught_by: str
) -> None:
    forged = _forge(traces, edit)
    with pytest.raises(TraceCheckError, match=re.escape(caught_by)):
        fg.check(forged)


def test_restate_keeps_an_honest_witness(traces: CircuitTraces) -> None:
    """The forgery toolkit itself: restating an honest witness changes nothing."""
    again = fg.restate(traces)
    assert np.array_equal(again.cpu, traces.cpu)
    assert np.array_equal(again.u16, traces.u16)
    assert np.array_equal(again.bitwise, traces.bitwise)
    assert again.publics == traces.publics and again.journal == traces.journal
    fg.check(again)


def test_short_journal_write_changes_only_the_journal(traces: CircuitTraces) -> None:
    """The short WRITE forgery is a real lie: the restated witness states the same pcs
    and exit with a journal that lost the WRITE's last four bytes."""
    forged = _forge(traces, short_journal_write)
    assert len(forged.journal) == len(traces.journal) - 4
    assert forged.journal[:5] == traces.journal[:5]
    assert forged.journal[5:] == traces.journal[9:]
    pre, post, _, halted, lo, hi = traces.publics
    assert forged.publics == [pre, post, len(forged.journal), halted, lo, hi]
