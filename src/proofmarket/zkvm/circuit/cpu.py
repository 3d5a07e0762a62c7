"""The CPU table: one row per executed instruction, with its ALU and memory accesses.

A row fetches the instruction word at ``pc`` through the memory bus (the code lives in
paged-in memory, so no separate ROM is needed), decodes it from its 32 bit columns and a
one-hot selector column per instruction kind (:mod:`.isa_table`), reads rs1/rs2 and
writes rd as memory words at ``REGS_ADDR/4 + r``, runs the adder, comparator and byte
logic, and proves the next row's pc. Memory accesses follow the contract of
:mod:`.buses` (four timestamp slots per row). Padding rows have ``is_real = 0`` and only
continue the row counter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from proofmarket.stark.air import Air, AirBuilder
from proofmarket.stark.expr import Expr, ExprLike, lift, sum_exprs
from proofmarket.zkvm.circuit.buses import (
    BITWISE_BUS,
    JOURNAL_BUS,
    MEMORY_BUS,
    REG_WORD_BASE,
    TIMESTAMP_SLOTS,
    U16_BUS,
)
from proofmarket.zkvm.circuit.isa_table import INDEX, INSNS, Insn
from proofmarket.zkvm.layout import (
    FD_JOURNAL,
    FD_STDERR,
    FD_STDOUT,
    SYS_CYCLE_COUNT,
    SYS_HALT,
    SYS_INPUT_LEN,
    SYS_READ,
    SYS_WRITE,
)

U16Check = Callable[[ExprLike, ExprLike, str], None]

USER_HI_MIN = 0x0001  # USER_START >> 16
USER_HI_MAX = 0xBFFF  # (USER_END >> 16) - 1


class Layout:
    """Named main columns of the CPU table (shared by the AIR and the trace builder)."""

    def __init__(self) -> None:
        self.width = 0
        self.row = self._one()  # row counter (continues through padding)
        self.is_real = self._one()
        self.pq = self._one()  # pc = 4·pq + 2^16·ph  (pq < 2^14)
        self.ph = self._one()
        self.npc = self._one()  # next pc word (keeps the pc constraints at degree 2)
        self.bits = self._many(32)  # instruction word bits
        self.sel = self._many(len(INSNS))  # one-hot instruction kind
        self.v1 = self._many(2)  # rs1 value limbs
        self.v2 = self._many(2)  # rs2 value or loaded word limbs
        self.b = self._many(2)  # second operand limbs
        self.s = self._many(2)  # adder sum limbs
        self.carry = self._many(2)
        self.sq = self._one()  # s_lo = 4·sq + s0 (memory / jalr targets)
        self.s0 = self._one()
        self.s1 = self._one()
        self.off = self._many(4)  # one-hot byte offset of a byte / half-word access
        self.mb = self._many(4)  # bytes of the accessed word (sub-word accesses)
        self.db = self._many(2)  # bytes of the stored value's low limb (sb)
        self.lsgn = self._one()  # sign of a loaded byte / half-word, and the rest
        self.lrest = self._one()
        self.c = self._many(2)  # result limbs
        self.lc = self._one()  # carry of the link pc + 4
        self.sa = self._one()  # sign bit of v1 and rest of its high limb
        self.ra = self._one()
        self.sb = self._one()
        self.rb = self._one()
        self.lt = self._one()
        self.eq = self._one()  # s == 0 (X − operand == 0)
        self.eq_inv = self._one()
        self.taken = self._one()
        self.ab = self._many(4)  # bytes for logic
        self.bb = self._many(4)
        self.cb = self._many(4)
        # multiplier: X·Y = W (mod 2^64) in bytes, for mul/mulh*/shifts
        self.sh = self._one()  # shift amount = operand low limb mod 32
        self.sh_rest = self._one()
        self.t = self._many(3)  # low bits of the power t (2^t is Y for shifts)
        self.q = self._many(5)  # one-hot byte index of 2^t
        self.e = self._one()  # 2^(t mod 8)
        self.xb = self._many(4)
        self.yb = self._many(5)
        self.wb = self._many(8)
        self.mc = self._many(8)  # carries per byte column
        # division a = q·b + r: q is X, r is Z (bytes), the adder compares |r| with |b|
        self.zb = self._many(4)
        self.sgnq = self._one()  # signs of q and r (top bits of their last bytes), rests
        self.qrest = self._one()
        self.sr = self._one()
        self.rrest = self._one()
        self.sd = self._one()  # sign of the adder's sum (r ∓ b) and the rest of its limb
        self.drest = self._one()
        self.bz = self._one()  # divisor is zero
        self.bz_inv = self._one()
        self.ovf = self._one()  # signed overflow: a = −2^31, b = −1
        self.z = self._many(3)  # register field is x0: rs1, rs2, rd
        self.z_inv = self._many(3)
        self.act = self._many(TIMESTAMP_SLOTS)  # slot k accesses memory
        self.addr2 = self._one()
        self.addr3 = self._one()
        self.old3 = self._many(2)  # slot 3 word before the write
        self.new3 = self._many(2)
        self.pts = self._many(TIMESTAMP_SLOTS)  # previous timestamps
        self.dlo = self._many(TIMESTAMP_SLOTS)  # ts − pts − 1 = dlo + 2^12·dhi
        self.dhi = self._many(TIMESTAMP_SLOTS)
        # syscalls: an ecall row, then one I/O row per word a READ / WRITE moves
        self.sys = self._many(4)  # halt, read, write, other (one-hot on ecall rows)
        self.fd = self._many(2)  # WRITE to stdout / stderr (the journal is ``jr``)
        self.jr = self._one()  # WRITE to the journal: its ecall and I/O rows
        self.knz = self._one()  # bytes moved k != 0, and the inverse proving it
        self.kinv = self._one()
        self.addr1 = self._one()
        self.wq = self._one()  # I/O word address = wq + 2^14·wh (wq < 2^14)
        self.wh = self._one()
        self.lsel = self._many(4)  # first byte of the word moved (one-hot 0..3)
        self.hsel = self._many(4)  # one past the last byte moved (one-hot 1..4)
        self.inb = self._many(4)  # byte j of the word is moved
        self.iob = self._many(4)  # bytes a READ writes
        self.first = self._one()  # first I/O row of a transfer
        self.last = self._one()  # last I/O row of a transfer
        self.rem = self._one()  # bytes still to move at this row
        self.jcount = self._one()  # journal bytes written before this row

    def _one(self) -> int:
        self.width += 1
        return self.width - 1

    def _many(self, k: int) -> list[int]:
        self.width += k
        return list(range(self.width - k, self.width))


LAYOUT = Layout()


SYS_REG_T0, SYS_REG_A0, SYS_REG_A1, SYS_REG_A2 = 5, 10, 11, 12


def sum_bytes(parts: list[Expr]) -> Expr:
    """Little-endian bytes as one value (``Σ parts[j]·256^j``)."""
    out: Expr = lift(0)
    for j, p in enumerate(parts):
        out = out + p * (1 << (8 * j))
    return out


def _sum_sel(b: AirBuilder, pred: Callable[[Insn], bool]) -> Expr:
    out: Expr = lift(0)
    for k, insn in enumerate(INSNS):
        if pred(insn):
            out = out + b.main(LAYOUT.sel[k])
    return out


PUB_PRE_PC, PUB_POST_PC, PUB_JOURNAL_LEN, PUB_HALTED, PUB_EXIT_LO, PUB_EXIT_HI = range(6)
"""Public inputs of the CPU table: pc words in/out, journal bytes written, whether the
segment ends with HALT, and that HALT's ``a0`` (exit kind | user code << 8) as limbs."""


class CpuAir(Air):
    """RV32IM instruction execution and syscalls (see the module docstring)."""

    name = "zkvm-cpu"

    def __init__(self) -> None:
        super().__init__(main_width=LAYOUT.width, num_public_inputs=6)

    def min_log_rows(self) -> int:
        return 4

    def padding_rows(self, count: int, trace: np.ndarray) -> np.ndarray:
        out = np.zeros((count, self.main_width), dtype=np.uint64)
        start = int(trace[-1, LAYOUT.row]) + 1 if len(trace) else 0
        out[:, LAYOUT.row] = np.arange(start, start + count, dtype=np.uint64)
        if len(trace):  # the journal count carries through padding
            last = trace[-1]
            moved = sum(int(last[i]) for i in LAYOUT.inb)
            out[:, LAYOUT.jcount] = int(last[LAYOUT.jcount]) + int(last[LAYOUT.jr]) * moved
        return out

    def define(self, b: AirBuilder) -> None:
        L = LAYOUT
        m = b.main
        bit = [m(i) for i in L.bits]
        real = m(L.is_real)

        def bits_value(lo: int, hi: int, shift: int = 0) -> Expr:
            out: Expr = lift(0)
            for i in range(lo, hi):
                out = out + bit[i] * (1 << (i - lo + shift))
            return out

        # --- row counter, is_real, selectors ---------------------------------------
        b.assert_first_row(m(L.row), name="row counter starts at 0")
        b.assert_transition(b.main_next(L.row) - m(L.row) - 1, name="row counter")
        b.assert_first_row(real - 1, name="first row is real")
        b.assert_every_row(real * (real - 1), name="is_real boolean")
        b.assert_transition(b.main_next(L.is_real) * (1 - real), name="real rows first")
        sel_sum: Expr = lift(0)
        for k in L.sel:
            b.assert_every_row(m(k) * (m(k) - 1), name=f"selector {INSNS[k - L.sel[0]].name}")
            sel_sum = sel_sum + m(k)
        b.assert_every_row(sel_sum - real, name="one instruction kind per real row")
        for i in L.bits:
            b.assert_every_row(m(i) * (m(i) - 1), name=f"bit {i - L.bits[0]}")

        # --- decode -------------------------------------------------------------------
        opcode, f3, f7 = bits_value(0, 7), bits_value(12, 15), bits_value(25, 32)
        rd_f, rs1_f, rs2_f = bits_value(7, 12), bits_value(15, 20), bits_value(20, 25)
        want_op: Expr = lift(0)
        has_f3: Expr = lift(0)
        want_f3: Expr = lift(0)
        has_f7: Expr = lift(0)
        want_f7: Expr = lift(0)
        for k, insn in zip(L.sel, INSNS, strict=True):
            want_op = want_op + m(k) * insn.opcode
            if insn.f3 is not None:
                has_f3 = has_f3 + m(k)
                want_f3 = want_f3 + m(k) * insn.f3
            if insn.f7 is not None:
                has_f7 = has_f7 + m(k)
                want_f7 = want_f7 + m(k) * insn.f7
        b.assert_every_row(opcode * real - want_op, name="decode: opcode")
        b.assert_every_row(has_f3 * f3 - want_f3, name="decode: funct3")
        b.assert_every_row(has_f7 * f7 - want_f7, name="decode: funct7")

        # x0 detection for the three register fields
        for j, field in enumerate((rs1_f, rs2_f, rd_f)):
            z, zi = m(L.z[j]), m(L.z_inv[j])
            b.assert_every_row(z * field, name=f"x0 flag {j} (zero)")
            b.assert_every_row(field * zi - (real - z), name=f"x0 flag {j} (inverse)")

        # --- immediates and the second operand ---------------------------------------
        b31 = bit[31]
        imm_i = (bits_value(20, 32) + b31 * 0xF000, b31 * 0xFFFF)
        imm_s = (bits_value(7, 12) + bits_value(25, 32, 5) + b31 * 0xF000, b31 * 0xFFFF)
        imm_u = (bits_value(12, 16, 12), bits_value(16, 32))
        v1 = (m(L.v1[0]), m(L.v1[1]))
        v2 = (m(L.v2[0]), m(L.v2[1]))
        op_src = {
            "rs2": _sum_sel(b, lambda i: i.operand == "rs2"),
            "imm_i": _sum_sel(b, lambda i: i.operand == "imm_i"),
            "imm_s": _sum_sel(b, lambda i: i.operand == "imm_s"),
            "imm_u": _sum_sel(b, lambda i: i.operand == "imm_u"),
        }
        ecall = _sum_sel(b, lambda i: i.sys == "ecall")  # its operand k is a witness
        for h in range(2):
            want = (
                op_src["rs2"] * v2[h]
                + op_src["imm_i"] * imm_i[h]
                + op_src["imm_s"] * imm_s[h]
                + op_src["imm_u"] * imm_u[h]
            )
            b.assert_every_row((1 - ecall) * m(L.b[h]) - want, name=f"operand limb {h}")

        # --- adder: X + Y + cin = S + 2^16·carry ---------------------------------------
        pc_lo, pc_hi = m(L.pq) * 4, m(L.ph)
        xa = _sum_sel(b, lambda i: i.x == "a")
        xp = _sum_sel(b, lambda i: i.x == "pc")
        divs = _sum_sel(b, lambda i: i.div != "")
        dsig = _sum_sel(b, lambda i: i.div != "" and i.signed)
        dun = _sum_sel(b, lambda i: i.div != "" and not i.signed)
        zb = [m(i) for i in L.zb]
        sr, sb = m(L.sr), m(L.sb)
        same_rb = 1 - sr - sb + sr * sb * 2
        # division compares r with b: r − b (unsigned, or same signs), else r + b
        plus = _sum_sel(b, lambda i: i.x != "none" and not i.sub) + dsig * (1 - same_rb)
        minus = _sum_sel(b, lambda i: i.x != "none" and i.sub) + dun + dsig * same_rb
        c0, c1 = m(L.carry[0]), m(L.carry[1])
        s_lo, s_hi = m(L.s[0]), m(L.s[1])
        bl, bh = m(L.b[0]), m(L.b[1])
        x_lo = xa * v1[0] + xp * pc_lo + divs * (zb[0] + zb[1] * 256)
        x_hi = xa * v1[1] + xp * pc_hi + divs * (zb[2] + zb[3] * 256)
        y_lo = plus * bl + minus * (0xFFFF - bl)
        y_hi = plus * bh + minus * (0xFFFF - bh)
        b.assert_every_row(c0 * (c0 - 1), name="carry 0 boolean")
        b.assert_every_row(c1 * (c1 - 1), name="carry 1 boolean")
        b.assert_every_row(x_lo + y_lo + minus - s_lo - c0 * 65536, name="adder low")
        b.assert_every_row(x_hi + y_hi + c0 - s_hi - c1 * 65536, name="adder high")

        # --- comparisons ---------------------------------------------------------------
        sa, sb, lt = m(L.sa), m(L.sb), m(L.lt)
        b.assert_every_row(sa * (sa - 1), name="sign a boolean")
        b.assert_every_row(sb * (sb - 1), name="sign b boolean")
        b.assert_every_row(v1[1] - sa * 0x8000 - m(L.ra), name="sign a split")
        b.assert_every_row(bh - sb * 0x8000 - m(L.rb), name="sign b split")
        signed = _sum_sel(b, lambda i: i.compares and i.signed)
        unsigned = _sum_sel(b, lambda i: i.compares and not i.signed)
        lt_u = 1 - c1
        same = 1 - sa - sb + sa * sb * 2
        b.assert_every_row(
            lt - signed * (sa * (1 - sb) + same * lt_u) - unsigned * lt_u, name="less than"
        )
        eq, eq_inv = m(L.eq), m(L.eq_inv)
        b.assert_every_row(eq * (s_lo + s_hi), name="equal (zero)")
        b.assert_every_row((s_lo + s_hi) * eq_inv - (real - eq), name="equal (inverse)")
        taken = m(L.taken)
        b.assert_every_row(
            taken
            - _sum_sel(b, lambda i: i.branch == "eq") * eq
            - _sum_sel(b, lambda i: i.branch == "ne") * (1 - eq)
            - _sum_sel(b, lambda i: i.branch == "lt") * lt
            - _sum_sel(b, lambda i: i.branch == "ge") * (1 - lt),
            name="branch taken",
        )

        # --- byte logic ------------------------------------------------------------------
        logic = _sum_sel(b, lambda i: i.result == "logic")
        op_code = (
            _sum_sel(b, lambda i: i.logic_op == 1) + _sum_sel(b, lambda i: i.logic_op == 2) * 2
        )
        ab = [m(i) for i in L.ab]
        bb = [m(i) for i in L.bb]
        cb = [m(i) for i in L.cb]
        for h in range(2):
            b.assert_every_row(logic * (v1[h] - ab[2 * h] - ab[2 * h + 1] * 256), name="a bytes")
            b.assert_every_row(
                logic * (m(L.b[h]) - bb[2 * h] - bb[2 * h + 1] * 256), name="b bytes"
            )
        for j in range(4):
            b.lookup([op_code, ab[j], bb[j], cb[j]], logic, bus=BITWISE_BUS, name=f"logic {j}")

        # --- multiplier: X·Y = W mod 2^64 over bytes ------------------------------------
        mulu = _sum_sel(b, lambda i: i.word != "" or i.div != "")
        mulx = _sum_sel(b, lambda i: i.word != "")
        shl = _sum_sel(b, lambda i: i.shift == "left")
        shr = _sum_sel(b, lambda i: i.shift == "right")
        mulp = _sum_sel(b, lambda i: (i.word != "" and i.shift == "") or i.div != "")
        sgnq = m(L.sgnq)
        xs = _sum_sel(b, lambda i: i.x_signed) * sa + dsig * sgnq
        zs = dsig * sr
        ys = _sum_sel(b, lambda i: i.y_signed) * sb
        xb = [m(i) for i in L.xb]
        yb = [m(i) for i in L.yb]
        wb = [m(i) for i in L.wb]
        mc = [m(i) for i in L.mc]
        sh, t, q, e = m(L.sh), [m(i) for i in L.t], [m(i) for i in L.q], m(L.e)
        b.assert_every_row((shl + shr) * (bl - sh - m(L.sh_rest) * 32), name="shift amount")
        for i in (*L.t, *L.q):
            b.assert_every_row(m(i) * (m(i) - 1), name="shift bit boolean")
        b.assert_every_row(q[0] + q[1] + q[2] + q[3] + q[4] - shl - shr, name="shift byte one-hot")
        t_val = t[0] + t[1] * 2 + t[2] * 4 + (q[1] + q[2] * 2 + q[3] * 3 + q[4] * 4) * 8
        b.assert_every_row(shl * (t_val - sh) + shr * (t_val - 32 + sh), name="shift power")
        pow8 = (1 + t[0]) * (1 + t[1] * 3) * (1 + t[2] * 15)
        b.assert_every_row((shl + shr) * (e - pow8), name="2^(t mod 8)")
        for h in range(2):
            x_split = v1[h] - xb[2 * h] - xb[2 * h + 1] * 256
            b.assert_every_row(mulx * x_split, name=f"multiplier X limb {h}")
            y_split = m(L.b[h]) - yb[2 * h] - yb[2 * h + 1] * 256
            b.assert_every_row(mulp * y_split, name=f"multiplier Y limb {h}")
        for j in range(4):
            b.assert_every_row((shl + shr) * (yb[j] - q[j] * e), name=f"Y byte {j} (shift)")
        b.assert_every_row(yb[4] - q[4] * e - ys * 255, name="Y byte 4")
        x_all = [*xb, *([xs * 255] * 4)]
        y_all = [*yb, *([ys * 255] * 3)]
        z_all = [*zb, *([zs * 255] * 4)]
        for j in range(4):
            b.assert_every_row(mulx * zb[j], name="no addend in products")
        for k in range(8):
            col: Expr = lift(0)
            for i in range(k + 1):
                col = col + x_all[i] * y_all[k - i]
            col = col + z_all[k]
            if k:
                col = col + mc[k - 1]
            b.assert_every_row(col - wb[k] - mc[k] * 256, name=f"product byte {k}")
        for j in range(0, 8, 2):
            b.lookup([3, wb[j], wb[j + 1], 0], mulu, bus=BITWISE_BUS, name=f"W bytes {j}")
        for j in range(0, 4, 2):
            b.lookup([3, xb[j], xb[j + 1], 0], mulu, bus=BITWISE_BUS, name=f"X bytes {j}")
            b.lookup([3, yb[j], yb[j + 1], 0], mulp, bus=BITWISE_BUS, name=f"Y bytes {j}")
        word_lo = (wb[0] + wb[1] * 256, wb[2] + wb[3] * 256)
        word_hi = (wb[4] + wb[5] * 256, wb[6] + wb[7] * 256)

        # --- division: a = q·b + r (q = X, r = Z, W = a sign-extended) ---------------------
        bz, ovf = m(L.bz), m(L.ovf)
        b_sum = bl + bh
        b.assert_every_row(bz * b_sum, name="divisor zero (zero)")
        b.assert_every_row(b_sum * m(L.bz_inv) - (divs - bz), name="divisor zero (inverse)")
        for h in range(2):
            b.assert_every_row(divs * (v1[h] - word_lo[h]), name=f"dividend limb {h}")
        ws = dsig * sa * (1 - ovf)
        for j in range(4, 8):
            b.assert_every_row(divs * wb[j] - ws * 255, name=f"dividend extension {j}")
        for j in range(4):
            b.assert_every_row(bz * (xb[j] - 255), name="division by zero gives all ones")
        b.assert_every_row(ovf * (ovf - 1), name="overflow boolean")
        b.assert_every_row(ovf * (1 - dsig), name="overflow only in signed division")
        b.assert_every_row(ovf * v1[0], name="overflow dividend low")
        b.assert_every_row(ovf * (v1[1] - 0x8000), name="overflow dividend high")
        b.assert_every_row(ovf * (bl - 0xFFFF), name="overflow divisor low")
        b.assert_every_row(ovf * (bh - 0xFFFF), name="overflow divisor high")
        qrest, rrest = m(L.qrest), m(L.rrest)
        b.assert_every_row(sgnq * (sgnq - 1), name="quotient sign boolean")
        b.assert_every_row(sr * (sr - 1), name="remainder sign boolean")
        b.assert_every_row(dsig * (xb[3] - sgnq * 128 - qrest), name="quotient sign split")
        b.assert_every_row(dsig * (zb[3] - sr * 128 - rrest), name="remainder sign split")
        b.lookup([3, qrest * 2, qrest, 0], dsig, bus=BITWISE_BUS, name="quotient rest")
        b.lookup([3, rrest * 2, rrest, 0], dsig, bus=BITWISE_BUS, name="remainder rest")
        for j in range(0, 4, 2):
            b.lookup([3, zb[j], zb[j + 1], 0], divs, bus=BITWISE_BUS, name=f"remainder {j}")
        r_sum = zb[0] + zb[1] * 256 + zb[2] + zb[3] * 256
        b.assert_every_row(dsig * sr * (1 - sa), name="negative remainder needs a < 0")
        b.assert_every_row(dsig * sa * (1 - sr) * r_sum, name="a < 0 gives r <= 0")
        sd = m(L.sd)
        b.assert_every_row(sd * (sd - 1), name="difference sign boolean")
        b.assert_every_row(divs * (s_hi - sd * 0x8000 - m(L.drest)), name="difference sign split")
        b.assert_every_row(dun * (1 - bz) * c1, name="remainder below divisor (unsigned)")
        b.assert_every_row(
            dsig * (1 - bz) * ((1 - sr) * (1 - sd) + sr * (sd + m(L.eq))),
            name="remainder magnitude below divisor (signed)",
        )
        div_q = (xb[0] + xb[1] * 256, xb[2] + xb[3] * 256)
        div_r = (zb[0] + zb[1] * 256, zb[2] + zb[3] * 256)

        # --- memory / jalr target split --------------------------------------------------
        mem = _sum_sel(b, lambda i: i.load or i.store)
        jalr = _sum_sel(b, lambda i: i.next_pc == "jalr")
        sq, s0, s1 = m(L.sq), m(L.s0), m(L.s1)
        b.assert_every_row(s0 * (s0 - 1), name="target bit 0 boolean")
        b.assert_every_row(s1 * (s1 - 1), name="target bit 1 boolean")
        b.assert_every_row((mem + jalr) * (s_lo - sq * 4 - s1 * 2 - s0), name="target split")
        b.assert_every_row(jalr * s1, name="jalr target aligned")
        wordop = _sum_sel(b, lambda i: (i.load or i.store) and i.width == 4)
        b.assert_every_row(wordop * (s0 + s1), name="word access aligned")
        b.assert_every_row(_sum_sel(b, lambda i: i.width == 2) * s0, name="half access aligned")
        target_w = sq + s_hi * (1 << 14)

        # --- byte and half-word loads / stores ---------------------------------------------
        subld = _sum_sel(b, lambda i: i.load and i.width < 4)
        subst = _sum_sel(b, lambda i: i.store and i.width < 4)
        off = [m(i) for i in L.off]
        mb = [m(i) for i in L.mb]
        old3 = (m(L.old3[0]), m(L.old3[1]))
        for k in L.off:
            b.assert_every_row(m(k) * (m(k) - 1), name="offset boolean")
        b.assert_every_row(off[0] + off[1] + off[2] + off[3] - subld - subst, name="offset one-hot")
        b.assert_every_row(
            (subld + subst) * (off[1] + off[2] * 2 + off[3] * 3 - s0 - s1 * 2), name="offset"
        )
        io_r = _sum_sel(b, lambda i: i.sys == "io_read")
        io_w = _sum_sel(b, lambda i: i.sys == "io_write")
        io = io_r + io_w
        for h in range(2):
            split = mb[2 * h] + mb[2 * h + 1] * 256
            b.assert_every_row((subld + io_w) * (v2[h] - split), name=f"loaded word bytes {h}")
            b.assert_every_row((subst + io_r) * (old3[h] - split), name=f"stored-to word bytes {h}")
            b.lookup(
                [3, mb[2 * h], mb[2 * h + 1], 0], subld + subst + io, bus=BITWISE_BUS, name="mb"
            )
        vbyte = off[0] * mb[0] + off[1] * mb[1] + off[2] * mb[2] + off[3] * mb[3]
        vhalf = off[0] * (mb[0] + mb[1] * 256) + off[2] * (mb[2] + mb[3] * 256)
        lsgn, lrest = m(L.lsgn), m(L.lrest)
        lb = _sum_sel(b, lambda i: i.load and i.width == 1 and i.signed)
        lh = _sum_sel(b, lambda i: i.load and i.width == 2 and i.signed)
        lbu = _sum_sel(b, lambda i: i.load and i.width == 1 and not i.signed)
        lhu = _sum_sel(b, lambda i: i.load and i.width == 2 and not i.signed)
        b.assert_every_row(lsgn * (lsgn - 1), name="load sign boolean")
        b.assert_every_row(lb * (vbyte - lsgn * 128 - lrest), name="lb sign split")
        b.assert_every_row(lh * (vhalf - lsgn * 32768 - lrest), name="lh sign split")
        b.lookup([3, lrest * 2, lrest, 0], lb, bus=BITWISE_BUS, name="lb rest < 128")
        loaded = (
            lbu * vbyte + lb * (vbyte + lsgn * 0xFF00) + (lhu + lh) * vhalf,
            (lb + lh) * lsgn * 0xFFFF,
        )
        sb = _sum_sel(b, lambda i: i.store and i.width == 1)
        sh_ = _sum_sel(b, lambda i: i.store and i.width == 2)
        db = [m(i) for i in L.db]
        b.assert_every_row(sb * (v2[0] - db[0] - db[1] * 256), name="sb data bytes")
        b.lookup([3, db[0], db[1], 0], sb, bus=BITWISE_BUS, name="sb data bytes")
        sb_new = (
            old3[0] + off[0] * (db[0] - mb[0]) + off[1] * (db[0] - mb[1]) * 256,
            old3[1] + off[2] * (db[0] - mb[2]) + off[3] * (db[0] - mb[3]) * 256,
        )
        sh_new = (old3[0] + off[0] * (v2[0] - old3[0]), old3[1] + off[2] * (v2[0] - old3[1]))

        # --- result ----------------------------------------------------------------------
        lc = m(L.lc)
        b.assert_every_row(lc * (lc - 1), name="link carry boolean")
        link = (pc_lo + 4 - lc * 65536, pc_hi + lc)
        res = {
            "sum": _sum_sel(b, lambda i: i.result == "sum"),
            "lt": _sum_sel(b, lambda i: i.result == "lt"),
            "link": _sum_sel(b, lambda i: i.result == "link"),
            "load": _sum_sel(b, lambda i: i.load and i.width == 4),
        }
        logic_res = (cb[0] + cb[1] * 256, cb[2] + cb[3] * 256)
        s_halt, s_read, s_write, s_other = (m(i) for i in L.sys)
        rw = s_read + s_write
        for h in range(2):
            want = (
                res["sum"] * m(L.s[h])
                + res["link"] * link[h]
                + res["load"] * v2[h]
                + loaded[h]
                + logic * logic_res[h]
                + _sum_sel(b, lambda i: i.word == "lo") * word_lo[h]
                + _sum_sel(b, lambda i: i.word == "hi") * word_hi[h]
                + _sum_sel(b, lambda i: i.div == "q") * div_q[h]
                + _sum_sel(b, lambda i: i.div == "r") * div_r[h]
                + (res["lt"] * lt if h == 0 else lift(0))
                + s_halt * old3[h]
                + rw * m(L.b[h])
                + s_other * m(L.c[h])
            )
            b.assert_every_row(m(L.c[h]) - want, name=f"result limb {h}")

        # --- pc ----------------------------------------------------------------------------
        pcw = m(L.pq) + m(L.ph) * (1 << 14)
        boff = bits_value(9, 12) + bits_value(25, 31, 3) + bit[7] * (1 << 9) - b31 * (1 << 10)
        joff = bits_value(22, 31) + bit[20] * (1 << 9) + bits_value(12, 20, 10) - b31 * (1 << 18)
        seq = _sum_sel(b, lambda i: i.next_pc == "seq")
        br = _sum_sel(b, lambda i: i.next_pc == "branch")
        jal = _sum_sel(b, lambda i: i.next_pc == "jal")
        stay = _sum_sel(b, lambda i: i.next_pc == "stay")
        npcw = (
            stay * pcw
            + seq * (pcw + 1)
            + br * (pcw + 1 + taken * (boff - 1))
            + jal * (pcw + joff)
            + jalr * target_w
        )
        b.assert_every_row(br * taken * bit[8], name="taken branch target aligned")
        b.assert_every_row(jal * bit[21], name="jal target aligned")
        nxt_real = b.main_next(L.is_real)
        nxt_pcw = b.main_next(L.pq) + b.main_next(L.ph) * (1 << 14)
        npc = m(L.npc)
        b.assert_every_row(npc - npcw, name="next pc word")
        b.assert_transition(nxt_real * (nxt_pcw - npc), name="next pc")
        b.assert_first_row(pcw - b.public(PUB_PRE_PC), name="pre-state pc")
        b.assert_transition((real - nxt_real) * (npc - b.public(PUB_POST_PC)), name="post-state pc")
        b.assert_last_row(real * (npc - b.public(PUB_POST_PC)), name="post-state pc (full table)")

        # --- range checks --------------------------------------------------------------
        def u16(v: ExprLike, mult: ExprLike, name: str) -> None:
            b.lookup([v], mult, bus=U16_BUS, name=name)

        u16(m(L.pq), real, "pc word low")
        u16(m(L.pq) * 4, real, "pc word low < 2^14")
        u16(m(L.ph) - USER_HI_MIN, real, "pc >= USER_START")
        u16(USER_HI_MAX - m(L.ph), real, "pc < USER_END")
        for h in range(2):
            u16(m(L.s[h]), real, f"sum limb {h}")
            u16(m(L.c[h]), real, f"result limb {h}")
        u16(m(L.ra), real, "rest of a")
        u16(m(L.ra) * 2, real, "rest of a < 2^15")
        u16(m(L.rb), real, "rest of b")
        u16(m(L.rb) * 2, real, "rest of b < 2^15")
        u16(sq + m(L.wq), mem + jalr + io, "target word / I/O word low")
        u16(m(L.drest), divs, "difference rest")
        u16(m(L.drest) * 2, divs, "difference rest < 2^15")
        u16(lrest, lh, "lh rest")
        u16(lrest * 2, lh, "lh rest < 2^15")
        for k in range(8):
            u16(mc[k], mulu, f"product carry {k}")
        u16(sh, shl + shr, "shift amount")
        u16(sh * 2048, shl + shr, "shift amount < 32")
        u16(m(L.sh_rest), shl + shr, "shift operand rest")
        u16(m(L.sh_rest) * 32, shl + shr, "shift operand rest < 2^11")
        u16(s_hi + m(L.wh) - USER_HI_MIN, mem + io, "data address >= USER_START")
        u16(USER_HI_MAX - s_hi - m(L.wh), mem + io, "data address < USER_END")

        # --- memory accesses ---------------------------------------------------------------
        z1, z2, zd = (m(i) for i in L.z)
        uses1 = _sum_sel(b, lambda i: i.rs1)
        uses2 = _sum_sel(b, lambda i: i.rs2)
        writes = _sum_sel(b, lambda i: i.rd)
        load = _sum_sel(b, lambda i: i.load)
        store = _sum_sel(b, lambda i: i.store)
        sw = _sum_sel(b, lambda i: i.store and i.width == 4)
        act = [m(i) for i in L.act]
        first_w = m(L.first) * io_w  # the first I/O row of a WRITE reads its pointer a1
        io_word = m(L.wq) + m(L.wh) * (1 << 14)
        inb = [m(i) for i in L.inb]
        iob = [m(i) for i in L.iob]
        read_new = [
            sum_bytes([inb[j] * iob[j] + (1 - inb[j]) * mb[j] for j in (2 * h, 2 * h + 1)])
            for h in range(2)
        ]
        b.assert_every_row(act[0] - real + io, name="fetch active")
        b.assert_every_row(act[1] - uses1 * (1 - z1) - rw - first_w, name="slot 1 active")
        b.assert_every_row(act[2] - uses2 * (1 - z2) - load - ecall - io_w, name="slot 2 active")
        b.assert_every_row(act[3] - writes * (1 - zd) - store - ecall - io_r, name="slot 3 active")
        for h in range(2):
            b.assert_every_row(uses1 * z1 * v1[h], name="x0 reads 0 (rs1)")
            b.assert_every_row(uses2 * z2 * v2[h], name="x0 reads 0 (rs2)")
            new = (
                sw * v2[h]
                + (writes + ecall) * m(L.c[h])
                + sb * sb_new[h]
                + sh_ * sh_new[h]
                + io_r * read_new[h]
            )
            b.assert_every_row(m(L.new3[h]) - new, name="slot 3 value")
        b.assert_every_row(
            m(L.addr1)
            - rs1_f
            - real * REG_WORD_BASE
            - s_read * SYS_REG_A1
            - s_write * SYS_REG_A2
            - first_w * SYS_REG_A1,
            name="slot 1 address",
        )
        b.assert_every_row(
            m(L.addr2)
            - uses2 * (rs2_f + REG_WORD_BASE)
            - load * target_w
            - ecall * (REG_WORD_BASE + SYS_REG_T0)
            - io_w * io_word,
            name="slot 2 address",
        )
        b.assert_every_row(
            m(L.addr3)
            - writes * (rd_f + REG_WORD_BASE)
            - store * target_w
            - ecall * (REG_WORD_BASE + SYS_REG_A0)
            - io_r * io_word,
            name="slot 3 address",
        )
        self._syscalls(b, ecall, io_r, io_w, sq, u16)
        word = (bits_value(0, 16), bits_value(16, 32))
        slots = [
            (pcw, word, word),
            (m(L.addr1), v1, v1),
            (m(L.addr2), v2, v2),
            (m(L.addr3), old3, (m(L.new3[0]), m(L.new3[1]))),
        ]
        for k, (addr, before, after) in enumerate(slots):
            ts = m(L.row) * TIMESTAMP_SLOTS + (TIMESTAMP_SLOTS + k)
            pts = m(L.pts[k])
            prev = [addr, pts, before[0], before[1]]
            b.lookup(prev, act[k], bus=MEMORY_BUS, name=f"slot {k} prev")
            b.provide([addr, ts, after[0], after[1]], act[k], bus=MEMORY_BUS, name=f"slot {k} next")
            d = ts - pts - 1 - m(L.dlo[k]) - m(L.dhi[k]) * 4096
            b.assert_every_row(act[k] * d, name=f"slot {k} timestamp order")
            u16(m(L.dlo[k]), act[k], f"slot {k} ts diff low")
            u16(m(L.dhi[k]), act[k], f"slot {k} ts diff high")

    def _syscalls(
        self, b: AirBuilder, ecall: Expr, io_r: Expr, io_w: Expr, sq: Expr, u16: U16Check
    ) -> None:
        """Syscall rows: selectors from t0, results, I/O transfers, the journal, HALT.

        An ecall row reads t0 (slot 2), the length register (slot 1: a1 for READ, a2 for
        WRITE) and reads and writes a0 (slot 3). A READ or WRITE of k > 0 bytes is followed
        by one I/O row per word the buffer spans; each moves the bytes ``[lo, hi)`` of its
        word, consecutive words from the buffer pointer, until ``k`` bytes are moved.
        WRITE rows to the journal look up ``(index, byte)`` on the journal bus, which the
        verifier provides from the receipt's journal.
        """
        L = LAYOUT
        m, nx = b.main, b.main_next
        real = m(L.is_real)
        s_halt, s_read, s_write, s_other = (m(i) for i in L.sys)
        rw = s_read + s_write
        io = io_r + io_w
        v1 = (m(L.v1[0]), m(L.v1[1]))
        v2 = (m(L.v2[0]), m(L.v2[1]))
        old3 = (m(L.old3[0]), m(L.old3[1]))
        c = (m(L.c[0]), m(L.c[1]))
        knz, first, last, jr = m(L.knz), m(L.first), m(L.last), m(L.jr)
        fdo, fde = m(L.fd[0]), m(L.fd[1])
        for name, col in (
            ("halt", s_halt), ("read", s_read), ("write", s_write), ("other", s_other),
            ("stdout", fdo), ("stderr", fde), ("journal", jr), ("k != 0", knz),
            ("first", first), ("last", last),
        ):  # fmt: skip
            b.assert_every_row(col * (col - 1), name=f"syscall flag {name} boolean")
        b.assert_every_row(s_halt + rw + s_other - ecall, name="one syscall per ecall")
        for j in range(3):  # the word is exactly 0x00000073 (not ebreak or a variant)
            b.assert_every_row(ecall * (1 - m(L.z[j])), name=f"ecall register field {j} is 0")
        b.assert_every_row(io * (1 - m(L.z[0])), name="I/O rows have no rs1 field")
        b.assert_every_row(ecall * v2[1], name="t0 high limb")
        b.assert_every_row(s_halt * (v2[0] - SYS_HALT), name="t0 selects HALT")
        b.assert_every_row(s_read * (v2[0] - SYS_READ), name="t0 selects READ")
        b.assert_every_row(s_write * (v2[0] - SYS_WRITE), name="t0 selects WRITE")
        b.assert_every_row(
            s_other * (v2[0] - SYS_INPUT_LEN) * (v2[0] - SYS_CYCLE_COUNT),
            name="t0 selects INPUT_LEN or CYCLE_COUNT",
        )
        # k = bytes moved = the result in a0: k <= the length register, k < 2^30
        b.assert_every_row(rw * (1 - m(L.carry[1])), name="k <= length register")
        u16(c[1] * 4, rw, "k < 2^30")
        k_sum = c[0] + c[1]
        b.assert_every_row(knz * (1 - rw), name="k flag only on READ/WRITE")
        b.assert_every_row(rw * (k_sum * m(L.kinv) - knz), name="k != 0 (inverse)")
        b.assert_every_row(rw * (1 - knz) * k_sum, name="k == 0")
        # A WRITE moves every byte it is asked to (the adder's X − k is 0: eq), except that
        # the executor shortens a transfer that does not fit a fresh segment, which is then
        # the segment's first row, to at least one byte. Without this a prover could drop
        # the tail of any journal WRITE whose return value the guest does not check.
        eq_k = m(L.eq)
        b.assert_every_row(s_write * m(L.row) * (1 - eq_k), name="WRITE moves every byte")
        b.assert_every_row(s_write * (1 - knz) * (1 - eq_k), name="WRITE moves a byte")
        # WRITE's file descriptor (a0 before) is stdout, stderr or the journal
        b.assert_every_row(fdo + fde - s_write * (fdo + fde), name="fd flags only on WRITE")
        b.assert_every_row(ecall * (fdo + fde + jr - s_write), name="one fd per WRITE")
        b.assert_every_row(
            s_write * (old3[0] - FD_STDOUT * fdo - FD_STDERR * fde - FD_JOURNAL * jr),
            name="WRITE fd",
        )
        b.assert_every_row(s_write * old3[1], name="WRITE fd high limb")
        b.assert_every_row(jr * (1 - s_write - io_w), name="journal flag only on WRITE rows")

        # --- the transfer ----------------------------------------------------------------
        lsel = [m(i) for i in L.lsel]
        hsel = [m(i) for i in L.hsel]
        inb = [m(i) for i in L.inb]
        for k in (*L.lsel, *L.hsel):
            b.assert_every_row(m(k) * (m(k) - 1), name="I/O byte range boolean")
        b.assert_every_row(sum_exprs(lsel) - io, name="I/O first byte one-hot")
        b.assert_every_row(sum_exprs(hsel) - io, name="I/O end byte one-hot")
        lo_val = lsel[1] + lsel[2] * 2 + lsel[3] * 3
        for j in range(4):
            starts = sum_exprs(lsel[: j + 1])  # lo <= j
            ends = sum_exprs(hsel[j:])  # hi > j
            b.assert_every_row(inb[j] - starts * ends, name=f"I/O byte {j} moved")
        nb = sum_exprs(inb)
        nxt_r = nx(L.sel[INDEX["io_read"]])
        nxt_w = nx(L.sel[INDEX["io_write"]])
        nxt_io, nxt_first = nxt_r + nxt_w, nx(L.first)
        b.assert_transition(nxt_r - s_read * knz - io_r * (1 - last), name="READ rows follow")
        b.assert_transition(nxt_w - s_write * knz - io_w * (1 - last), name="WRITE rows follow")
        b.assert_transition(nxt_first - knz, name="first I/O row")
        b.assert_transition(nxt_io * (nx(L.jr) - jr), name="I/O rows keep the journal flag")
        b.assert_first_row(io, name="a segment does not start inside a syscall")
        b.assert_first_row(first, name="no first I/O row at the start")
        b.assert_last_row(knz + io * (1 - last), name="a segment does not end inside a syscall")
        b.assert_every_row(last * (1 - io), name="last only on I/O rows")
        b.assert_every_row(first * (1 - io), name="first only on I/O rows")
        b.assert_every_row(io * (1 - last) * (1 - hsel[3]), name="inner rows move to the word end")
        b.assert_transition(
            nxt_io * (1 - nxt_first) * (1 - nx(L.lsel[0])), name="inner rows start at byte 0"
        )
        rem = m(L.rem)
        b.assert_transition(nxt_first * (nx(L.rem) - c[0] - c[1] * 65536), name="rem starts at k")
        b.assert_transition(
            nxt_io * (1 - nxt_first) * (nx(L.rem) - rem + nb), name="rem counts down"
        )
        b.assert_every_row(last * (rem - nb), name="the last row moves the rest")
        # consecutive words from the buffer pointer (a0 for READ, a1 for WRITE)
        wq, wh = m(L.wq), m(L.wh)
        nxt_word = nx(L.wq) + nx(L.wh) * (1 << 14)
        b.assert_every_row((1 - io) * wq, name="I/O word low only on I/O rows")
        b.assert_every_row((1 - io) * wh, name="I/O word high only on I/O rows")
        b.assert_every_row(io * sq, name="no target split on I/O rows")
        u16(wq * 4, io, "I/O word low < 2^14")
        b.assert_transition(
            knz * s_read * (nx(L.wq) * 4 + nx(L.lsel[1]) + nx(L.lsel[2]) * 2 + nx(L.lsel[3]) * 3
                            - old3[0]),
            name="READ pointer low",
        )  # fmt: skip
        b.assert_transition(knz * s_read * (nx(L.wh) - old3[1]), name="READ pointer high")
        b.assert_every_row(first * io_w * (wq * 4 + lo_val - v1[0]), name="WRITE pointer low")
        b.assert_every_row(first * io_w * (wh - v1[1]), name="WRITE pointer high")
        b.assert_transition(
            nxt_io * (1 - nxt_first) * (nxt_word - wq - wh * (1 << 14) - 1), name="next word"
        )
        iob = [m(i) for i in L.iob]
        for j in range(0, 4, 2):
            b.lookup([3, iob[j], iob[j + 1], 0], io_r, bus=BITWISE_BUS, name=f"READ bytes {j}")

        # --- the journal -------------------------------------------------------------------
        mb = [m(i) for i in L.mb]
        jc = m(L.jcount)
        for j in range(4):
            b.lookup([jc + j - lo_val, mb[j]], jr * inb[j], bus=JOURNAL_BUS, name=f"journal {j}")
        b.assert_first_row(jc, name="journal count starts at 0")
        b.assert_transition(nx(L.jcount) - jc - jr * nb, name="journal count")
        b.assert_last_row(jc + jr * nb - b.public(PUB_JOURNAL_LEN), name="journal length")

        # --- HALT ends the segment and gives the claim's exit ------------------------------
        halted = b.public(PUB_HALTED)
        nxt_real = nx(L.is_real)
        b.assert_every_row(s_halt * (1 - halted), name="HALT only in a halted segment")
        b.assert_transition(s_halt * nxt_real, name="HALT is the last row")
        b.assert_transition((real - nxt_real) * (halted - s_halt), name="halted: ends with HALT")
        b.assert_last_row(real * (halted - s_halt), name="halted: ends with HALT (full table)")
        b.assert_every_row(s_halt * (old3[0] - b.public(PUB_EXIT_LO)), name="exit a0 low")
        b.assert_every_row(s_halt * (old3[1] - b.public(PUB_EXIT_HI)), name="exit a0 high")
