"""RV32IM instruction encodings: opcode constants and a tiny assembler.

The assembler builds hand-written instruction streams for tests, benchmarks and the
built-in programs; it checks operand ranges so a bad test cannot silently encode garbage.
"""

from __future__ import annotations

OP_LOAD = 0x03
OP_MISC_MEM = 0x0F
OP_IMM = 0x13
OP_AUIPC = 0x17
OP_STORE = 0x23
OP_REG = 0x33
OP_LUI = 0x37
OP_BRANCH = 0x63
OP_JALR = 0x67
OP_JAL = 0x6F
OP_SYSTEM = 0x73

ECALL_WORD = 0x0000_0073
EBREAK_WORD = 0x0010_0073

REG_NAMES = (
    "zero",
    "ra",
    "sp",
    "gp",
    "tp",
    "t0",
    "t1",
    "t2",
    "s0",
    "s1",
    "a0",
    "a1",
    "a2",
    "a3",
    "a4",
    "a5",
    "a6",
    "a7",
    "s2",
    "s3",
    "s4",
    "s5",
    "s6",
    "s7",
    "s8",
    "s9",
    "s10",
    "s11",
    "t3",
    "t4",
    "t5",
    "t6",
)

# mnemonic -> (funct3, funct7)
R_TYPE: dict[str, tuple[int, int]] = {
    "add": (0, 0x00),
    "sub": (0, 0x20),
    "sll": (1, 0x00),
    "slt": (2, 0x00),
    "sltu": (3, 0x00),
    "xor": (4, 0x00),
    "srl": (5, 0x00),
    "sra": (5, 0x20),
    "or": (6, 0x00),
    "and": (7, 0x00),
    "mul": (0, 0x01),
    "mulh": (1, 0x01),
    "mulhsu": (2, 0x01),
    "mulhu": (3, 0x01),
    "div": (4, 0x01),
    "divu": (5, 0x01),
    "rem": (6, 0x01),
    "remu": (7, 0x01),
}
I_ALU: dict[str, int] = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
SHIFT_IMM: dict[str, tuple[int, int]] = {"slli": (1, 0x00), "srli": (5, 0x00), "srai": (5, 0x20)}
LOADS: dict[str, int] = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORES: dict[str, int] = {"sb": 0, "sh": 1, "sw": 2}
BRANCHES: dict[str, int] = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}


class AsmError(ValueError):
    """An operand does not fit the instruction's encoding."""


def reg(r: int | str) -> int:
    """Register number from an index or an ABI/xN name."""
    if isinstance(r, str):
        if r in REG_NAMES:
            return REG_NAMES.index(r)
        if r == "fp":
            return 8
        if r.startswith("x") and r[1:].isdigit():
            r = int(r[1:])
        else:
            raise AsmError(f"unknown register {r!r}")
    if not 0 <= r < 32:
        raise AsmError(f"register x{r} out of range")
    return r


def _signed(value: int, bits: int, what: str) -> int:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= value <= hi:
        raise AsmError(f"{what} {value} does not fit in {bits} signed bits")
    return value & ((1 << bits) - 1)


def encode_r(f3: int, f7: int, rd: int, rs1: int, rs2: int, opcode: int = OP_REG) -> int:
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode


def encode_i(opcode: int, f3: int, rd: int, rs1: int, imm: int) -> int:
    return (_signed(imm, 12, "immediate") << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode


def encode_s(f3: int, rs1: int, rs2: int, imm: int) -> int:
    u = _signed(imm, 12, "store offset")
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | OP_STORE


def encode_b(f3: int, rs1: int, rs2: int, offset: int) -> int:
    if offset & 1:
        raise AsmError(f"branch offset {offset} is odd")
    u = _signed(offset, 13, "branch offset")
    return (
        (((u >> 12) & 1) << 31)
        | (((u >> 5) & 0x3F) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (f3 << 12)
        | (((u >> 1) & 0xF) << 8)
        | (((u >> 11) & 1) << 7)
        | OP_BRANCH
    )


def encode_u(opcode: int, rd: int, imm20: int) -> int:
    if not 0 <= imm20 < (1 << 20):
        raise AsmError(f"upper immediate {imm20:#x} does not fit in 20 bits")
    return (imm20 << 12) | (rd << 7) | opcode


def encode_j(rd: int, offset: int) -> int:
    if offset & 1:
        raise AsmError(f"jump offset {offset} is odd")
    u = _signed(offset, 21, "jump offset")
    return (
        (((u >> 20) & 1) << 31)
        | (((u >> 1) & 0x3FF) << 21)
        | (((u >> 11) & 1) << 20)
        | (((u >> 12) & 0xFF) << 12)
        | (rd << 7)
        | OP_JAL
    )


def asm(mnemonic: str, *ops: int | str) -> int:
    """Encode one instruction, operands in assembly order (``asm("addi", "a0", "a0", 1)``).

    Loads/stores take ``(rd_or_rs2, offset, rs1)``; branches and ``jal`` take byte offsets.
    """
    m = mnemonic.lower()
    if m in R_TYPE:
        f3, f7 = R_TYPE[m]
        return encode_r(f3, f7, reg(ops[0]), reg(ops[1]), reg(ops[2]))
    if m in I_ALU:
        return encode_i(OP_IMM, I_ALU[m], reg(ops[0]), reg(ops[1]), int(ops[2]))
    if m in SHIFT_IMM:
        f3, f7 = SHIFT_IMM[m]
        sh = int(ops[2])
        if not 0 <= sh < 32:
            raise AsmError(f"shift amount {sh} out of range")
        return encode_r(f3, f7, reg(ops[0]), reg(ops[1]), sh, OP_IMM)
    if m in LOADS:
        return encode_i(OP_LOAD, LOADS[m], reg(ops[0]), reg(ops[2]), int(ops[1]))
    if m in STORES:
        return encode_s(STORES[m], reg(ops[2]), reg(ops[0]), int(ops[1]))
    if m in BRANCHES:
        return encode_b(BRANCHES[m], reg(ops[0]), reg(ops[1]), int(ops[2]))
    if m == "jal":
        return encode_j(reg(ops[0]), int(ops[1]))
    if m == "jalr":
        return encode_i(OP_JALR, 0, reg(ops[0]), reg(ops[2]), int(ops[1]))
    if m == "lui":
        return encode_u(OP_LUI, reg(ops[0]), int(ops[1]))
    if m == "auipc":
        return encode_u(OP_AUIPC, reg(ops[0]), int(ops[1]))
    if m == "ecall":
        return ECALL_WORD
    if m == "ebreak":
        return EBREAK_WORD
    if m == "fence":
        return 0x0FF0_000F
    raise AsmError(f"unknown mnemonic {mnemonic!r}")


def load_imm(rd: int | str, value: int) -> list[int]:
    """``lui`` + ``addi`` pair that puts the 32-bit ``value`` in ``rd``."""
    value &= 0xFFFF_FFFF
    lo = value & 0xFFF
    if lo >= 0x800:
        lo -= 0x1000
    hi = ((value - lo) >> 12) & 0xFFFFF
    return [asm("lui", rd, hi), asm("addi", rd, rd, lo)]


def words_to_bytes(words: list[int]) -> bytes:
    return b"".join((w & 0xFFFF_FFFF).to_bytes(4, "little") for w in words)
