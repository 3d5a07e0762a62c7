"""Hand-assembled guest programs for executor tests (built into real ELF files)."""

from __future__ import annotations

from proofmarket.zkvm.elf import build_elf
from proofmarket.zkvm.isa import asm, load_imm, words_to_bytes
from proofmarket.zkvm.layout import SYS_HALT, SYS_PANIC, SYS_READ, SYS_WRITE

TEXT = 0x0020_0800
DATA = 0x0030_0000
BACKENDS = ("numba", "python")


def make_elf(code: list[int], data: bytes = b"", *, data_addr: int = DATA, bss: int = 0) -> bytes:
    segments = [(TEXT, words_to_bytes(code), 4 * len(code))]
    if data or bss:
        segments.append((data_addr, data, len(data) + bss))
    return build_elf(segments, TEXT)


def syscall(selector: int, *args: int) -> list[int]:
    """Load a0.. with ``args`` and t0 with ``selector``, then ``ecall``."""
    out: list[int] = []
    for i, value in enumerate(args):
        out += load_imm(f"a{i}", value)
    out += load_imm("t0", selector)
    return [*out, asm("ecall")]


def halt(code: int = 0, kind: int = 0) -> list[int]:
    return syscall(SYS_HALT, kind | (code << 8))


def write(fd: int, addr: int, length: int) -> list[int]:
    return syscall(SYS_WRITE, fd, addr, length)


def read(addr: int, length: int) -> list[int]:
    return syscall(SYS_READ, addr, length)


def panic(addr: int, length: int) -> list[int]:
    return syscall(SYS_PANIC, addr, length)


def counting_loop(iterations: int) -> list[int]:
    """``for (a1 = iterations; a1; a1--) a2 += a1;`` (3 instructions per iteration)."""
    return [
        *load_imm("a1", iterations),
        asm("add", "a2", "a2", "a1"),
        asm("addi", "a1", "a1", -1),
        asm("bne", "a1", "zero", -8),
    ]
