"""Pure-Python RV32IM interpreter: the fallback when numba is missing, and a cross-check.

It implements the same contract as ``interp_core.run`` (same arrays, state vector,
return and fault codes, cycle and paging rules) but independently and in idiomatic
CPython: instruction words are decoded once into tuples (cached by word), ALU results
come from small functions over Python integers, and memory is accessed through
``memoryview`` casts of the page pool. Tests run both interpreters and compare them
with each other and with unicorn, so a bug in one shows up as a disagreement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from proofmarket.zkvm.interp_core import (
    F_EBREAK,
    F_FETCH_ACCESS,
    F_ILLEGAL,
    F_LOAD_ACCESS,
    F_LOAD_MISALIGNED,
    F_MISSING_PAGE,
    F_STORE_ACCESS,
    F_STORE_MISALIGNED,
    F_TARGET_MISALIGNED,
    RUN_ECALL,
    RUN_FAULT,
    RUN_LIMIT,
    RUN_NEED_POOL,
    RUN_SPLIT,
    ST_CLIMIT,
    ST_FAULT,
    ST_FAULT_INFO,
    ST_GEN,
    ST_LIMIT,
    ST_NDIRTY,
    ST_NTOUCH,
    ST_NUSED,
    ST_PC,
    ST_STRICT,
    ST_UCYC,
)
from proofmarket.zkvm.layout import PAGE_IN_CYCLES, PAGE_OUT_CYCLES, USER_END, USER_START

M = 0xFFFF_FFFF


def _s(x: int) -> int:
    """Signed view of a 32-bit value."""
    return x - 0x1_0000_0000 if x & 0x8000_0000 else x


def _div(a: int, b: int) -> int:
    if b == 0:
        return M
    sa, sb = _s(a), _s(b)
    if sa == -0x8000_0000 and sb == -1:
        return a
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & M


def _rem(a: int, b: int) -> int:
    if b == 0:
        return a
    sa, sb = _s(a), _s(b)
    if sa == -0x8000_0000 and sb == -1:
        return 0
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & M


Alu = Callable[[int, int], int]

# (funct7, funct3) -> operation on unsigned 32-bit operands
_OP: dict[tuple[int, int], Alu] = {
    (0x00, 0): lambda a, b: (a + b) & M,
    (0x20, 0): lambda a, b: (a - b) & M,
    (0x00, 1): lambda a, b: (a << (b & 31)) & M,
    (0x00, 2): lambda a, b: int(_s(a) < _s(b)),
    (0x00, 3): lambda a, b: int(a < b),
    (0x00, 4): lambda a, b: a ^ b,
    (0x00, 5): lambda a, b: a >> (b & 31),
    (0x20, 5): lambda a, b: (_s(a) >> (b & 31)) & M,
    (0x00, 6): lambda a, b: a | b,
    (0x00, 7): lambda a, b: a & b,
    (0x01, 0): lambda a, b: (a * b) & M,
    (0x01, 1): lambda a, b: ((_s(a) * _s(b)) >> 32) & M,
    (0x01, 2): lambda a, b: ((_s(a) * b) >> 32) & M,
    (0x01, 3): lambda a, b: (a * b) >> 32,
    (0x01, 4): _div,
    (0x01, 5): lambda a, b: M if b == 0 else a // b,
    (0x01, 6): _rem,
    (0x01, 7): lambda a, b: a if b == 0 else a % b,
}
# funct3 -> operation on (unsigned rs1, sign-extended immediate or shift amount)
_OPIMM: dict[int, Alu] = {
    0: lambda a, i: (a + i) & M,
    2: lambda a, i: int(_s(a) < i),
    3: lambda a, i: int(a < (i & M)),
    4: lambda a, i: (a ^ i) & M,
    6: lambda a, i: (a | i) & M,
    7: lambda a, i: (a & i) & M,
}
_SHIFT_IMM: dict[tuple[int, int], Alu] = {
    (0x00, 1): lambda a, sh: (a << sh) & M,
    (0x00, 5): lambda a, sh: a >> sh,
    (0x20, 5): lambda a, sh: (_s(a) >> sh) & M,
}
_BRANCH: dict[int, Alu] = {
    0: lambda a, b: int(a == b),
    1: lambda a, b: int(a != b),
    4: lambda a, b: int(_s(a) < _s(b)),
    5: lambda a, b: int(_s(a) >= _s(b)),
    6: lambda a, b: int(a < b),
    7: lambda a, b: int(a >= b),
}
_LOAD = {0: (1, True), 1: (2, True), 2: (4, False), 4: (1, False), 5: (2, False)}
_STORE = {0: 1, 1: 2, 2: 4}

# decoded kinds
K_OPIMM, K_OP, K_LOAD, K_STORE, K_BRANCH, K_JAL, K_JALR, K_LUI, K_AUIPC = range(9)
K_NOP, K_ECALL, K_EBREAK, K_ILLEGAL = range(9, 13)

Decoded = tuple[int, int, int, int, int, Any]
_ILLEGAL: Decoded = (K_ILLEGAL, 0, 0, 0, 0, None)


def decode(w: int) -> Decoded:
    """``(kind, rd, rs1, rs2, imm, extra)`` of one instruction word."""
    op = w & 0x7F
    rd = (w >> 7) & 31
    f3 = (w >> 12) & 7
    rs1 = (w >> 15) & 31
    rs2 = (w >> 20) & 31
    f7 = w >> 25
    imm_i = _s(w) >> 20
    if op == 0x13:
        if f3 in (1, 5):
            fn = _SHIFT_IMM.get((f7, f3))
            return _ILLEGAL if fn is None else (K_OPIMM, rd, rs1, 0, rs2, fn)
        return (K_OPIMM, rd, rs1, 0, imm_i, _OPIMM[f3])
    if op == 0x33:
        fn = _OP.get((f7, f3))
        return _ILLEGAL if fn is None else (K_OP, rd, rs1, rs2, 0, fn)
    if op == 0x03:
        spec = _LOAD.get(f3)
        return _ILLEGAL if spec is None else (K_LOAD, rd, rs1, 0, imm_i, spec)
    if op == 0x23:
        size = _STORE.get(f3)
        imm_s = ((_s(w) >> 25) << 5) | rd
        return _ILLEGAL if size is None else (K_STORE, 0, rs1, rs2, imm_s, size)
    if op == 0x63:
        cond = _BRANCH.get(f3)
        imm_b = (
            ((_s(w) >> 31) << 12)
            | (((w >> 7) & 1) << 11)
            | (((w >> 25) & 0x3F) << 5)
            | (((w >> 8) & 0xF) << 1)
        )
        return _ILLEGAL if cond is None else (K_BRANCH, 0, rs1, rs2, imm_b, cond)
    if op == 0x6F:
        imm_j = (
            ((_s(w) >> 31) << 20)
            | (w & 0xFF000)
            | (((w >> 20) & 1) << 11)
            | (((w >> 21) & 0x3FF) << 1)
        )
        return (K_JAL, rd, 0, 0, imm_j, None)
    if op == 0x67 and f3 == 0:
        return (K_JALR, rd, rs1, 0, imm_i, None)
    if op == 0x37:
        return (K_LUI, rd, 0, 0, w & 0xFFFFF000, None)
    if op == 0x17:
        return (K_AUIPC, rd, 0, 0, w & 0xFFFFF000, None)
    if op == 0x0F and f3 in (0, 1):
        return (K_NOP, 0, 0, 0, 0, None)
    if w == 0x0000_0073:
        return (K_ECALL, 0, 0, 0, 0, None)
    if w == 0x0010_0073:
        return (K_EBREAK, 0, 0, 0, 0, None)
    return _ILLEGAL


_CACHE: dict[int, Decoded] = {}
_CACHE_MAX = 1 << 16


def run(
    st: np.ndarray,
    regs: np.ndarray,
    pt: np.ndarray,
    mem8: np.ndarray,
    mem16: np.ndarray,
    mem32: np.ndarray,
    slot_page: np.ndarray,
    slot_touch: np.ndarray,
    slot_dirty: np.ndarray,
    touched: np.ndarray,
    snap: np.ndarray,
    dirty: np.ndarray,
    rec: np.ndarray,
) -> int:
    if rec.shape[0]:
        raise NotImplementedError("trace recording needs the numba backend")
    r = [int(x) for x in regs]
    # memoryviews index to plain Python ints, much faster than numpy scalars
    page_table = pt.data
    m8, m16, m32 = mem8.data, mem16.data, mem32.data
    owner = slot_page.data
    t_gen, d_gen = slot_touch.data, slot_dirty.data
    touched_v, snap_v, dirty_v = touched.data, snap.data, dirty.data
    pc, ucyc = int(st[ST_PC]), int(st[ST_UCYC])
    ntouch, ndirty, nused = int(st[ST_NTOUCH]), int(st[ST_NDIRTY]), int(st[ST_NUSED])
    gen, limit, climit = int(st[ST_GEN]), int(st[ST_LIMIT]), int(st[ST_CLIMIT])
    strict = bool(st[ST_STRICT])
    nslots = len(slot_page)
    cache = _CACHE
    if len(cache) > _CACHE_MAX:
        cache.clear()
    fault = info = 0
    status = 0
    code_page = -1
    code_base = 0
    while True:
        if ucyc + ntouch * PAGE_IN_CYCLES + 1 > climit:
            status = RUN_LIMIT
            break
        if not strict and nused + 2 > nslots:
            status = RUN_NEED_POOL
            break
        used = ucyc + ntouch * PAGE_IN_CYCLES + ndirty * PAGE_OUT_CYCLES
        page = pc >> 10
        if page != code_page:
            if not USER_START <= pc < USER_END:
                fault, info = F_FETCH_ACCESS, pc
                break
            slot = page_table[page] - 1
            fresh = slot < 0 or t_gen[slot] != gen
            if used + (PAGE_IN_CYCLES if fresh else 0) + 1 > limit:
                status = RUN_SPLIT
                break
            if slot < 0:
                if strict:
                    fault, info = F_MISSING_PAGE, page
                    break
                slot, nused = nused, nused + 1
                page_table[page] = slot + 1
                owner[slot] = page
            if fresh:
                t_gen[slot] = gen
                touched_v[ntouch] = page
                snap_v[ntouch << 10 : (ntouch + 1) << 10] = m8[slot << 10 : (slot + 1) << 10]
                ntouch += 1
            code_page, code_base = page, slot << 8
        elif used + 1 > limit:
            status = RUN_SPLIT
            break
        w = m32[code_base + ((pc >> 2) & 255)]
        d = cache.get(w)
        if d is None:
            d = cache[w] = decode(w)
        kind, rd, rs1, rs2, imm, extra = d
        npc = pc + 4
        if kind == K_OPIMM:
            if rd:
                r[rd] = extra(r[rs1], imm)
        elif kind == K_OP:
            if rd:
                r[rd] = extra(r[rs1], r[rs2])
        elif kind == K_BRANCH:
            if extra(r[rs1], r[rs2]):
                npc = (pc + imm) & M
                if npc & 3:
                    fault, info = F_TARGET_MISALIGNED, npc
                    break
        elif kind in (K_LOAD, K_STORE):
            store = kind == K_STORE
            size = extra if store else extra[0]
            addr = (r[rs1] + imm) & M
            if addr & (size - 1):
                fault, info = (F_STORE_MISALIGNED if store else F_LOAD_MISALIGNED), addr
                break
            if addr < USER_START or addr + size > USER_END:
                fault, info = (F_STORE_ACCESS if store else F_LOAD_ACCESS), addr
                break
            dpage = addr >> 10
            slot = page_table[dpage] - 1
            fresh = slot < 0 or t_gen[slot] != gen
            newly_dirty = store and (slot < 0 or d_gen[slot] != gen)
            cost = (PAGE_IN_CYCLES if fresh else 0) + (PAGE_OUT_CYCLES if newly_dirty else 0)
            if cost and used + cost + 1 > limit:
                status = RUN_SPLIT
                break
            if slot < 0:
                if strict:
                    fault, info = F_MISSING_PAGE, dpage
                    break
                slot, nused = nused, nused + 1
                page_table[dpage] = slot + 1
                owner[slot] = dpage
            if fresh:
                t_gen[slot] = gen
                touched_v[ntouch] = dpage
                snap_v[ntouch << 10 : (ntouch + 1) << 10] = m8[slot << 10 : (slot + 1) << 10]
                ntouch += 1
            if store:
                if newly_dirty:
                    d_gen[slot] = gen
                    dirty_v[ndirty] = dpage
                    ndirty += 1
                value = r[rs2]
                if size == 4:
                    m32[(slot << 8) | ((addr >> 2) & 255)] = value
                elif size == 2:
                    m16[(slot << 9) | ((addr >> 1) & 511)] = value & 0xFFFF
                else:
                    m8[(slot << 10) | (addr & 1023)] = value & 0xFF
            else:
                signed = extra[1]
                if size == 4:
                    value = m32[(slot << 8) | ((addr >> 2) & 255)]
                elif size == 2:
                    value = m16[(slot << 9) | ((addr >> 1) & 511)]
                    if signed and value & 0x8000:
                        value |= 0xFFFF_0000
                else:
                    value = m8[(slot << 10) | (addr & 1023)]
                    if signed and value & 0x80:
                        value |= 0xFFFF_FF00
                if rd:
                    r[rd] = value
        elif kind in (K_JAL, K_JALR):
            base = pc if kind == K_JAL else r[rs1]
            npc = (base + imm) & M
            if kind == K_JALR:
                npc &= 0xFFFF_FFFE
            if npc & 3:
                fault, info = F_TARGET_MISALIGNED, npc
                break
            if rd:
                r[rd] = pc + 4
        elif kind == K_LUI:
            if rd:
                r[rd] = imm
        elif kind == K_AUIPC:
            if rd:
                r[rd] = (pc + imm) & M
        elif kind == K_NOP:
            pass
        elif kind == K_ECALL:
            status = RUN_ECALL
            break
        else:
            fault, info = (F_EBREAK if kind == K_EBREAK else F_ILLEGAL), w
            break
        pc = npc
        ucyc += 1
    if fault:
        status = RUN_FAULT
        st[ST_FAULT] = fault
        st[ST_FAULT_INFO] = info
    st[ST_PC] = pc
    st[ST_UCYC] = ucyc
    st[ST_NTOUCH] = ntouch
    st[ST_NDIRTY] = ndirty
    st[ST_NUSED] = nused
    regs[:] = r
    return status
