"""Executor behaviour on hand-assembled programs, for both interpreter backends."""

from __future__ import annotations

import pytest

from proofmarket.zkvm import (
    SYSTEM_STATE_ZERO,
    ExitCode,
    GuestFault,
    GuestPanic,
    InputTooLarge,
    InvalidSegmentPo2,
    ReceiptClaim,
    SessionLimitExceeded,
    compute_image_id,
    execute,
)
from proofmarket.zkvm.claim import Output
from proofmarket.zkvm.elf import load_elf
from proofmarket.zkvm.isa import asm, load_imm
from proofmarket.zkvm.layout import (
    MAX_INPUT_BYTES,
    PAGE_IN_CYCLES,
    PAGE_OUT_CYCLES,
    SYS_CYCLE_COUNT,
    SYS_INPUT_LEN,
)
from proofmarket.zkvm.machine import GuestInput, Machine
from zkvm.programs import (
    BACKENDS,
    DATA,
    TEXT,
    counting_loop,
    halt,
    make_elf,
    panic,
    read,
    syscall,
    write,
)

MASK = 0xFFFF_FFFF


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_raw(words: list[int], backend: str, data: bytes = b"") -> Machine:
    """Run ``words`` (followed by an illegal all-zero word) and return the stopped machine."""
    program = load_elf(make_elf([*words, 0], data))
    machine = Machine(program.pages, program.entry, GuestInput(b""), backend=backend)
    with pytest.raises(GuestFault) as info:
        machine.run_segment(24)
    assert info.value.pc == TEXT + 4 * len(words)
    assert "illegal instruction 0x00000000" in info.value.reason
    return machine


def store_a0(offset: int) -> list[int]:
    return [asm("lui", "t1", DATA >> 12), asm("sw", "a0", offset, "t1")]


# --------------------------------------------------------------------------- syscalls


def test_halt_reports_user_exit_code_and_ok_claim(backend: str) -> None:
    elf = make_elf(halt(7))
    session = execute(elf, backend=backend)
    assert session.exit_code == ExitCode.halted(7)
    assert session.journal == b""
    assert session.image_id == compute_image_id(elf)
    assert session.post_state == SYSTEM_STATE_ZERO
    claim = session.claim()
    assert claim.exit_code == ExitCode.halted(7)
    assert claim.output == Output.of_journal(b"").digest()
    session0 = execute(make_elf(halt(0)), backend=backend)
    assert session0.claim() == ReceiptClaim.ok(session0.image_id, b"")


def test_write_to_journal_stdout_and_stderr(backend: str) -> None:
    text = b"journal!stdout..stderr.."
    code = [*write(3, DATA, 8), *write(1, DATA + 8, 8), *write(2, DATA + 16, 8), *halt()]
    session = execute(make_elf(code, text), backend=backend)
    assert session.journal == b"journal!"
    assert session.stdout == b"stdout.."
    assert session.stderr == b"stderr.."
    assert session.claim() == ReceiptClaim.ok(session.image_id, b"journal!")


def test_read_and_input_len(backend: str) -> None:
    code = [
        *syscall(SYS_INPUT_LEN),
        *store_a0(0),
        *read(DATA + 8, 5),
        *store_a0(4),
        *syscall(SYS_INPUT_LEN),
        *store_a0(16),
        *read(DATA + 20, 100),
        *store_a0(28),
        *read(DATA + 32, 100),  # at the end of the input: returns 0
        *store_a0(36),
        *write(3, DATA, 40),
        *halt(),
    ]
    data = b"hello world"
    session = execute(make_elf(code, bss=64), data, backend=backend)
    j = session.journal
    assert int.from_bytes(j[0:4], "little") == len(data)
    assert int.from_bytes(j[4:8], "little") == 5
    assert j[8:13] == b"hello"
    assert int.from_bytes(j[16:20], "little") == len(data) - 5
    assert j[20:26] == b" world"
    assert int.from_bytes(j[28:32], "little") == 6
    assert int.from_bytes(j[36:40], "little") == 0


def test_cycle_count_observes_instructions_between_calls(backend: str) -> None:
    code = [
        *syscall(SYS_CYCLE_COUNT),
        asm("addi", "s0", "a0", 0),
        *syscall(SYS_CYCLE_COUNT),
        asm("sub", "a0", "a0", "s0"),
        *store_a0(0),
        *write(3, DATA, 4),
        *halt(),
    ]
    session = execute(make_elf(code, bss=4), backend=backend)
    # Between the two reads: the first ecall, addi, two load_imm words for t0 = 4 cycles.
    assert int.from_bytes(session.journal, "little") == 4


def test_pause_keeps_the_post_state(backend: str) -> None:
    session = execute(make_elf(halt(3, kind=1)), backend=backend)
    assert session.exit_code == ExitCode.paused(3)
    assert session.post_state != SYSTEM_STATE_ZERO
    assert session.post_state.pc == TEXT + 4 * len(halt(3, kind=1))
    assert session.claim().post == session.post_state.digest()
    assert session.segments[-1].post_state == session.post_state


def test_panic_carries_the_guest_message(backend: str) -> None:
    message = b"something broke"
    code = panic(DATA, len(message))
    with pytest.raises(GuestPanic) as info:
        execute(make_elf(code, message), backend=backend)
    assert info.value.message == "something broke"
    assert info.value.pc == TEXT + 4 * (len(code) - 1)


# --------------------------------------------------------------------------- faults


FAULTS = [
    ("unknown-syscall", syscall(42), "unknown syscall selector t0=42"),
    ("ebreak", [asm("ebreak")], "ebreak"),
    ("csr", [0x30002573], "illegal instruction 0x30002573"),
    ("bad-halt-kind", syscall(0, 5), "HALT with unknown kind 5"),
    ("misaligned-lw", [*load_imm("a1", DATA + 2), asm("lw", "a0", 0, "a1")], "misaligned load"),
    ("misaligned-lh", [*load_imm("a1", DATA + 1), asm("lh", "a0", 0, "a1")], "misaligned load"),
    ("misaligned-sw", [*load_imm("a1", DATA + 1), asm("sw", "a0", 0, "a1")], "misaligned store"),
    ("load-low", [asm("lw", "a0", 0x100, "zero")], "load from 0x00000100 outside user memory"),
    (
        "store-kernel",
        [*load_imm("a1", 0xC000_0000), asm("sw", "a0", 0, "a1")],
        "store to 0xc0000000 outside user memory",
    ),
    ("fetch-zero", [asm("jalr", "zero", 0, "zero")], "instruction fetch from 0x00000000"),
    ("misaligned-jump", [asm("jal", "zero", 6)], "misaligned address"),
    ("bad-fd", write(9, DATA, 4), "unknown file descriptor 9"),
    ("read-outside", read(0x100, 4), "READ buffer 0x00000100+4 is outside user memory"),
]


@pytest.mark.parametrize(("name", "code", "reason"), FAULTS, ids=[f[0] for f in FAULTS])
def test_guest_faults_report_pc_and_reason(
    backend: str, name: str, code: list[int], reason: str
) -> None:
    elf = make_elf(code, bss=16)
    with pytest.raises(GuestFault) as info:
        execute(elf, b"input", backend=backend)
    assert reason in info.value.reason
    # A fetch fault is reported at the address that could not be fetched.
    expected_pc = 0 if name == "fetch-zero" else TEXT + 4 * (len(code) - 1)
    assert info.value.pc == expected_pc
    assert f"pc=0x{info.value.pc:08x}" in str(info.value)


# --------------------------------------------------------------------------- semantics


def test_x0_is_hardwired_to_zero(backend: str) -> None:
    m = run_raw(
        [
            asm("addi", "zero", "zero", 5),
            asm("lui", "zero", 0x12345),
            asm("add", "a0", "zero", "zero"),
        ],
        backend,
    )
    assert int(m.regs[0]) == 0
    assert int(m.regs[10]) == 0


def _signed(x: int) -> int:
    return x - (1 << 32) if x & 0x8000_0000 else x


def _reference_m(op: str, a: int, b: int) -> int:
    """RISC-V M-extension semantics, written independently of the interpreter."""
    sa, sb = _signed(a), _signed(b)
    if op == "mul":
        return (a * b) & MASK
    if op == "mulh":
        return ((sa * sb) >> 32) & MASK
    if op == "mulhsu":
        return ((sa * b) >> 32) & MASK
    if op == "mulhu":
        return ((a * b) >> 32) & MASK
    if op in ("div", "rem"):
        if b == 0:
            return MASK if op == "div" else a
        if sa == -(1 << 31) and sb == -1:
            return a if op == "div" else 0
        q = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)
        return (q if op == "div" else sa - q * sb) & MASK
    if b == 0:
        return MASK if op == "divu" else a
    return (a // b) if op == "divu" else (a % b)


EDGE = [0, 1, 2, 3, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, MASK, MASK - 1, 0x1234_5678, 0xDEAD_BEEF]


@pytest.mark.parametrize("op", ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"])
def test_m_extension_edge_operands(backend: str, op: str) -> None:
    words: list[int] = []
    expected: list[int] = []
    pairs = [(a, b) for a in EDGE for b in EDGE]
    for i, (a, b) in enumerate(pairs):
        words += [*load_imm("a1", a), *load_imm("a2", b), asm(op, "a3", "a1", "a2")]
        words += [*load_imm("t1", DATA + 4 * i), asm("sw", "a3", 0, "t1")]
        expected.append(_reference_m(op, a, b))
    m = run_raw(words, backend, data=bytes(4 * len(pairs)))
    got = m.page_bytes(DATA >> 10) + m.page_bytes((DATA >> 10) + 1)
    values = [int.from_bytes(got[4 * i : 4 * i + 4], "little") for i in range(len(pairs))]
    assert values == expected


def test_shift_amounts_use_low_five_bits(backend: str) -> None:
    m = run_raw(
        [
            *load_imm("a1", 0x8000_0001),
            *load_imm("a2", 33),
            asm("sll", "a3", "a1", "a2"),
            asm("srl", "a4", "a1", "a2"),
            asm("sra", "a5", "a1", "a2"),
            asm("srai", "a6", "a1", 31),
        ],
        backend,
    )
    assert [int(m.regs[i]) for i in (13, 14, 15, 16)] == [2, 0x4000_0000, 0xC000_0000, MASK]


def test_loads_sign_and_zero_extend(backend: str) -> None:
    data = bytes([0x80, 0xFF, 0x34, 0x12]) + bytes(4)
    m = run_raw(
        [
            *load_imm("a1", DATA),
            asm("lb", "a2", 0, "a1"),
            asm("lbu", "a3", 0, "a1"),
            asm("lh", "a4", 0, "a1"),
            asm("lhu", "a5", 0, "a1"),
            asm("lw", "a6", 0, "a1"),
            asm("lh", "a7", 2, "a1"),
        ],
        backend,
        data=data,
    )
    regs = [int(m.regs[i]) for i in range(12, 18)]
    assert regs == [0xFFFF_FF80, 0x80, 0xFFFF_FF80, 0xFF80, 0x1234_FF80, 0x1234]


# --------------------------------------------------------------------------- cycles & limits


def test_cycle_accounting_is_exact(backend: str) -> None:
    code = [*counting_loop(1000), *halt()]
    session = execute(make_elf(code), backend=backend)
    # load_imm (2) + 3 per iteration + halt (load a0: 2, load t0: 2, ecall: 1)
    assert session.user_cycles == 2 + 3 * 1000 + 5
    # pages in: the register page and the code page; a halted segment pages nothing out.
    assert session.paging_cycles == 2 * PAGE_IN_CYCLES
    assert session.total_cycles == session.user_cycles + session.paging_cycles
    assert session.segment_count == 1


def test_cycle_limit_raises_distinct_error(backend: str) -> None:
    elf = make_elf([*counting_loop(5000), *halt()])
    total = execute(elf, backend=backend).total_cycles
    assert execute(elf, cycle_limit=total, backend=backend).total_cycles == total
    with pytest.raises(SessionLimitExceeded) as info:
        execute(elf, cycle_limit=total - 1, backend=backend)
    assert info.value.limit == total - 1
    assert info.value.cycles > info.value.limit
    with pytest.raises(SessionLimitExceeded):
        execute(elf, cycle_limit=1000, backend=backend)


def test_cycle_limit_counts_page_outs_of_all_segments() -> None:
    elf = make_elf([*counting_loop(20_000), *halt()])
    session = execute(elf, segment_po2=13)
    assert session.segment_count > 2
    assert session.paging_cycles > 2 * PAGE_IN_CYCLES + PAGE_OUT_CYCLES
    with pytest.raises(SessionLimitExceeded):
        execute(elf, segment_po2=13, cycle_limit=session.total_cycles - 1)


@pytest.mark.parametrize("po2", [12, 25, -1, 0])
def test_invalid_segment_po2(po2: int) -> None:
    with pytest.raises(InvalidSegmentPo2, match=r"\[13, 24\]"):
        execute(make_elf(halt()), segment_po2=po2)


def test_non_integer_segment_po2() -> None:
    with pytest.raises(InvalidSegmentPo2, match="integer"):
        execute(make_elf(halt()), segment_po2="20")  # type: ignore[arg-type]


def test_oversize_input_is_rejected_before_running() -> None:
    with pytest.raises(InputTooLarge) as info:
        execute(make_elf(halt()), bytes(MAX_INPUT_BYTES + 1))
    assert info.value.size == MAX_INPUT_BYTES + 1
    assert info.value.limit == MAX_INPUT_BYTES


def test_non_positive_cycle_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        execute(make_elf(halt()), cycle_limit=0)


def test_self_modifying_store_is_seen_by_fetch(backend: str) -> None:
    # Overwrite the next instruction (an ebreak) with "addi a0, zero, 9" before reaching it.
    target = TEXT + 4 * 5
    new = asm("addi", "a0", "zero", 9)
    code = [*load_imm("a1", target), *load_imm("a2", new), asm("sw", "a2", 0, "a1"), asm("ebreak")]
    m = run_raw(code, backend)
    assert int(m.regs[10]) == 9
