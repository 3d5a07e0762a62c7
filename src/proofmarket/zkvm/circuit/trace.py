"""Trace generation: executor records -> CPU, memory-boundary and lookup-table traces.

Vectorised NumPy over the per-instruction records the numba interpreter writes
(:data:`proofmarket.zkvm.interp_core.REC_WIDTH` columns); nothing is re-executed. The
memory argument's previous timestamps and values come from one stable sort of all
accesses by word address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from proofmarket.stark import field
from proofmarket.zkvm import interp_core as ic
from proofmarket.zkvm.circuit import boundary as bd
from proofmarket.zkvm.circuit.buses import REG_WORD_BASE, TIMESTAMP_SLOTS
from proofmarket.zkvm.circuit.cpu import LAYOUT, SYS_REG_A0, SYS_REG_A1, SYS_REG_A2, SYS_REG_T0
from proofmarket.zkvm.circuit.isa_table import INDEX, INSNS, Insn
from proofmarket.zkvm.circuit.tables import BYTE_PAIR, bitwise_multiplicities, u16_multiplicities
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
from proofmarket.zkvm.machine import IO_READ_WORD, IO_WRITE_WORD


class UnsupportedInstruction(ValueError):
    """The segment executes an instruction kind the circuit does not constrain yet."""


@dataclass
class CircuitTraces:
    """Main traces of the execution tables and the CPU table's public inputs."""

    cpu: np.ndarray
    boundary: np.ndarray
    u16: np.ndarray
    bitwise: np.ndarray
    publics: list[int]
    journal: bytes  # bytes the segment wrote to the journal, in order


_EXACT_WORDS = {"ecall": 0x0000_0073, "io_read": IO_READ_WORD, "io_write": IO_WRITE_WORD}


def _kind_index(words: np.ndarray) -> np.ndarray:
    """The :data:`INSNS` index of every instruction word (raises for unsupported ones)."""
    op, f3, f7 = words & 0x7F, (words >> 12) & 7, words >> 25
    kind = np.full(words.shape, -1, dtype=np.int64)
    for k, insn in enumerate(INSNS):
        hit = op == insn.opcode
        if insn.f3 is not None:
            hit &= f3 == insn.f3
        if insn.f7 is not None:
            hit &= f7 == insn.f7
        if insn.name in _EXACT_WORDS:  # no other word of these encodings is one of them
            hit &= words == _EXACT_WORDS[insn.name]
        kind[hit & (kind < 0)] = k
    bad = np.flatnonzero(kind < 0)
    if bad.size:
        w = int(words[bad[0]])
        raise UnsupportedInstruction(
            f"instruction {w:#010x} (row {int(bad[0])}) is not constrained by the circuit yet"
        )
    return kind


def _trait(kind: np.ndarray, pred: Callable[[Insn], bool]) -> np.ndarray:
    table = np.array([bool(pred(i)) for i in INSNS])
    return table[kind]


def _lo(v: np.ndarray) -> np.ndarray:
    return v & 0xFFFF


def _hi(v: np.ndarray) -> np.ndarray:
    return (v >> 16) & 0xFFFF


def _inv(v: np.ndarray) -> np.ndarray:
    """Field inverses (0 for 0) of non-negative values below p."""
    out = np.zeros(v.shape, dtype=np.int64)
    nz = np.flatnonzero(v)
    if nz.size:
        out[nz] = field.batch_inv(v[nz].astype(np.uint64)).astype(np.int64)
    return out


def build_traces(
    rec: np.ndarray, initial_word: Callable[[np.ndarray], np.ndarray], post_pc: int
) -> CircuitTraces:
    """Traces for ``rec`` (the records of one segment, in order).

    ``initial_word(word_addresses)`` returns the words' values before the segment (from
    its paged-in pages); ``post_pc`` is the pc after the last recorded instruction.
    """
    L = LAYOUT
    n = rec.shape[0]
    if n == 0:
        raise ValueError("a segment executes at least one instruction")
    w = rec[:, ic.REC_INSN].astype(np.int64)
    kind = _kind_index(w)
    T = np.zeros((n, L.width), dtype=np.int64, order="F")  # column writes stay contiguous
    T[:, L.row] = np.arange(n)
    T[:, L.is_real] = 1
    pc = rec[:, ic.REC_PC]
    T[:, L.pq] = (pc & 0xFFFF) >> 2
    T[:, L.ph] = pc >> 16
    T[:, L.npc] = rec[:, ic.REC_NEXT_PC] >> 2
    for i in range(32):
        T[:, L.bits[i]] = (w >> i) & 1
    T[np.arange(n), np.array(L.sel)[kind]] = 1

    uses1 = _trait(kind, lambda i: i.rs1)
    uses2 = _trait(kind, lambda i: i.rs2)
    writes = _trait(kind, lambda i: i.rd)
    load = _trait(kind, lambda i: i.load)
    store = _trait(kind, lambda i: i.store)
    sc = _SyscallRows(rec, kind)
    v1 = np.where(uses1, rec[:, ic.REC_RS1_VAL], 0)
    v1 = np.where(sc.rw, rec[:, ic.REC_MEM_ADDR], v1)  # the length register
    v1 = np.where(sc.first_w, sc.pointer, v1)  # WRITE's buffer pointer a1
    v2 = np.where(uses2, rec[:, ic.REC_RS2_VAL], np.where(load, rec[:, ic.REC_MEM_OLD], 0))
    v2 = np.where(sc.ecall, rec[:, ic.REC_RS1_VAL], v2)  # t0
    v2 = np.where(sc.io_w, rec[:, ic.REC_MEM_OLD], v2)  # the word written out
    T[:, L.v1[0]], T[:, L.v1[1]] = _lo(v1), _hi(v1)
    T[:, L.v2[0]], T[:, L.v2[1]] = _lo(v2), _hi(v2)

    # operand
    sign = (w >> 31) & 1
    imm_i = ((w >> 20) | (sign * 0xFFFFF000)) & 0xFFFFFFFF
    imm_s = (((w >> 7) & 31) | (((w >> 25) & 0x7F) << 5) | (sign * 0xFFFFF000)) & 0xFFFFFFFF
    imm_u = w & 0xFFFFF000
    operand = np.zeros(n, dtype=np.int64)
    for name, val in (("rs2", v2), ("imm_i", imm_i), ("imm_s", imm_s), ("imm_u", imm_u)):
        sel = _trait(kind, lambda i, name=name: i.operand == name)  # type: ignore[misc]
        operand = np.where(sel, val, operand)
    operand = np.where(sc.rw, rec[:, ic.REC_RD_VAL], operand)  # k, the bytes moved
    T[:, L.b[0]], T[:, L.b[1]] = _lo(operand), _hi(operand)

    # division: q, r with RISC-V's edge cases (b = 0, signed overflow)
    divs = _trait(kind, lambda i: i.div != "")
    dsig = divs & _trait(kind, lambda i: i.signed)
    dun = divs & ~dsig
    sa_i = v1 - ((v1 >> 31) << 32)
    sb_i = operand - ((operand >> 31) << 32)
    bzero = divs & (operand == 0)
    ovf = dsig & (v1 == 0x8000_0000) & (operand == 0xFFFF_FFFF)
    safe_u = np.where(operand == 0, 1, operand)
    safe_s = np.where((sb_i == 0) | ovf, 1, sb_i)
    q_s = np.abs(sa_i) // np.abs(safe_s) * np.where((sa_i < 0) != (safe_s < 0), -1, 1)
    r_s = sa_i - q_s * safe_s
    q = np.where(dsig, q_s & 0xFFFF_FFFF, v1 // safe_u)
    r = np.where(dsig, r_s & 0xFFFF_FFFF, v1 % safe_u)
    q = np.where(ovf, 0x8000_0000, q)
    r = np.where(ovf, 0, r)
    q = np.where(bzero, 0xFFFF_FFFF, q)
    r = np.where(bzero, v1, r)
    q, r = np.where(divs, q, 0), np.where(divs, r, 0)
    sgn_r = dsig & (r >> 31 == 1)
    same_rb = sgn_r == (operand >> 31 == 1)
    div_minus = dun | (dsig & same_rb)
    T[:, L.bz] = bzero
    T[:, L.bz_inv] = np.where(divs, _inv(_lo(operand) + _hi(operand)), 0)
    T[:, L.ovf] = ovf
    T[:, L.sgnq] = dsig & (q >> 31 == 1)
    T[:, L.qrest] = np.where(dsig, (q >> 24) & 127, 0)
    T[:, L.sr] = sgn_r
    T[:, L.rrest] = np.where(dsig, (r >> 24) & 127, 0)
    for j in range(4):
        T[:, L.zb[j]] = (r >> (8 * j)) & 255

    # adder
    xa = _trait(kind, lambda i: i.x == "a")
    xp = _trait(kind, lambda i: i.x == "pc")
    used = _trait(kind, lambda i: i.x != "none")
    sub = _trait(kind, lambda i: i.sub) & used
    x = np.where(xa, v1, np.where(xp, pc, np.where(divs, r, 0)))
    y = np.where(used, np.where(sub, operand ^ 0xFFFFFFFF, operand), 0)
    y = np.where(divs, np.where(div_minus, operand ^ 0xFFFFFFFF, operand), y)
    cin = (sub | (divs & div_minus)).astype(np.int64)
    lo_sum = _lo(x) + _lo(y) + cin
    c0 = lo_sum >> 16
    hi_sum = _hi(x) + _hi(y) + c0
    c1 = hi_sum >> 16
    s = ((hi_sum & 0xFFFF) << 16) | (lo_sum & 0xFFFF)
    T[:, L.s[0]], T[:, L.s[1]] = _lo(s), _hi(s)
    T[:, L.carry[0]], T[:, L.carry[1]] = c0, c1
    T[:, L.sd] = np.where(divs, _hi(s) >> 15, 0)
    T[:, L.drest] = np.where(divs, _hi(s) & 0x7FFF, 0)
    jalr = _trait(kind, lambda i: i.next_pc == "jalr")
    tgt = jalr | load | store
    T[:, L.sq] = np.where(tgt, _lo(s) >> 2, 0)
    T[:, L.s0] = np.where(tgt, s & 1, 0)
    T[:, L.s1] = np.where(tgt, (s >> 1) & 1, 0)

    # byte and half-word loads / stores: bytes of the accessed word, offset, sign
    width = np.array([i.width for i in INSNS])[kind]
    subld = load & (width < 4)
    subst = store & (width < 4)
    sub_ = subld | subst
    offset = s & 3
    for k in range(4):
        T[:, L.off[k]] = sub_ & (offset == k)
    accessed = np.where(subld | sc.io_w, v2, np.where(subst | sc.io_r, rec[:, ic.REC_MEM_OLD], 0))
    mbytes = [(accessed >> (8 * k)) & 255 for k in range(4)]
    for k in range(4):
        T[:, L.mb[k]] = mbytes[k]
    vbyte = (accessed >> (8 * offset)) & 255
    vhalf = (accessed >> (8 * offset)) & 0xFFFF
    ld_signed = load & _trait(kind, lambda i: i.signed)
    lb = ld_signed & (width == 1)
    lh = ld_signed & (width == 2)
    T[:, L.lsgn] = np.where(lb, vbyte >> 7, np.where(lh, vhalf >> 15, 0))
    T[:, L.lrest] = np.where(lb, vbyte & 127, np.where(lh, vhalf & 0x7FFF, 0))
    loaded = np.where(width == 1, vbyte, np.where(width == 2, vhalf, v2))
    loaded = np.where(lb & (vbyte >> 7 == 1), loaded | 0xFFFFFF00, loaded)
    loaded = np.where(lh & (vhalf >> 15 == 1), loaded | 0xFFFF0000, loaded)
    sb = store & (width == 1)
    T[:, L.db[0]] = np.where(sb, v2 & 255, 0)
    T[:, L.db[1]] = np.where(sb, (v2 >> 8) & 255, 0)

    # comparisons
    T[:, L.sa], T[:, L.ra] = _hi(v1) >> 15, _hi(v1) & 0x7FFF
    T[:, L.sb], T[:, L.rb] = _hi(operand) >> 15, _hi(operand) & 0x7FFF
    signed = _trait(kind, lambda i: i.sub and i.signed)
    is_cmp = _trait(kind, lambda i: i.compares)
    sv1 = v1 - ((v1 >> 31) << 32)
    sop = operand - ((operand >> 31) << 32)
    lt = np.where(signed, sv1 < sop, v1 < operand) & is_cmp
    T[:, L.lt] = lt
    ssum = _lo(s) + _hi(s)
    T[:, L.eq] = ssum == 0
    T[:, L.eq_inv] = _inv(ssum)
    br = {c: _trait(kind, lambda i, c=c: i.branch == c) for c in ("eq", "ne", "lt", "ge")}  # type: ignore[misc]
    taken = (br["eq"] & (ssum == 0)) | (br["ne"] & (ssum != 0)) | (br["lt"] & lt) | (br["ge"] & ~lt)
    T[:, L.taken] = taken

    # logic
    logic = _trait(kind, lambda i: i.result == "logic")
    ops = np.array([max(i.logic_op, 0) for i in INSNS])[kind]
    res_logic = np.where(ops == 0, v1 & operand, np.where(ops == 1, v1 | operand, v1 ^ operand))
    for j in range(4):
        T[:, L.ab[j]] = np.where(logic, (v1 >> (8 * j)) & 255, 0)
        T[:, L.bb[j]] = np.where(logic, (operand >> (8 * j)) & 255, 0)
        T[:, L.cb[j]] = np.where(logic, (res_logic >> (8 * j)) & 255, 0)

    # multiplier: X·Y = W mod 2^64 in bytes
    mulx = _trait(kind, lambda i: i.word != "")
    mulu = mulx | divs
    shl = _trait(kind, lambda i: i.shift == "left")
    shr = _trait(kind, lambda i: i.shift == "right")
    shift = shl | shr
    mulp = mulu & ~shift
    xs = (_trait(kind, lambda i: i.x_signed) & (v1 >> 31 == 1)) | (dsig & (q >> 31 == 1))
    ys = _trait(kind, lambda i: i.y_signed) & (operand >> 31 == 1)
    sh = np.where(shift, operand & 31, 0)
    T[:, L.sh] = sh
    T[:, L.sh_rest] = np.where(shift, _lo(operand) >> 5, 0)
    tpow = np.where(shl, sh, np.where(shr, 32 - sh, 0))
    for j in range(3):
        T[:, L.t[j]] = np.where(shift, (tpow >> j) & 1, 0)
    for j in range(5):
        T[:, L.q[j]] = shift & (tpow >> 3 == j)
    e = np.where(shift, 1 << (tpow & 7), 0)
    T[:, L.e] = e
    xbytes = [np.where(mulx, (v1 >> (8 * j)) & 255, (q >> (8 * j)) & 255) for j in range(4)]
    zbytes = [(r >> (8 * j)) & 255 for j in range(4)] + [sgn_r * 255] * 4
    xbytes += [xs * 255] * 4
    ybytes = [
        np.where(mulp, (operand >> (8 * j)) & 255, np.where(T[:, L.q[j]] == 1, e, 0))
        for j in range(4)
    ]
    ybytes.append(T[:, L.q[4]] * e + ys * 255)
    ybytes += [ys * 255] * 3
    wbytes = []
    carry = np.zeros(n, dtype=np.int64)
    for k in range(8):
        col = carry + zbytes[k]
        for i in range(k + 1):
            col += xbytes[i] * ybytes[k - i]
        wbytes.append(col & 255)
        carry = col >> 8
        T[:, L.mc[k]] = carry
    for j in range(4):
        T[:, L.xb[j]] = xbytes[j]
    for j in range(5):
        T[:, L.yb[j]] = ybytes[j]
    for j in range(8):
        T[:, L.wb[j]] = wbytes[j]
    word_lo = wbytes[0] | (wbytes[1] << 8) | (wbytes[2] << 16) | (wbytes[3] << 24)
    word_hi = wbytes[4] | (wbytes[5] << 8) | (wbytes[6] << 16) | (wbytes[7] << 24)

    # result
    link = pc + 4
    T[:, L.lc] = np.where(_trait(kind, lambda i: i.result == "link"), (_lo(pc) + 4) >> 16, 0)
    result = np.zeros(n, dtype=np.int64)
    for name, val in (("sum", s), ("lt", lt.astype(np.int64)), ("link", link), ("load", loaded)):
        sel = _trait(kind, lambda i, name=name: i.result == name)  # type: ignore[misc]
        result = np.where(sel, val, result)
    result = np.where(logic, res_logic, result)
    result = np.where(_trait(kind, lambda i: i.word == "lo"), word_lo, result)
    result = np.where(_trait(kind, lambda i: i.word == "hi"), word_hi, result)
    result = np.where(_trait(kind, lambda i: i.div == "q"), q, result)
    result = np.where(_trait(kind, lambda i: i.div == "r"), r, result)
    result = np.where(sc.ecall, rec[:, ic.REC_RD_VAL], result)  # a0 after the syscall
    T[:, L.c[0]], T[:, L.c[1]] = _lo(result), _hi(result)

    # registers
    rs1_f, rs2_f, rd_f = (w >> 15) & 31, (w >> 20) & 31, (w >> 7) & 31
    for j, f in enumerate((rs1_f, rs2_f, rd_f)):
        T[:, L.z[j]] = f == 0
        T[:, L.z_inv[j]] = _inv(f)

    # memory accesses: (addr, new value, active) per slot, chronological order
    target_w = s >> 2
    act = np.stack(
        [
            ~sc.io,
            (uses1 & (rs1_f != 0)) | sc.rw | sc.first_w,
            (uses2 & (rs2_f != 0)) | load | sc.ecall | sc.io_w,
            (writes & (rd_f != 0)) | store | sc.ecall | sc.io_r,
        ],
        axis=1,
    )
    addr1 = REG_WORD_BASE + rs1_f + np.where(sc.s_read | sc.first_w, SYS_REG_A1, 0)
    addr1 = addr1 + np.where(sc.s_write, SYS_REG_A2, 0)
    addr = np.stack(
        [
            pc >> 2,
            addr1,
            np.where(load, target_w, np.where(uses2, REG_WORD_BASE + rs2_f, 0))
            + np.where(sc.ecall, REG_WORD_BASE + SYS_REG_T0, 0)
            + np.where(sc.io_w, sc.word, 0),
            np.where(store, target_w, np.where(writes, REG_WORD_BASE + rd_f, 0))
            + np.where(sc.ecall, REG_WORD_BASE + SYS_REG_A0, 0)
            + np.where(sc.io_r, sc.word, 0),
        ],
        axis=1,
    )
    new3 = np.where(store | sc.io_r, rec[:, ic.REC_MEM_NEW], np.where(writes | sc.ecall, result, 0))
    value = np.stack([w, v1, v2, new3], axis=1)
    T[:, L.addr1] = addr[:, 1]
    T[:, L.addr2] = addr[:, 2]
    T[:, L.addr3] = addr[:, 3]
    T[:, L.new3[0]], T[:, L.new3[1]] = _lo(new3), _hi(new3)
    for k in range(TIMESTAMP_SLOTS):
        T[:, L.act[k]] = act[:, k]
    ts = (np.arange(n)[:, None] + 1) * TIMESTAMP_SLOTS + np.arange(TIMESTAMP_SLOTS)[None, :]
    flat = np.flatnonzero(act.ravel())
    a_addr, a_ts, a_val = addr.ravel()[flat], ts.ravel()[flat], value.ravel()[flat]
    order = np.argsort(a_addr, kind="stable")
    sa_, st_, sv_ = a_addr[order], a_ts[order], a_val[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sa_[1:] != sa_[:-1]
    uniq = sa_[first]
    init = np.asarray(initial_word(uniq), dtype=np.int64)
    prev_ts = np.empty_like(st_)
    prev_val = np.empty_like(sv_)
    prev_ts[1:], prev_val[1:] = st_[:-1], sv_[:-1]
    prev_ts[first] = 0
    prev_val[first] = init
    pts = np.zeros(n * TIMESTAMP_SLOTS, dtype=np.int64)
    pval = np.zeros(n * TIMESTAMP_SLOTS, dtype=np.int64)
    pts[flat[order]] = prev_ts
    pval[flat[order]] = prev_val
    pts, pval = pts.reshape(n, TIMESTAMP_SLOTS), pval.reshape(n, TIMESTAMP_SLOTS)
    diff = np.where(act, ts - pts - 1, 0)
    for k in range(TIMESTAMP_SLOTS):
        T[:, L.pts[k]] = pts[:, k]
        T[:, L.dlo[k]] = diff[:, k] & 0xFFFF
        T[:, L.dhi[k]] = (diff[:, k] >> 16) << 4  # dlo + 2^12·dhi, dhi < 2^16
    old3 = np.where(act[:, 3], pval[:, 3], 0)
    T[:, L.old3[0]], T[:, L.old3[1]] = _lo(old3), _hi(old3)

    sc.fill(T, new3)

    # boundary table: first state and last state of each touched word
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sa_[1:] != sa_[:-1]
    B = np.zeros((len(uniq), bd.WIDTH), dtype=np.int64)
    B[:, bd.ADDR] = uniq
    B[:, bd.INIT_LO], B[:, bd.INIT_HI] = _lo(init), _hi(init)
    B[:, bd.FINAL_TS] = st_[last]
    fin = sv_[last]
    B[:, bd.FINAL_LO], B[:, bd.FINAL_HI] = _lo(fin), _hi(fin)
    B[:, bd.IS_REAL] = 1

    # lookup tables
    u16_vals = [
        T[:, L.pq],
        T[:, L.pq] * 4,
        T[:, L.ph] - 1,
        0xBFFF - T[:, L.ph],
        T[:, L.s[0]],
        T[:, L.s[1]],
        T[:, L.c[0]],
        T[:, L.c[1]],
        T[:, L.ra],
        T[:, L.ra] * 2,
        T[:, L.rb],
        T[:, L.rb] * 2,
        T[tgt, L.sq],
        T[sc.io, L.wq],
        T[sc.io, L.wq] * 4,
        T[load | store, L.s[1]] - 1,
        0xBFFF - T[load | store, L.s[1]],
        T[sc.io, L.wh] - 1,
        0xBFFF - T[sc.io, L.wh],
        T[sc.rw, L.c[1]] * 4,
        B[:, bd.INIT_LO],
        B[:, bd.INIT_HI],
    ]
    for k in range(TIMESTAMP_SLOTS):
        u16_vals += [T[act[:, k], L.dlo[k]], T[act[:, k], L.dhi[k]]]
    u16_vals += [T[mulu, L.mc[k]] for k in range(8)]
    u16_vals += [sh[shift], sh[shift] * 2048, T[shift, L.sh_rest], T[shift, L.sh_rest] * 32]
    u16_vals += [T[lh, L.lrest], T[lh, L.lrest] * 2]
    u16_vals += [T[divs, L.drest], T[divs, L.drest] * 2]
    u16 = u16_multiplicities(np.concatenate(u16_vals))
    lg = np.flatnonzero(logic)
    bops = np.repeat(ops[lg], 4)
    bx = np.stack([T[lg, L.ab[j]] for j in range(4)], axis=1).ravel()
    by = np.stack([T[lg, L.bb[j]] for j in range(4)], axis=1).ravel()
    pairs = [(mulu, L.wb, j) for j in range(0, 8, 2)]
    mbs = sub_ | sc.io
    pairs += [(mbs, L.mb, 0), (mbs, L.mb, 2), (sb, L.db, 0), (divs, L.zb, 0), (divs, L.zb, 2)]
    pairs += [(sc.io_r, L.iob, 0), (sc.io_r, L.iob, 2)]
    pairs += [(mulu, L.xb, j) for j in range(0, 4, 2)] + [(mulp, L.yb, j) for j in range(0, 4, 2)]
    for sel, cols, j in pairs:
        rows = np.flatnonzero(sel)
        bops = np.concatenate([bops, np.full(len(rows), BYTE_PAIR)])
        bx = np.concatenate([bx, T[rows, cols[j]]])
        by = np.concatenate([by, T[rows, cols[j + 1]]])
    for sel, col in ((lb, L.lrest), (dsig, L.qrest), (dsig, L.rrest)):
        rows = np.flatnonzero(sel)
        bops = np.concatenate([bops, np.full(len(rows), BYTE_PAIR)])
        bx = np.concatenate([bx, T[rows, col] * 2])
        by = np.concatenate([by, T[rows, col]])
    bitwise = bitwise_multiplicities(bops, bx, by)
    publics = [int(pc[0]) >> 2, post_pc >> 2, *sc.publics(rec)]
    cpu = np.ascontiguousarray(T, dtype=np.uint32)  # every value is below p < 2^32
    return CircuitTraces(cpu, B.astype(np.uint64), u16, bitwise, publics, sc.journal)


class _SyscallRows:
    """Per-row syscall facts of a segment's records (ecall rows and their I/O rows)."""

    def __init__(self, rec: np.ndarray, kind: np.ndarray) -> None:
        n = len(kind)
        self.ecall = kind == INDEX["ecall"]
        self.io_r = kind == INDEX["io_read"]
        self.io_w = kind == INDEX["io_write"]
        self.io = self.io_r | self.io_w
        t0 = np.where(self.ecall, rec[:, ic.REC_RS1_VAL], -1)
        a0 = np.where(self.ecall, rec[:, ic.REC_RS2_VAL], 0)
        self.s_halt = self.ecall & (t0 == SYS_HALT)
        self.s_read = self.ecall & (t0 == SYS_READ)
        self.s_write = self.ecall & (t0 == SYS_WRITE)
        self.s_other = self.ecall & ((t0 == SYS_INPUT_LEN) | (t0 == SYS_CYCLE_COUNT))
        unknown = np.flatnonzero(
            self.ecall & ~(self.s_halt | self.s_read | self.s_write | self.s_other)
        )
        if unknown.size:
            raise UnsupportedInstruction(
                f"syscall t0={int(t0[unknown[0]])} (row {int(unknown[0])}) has no circuit rows"
            )
        self.rw = self.s_read | self.s_write
        self.fdo = self.s_write & (a0 == FD_STDOUT)
        self.fde = self.s_write & (a0 == FD_STDERR)
        rows = np.arange(n)
        origin = np.maximum.accumulate(np.where(self.io, 0, rows))  # the ecall of an I/O row
        self.jr = (self.s_write & (a0 == FD_JOURNAL)) | (
            self.io_w & self.s_write[origin] & (a0[origin] == FD_JOURNAL)
        )
        prev_io = np.concatenate([[False], self.io[:-1]])
        next_io = np.concatenate([self.io[1:], [False]])
        self.first = self.io & ~prev_io
        self.last = self.io & ~next_io
        self.first_w = self.first & self.io_w
        self.pointer = np.where(self.first_w, rec[origin, ic.REC_MEM_OLD], 0)
        self.word = np.where(self.io, rec[:, ic.REC_MEM_ADDR] >> 2, 0)
        span = rec[:, ic.REC_RS1_VAL]
        self.lo = np.where(self.io, span & 15, 0)
        self.hi = np.where(self.io, span >> 4, 0)
        j = np.arange(4)[None, :]
        self.inb = self.io[:, None] & (self.lo[:, None] <= j) & (j < self.hi[:, None])
        self.nb = self.inb.sum(axis=1)
        self.k = np.where(self.rw, rec[:, ic.REC_RD_VAL], 0)
        self.rem = np.where(self.io, rec[:, ic.REC_RS2_VAL], 0)
        moved = np.where(self.jr, self.nb, 0)
        self.jcount = np.concatenate([[0], np.cumsum(moved)[:-1]]) if n else moved
        self.journal_len = int(moved.sum())
        words = rec[:, ic.REC_MEM_OLD]
        wbytes = ((words[:, None] >> (8 * np.arange(4))[None, :]) & 255).astype(np.uint8)
        self.journal = wbytes[self.inb & self.jr[:, None]].tobytes()

    def fill(self, T: np.ndarray, new3: np.ndarray) -> None:
        """Write the syscall columns of the CPU trace ``T`` (``new3``: slot 3's new words)."""
        L = LAYOUT
        for col, flag in zip(
            L.sys, (self.s_halt, self.s_read, self.s_write, self.s_other), strict=True
        ):
            T[:, col] = flag
        T[:, L.fd[0]], T[:, L.fd[1]], T[:, L.jr] = self.fdo, self.fde, self.jr
        knz = self.rw & (self.k != 0)
        T[:, L.knz] = knz
        T[:, L.kinv] = np.where(self.rw, _inv((self.k & 0xFFFF) + (self.k >> 16)), 0)
        T[:, L.wq] = self.word & 0x3FFF
        T[:, L.wh] = self.word >> 14
        for j in range(4):
            T[:, L.lsel[j]] = self.io & (self.lo == j)
            T[:, L.hsel[j]] = self.io & (self.hi == j + 1)
            T[:, L.inb[j]] = self.inb[:, j]
        for j in range(4):
            T[:, L.iob[j]] = np.where(self.io_r & self.inb[:, j], (new3 >> (8 * j)) & 255, 0)
        T[:, L.first], T[:, L.last] = self.first, self.last
        T[:, L.rem] = self.rem
        T[:, L.jcount] = self.jcount

    def publics(self, rec: np.ndarray) -> list[int]:
        """Journal length, halted flag and the HALT's a0 limbs (CPU publics 2..5)."""
        halts = np.flatnonzero(self.s_halt)
        if not halts.size:
            return [self.journal_len, 0, 0, 0]
        a0 = int(rec[halts[-1], ic.REC_RS2_VAL])
        return [self.journal_len, 1, a0 & 0xFFFF, a0 >> 16]
