"""A guest program that executes every instruction kind the CPU table constrains."""

from __future__ import annotations

from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.record import record_segment
from proofmarket.zkvm.circuit.trace import CircuitTraces
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.segment import Segment
from proofmarket.zkvm.session import Session

DATA = 0x0030_0000
NOP = asm("addi", "zero", "zero", 0)


def all_kinds_program() -> list[int]:
    """ALU, comparisons, every branch taken and not, jal/jalr, lw/sw, lui/auipc, fence."""
    return [
        *load_imm("a0", 0x8000_0001),
        *load_imm("a1", 7),
        asm("add", "a2", "a0", "a1"),
        asm("sub", "a3", "a1", "a0"),
        asm("slt", "a4", "a0", "a1"),
        asm("sltu", "a5", "a0", "a1"),
        asm("xor", "t1", "a0", "a1"),
        asm("or", "t2", "a0", "a1"),
        asm("and", "s0", "a0", "a1"),
        asm("addi", "s1", "a0", -5),
        asm("slti", "t3", "a1", -1),
        asm("sltiu", "t4", "a1", -1),
        asm("xori", "t5", "a0", -1),
        asm("ori", "t6", "a1", 0x7F0),
        asm("andi", "s2", "a0", 0x0FF),
        asm("auipc", "s3", 1),
        asm("lui", "s4", 0xABCDE),
        *load_imm("s5", DATA),
        asm("sw", "a2", 8, "s5"),
        asm("lw", "s6", 8, "s5"),
        asm("sw", "a0", 0, "s5"),
        asm("lw", "s7", 4, "s5"),
        asm("lw", "s8", -4, "s5"),
        *load_imm("t1", 0x80FF_7F81),
        asm("sw", "t1", 12, "s5"),
        *[asm(op, "t3", off, "s5") for op in ("lb", "lbu") for off in (12, 13, 14, 15)],
        *[asm(op, "t3", off, "s5") for op in ("lh", "lhu") for off in (12, 14)],
        asm("sb", "a0", 13, "s5"),
        asm("sb", "a1", 14, "s5"),
        asm("sh", "a0", 12, "s5"),
        asm("sh", "a1", 14, "s5"),
        asm("lw", "t3", 12, "s5"),
        asm("lbu", "zero", 12, "s5"),
        asm("beq", "a0", "a0", 8),
        NOP,
        asm("bne", "a0", "a1", 8),
        NOP,
        asm("blt", "a0", "a1", 8),
        NOP,
        asm("bge", "a1", "a0", 8),
        NOP,
        asm("bltu", "a1", "a0", 8),
        NOP,
        asm("bgeu", "a0", "a1", 8),
        NOP,
        asm("beq", "a0", "a1", 8),
        asm("bne", "a0", "a0", 8),
        asm("blt", "a1", "a0", 8),
        asm("bge", "a0", "a1", 8),
        asm("bltu", "a0", "a1", 8),
        asm("bgeu", "a1", "a0", 8),
        asm("jal", "ra", 8),
        NOP,
        asm("auipc", "t0", 0),
        asm("jalr", "ra", 12, "t0"),
        NOP,
        asm("fence"),
        0x0000_100F,  # fence.i
        asm("add", "zero", "a0", "a1"),
        *load_imm("t1", 0x8765_4321),
        *load_imm("t2", 35),
        asm("sll", "t3", "t1", "t2"),
        asm("srl", "t3", "t1", "t2"),
        asm("sra", "t3", "t1", "t2"),
        asm("sra", "t3", "t1", "zero"),
        asm("srl", "t3", "t1", "zero"),
        asm("slli", "t3", "t1", 31),
        asm("srli", "t3", "t1", 31),
        asm("srai", "t3", "t1", 31),
        asm("srai", "t3", "a1", 1),
        asm("mul", "t3", "t1", "a0"),
        asm("mulh", "t3", "t1", "a0"),
        asm("mulh", "t3", "t1", "a1"),
        asm("mulhsu", "t3", "t1", "a0"),
        asm("mulhsu", "t3", "a1", "t1"),
        asm("mulhu", "t3", "t1", "a0"),
        asm("mul", "t3", "t1", "zero"),
        *load_imm("t4", 0x8000_0000),
        *load_imm("t5", 0xFFFF_FFFF),
        *load_imm("t6", 0xFFFF_FFF9),
        *[
            asm(op, "t3", x, y)
            for op in ("div", "divu", "rem", "remu")
            for x, y in (
                ("t1", "a1"),  # negative / positive
                ("t1", "t6"),  # negative / negative
                ("a1", "t6"),  # positive / negative
                ("a1", "t2"),  # positive / positive, |a| < |b|
                ("t1", "zero"),  # division by zero
                ("t4", "t5"),  # signed overflow
                ("t6", "t6"),  # equal
                ("zero", "t6"),  # zero dividend
            )
        ],
        asm("add", "a2", "zero", "a1"),
        *load_imm("a1", 3),
        asm("add", "a2", "a2", "a1"),
        asm("addi", "a1", "a1", -1),
        asm("bne", "a1", "zero", -8),
        *syscalls_program(),
    ]


def syscalls_program() -> list[int]:
    """Every syscall the circuit proves, with unaligned and partial transfers."""
    from proofmarket.zkvm.layout import (
        FD_JOURNAL,
        FD_STDERR,
        FD_STDOUT,
        SYS_CYCLE_COUNT,
        SYS_INPUT_LEN,
    )
    from zkvm.programs import read, syscall, write

    buf = DATA + 0x100
    return [
        *syscall(SYS_INPUT_LEN),
        *read(buf + 1, 9),  # unaligned start and end, three words
        *read(buf + 16, 0),  # nothing moved: no I/O rows
        *read(buf + 20, 2),  # inside one word
        *write(FD_JOURNAL, buf + 1, 9),
        *write(FD_JOURNAL, DATA + 2, 5),  # data the program stored earlier
        *write(FD_STDOUT, buf, 4),
        *write(FD_STDERR, buf + 3, 1),
        *syscall(SYS_CYCLE_COUNT),
        *read(buf + 32, 64),  # asks for more than is left: k < length
        *write(FD_JOURNAL, buf + 32, 0),
    ]


SYSCALL_INPUT = bytes(range(100, 140))


def data_bytes() -> bytes:
    return bytes(range(4, 16))


def first_segment(
    code: list[int], po2: int = 13, input: bytes = SYSCALL_INPUT, exit_code: int = 0
) -> Segment:
    """Execute ``code`` followed by a HALT and return the first segment."""
    from proofmarket.zkvm.executor import execute
    from zkvm.programs import halt, make_elf

    elf = make_elf(code + halt(exit_code), b"\0" * 4 + data_bytes(), data_addr=DATA - 4)
    return execute(elf, input, segment_po2=po2).segments[0]


def check_session(session: Session) -> list[CircuitTraces]:
    """Every segment satisfies the execution tables; their journals are the session's."""
    out, journal = [], b""
    for seg in session.segments:
        traces = cp.segment_traces(record_segment(seg))
        journal += cp.check_segment_circuit(traces).journal
        out.append(traces)
    assert journal == session.journal
    return out
