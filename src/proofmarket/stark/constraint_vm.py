"""Compiled constraint evaluation: the expression DAG lowered to base-field instructions.

The quotient is the hot path of the prover. Instead of one NumPy call per DAG node per
block, the DAG (with its extension arithmetic, the α-combination and the vanishing
factors) is *lowered once per proof* into a flat list of base-field instructions over
virtual registers, registers are re-used after their last use, and a generic interpreter
compiled with numba runs that list over cache-sized blocks of LDE rows, in parallel over
blocks. The interpreter is compiled once (cached on disk) for every AIR.

Lowering reuses :class:`~proofmarket.stark.expr.Algebra` with a recording
:class:`~proofmarket.stark.expr.ArrayOps`, so the arithmetic is exactly the one the
NumPy path and the verifier use: the same expression objects drive all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from proofmarket.stark.field import P

_PU = np.uint64(P)

# opcodes
LOAD = 0  # d ← mats[a][(row + x) mod N, b]
ADD = 1
SUB = 2
MUL = 3
NEG = 4
ADDC = 5  # d ← a + c
SUBC = 6  # d ← a − c
RSUBC = 7  # d ← c − a
MULC = 8  # d ← a · c
SETC = 9  # d ← c
STORE = 10  # out[row, b] ← a
MACC = 11  # d ← a + b·c
MAC = 12  # d ← a + b·x  (x is a register here)

_TWO_SRC = (ADD, SUB, MUL, MACC)
_ONE_SRC = (NEG, ADDC, SUBC, RSUBC, MULC, STORE)


class Reg:
    """A virtual register holding one base-field value per row."""

    __slots__ = ("id",)

    def __init__(self, rid: int) -> None:
        self.id = rid


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value % P


class Recorder:
    """An ArrayOps that records instructions instead of computing."""

    def __init__(self) -> None:
        self.code: list[tuple[int, int, int, int, int, int]] = []  # op, d, a, b, x, const
        self.next_id = 0

    def new(self) -> Reg:
        r = Reg(self.next_id)
        self.next_id += 1
        return r

    def emit(self, op: int, a: int = -1, b: int = -1, x: int = 0, c: int = 0) -> Reg:
        d = self.new()
        self.code.append((op, d.id, a, b, x, c))
        return d

    def load(self, mat: int, col: int, offset: int) -> Reg:
        return self.emit(LOAD, mat, col, offset)

    def store(self, src: Any, col: int) -> None:
        reg = self.emit(SETC, c=src.value) if isinstance(src, _Const) else src
        self.code.append((STORE, -1, reg.id, col, 0, 0))

    def scalar(self, v: int) -> _Const:
        return _Const(v)

    def add(self, a: Any, b: Any) -> Any:
        if isinstance(a, _Const):
            a, b = b, a
        if isinstance(b, _Const):
            return self.emit(ADDC, a.id, c=b.value)
        return self.emit(ADD, a.id, b.id)

    def sub(self, a: Any, b: Any) -> Any:
        if isinstance(b, _Const):
            return self.emit(SUBC, a.id, c=b.value)
        if isinstance(a, _Const):
            return self.emit(RSUBC, b.id, c=a.value)
        return self.emit(SUB, a.id, b.id)

    def mul(self, a: Any, b: Any) -> Any:
        if isinstance(a, _Const):
            a, b = b, a
        if isinstance(b, _Const):
            return self.emit(MULC, a.id, c=b.value)
        return self.emit(MUL, a.id, b.id)

    def neg(self, a: Any) -> Any:
        return self.emit(NEG, a.id)


@dataclass(frozen=True)
class VmProgram:
    """Register-allocated instructions: ``code`` (L, 5) int64 and ``consts`` (L,) uint64."""

    code: np.ndarray
    consts: np.ndarray
    num_regs: int


def _sources(op: int, a: int, b: int, x: int) -> list[int]:
    if op == MAC:
        return [a, b, x]
    if op in _TWO_SRC:
        return [a, b]
    if op in _ONE_SRC:
        return [a]
    return []


def fuse_multiply_add(
    code: list[tuple[int, int, int, int, int, int]],
) -> list[tuple[int, int, int, int, int, int]]:
    """Fold ``t = u·v; d = w + t`` into one MAC/MACC when ``t`` has no other use."""
    uses: dict[int, int] = {}
    for op, _d, a, b, x, _c in code:
        for s in _sources(op, a, b, x):
            uses[s] = uses.get(s, 0) + 1
    producer = {ins[1]: k for k, ins in enumerate(code) if ins[0] in (MUL, MULC)}
    dead: set[int] = set()
    out = list(code)
    for k, (op, d, a, b, _x, _c) in enumerate(code):
        if op != ADD:
            continue
        for prod, other in ((b, a), (a, b)):
            j = producer.get(prod)
            if j is None or j in dead or uses.get(prod) != 1:
                continue
            pop, _pd, pa, pb, _px, pc = code[j]
            if pop == MULC:
                out[k] = (MACC, d, other, pa, 0, pc)
            else:
                out[k] = (MAC, d, other, pa, pb, 0)
            dead.add(j)
            break
    return [ins for k, ins in enumerate(out) if k not in dead]


def allocate(recorder: Recorder) -> VmProgram:
    """Fuse multiply-adds, then map virtual registers to a small physical register file
    (linear scan on last use; a destination is never one of its instruction's sources)."""
    code = fuse_multiply_add(recorder.code)
    last_use: dict[int, int] = {}
    for pc, (op, _d, a, b, x, _c) in enumerate(code):
        for src in _sources(op, a, b, x):
            last_use[src] = pc
    phys: dict[int, int] = {}
    free: list[int] = []
    count = 0
    out = np.zeros((len(code), 5), dtype=np.int64)
    consts = np.zeros(len(code), dtype=np.uint64)
    for pc, (op, d, a, b, x, c) in enumerate(code):
        srcs = _sources(op, a, b, x)
        pa = phys[a] if srcs else a
        pb = phys[b] if op in _TWO_SRC or op == MAC else b
        px = phys[x] if op == MAC else x
        pd = -1
        if op != STORE:
            if free:
                pd = free.pop()
            else:
                pd = count
                count += 1
        # sources dying here are freed only after the destination is chosen, so the
        # destination never aliases a source (the interpreter's loops then vectorise)
        for src in set(srcs):
            if last_use.get(src) == pc:
                free.append(phys[src])
        if op != STORE:
            if d in last_use:
                phys[d] = pd
            else:
                free.append(pd)
        out[pc] = (op, pd, pa, pb, px)
        consts[pc] = c
    return VmProgram(out, consts, max(count, 1))


_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_MU = np.uint64((-pow(P, -1, 1 << 32)) % (1 << 32))  # −P^{-1} mod 2^32
_R = (1 << 32) % P  # Montgomery radix mod P
_R2 = np.uint64(_R * _R % P)
_ONE = np.uint64(1)
_MONT_CONST_OPS = (ADDC, SUBC, RSUBC, MULC, SETC, MACC)


@numba.njit(cache=True, inline="always")
def _mont(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    """a·b·2^-32 mod P for canonical a, b (32×32-bit products only: vectorises)."""
    o = (a & _M32) * (b & _M32)
    q = ((o & _M32) * _MU) & _M32
    t = (o + q * _PU) >> _S32
    return t - _PU if t >= _PU else t


@numba.njit(parallel=True, cache=True)
def _run(
    code: np.ndarray,
    consts: np.ndarray,
    m0: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    m3: np.ndarray,
    out: np.ndarray,
    num_regs: int,
    blk: int,
    row0: int,
    size: int,
) -> None:  # pragma: no cover - compiled
    """Rows ``row0 … row0 + len(out) − 1`` of a domain of ``size`` rows (loads wrap).

    Registers hold values in Montgomery form (x·2^32 mod P): a load multiplies by R²,
    a store by 1, and every product is one Montgomery multiplication, which needs only
    32×32-bit products and so vectorises (a 64-bit ``%`` does not). ``consts`` are in
    Montgomery form too. Each op reads and writes whole register rows through 1-D views;
    the allocator never gives an instruction a destination equal to a source, so the
    loops carry no aliasing and are vectorised.
    """
    n = out.shape[0]
    mask = size - 1
    nblocks = (n + blk - 1) // blk
    length = code.shape[0]
    for bi in numba.prange(nblocks):
        lo = bi * blk
        m = min(n, lo + blk) - lo
        regs = np.empty((num_regs, blk), dtype=np.uint64)
        for pc in range(length):
            op = code[pc, 0]
            d = code[pc, 1]
            a = code[pc, 2]
            b = code[pc, 3]
            if op == 0:
                x = code[pc, 4]
                if a == 0:
                    src = m0
                elif a == 1:
                    src = m1
                elif a == 2:
                    src = m2
                else:
                    src = m3
                rd = regs[d]
                base = row0 + lo + x
                if (base & mask) + m <= size:
                    s0 = base & mask
                    for i in range(m):
                        rd[i] = _mont(np.uint64(src[s0 + i, b]), _R2)
                else:
                    for i in range(m):
                        rd[i] = _mont(np.uint64(src[(base + i) & mask, b]), _R2)
                continue
            if op == 10:
                ra = regs[a]
                for i in range(m):
                    out[lo + i, b] = _mont(ra[i], _ONE)
                continue
            rd = regs[d]
            if op == 9:
                c = consts[pc]
                for i in range(m):
                    rd[i] = c
                continue
            ra = regs[a]
            if op == 1:
                rb = regs[b]
                for i in range(m):
                    s = ra[i] + rb[i]
                    rd[i] = s - _PU if s >= _PU else s
            elif op == 2:
                rb = regs[b]
                for i in range(m):
                    u = ra[i]
                    v = rb[i]
                    rd[i] = u - v if u >= v else u + _PU - v
            elif op == 3:
                rb = regs[b]
                for i in range(m):
                    rd[i] = _mont(ra[i], rb[i])
            elif op == 4:
                for i in range(m):
                    u = ra[i]
                    rd[i] = _PU - u if u != 0 else u
            elif op == 5:
                c = consts[pc]
                for i in range(m):
                    s = ra[i] + c
                    rd[i] = s - _PU if s >= _PU else s
            elif op == 6:
                c = consts[pc]
                for i in range(m):
                    u = ra[i]
                    rd[i] = u - c if u >= c else u + _PU - c
            elif op == 7:
                c = consts[pc]
                for i in range(m):
                    u = ra[i]
                    rd[i] = c - u if c >= u else c + _PU - u
            elif op == 8:
                c = consts[pc]
                for i in range(m):
                    rd[i] = _mont(ra[i], c)
            elif op == 11:
                c = consts[pc]
                rb = regs[b]
                for i in range(m):
                    s = ra[i] + _mont(rb[i], c)
                    rd[i] = s - _PU if s >= _PU else s
            else:  # 12: MAC
                rb = regs[b]
                rx = regs[code[pc, 4]]
                for i in range(m):
                    s = ra[i] + _mont(rb[i], rx[i])
                    rd[i] = s - _PU if s >= _PU else s


def _montgomery_consts(program: VmProgram) -> np.ndarray:
    """The program's constants as c·2^32 mod P for the ops that use one."""
    uses = np.isin(program.code[:, 0], _MONT_CONST_OPS)
    mont = (program.consts.astype(object) * _R) % P
    return np.where(uses, mont, program.consts).astype(np.uint64)


_EMPTY = np.zeros((1, 1), dtype=np.uint32)


def run(
    program: VmProgram,
    matrices: Sequence[np.ndarray | None],
    rows: int,
    out_width: int,
    block_rows: int = 256,
    row_range: tuple[int, int] | None = None,
) -> np.ndarray:
    """Execute ``program`` on every row; ``matrices`` are up to 4 row-major (rows, w) inputs.

    Inputs are read as u32 words (the prover stores its LDEs that way; other inputs are
    converted, so pass u32 matrices when calling repeatedly), so the interpreter has one
    compiled specialisation. ``row_range=(lo, hi)`` evaluates only rows ``lo … hi − 1`` of
    the ``rows``-row domain (loads still wrap around the whole domain) and returns
    ``hi − lo`` rows.
    """
    mats = [np.ascontiguousarray(m, dtype=np.uint32) if m is not None else _EMPTY for m in matrices]
    while len(mats) < 4:
        mats.append(_EMPTY)
    if rows & (rows - 1):
        raise ValueError(f"row count must be a power of two, got {rows}")
    lo, hi = row_range if row_range is not None else (0, rows)
    if not 0 <= lo < hi <= rows:
        raise ValueError(f"row range [{lo}, {hi}) outside [0, {rows})")
    out = np.empty((hi - lo, out_width), dtype=np.uint64)
    _run(
        program.code,
        _montgomery_consts(program),
        mats[0],
        mats[1],
        mats[2],
        mats[3],
        out,
        program.num_regs,
        min(block_rows, hi - lo),
        lo,
        rows,
    )
    return out
