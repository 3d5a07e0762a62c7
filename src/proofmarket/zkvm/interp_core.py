"""The RV32IM interpreter loop compiled by numba, and the contract both backends share.

``run`` is plain Python restricted to what numba compiles; ``interp_numba`` compiles it
with ``@njit(cache=True)``. ``interp_python`` is an independent pure-Python
implementation of the same contract (state vector, return and fault codes). It executes
instructions until something needs the host (an ``ecall``), the segment budget is
spent, the page pool is full, the session cycle limit is reached, or the guest faults,
and then returns a status code. All machine state lives in the arrays passed in (see
``machine.Machine``) so nothing is lost between calls.

Values are kept as non-negative int64 < 2^32 and masked after every operation, which
gives exact 32-bit wrap-around.

Memory is a pool of 1 KiB page slots (``mem8``/``mem16``/``mem32`` are views of one
buffer) with a page table ``pt`` (page index -> slot + 1; 0 = not materialized, i.e.
an all-zero page, so the table can start as lazily zeroed memory). The first touch of a
page in a segment records it in ``touched``, copies its pre-segment content to ``snap``
and counts a page-in; the first write records it in ``dirty``. The touch logic is
written out twice (fetch, data) rather than called, which keeps the compiled loop a
single function.
"""

from __future__ import annotations

import numpy as np

# Layout of the int64 state vector ``st``.
ST_PC = 0
ST_UCYC = 1  # user (instruction) cycles in this segment
ST_NTOUCH = 2  # pages touched (= paged in) in this segment
ST_NDIRTY = 3  # pages dirtied in this segment
ST_NUSED = 4  # page slots in use
ST_GEN = 5  # segment generation, marks slot_touch / slot_dirty entries
ST_LIMIT = 6  # segment cycle budget (2^po2)
ST_CLIMIT = 7  # cycles this segment may use before the session limit
ST_STRICT = 8  # 1: pages missing from the pool are an error (segment replay)
ST_FAULT = 9
ST_FAULT_INFO = 10
ST_NREC = 11  # rows written to ``rec`` (trace recording for the circuit)
ST_SIZE = 12

# Columns of the per-instruction record ``rec`` (int64), written only when the array
# has rows: what the segment circuit's trace needs, so proving never re-interprets.
REC_PC = 0
REC_INSN = 1
REC_RS1_VAL = 2  # value of rs1 before the instruction
REC_RS2_VAL = 3  # value of rs2 before the instruction
REC_RD_VAL = 4  # value of rd after the instruction (x0 stays 0)
REC_MEM_ADDR = 5  # word-aligned byte address of a load/store's data word (else 0)
REC_MEM_OLD = 6  # that word before the access
REC_MEM_NEW = 7  # that word after the access
REC_NEXT_PC = 8
REC_WIDTH = 9

# Return codes of ``run``.
RUN_ECALL = 1
RUN_SPLIT = 2
RUN_FAULT = 3
RUN_NEED_POOL = 4
RUN_LIMIT = 5

# Fault codes (ST_FAULT); ST_FAULT_INFO holds the word, address or page.
F_ILLEGAL = 1
F_LOAD_MISALIGNED = 2
F_STORE_MISALIGNED = 3
F_LOAD_ACCESS = 4
F_STORE_ACCESS = 5
F_FETCH_ACCESS = 6
F_TARGET_MISALIGNED = 7
F_EBREAK = 8
F_MISSING_PAGE = 9

# Copies of layout constants: numba freezes module globals at compile time.
USER_START = 0x0001_0000
USER_END = 0xC000_0000
PAGE_IN_CYCLES = 54  # layout.PAGE_IN_CYCLES (checked by a test)
PAGE_OUT_CYCLES = 54
MASK = 0xFFFF_FFFF
SIGN = 0x8000_0000


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
    pc = st[ST_PC]
    nrec = st[ST_NREC]
    recording = rec.shape[0] > 0
    ucyc = st[ST_UCYC]
    limit = st[ST_LIMIT]
    climit = st[ST_CLIMIT]
    strict = st[ST_STRICT]
    gen = st[ST_GEN]
    nslots = slot_page.shape[0]
    # Paging cycles of this segment so far: page-ins done plus page-outs owed.
    paging = st[ST_NTOUCH] * PAGE_IN_CYCLES + st[ST_NDIRTY] * PAGE_OUT_CYCLES
    code_page = np.int64(-1)
    code_base = np.int64(0)
    status = 0
    while True:
        if ucyc + st[ST_NTOUCH] * PAGE_IN_CYCLES + 1 > climit:
            status = RUN_LIMIT
            break
        if strict == 0 and st[ST_NUSED] + 2 > nslots:
            status = RUN_NEED_POOL
            break
        page = pc >> 10
        if page != code_page:
            if pc < USER_START or pc >= USER_END:
                st[ST_FAULT] = F_FETCH_ACCESS
                st[ST_FAULT_INFO] = pc
                status = RUN_FAULT
                break
            slot = np.int64(pt[page]) - 1
            fetch_cost = 0 if slot >= 0 and slot_touch[slot] == gen else PAGE_IN_CYCLES
            if ucyc + paging + fetch_cost + 1 > limit:
                status = RUN_SPLIT
                break
            if slot < 0:
                if strict != 0:
                    st[ST_FAULT] = F_MISSING_PAGE
                    st[ST_FAULT_INFO] = page
                    status = RUN_FAULT
                    break
                slot = st[ST_NUSED]
                st[ST_NUSED] = slot + 1
                pt[page] = slot + 1
                slot_page[slot] = page
            if slot_touch[slot] != gen:
                slot_touch[slot] = gen
                k = st[ST_NTOUCH]
                touched[k] = page
                snap[k << 10 : (k + 1) << 10] = mem8[slot << 10 : (slot + 1) << 10]
                st[ST_NTOUCH] = k + 1
                paging += PAGE_IN_CYCLES
            code_page = page
            code_base = slot << 8
        elif ucyc + paging + 1 > limit:
            status = RUN_SPLIT
            break
        w = np.int64(mem32[code_base + ((pc >> 2) & 255)])
        op = w & 0x7F
        rd = (w >> 7) & 31
        f3 = (w >> 12) & 7
        rs1 = (w >> 15) & 31
        rs2 = (w >> 20) & 31
        f7 = w >> 25
        npc = pc + 4
        rs1_val = regs[rs1]
        rs2_val = regs[rs2]
        maddr = np.int64(0)
        mold = np.int64(0)
        mnew = np.int64(0)
        if op == 0x33:  # OP
            a = regs[rs1]
            b = regs[rs2]
            if f7 == 0:
                if f3 == 0:
                    v = (a + b) & MASK
                elif f3 == 1:
                    v = (a << (b & 31)) & MASK
                elif f3 == 2:
                    v = 1 if (a ^ SIGN) < (b ^ SIGN) else 0
                elif f3 == 3:
                    v = 1 if a < b else 0
                elif f3 == 4:
                    v = a ^ b
                elif f3 == 5:
                    v = a >> (b & 31)
                elif f3 == 6:
                    v = a | b
                else:
                    v = a & b
            elif f7 == 0x20 and (f3 == 0 or f3 == 5):
                if f3 == 0:  # noqa: SIM108
                    v = (a - b) & MASK
                else:
                    v = ((a - ((a & SIGN) << 1)) >> (b & 31)) & MASK
            elif f7 == 1:
                sa = a - ((a & SIGN) << 1)
                sb = b - ((b & SIGN) << 1)
                if f3 == 0:  # mul
                    v = (sa * sb) & MASK
                elif f3 == 1:  # mulh
                    v = ((sa * sb) >> 32) & MASK
                elif f3 == 2:  # mulhsu
                    v = ((sa * b) >> 32) & MASK
                elif f3 == 3:  # mulhu: a = sa + 2^32 when negative, so add b to mulhsu
                    v = ((sa * b) >> 32) & MASK
                    if a & SIGN:
                        v = (v + b) & MASK
                elif f3 == 4:  # div
                    if b == 0:
                        v = MASK
                    elif a == SIGN and b == MASK:
                        v = a
                    else:
                        q = abs(sa) // abs(sb)
                        if (sa < 0) != (sb < 0):
                            q = -q
                        v = q & MASK
                elif f3 == 5:  # divu
                    v = MASK if b == 0 else a // b
                elif f3 == 6:  # rem
                    if b == 0:
                        v = a
                    elif a == SIGN and b == MASK:
                        v = 0
                    else:
                        r = abs(sa) % abs(sb)
                        if sa < 0:
                            r = -r
                        v = r & MASK
                else:  # remu
                    v = a if b == 0 else a % b
            else:
                st[ST_FAULT] = F_ILLEGAL
                st[ST_FAULT_INFO] = w
                status = RUN_FAULT
                break
            regs[rd] = v
        elif op == 0x13:  # OP-IMM
            a = regs[rs1]
            imm = (w - ((w & SIGN) << 1)) >> 20
            if f3 == 0:
                v = (a + imm) & MASK
            elif f3 == 2:
                v = 1 if (a - ((a & SIGN) << 1)) < imm else 0
            elif f3 == 3:
                v = 1 if a < (imm & MASK) else 0
            elif f3 == 4:
                v = (a ^ imm) & MASK
            elif f3 == 6:
                v = (a | imm) & MASK
            elif f3 == 7:
                v = (a & imm) & MASK
            elif f3 == 1 and f7 == 0:
                v = (a << rs2) & MASK
            elif f3 == 5 and f7 == 0:
                v = a >> rs2
            elif f3 == 5 and f7 == 0x20:
                v = ((a - ((a & SIGN) << 1)) >> rs2) & MASK
            else:
                st[ST_FAULT] = F_ILLEGAL
                st[ST_FAULT_INFO] = w
                status = RUN_FAULT
                break
            regs[rd] = v
        elif op == 0x03 or op == 0x23:  # LOAD / STORE
            if op == 0x03:
                imm = (w - ((w & SIGN) << 1)) >> 20
                write = False
                size = 1 << (f3 & 3)
                if f3 == 3 or f3 > 5:
                    st[ST_FAULT] = F_ILLEGAL
                    st[ST_FAULT_INFO] = w
                    status = RUN_FAULT
                    break
            else:
                imm = (((w - ((w & SIGN) << 1)) >> 25) << 5) | rd
                write = True
                size = 1 << f3
                if f3 > 2:
                    st[ST_FAULT] = F_ILLEGAL
                    st[ST_FAULT_INFO] = w
                    status = RUN_FAULT
                    break
            addr = (regs[rs1] + imm) & MASK
            if addr & (size - 1):
                st[ST_FAULT] = F_STORE_MISALIGNED if write else F_LOAD_MISALIGNED
                st[ST_FAULT_INFO] = addr
                status = RUN_FAULT
                break
            if addr < USER_START or addr + size > USER_END:
                st[ST_FAULT] = F_STORE_ACCESS if write else F_LOAD_ACCESS
                st[ST_FAULT_INFO] = addr
                status = RUN_FAULT
                break
            dpage = addr >> 10
            slot = np.int64(pt[dpage]) - 1
            data_cost = 0
            if slot < 0 or slot_touch[slot] != gen:
                data_cost = PAGE_IN_CYCLES
            if write and (slot < 0 or slot_dirty[slot] != gen):
                data_cost += PAGE_OUT_CYCLES
            if data_cost != 0 and ucyc + paging + data_cost + 1 > limit:
                status = RUN_SPLIT
                break
            if slot < 0:
                if strict != 0:
                    st[ST_FAULT] = F_MISSING_PAGE
                    st[ST_FAULT_INFO] = dpage
                    status = RUN_FAULT
                    break
                slot = st[ST_NUSED]
                st[ST_NUSED] = slot + 1
                pt[dpage] = slot + 1
                slot_page[slot] = dpage
            if slot_touch[slot] != gen:
                slot_touch[slot] = gen
                k = st[ST_NTOUCH]
                touched[k] = dpage
                snap[k << 10 : (k + 1) << 10] = mem8[slot << 10 : (slot + 1) << 10]
                st[ST_NTOUCH] = k + 1
            paging += data_cost
            if recording:
                maddr = addr & 0xFFFFFFFC
                mold = np.int64(mem32[(slot << 8) + ((addr >> 2) & 255)])
            if write:
                if slot_dirty[slot] != gen:
                    slot_dirty[slot] = gen
                    dirty[st[ST_NDIRTY]] = dpage
                    st[ST_NDIRTY] += 1
                val = regs[rs2]
                if f3 == 0:
                    mem8[(slot << 10) + (addr & 1023)] = val & 0xFF
                elif f3 == 1:
                    mem16[(slot << 9) + ((addr >> 1) & 511)] = val & 0xFFFF
                else:
                    mem32[(slot << 8) + ((addr >> 2) & 255)] = val
                mnew = np.int64(mem32[(slot << 8) + ((addr >> 2) & 255)])
            else:
                if f3 == 2:
                    v = np.int64(mem32[(slot << 8) + ((addr >> 2) & 255)])
                elif f3 == 1 or f3 == 5:
                    v = np.int64(mem16[(slot << 9) + ((addr >> 1) & 511)])
                    if f3 == 1 and v & 0x8000:
                        v = v | 0xFFFF0000
                else:
                    v = np.int64(mem8[(slot << 10) + (addr & 1023)])
                    if f3 == 0 and v & 0x80:
                        v = v | 0xFFFFFF00
                regs[rd] = v
                mnew = mold
        elif op == 0x63:  # BRANCH
            a = regs[rs1]
            b = regs[rs2]
            if f3 == 0:
                taken = a == b
            elif f3 == 1:
                taken = a != b
            elif f3 == 4:
                taken = (a ^ SIGN) < (b ^ SIGN)
            elif f3 == 5:
                taken = (a ^ SIGN) >= (b ^ SIGN)
            elif f3 == 6:
                taken = a < b
            elif f3 == 7:
                taken = a >= b
            else:
                st[ST_FAULT] = F_ILLEGAL
                st[ST_FAULT_INFO] = w
                status = RUN_FAULT
                break
            if taken:
                off = (
                    (((w - ((w & SIGN) << 1)) >> 31) << 12)
                    | (((w >> 7) & 1) << 11)
                    | (((w >> 25) & 0x3F) << 5)
                    | (((w >> 8) & 0xF) << 1)
                )
                npc = (pc + off) & MASK
                if npc & 3:
                    st[ST_FAULT] = F_TARGET_MISALIGNED
                    st[ST_FAULT_INFO] = npc
                    status = RUN_FAULT
                    break
        elif op == 0x6F:  # JAL
            off = (
                (((w - ((w & SIGN) << 1)) >> 31) << 20)
                | (w & 0xFF000)
                | (((w >> 20) & 1) << 11)
                | (((w >> 21) & 0x3FF) << 1)
            )
            npc = (pc + off) & MASK
            if npc & 3:
                st[ST_FAULT] = F_TARGET_MISALIGNED
                st[ST_FAULT_INFO] = npc
                status = RUN_FAULT
                break
            regs[rd] = pc + 4
        elif op == 0x67 and f3 == 0:  # JALR
            imm = (w - ((w & SIGN) << 1)) >> 20
            npc = ((regs[rs1] + imm) & MASK) & 0xFFFFFFFE
            if npc & 3:
                st[ST_FAULT] = F_TARGET_MISALIGNED
                st[ST_FAULT_INFO] = npc
                status = RUN_FAULT
                break
            regs[rd] = pc + 4
        elif op == 0x37:  # LUI
            regs[rd] = w & 0xFFFFF000
        elif op == 0x17:  # AUIPC
            regs[rd] = (pc + (w & 0xFFFFF000)) & MASK
        elif op == 0x0F and (f3 == 0 or f3 == 1):  # FENCE, FENCE.I: no-ops here
            pass
        elif op == 0x73:  # SYSTEM
            if w == 0x73:
                status = RUN_ECALL
                break
            if w == 0x00100073:
                st[ST_FAULT] = F_EBREAK
                st[ST_FAULT_INFO] = w
            else:
                st[ST_FAULT] = F_ILLEGAL
                st[ST_FAULT_INFO] = w
            status = RUN_FAULT
            break
        else:
            st[ST_FAULT] = F_ILLEGAL
            st[ST_FAULT_INFO] = w
            status = RUN_FAULT
            break
        regs[0] = 0
        if recording:
            rec[nrec, REC_PC] = pc
            rec[nrec, REC_INSN] = w
            rec[nrec, REC_RS1_VAL] = rs1_val
            rec[nrec, REC_RS2_VAL] = rs2_val
            rec[nrec, REC_RD_VAL] = regs[rd]
            rec[nrec, REC_MEM_ADDR] = maddr
            rec[nrec, REC_MEM_OLD] = mold
            rec[nrec, REC_MEM_NEW] = mnew
            rec[nrec, REC_NEXT_PC] = npc
            nrec += 1
        pc = npc
        ucyc += 1
    st[ST_PC] = pc
    st[ST_UCYC] = ucyc
    st[ST_NREC] = nrec
    return status
