"""Differential tests: random and edge-case RV32IM streams, executor vs unicorn (QEMU).

Each stream starts by loading random and edge values into x1..x31, then runs a mix of
ALU, M-extension, load/store (all widths), branch, jal/jalr, lui/auipc and fence
instructions, and ends on an all-zero (illegal) word. Unicorn stops at that address; the
executor faults there. Registers and the data region must then agree exactly.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, Uc
from unicorn.riscv_const import UC_RISCV_REG_X0

from proofmarket.zkvm import GuestFault
from proofmarket.zkvm.elf import load_elf
from proofmarket.zkvm.isa import BRANCHES, I_ALU, LOADS, R_TYPE, SHIFT_IMM, STORES, asm, load_imm
from proofmarket.zkvm.machine import GuestInput, Machine
from zkvm.programs import BACKENDS, TEXT, make_elf

DATA_BASE = 0x0030_0000  # data window: DATA_BASE - 2048 .. DATA_BASE + 2047
DATA_START = DATA_BASE - 2048
DATA_SIZE = 4096
EDGE_VALUES = [0, 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 0xFFFF_FFFF, 0xFFFF_FFFE, 31, 32]
BLOCKS_PER_PROGRAM = 160


def _reg_value(rng: random.Random) -> int:
    return rng.choice(EDGE_VALUES) if rng.random() < 0.4 else rng.getrandbits(32)


def _imm12(rng: random.Random) -> int:
    return rng.choice([0, 1, -1, 2047, -2048, rng.randint(-2048, 2047)])


def _block(rng: random.Random, index: int, total: int) -> tuple[list[int], int]:
    """One block and how many blocks its final jump skips (0: no jump).

    Control flow only ever targets block starts, forwards, so every stream terminates.
    """
    rd = rng.randint(0, 31)
    rs1 = rng.randint(0, 31)
    rs2 = rng.randint(0, 31)
    kind = rng.choices(
        ["r", "i", "shift", "load", "store", "branch", "jal", "jalr", "lui", "auipc", "fence"],
        weights=[30, 14, 6, 10, 10, 10, 3, 3, 4, 4, 1],
    )[0]
    if kind == "r":
        return ([asm(rng.choice(list(R_TYPE)), rd, rs1, rs2)], 0)
    if kind == "i":
        return ([asm(rng.choice(list(I_ALU)), rd, rs1, _imm12(rng))], 0)
    if kind == "shift":
        return ([asm(rng.choice(list(SHIFT_IMM)), rd, rs1, rng.randint(0, 31))], 0)
    if kind in ("load", "store"):
        name = rng.choice(list(LOADS if kind == "load" else STORES))
        width = {"b": 1, "h": 2, "w": 4}[name[1]]
        offset = rng.randrange(-2048, 2048 - width + 1, width)
        return (
            [
                asm("lui", "t6", DATA_BASE >> 12),
                asm(name, rd if kind == "load" else rs2, offset, "t6"),
            ],
            0,
        )
    # Forward targets: the start of a later block (1..6 blocks ahead, or the end).
    skip = rng.randint(1, min(6, total - index))
    if kind == "branch":
        return [asm(rng.choice(list(BRANCHES)), rs1, rs2, 0)], skip
    if kind == "jal":
        return [asm("jal", rd, 0)], skip
    if kind == "jalr":
        return [asm("auipc", "t5", 0), asm("jalr", rd, 0, "t5")], skip
    if kind == "lui":
        return ([asm("lui", rd, rng.getrandbits(20))], 0)
    if kind == "auipc":
        return ([asm("auipc", rd, rng.getrandbits(20))], 0)
    return ([asm("fence")], 0)


def random_program(seed: int) -> tuple[list[int], bytes]:
    rng = random.Random(seed)
    words: list[int] = []
    for r in range(1, 32):
        words += load_imm(r, _reg_value(rng))
    blocks: list[list[int]] = []
    jumps: dict[int, int] = {}
    for i in range(BLOCKS_PER_PROGRAM):
        block, skip = _block(rng, i, BLOCKS_PER_PROGRAM)
        if skip:
            jumps[i] = skip
        blocks.append(block)
    starts = []
    addr = len(words)
    for block in blocks:
        starts.append(addr)
        addr += len(block)
    starts.append(addr)  # the final illegal word
    for i, block in enumerate(blocks):
        if i not in jumps:
            words += block
            continue
        target = starts[i + jumps[i]]
        here = starts[i] + len(block) - 1  # the jumping instruction
        offset = 4 * (target - here)
        last = block[-1]
        op = last & 0x7F
        if op == 0x63:  # branch: re-encode with the offset
            f3 = (last >> 12) & 7
            name = next(n for n, v in BRANCHES.items() if v == f3)
            block = [asm(name, (last >> 15) & 31, (last >> 20) & 31, offset)]
        elif op == 0x6F:
            block = [asm("jal", (last >> 7) & 31, offset)]
        else:  # auipc t5, 0 ; jalr rd, off(t5): off relative to the auipc
            block = [block[0], asm("jalr", (last >> 7) & 31, offset + 4, "t5")]
        words += block
    data = bytes(rng.getrandbits(8) for _ in range(DATA_SIZE))
    return words, data


def run_unicorn(words: list[int], data: bytes) -> tuple[list[int], bytes]:
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    code = b"".join(w.to_bytes(4, "little") for w in [*words, 0])
    code_base = TEXT & ~0xFFF
    uc.mem_map(code_base, 0x10000)
    uc.mem_write(TEXT, code)
    uc.mem_map(DATA_START & ~0xFFF, 0x2000)
    uc.mem_write(DATA_START, data)
    uc.emu_start(TEXT, TEXT + 4 * len(words))
    regs = [uc.reg_read(UC_RISCV_REG_X0 + i) & 0xFFFF_FFFF for i in range(32)]
    return regs, bytes(uc.mem_read(DATA_START, DATA_SIZE))


def run_executor(words: list[int], data: bytes, backend: str) -> tuple[list[int], bytes]:
    program = load_elf(make_elf([*words, 0], data, data_addr=DATA_START))
    machine = Machine(program.pages, program.entry, GuestInput(b""), backend=backend)
    with pytest.raises(GuestFault) as info:
        machine.run_segment(24)
    assert info.value.pc == TEXT + 4 * len(words), info.value
    memory = b"".join(
        machine.page_bytes(p) for p in range(DATA_START >> 10, (DATA_START >> 10) + 4)
    )
    return [int(r) for r in machine.regs], memory


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(24))
def test_random_streams_match_unicorn(backend: str, seed: int) -> None:
    words, data = random_program(seed)
    expected_regs, expected_mem = run_unicorn(words, data)
    regs, mem = run_executor(words, data, backend)
    for i in range(32):
        assert regs[i] == expected_regs[i], f"x{i}: {regs[i]:#x} != unicorn {expected_regs[i]:#x}"
    assert mem == expected_mem


@pytest.mark.parametrize("backend", BACKENDS)
def test_edge_operands_of_every_alu_op_match_unicorn(backend: str) -> None:
    """Every R-type and I-type ALU op on every pair of edge values.

    Each result is folded into two accumulators (x31 = x31 * K ^ r, x29 += r), so one
    wrong result anywhere changes the final registers.
    """
    words: list[int] = load_imm("x30", 0x9E37_79B1)
    step = [
        asm("mul", "x31", "x31", "x30"),
        asm("xor", "x31", "x31", "x3"),
        asm("add", "x29", "x29", "x3"),
    ]
    for a in EDGE_VALUES:
        for b in EDGE_VALUES:
            words += load_imm("x1", a) + load_imm("x2", b)
            for op in R_TYPE:
                words += [asm(op, "x3", "x1", "x2"), *step]
            for op in I_ALU:
                words += [asm(op, "x3", "x1", -1 if b & 1 else 2047), *step]
            for op in SHIFT_IMM:
                words += [asm(op, "x3", "x1", b & 31), *step]
    data = bytes(DATA_SIZE)
    assert run_executor(words, data, backend) == run_unicorn(words, data)


_WORD = st.one_of(st.sampled_from(EDGE_VALUES), st.integers(0, 0xFFFF_FFFF))


@settings(max_examples=120, deadline=None)
@given(op=st.sampled_from(sorted(R_TYPE)), a=_WORD, b=_WORD)
def test_any_register_op_matches_unicorn(op: str, a: int, b: int) -> None:
    """Hypothesis: one R-type op on any operands, both backends against unicorn."""
    words = [*load_imm("a1", a), *load_imm("a2", b), asm(op, "a3", "a1", "a2")]
    data = bytes(DATA_SIZE)
    expected = run_unicorn(words, data)
    for backend in BACKENDS:
        assert run_executor(words, data, backend) == expected
