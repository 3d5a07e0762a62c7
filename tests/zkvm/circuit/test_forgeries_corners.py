"""Completeness corner cases next to the forgery tests: runs the executor allows at the
edges the soundness constraints guard (alignment, the end of user memory, page
boundaries, empty and one-word transfers, HALT first in a segment, a table without
padding, a WRITE shortened on a segment's first row) must satisfy the circuit."""

from __future__ import annotations

import numpy as np

from proofmarket.zkvm.circuit.cpu import LAYOUT
from proofmarket.zkvm.circuit.isa_table import INDEX
from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.executor import execute
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import FD_JOURNAL, FD_STDOUT, PAGE_BYTES, USER_END
from proofmarket.zkvm.session import Session
from zkvm.circuit.circuit_programs import check_session
from zkvm.programs import DATA, TEXT, halt, make_elf, read, write

NOP = asm("addi", "zero", "zero", 0)


def _run(code: list[int], inp: bytes = b"", po2: int = 13, bss: int = 4096) -> Session:
    elf = make_elf([*code, *halt(7)], bytes(range(256)) * 4, data_addr=DATA, bss=bss)
    return execute(elf, inp, segment_po2=po2, keep_segments=True)


def test_jalr_to_an_odd_target_clears_bit_0() -> None:
    width = len(load_imm("t0", TEXT + 1))  # same width for any target in TEXT's page
    target = TEXT + 4 * (width + 2)  # skips the nop after the jalr
    code = [*load_imm("t0", target + 1), asm("jalr", "ra", 0, "t0"), NOP]
    (t,) = check_session(_run(code))
    rows = np.flatnonzero(t.cpu[:, LAYOUT.sel[INDEX["jalr"]]])
    assert t.cpu[rows[0], LAYOUT.s0] == 1  # the low bit was set and dropped


def test_code_and_data_at_the_end_of_user_memory() -> None:
    """A branch into the last user page, and loads / stores of its last word."""
    start = USER_END - PAGE_BYTES - 8  # two words before the last page
    last = [
        asm("beq", "zero", "zero", 8),  # into the last page
        NOP,
        *load_imm("t2", USER_END - 4),
        asm("lw", "t1", 0, "t2"),
        asm("lbu", "t3", 3, "t2"),
        asm("lh", "t4", 2, "t2"),
        asm("sw", "t3", 0, "t2"),
        asm("sb", "t1", 3, "t2"),
        *write(FD_JOURNAL, USER_END - 4, 4),
        *halt(3),
    ]
    words = (USER_END - start) // 4
    last += [NOP] * (words - 1 - len(last)) + [0x8BAD_F00D]
    main = [*load_imm("t0", start), asm("jalr", "zero", 0, "t0")]
    loads = [(TEXT, words_to_bytes(main), 4 * len(main)), (start, words_to_bytes(last), 4 * words)]
    elf = build_elf(loads, TEXT)
    session = execute(elf, b"", segment_po2=13, keep_segments=True)
    check_session(session)
    data = 0x8BAD_F00D  # lbu takes its top byte into the word, sb puts the low one on top
    assert session.journal == bytes([data >> 24, 0, 0, data & 0xFF])


def test_transfers_at_page_boundaries_and_of_one_word() -> None:
    code = [
        *read(DATA + PAGE_BYTES - 6, 6),  # ends exactly at a page boundary
        *read(DATA + 2 * PAGE_BYTES - 3, 7),  # crosses one
        *read(DATA + 12, 0),
        *write(FD_JOURNAL, DATA + PAGE_BYTES - 6, 6),
        *write(FD_JOURNAL, DATA + 8, 4),  # exactly one aligned word
        *write(FD_STDOUT, DATA, 0),
        *write(FD_JOURNAL, DATA + 2 * PAGE_BYTES - 3, 7),
    ]
    inp = bytes(range(50, 90))
    session = _run(code, inp)
    assert len(check_session(session)) == 1
    assert session.journal == inp[:6] + bytes(range(8, 12)) + inp[6:13]


def _nops_then_halt(n: int) -> bytes:
    return make_elf([NOP] * n + halt(0))


def test_halt_as_the_first_row_of_a_segment() -> None:
    probe = execute(_nops_then_halt(20_000), b"", segment_po2=13, keep_segments=True)
    cut = probe.segments[0].user_cycles  # the nop the first segment stops before
    session = execute(_nops_then_halt(cut - (len(halt(0)) - 1)), b"", segment_po2=13)
    assert len(session.segments) == 2
    t = check_session(session)[1]
    assert t.cpu[0, LAYOUT.sys[0]] == 1 and t.publics[3] == 1


def test_a_table_without_padding_rows() -> None:
    """4096 real rows, the last one a HALT: every last-row constraint sees a real row."""
    session = execute(_nops_then_halt(4096 - len(halt(0))), b"", segment_po2=13)
    (t,) = check_session(session)
    assert t.cpu.shape[0] == 4096 and t.cpu[-1, LAYOUT.sys[0]] == 1


def test_a_write_shortened_on_the_first_row_of_a_segment() -> None:
    """A WRITE too long for any segment is moved to a fresh one and shortened there."""
    size = 40_000
    session = _run([*write(FD_JOURNAL, DATA, size)], bss=size)
    traces = check_session(session)
    assert 0 < len(session.journal) < size
    second = traces[1]
    assert second.cpu[0, LAYOUT.sys[2]] == 1 and second.cpu[0, LAYOUT.eq] == 0
