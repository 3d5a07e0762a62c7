"""A lying prover's toolkit: recompute everything derived after a CPU witness is edited.

Soundness tests edit CPU trace columns the way a malicious prover would (a different
result, a different journal byte, a shortened transfer, ...) and then call
:func:`restate`, which rebuilds whatever an honest prover derives from those columns, so
that the only thing left to catch the lie is the circuit's own constraints:

* the memory argument: previous timestamps and their range-check limbs from the edited
  accesses (each slot's address, before and after values are read off the AIR's own
  memory-bus interactions), the slot-3 "before" word, and the boundary table;
* the journal count, the journal bytes (the statement terms) and every public input;
* the u16 and byte-logic tables' multiplicities, from the AIR's own lookups.

A forgery that then passes :func:`check` is a soundness bug.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Kind
from proofmarket.stark.trace_check import RowFrame
from proofmarket.zkvm.circuit import boundary as bd
from proofmarket.zkvm.circuit import prove as cp
from proofmarket.zkvm.circuit.buses import BITWISE_BUS, JOURNAL_BUS, TIMESTAMP_SLOTS, U16_BUS
from proofmarket.zkvm.circuit.cpu import LAYOUT, PUB_POST_PC
from proofmarket.zkvm.circuit.tables import BITWISE_LOG_ROWS, BITWISE_OPS, U16_LOG_ROWS
from proofmarket.zkvm.circuit.trace import CircuitTraces

L = LAYOUT
AIR = cp.CPU_AIR


def check(t: CircuitTraces) -> None:
    """The engine's full check (constraints of every table and bus balance)."""
    cp.check_segment_circuit(t)


def _eval(cpu: np.ndarray, exprs: list[Any], publics: list[int]) -> list[np.ndarray]:
    frame = RowFrame(cpu.astype(np.uint64), None, None, publics, [])
    out = []
    for v in frame.evaluate(exprs):
        arr = np.broadcast_to(np.asarray(v, dtype=np.uint64), (cpu.shape[0],))
        out.append(arr.astype(np.int64))
    return out


def _signed(m: np.ndarray) -> np.ndarray:
    """Field multiplicities as signed ints (−1 is p − 1)."""
    return np.where(m > F.P // 2, m - F.P, m)


def _interactions(bus: int, prefix: str = "") -> list[Any]:
    layout = AIR.system.logup
    assert layout is not None
    return [i for i in layout.interactions if i.bus == bus and i.name.startswith(prefix)]


def _memory(cpu: np.ndarray, publics: list[int]) -> np.ndarray:
    """Previous timestamps, slot-3 old words and the boundary table from the accesses."""
    layout = AIR.system.logup
    assert layout is not None
    by_name = {i.name: i for i in layout.interactions}
    n = cpu.shape[0]
    rows, slots, addrs, tss, befores, afters = [], [], [], [], [], []
    for k in range(TIMESTAMP_SLOTS):
        prev, nxt = by_name[f"slot {k} prev"], by_name[f"slot {k} next"]
        addr, _, b_lo, b_hi, act = _eval(cpu, [*prev.values, prev.multiplicity], publics)
        _, ts, a_lo, a_hi = _eval(cpu, list(nxt.values), publics)
        on = np.flatnonzero(_signed(act) == 1)
        rows.append(on)
        slots.append(np.full(len(on), k))
        addrs.append(addr[on])
        tss.append(ts[on])
        befores.append(b_lo[on] | b_hi[on] << 16)
        afters.append(a_lo[on] | a_hi[on] << 16)
    r, s, a = np.concatenate(rows), np.concatenate(slots), np.concatenate(addrs)
    ts, before, after = np.concatenate(tss), np.concatenate(befores), np.concatenate(afters)
    order = np.lexsort((ts, a))
    r, s, a, ts, before, after = (x[order] for x in (r, s, a, ts, before, after))
    first = np.ones(len(a), dtype=bool)
    first[1:] = a[1:] != a[:-1]
    pts = np.zeros(len(a), dtype=np.int64)
    pts[1:] = ts[:-1]
    pts[first] = 0
    prev_after = np.zeros(len(a), dtype=np.int64)
    prev_after[1:] = after[:-1]
    for k in range(TIMESTAMP_SLOTS):
        sel = s == k
        diff = ts[sel] - pts[sel] - 1
        cpu[r[sel], L.pts[k]] = pts[sel]
        cpu[r[sel], L.dlo[k]] = diff & 0xFFFF
        cpu[r[sel], L.dhi[k]] = (diff >> 16) << 4
    s3 = (s == 3) & ~first  # a write's "before" is the word's previous state
    cpu[r[s3], L.old3[0]] = prev_after[s3] & 0xFFFF
    cpu[r[s3], L.old3[1]] = prev_after[s3] >> 16
    before = np.where(s3, prev_after, before)
    del n
    last = np.ones(len(a), dtype=bool)
    last[:-1] = a[1:] != a[:-1]
    B = np.zeros((int(first.sum()), bd.WIDTH), dtype=np.int64)
    B[:, bd.ADDR] = a[first]
    B[:, bd.INIT_LO], B[:, bd.INIT_HI] = before[first] & 0xFFFF, before[first] >> 16
    B[:, bd.FINAL_TS] = ts[last]
    B[:, bd.FINAL_LO], B[:, bd.FINAL_HI] = after[last] & 0xFFFF, after[last] >> 16
    B[:, bd.IS_REAL] = 1
    return B


def _journal(cpu: np.ndarray) -> None:
    inb = cpu[:, L.inb].sum(axis=1)
    moved = cpu[:, L.jr] * inb
    cpu[:, L.jcount] = np.concatenate([[0], np.cumsum(moved)[:-1]])


def _publics(cpu: np.ndarray, journal_len: int) -> list[int]:
    n = cpu.shape[0]
    real = np.flatnonzero(cpu[:, L.is_real] == 1)
    last = int(real[-1])
    pre = int(cpu[0, L.pq]) + (int(cpu[0, L.ph]) << 14)
    halt = int(cpu[last, L.sys[0]])
    exit_lo = int(cpu[last, L.old3[0]]) if halt else 0
    exit_hi = int(cpu[last, L.old3[1]]) if halt else 0
    pubs = [pre, 0, journal_len, halt, exit_lo, exit_hi]
    # the post pc: the post-pc constraint evaluated with the public set to 0 is npcw
    name = "post-state pc" if last < n - 1 else "post-state pc (full table)"
    (c,) = [c for c in AIR.system.constraints if c.name == name]
    padded = cp.standalone_machine().tables[0].pad(cpu.astype(np.uint64))
    (v,) = _eval(padded, [c.expr], pubs)
    pubs[PUB_POST_PC] = int(v[last]) % F.P
    assert c.kind in (Kind.TRANSITION, Kind.ROW)
    return pubs


def restate(t: CircuitTraces, *, memory: bool = True) -> CircuitTraces:
    """Recompute everything an honest prover derives from the CPU columns (see module)."""
    cpu = t.cpu.astype(np.int64)
    _journal(cpu)
    boundary = _memory(cpu, t.publics) if memory else t.boundary.astype(np.int64)
    # the journal: what the journal lookups consume, by index
    looks = _interactions(JOURNAL_BUS)
    idx, byte = [], []
    for inter in looks:
        i, v, m = _eval(cpu, [*inter.values, inter.multiplicity], t.publics)
        on = np.flatnonzero(m)
        idx.append(i[on])
        byte.append(v[on])
    ji, jb = np.concatenate(idx), np.concatenate(byte)
    journal = bytes(int(b) & 255 for b in jb[np.argsort(ji, kind="stable")])
    publics = _publics(cpu, len(journal))
    padded = cp.standalone_machine().tables[0].pad(cpu.astype(np.uint64)).astype(np.int64)
    u16 = np.zeros(1 << U16_LOG_ROWS, dtype=np.int64)
    for inter in _interactions(U16_BUS):
        v, m = _eval(padded, [*inter.values, inter.multiplicity], publics)
        m = _signed(m)
        ok = (m != 0) & (v < 1 << 16)
        np.add.at(u16, v[ok], m[ok])
    for col in (bd.INIT_LO, bd.INIT_HI):
        np.add.at(u16, boundary[:, col], 1)
    bitwise = np.zeros((1 << BITWISE_LOG_ROWS, BITWISE_OPS), dtype=np.int64)
    for inter in _interactions(BITWISE_BUS):
        op, x, y, _res, m = _eval(padded, [*inter.values, inter.multiplicity], publics)
        m = _signed(m)
        ok = (m != 0) & (x < 256) & (y < 256) & (op < BITWISE_OPS)
        np.add.at(bitwise, (x[ok] * 256 + y[ok], op[ok]), m[ok])
    return dataclasses.replace(
        t,
        cpu=np.ascontiguousarray(cpu, dtype=np.uint32),
        boundary=boundary.astype(np.uint64),
        u16=(u16 % F.P).astype(np.uint64).reshape(-1, 1),
        bitwise=(bitwise % F.P).astype(np.uint64),
        publics=publics,
        journal=journal,
    )


def rows_of(t: CircuitTraces, name: str) -> np.ndarray:
    from proofmarket.zkvm.circuit.isa_table import INDEX

    return np.flatnonzero(t.cpu[:, L.sel[INDEX[name]]] == 1)


def _inv(v: int) -> int:
    return pow(v, F.P - 2, F.P) if v % F.P else 0


def set_adder(cpu: np.ndarray, row: int, x: int, y: int, cin: int) -> None:
    """The adder columns of ``row`` for ``x + y + cin`` (32-bit words), eq included."""
    lo = (x & 0xFFFF) + (y & 0xFFFF) + cin
    hi = (x >> 16) + (y >> 16) + (lo >> 16)
    cpu[row, L.s[0]], cpu[row, L.s[1]] = lo & 0xFFFF, hi & 0xFFFF
    cpu[row, L.carry[0]], cpu[row, L.carry[1]] = lo >> 16, hi >> 16
    total = (lo & 0xFFFF) + (hi & 0xFFFF)
    cpu[row, L.eq], cpu[row, L.eq_inv] = int(total == 0), _inv(total)


def word(cpu: np.ndarray, row: int, cols: list[int], bits: int = 16) -> int:
    """Little-endian limbs (or bytes, ``bits=8``) of ``row`` as one value."""
    return sum(int(cpu[row, c]) << (bits * j) for j, c in enumerate(cols))


def set_limbs(cpu: np.ndarray, row: int, cols: list[int], value: int) -> None:
    cpu[row, cols[0]], cpu[row, cols[1]] = value & 0xFFFF, (value >> 16) & 0xFFFF


def shorten_transfer(cpu: np.ndarray, ecall: int, k: int) -> np.ndarray:
    """A READ/WRITE ``ecall`` row that claims to move ``k`` bytes (fewer than the record):
    its result, adder and k flags, then its I/O rows up to k bytes; the rest are dropped
    and the rows renumbered. Returns the new CPU trace."""
    length = word(cpu, ecall, L.v1)
    for cols in (L.c, L.b, L.new3):
        set_limbs(cpu, ecall, cols, k)
    cpu[ecall, L.rb] = k >> 16
    set_adder(cpu, ecall, length, k ^ 0xFFFFFFFF, 1)
    cpu[ecall, L.knz], cpu[ecall, L.kinv] = int(k != 0), _inv((k & 0xFFFF) + (k >> 16))
    row, rem = ecall + 1, k
    while rem:
        lo = int(np.argmax(cpu[row, L.lsel]))
        hi = lo + min(4 - lo, rem)
        cpu[row, L.hsel] = 0
        cpu[row, L.hsel[hi - 1]] = 1
        cpu[row, L.inb] = [int(lo <= j < hi) for j in range(4)]
        cpu[row, L.rem] = rem
        rem -= hi - lo
        cpu[row, L.last] = int(rem == 0)
        row += 1
    end = row
    while end < len(cpu) and cpu[end, L.sel].tolist() == cpu[ecall + 1, L.sel].tolist():
        end += 1
    out = np.delete(cpu, range(row, end), axis=0)
    out[:, L.row] = np.arange(len(out))
    return out
