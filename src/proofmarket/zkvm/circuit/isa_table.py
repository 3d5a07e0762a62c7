"""The instructions the CPU table constrains, one selector column each, and their traits.

Decoding is proven by the selector: the instruction word's opcode, funct3 and funct7
fields (linear in the word's bit columns) must equal the selected instruction's.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofmarket.zkvm import isa


@dataclass(frozen=True)
class Insn:
    """One instruction kind and how the CPU row uses its units."""

    name: str
    opcode: int
    f3: int | None = None
    f7: int | None = None
    rs1: bool = False  # reads rs1 (slot 1)
    rs2: bool = False  # reads rs2 (slot 2)
    rd: bool = False  # writes rd (slot 3)
    operand: str = "rs2"  # second operand: rs2 | imm_i | imm_s | imm_u | k | none
    x: str = "a"  # adder input X: a | pc | zero | none (adder unused)
    sub: bool = False  # adder computes X − operand (Y = ~operand, carry in 1)
    result: str = "sum"  # sum | lt | link | logic | load | mul | div | sys | none
    signed: bool = False  # comparison is signed
    logic_op: int = -1  # 0 and, 1 or, 2 xor
    branch: str = ""  # eq | ne | lt | ge
    next_pc: str = "seq"  # seq | branch | jal | jalr | stay (I/O rows keep the pc)
    load: bool = False
    store: bool = False
    word: str = ""  # multiplier result word: lo | hi ("" = multiplier unused)
    shift: str = ""  # multiplier's Y is 2^sh (left) or 2^(32 − sh) (right)
    width: int = 4  # bytes moved by a load or store
    div: str = ""  # division result: q (div/divu) | r (rem/remu)
    x_signed: bool = False  # multiplier's X (rs1) is sign-extended
    y_signed: bool = False  # multiplier's Y (operand) is sign-extended
    sys: str = ""  # ecall | io_read | io_write (syscall rows, see cpu.py)

    @property
    def compares(self) -> bool:
        """The adder's carry decides ``lt`` (comparisons and branches)."""
        return self.sub and self.result in ("lt", "none")


def _r(name: str, f3: int, f7: int, **kw: object) -> Insn:
    return Insn(name, isa.OP_REG, f3, f7, rs1=True, rs2=True, rd=True, **kw)  # type: ignore[arg-type]


def _i(name: str, f3: int, **kw: object) -> Insn:
    return Insn(name, isa.OP_IMM, f3, None, rs1=True, rd=True, operand="imm_i", **kw)  # type: ignore[arg-type]


def _b(name: str, f3: int, cond: str, signed: bool) -> Insn:
    return Insn(
        name, isa.OP_BRANCH, f3, None, rs1=True, rs2=True, sub=True, result="none",
        signed=signed, branch=cond, next_pc="branch",
    )  # fmt: skip


def _ld(name: str, f3: int, width: int, signed: bool) -> Insn:
    return Insn(
        name, isa.OP_LOAD, f3, None, rs1=True, rd=True, operand="imm_i", result="load",
        signed=signed, load=True, width=width,
    )  # fmt: skip


def _st(name: str, f3: int, width: int) -> Insn:
    return Insn(
        name, isa.OP_STORE, f3, None, rs1=True, rs2=True, operand="imm_s", result="none",
        store=True, width=width,
    )  # fmt: skip


INSNS: tuple[Insn, ...] = (
    _r("add", 0, 0),
    _r("sub", 0, 0x20, sub=True),
    _r("slt", 2, 0, sub=True, result="lt", signed=True),
    _r("sltu", 3, 0, sub=True, result="lt"),
    _r("xor", 4, 0, x="none", result="logic", logic_op=2),
    _r("or", 6, 0, x="none", result="logic", logic_op=1),
    _r("and", 7, 0, x="none", result="logic", logic_op=0),
    _i("addi", 0),
    _i("slti", 2, sub=True, result="lt", signed=True),
    _i("sltiu", 3, sub=True, result="lt"),
    _i("xori", 4, x="none", result="logic", logic_op=2),
    _i("ori", 6, x="none", result="logic", logic_op=1),
    _i("andi", 7, x="none", result="logic", logic_op=0),
    Insn("lui", isa.OP_LUI, rd=True, operand="imm_u", x="zero"),
    Insn("auipc", isa.OP_AUIPC, rd=True, operand="imm_u", x="pc"),
    Insn("jal", isa.OP_JAL, rd=True, operand="none", x="none", result="link", next_pc="jal"),
    Insn(
        "jalr",
        isa.OP_JALR,
        0,
        None,
        rs1=True,
        rd=True,
        operand="imm_i",
        result="link",
        next_pc="jalr",
    ),
    _b("beq", 0, "eq", False),
    _b("bne", 1, "ne", False),
    _b("blt", 4, "lt", True),
    _b("bge", 5, "ge", True),
    _b("bltu", 6, "lt", False),
    _b("bgeu", 7, "ge", False),
    _ld("lb", 0, 1, True),
    _ld("lh", 1, 2, True),
    _ld("lw", 2, 4, False),
    _ld("lbu", 4, 1, False),
    _ld("lhu", 5, 2, False),
    _st("sb", 0, 1),
    _st("sh", 1, 2),
    _st("sw", 2, 4),
    _r("sll", 1, 0, x="none", result="mul", word="lo", shift="left"),
    _r("srl", 5, 0, x="none", result="mul", word="hi", shift="right"),
    _r("sra", 5, 0x20, x="none", result="mul", word="hi", shift="right", x_signed=True),
    Insn(
        "slli",
        isa.OP_IMM,
        1,
        0,
        rs1=True,
        rd=True,
        operand="imm_i",
        x="none",
        result="mul",
        word="lo",
        shift="left",
    ),
    Insn(
        "srli",
        isa.OP_IMM,
        5,
        0,
        rs1=True,
        rd=True,
        operand="imm_i",
        x="none",
        result="mul",
        word="hi",
        shift="right",
    ),
    Insn(
        "srai",
        isa.OP_IMM,
        5,
        0x20,
        rs1=True,
        rd=True,
        operand="imm_i",
        x="none",
        result="mul",
        word="hi",
        shift="right",
        x_signed=True,
    ),
    _r("mul", 0, 1, x="none", result="mul", word="lo"),
    _r("mulh", 1, 1, x="none", result="mul", word="hi", x_signed=True, y_signed=True),
    _r("mulhsu", 2, 1, x="none", result="mul", word="hi", x_signed=True),
    _r("mulhu", 3, 1, x="none", result="mul", word="hi"),
    _r("div", 4, 1, x="none", result="div", div="q", signed=True, y_signed=True),
    _r("divu", 5, 1, x="none", result="div", div="q"),
    _r("rem", 6, 1, x="none", result="div", div="r", signed=True, y_signed=True),
    _r("remu", 7, 1, x="none", result="div", div="r"),
    Insn("fence", isa.OP_MISC_MEM, 0, None, operand="none", x="none", result="none"),
    Insn("fence.i", isa.OP_MISC_MEM, 1, None, operand="none", x="none", result="none"),
    # A syscall: X = the length register, operand = bytes moved (k), X − k checks k <= len.
    Insn("ecall", isa.OP_SYSTEM, 0, 0, operand="k", sub=True, result="sys", sys="ecall"),
    # One word moved by a READ / WRITE (rows after their ecall; never fetched, opcode 0).
    Insn(
        "io_read",
        0,
        0,
        None,
        operand="none",
        x="none",
        result="none",
        next_pc="stay",
        sys="io_read",
    ),
    Insn(
        "io_write",
        0,
        1,
        None,
        operand="none",
        x="none",
        result="none",
        next_pc="stay",
        sys="io_write",
    ),
)

INDEX = {insn.name: k for k, insn in enumerate(INSNS)}
