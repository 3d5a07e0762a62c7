"""Compiled evaluation over trace rows: LogUp helper columns and the fast trace check.

The NumPy row frame (:class:`~proofmarket.stark.trace_check.RowFrame`) makes one array
operation per DAG node and block, which dominated the prover's LogUp and trace-check time.
Here the same expressions are lowered once to the base-field instructions of
:mod:`proofmarket.stark.constraint_vm` (through the same
:class:`~proofmarket.stark.expr.Algebra`, so the arithmetic is the one the verifier uses)
and run by its compiled interpreter over row blocks, the "next" row being row + 1.

* :func:`logup_helper_block` gives the helper columns ``h_b = Σ_i m_i / d_i`` of a row
  block, computed as ``(Σ_i m_i·Π_{j≠i} d_j) / Π_j d_j``: one extension inverse per batch
  and row instead of one per interaction (the same field values).
* :func:`constraints_hold` says whether every constraint holds on its rows (through a
  random combination per row); the caller falls back to the NumPy checker only to name
  a failure.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.constraint_vm import Recorder, Reg, VmProgram, allocate, run
from proofmarket.stark.expr import Algebra, Expr, Group, Value, compile_program
from proofmarket.stark.kernels import _conj_norm, _emul

if TYPE_CHECKING:
    from proofmarket.stark.air import Air

_MATS = {Group.MAIN: 0, Group.PREPROCESSED: 1, Group.AUX: 2}


def as_words(mat: np.ndarray | None) -> np.ndarray | None:
    """A canonical matrix as contiguous u32 words (what the interpreter reads)."""
    if mat is None:
        return None
    arr = F.canonical_words(np.asarray(mat), "trace")
    return np.ascontiguousarray(arr, dtype=np.uint32)


class _Lowering:
    """Records expressions over trace rows as interpreter instructions."""

    def __init__(self, public_inputs: Sequence[int], challenges: Sequence[Sequence[int]]) -> None:
        self.rec = Recorder()
        self.alg = Algebra(self.rec)
        self.pub = [int(v) for v in public_inputs]
        self.chals = [tuple(int(c) for c in ch) for ch in challenges]
        self.loads: dict[tuple[int, int, int], Reg] = {}
        self.width = 0

    def _load(self, mat: int, col: int, offset: int) -> Reg:
        key = (mat, col, offset)
        if key not in self.loads:
            self.loads[key] = self.rec.load(mat, col, offset)
        return self.loads[key]

    def _leaf(self, node: Expr) -> Value:
        from proofmarket.stark.air import AirError

        if node.op == "col":
            group, j, nxt = node.data
            off = 1 if nxt else 0
            if group is Group.AUX:
                return tuple(self._load(2, 4 * j + k, off) for k in range(4))
            return self._load(_MATS[group], j, off)
        if node.op == "pub":
            return self.pub[node.data]
        if node.data >= len(self.chals):
            raise AirError(f"challenge {node.data} used before it was drawn")
        return self.chals[node.data]

    def values(self, exprs: Sequence[Expr]) -> list[Value]:
        out: list[Value] = [0] * len(exprs)

        def sink(r: int, v: Value) -> None:
            out[r] = v

        compile_program(list(exprs)).evaluate(self.alg, self._leaf, sink, {})
        return out

    def store(self, v: Value, ext: bool) -> None:
        """Store ``v`` as the next 1 (base) or 4 (extension) output columns."""
        comps: tuple[Any, ...] = self.alg.to_ext(v) if ext else (v,)
        for c in comps:
            self.rec.store(self.rec.scalar(c) if isinstance(c, int) else c, self.width)
            self.width += 1

    def program(self) -> VmProgram:
        return allocate(self.rec)


def logup_program(
    air: Air, public_inputs: Sequence[int], challenges: Sequence[Sequence[int]]
) -> tuple[VmProgram, int]:
    """Per batch b, columns 8b…8b+3: ``Σ_i m_i·Π_{j≠i} d_j``; 8b+4…8b+7: ``Π_j d_j``."""
    layout = air.system.logup
    assert layout is not None
    low = _Lowering(public_inputs, challenges)
    alg = low.alg
    exprs: list[Expr] = []
    for members in layout.batches:
        for i in members:
            exprs += [layout.interactions[i].denominator, layout.interactions[i].multiplicity]
    vals = low.values(exprs)
    k = 0
    for members in layout.batches:
        dens = [vals[k + 2 * t] for t in range(len(members))]
        mults = [vals[k + 2 * t + 1] for t in range(len(members))]
        k += 2 * len(members)
        prefix: list[Value] = [1]
        for d in dens:
            prefix.append(alg.mul(prefix[-1], d))
        numer: Value = 0
        suffix: Value = 1
        for i in range(len(dens) - 1, -1, -1):
            numer = alg.add(numer, alg.mul(mults[i], alg.mul(prefix[i], suffix)))
            suffix = alg.mul(suffix, dens[i])
        low.store(numer, ext=True)
        low.store(prefix[-1], ext=True)
    return low.program(), low.width


_PU = np.uint64(F.P)
_HELPER_CHUNKS = 64  # row ranges inverted independently (in parallel)


@numba.njit(parallel=True, cache=True)
def _helpers_kernel(vals: np.ndarray, batches: int, out: np.ndarray) -> bool:  # pragma: no cover
    """out[r, 4b…4b+3] = numer_b / den_b for the (numer, den) pairs of ``vals`` (m, 8·nb).

    Extension inverses through the norm (den⁻¹ = conj·norm⁻¹), the norms inverted with one
    exponentiation per chunk of rows (Montgomery's trick), chunks in parallel. Returns
    False when a denominator is zero (out is then incomplete).
    """
    m = vals.shape[0]
    nchunks = min(m, _HELPER_CHUNKS)
    per = (m + nchunks - 1) // nchunks
    ok = np.ones(nchunks, dtype=np.uint8)
    for ch in numba.prange(nchunks):
        lo = ch * per
        hi = min(m, lo + per)
        k = (hi - lo) * batches
        if k <= 0:
            continue
        conj = np.empty((k, 4), dtype=np.uint64)
        norms = np.empty(k, dtype=np.uint64)
        prefix = np.empty(k, dtype=np.uint64)
        acc = np.uint64(1)
        for idx in range(k):
            r = lo + idx // batches
            c = 8 * (idx % batches) + 4
            c0, c1, c2, c3, nrm = _conj_norm(
                vals[r, c], vals[r, c + 1], vals[r, c + 2], vals[r, c + 3]
            )
            conj[idx, 0] = c0
            conj[idx, 1] = c1
            conj[idx, 2] = c2
            conj[idx, 3] = c3
            norms[idx] = nrm
            prefix[idx] = acc
            acc = (acc * nrm) % _PU
        if acc == 0:
            ok[ch] = 0
            continue
        inv = np.uint64(1)  # acc^(P−2)
        base = acc
        e = F.P - 2
        while e > 0:
            if e & 1:
                inv = (inv * base) % _PU
            base = (base * base) % _PU
            e >>= 1
        for idx in range(k - 1, -1, -1):
            n_inv = (inv * prefix[idx]) % _PU
            inv = (inv * norms[idx]) % _PU
            r = lo + idx // batches
            b = idx % batches
            c = 8 * b
            h0, h1, h2, h3 = _emul(
                vals[r, c],
                vals[r, c + 1],
                vals[r, c + 2],
                vals[r, c + 3],
                (conj[idx, 0] * n_inv) % _PU,
                (conj[idx, 1] * n_inv) % _PU,
                (conj[idx, 2] * n_inv) % _PU,
                (conj[idx, 3] * n_inv) % _PU,
            )
            out[r, 4 * b] = h0
            out[r, 4 * b + 1] = h1
            out[r, 4 * b + 2] = h2
            out[r, 4 * b + 3] = h3
    return bool(ok.all())


def logup_helper_block(
    program: VmProgram,
    batches: int,
    main: np.ndarray,
    preprocessed: np.ndarray | None,
    rows: tuple[int, int],
) -> np.ndarray:
    """Helper columns ``(hi − lo, 4·batches)`` of rows ``[lo, hi)`` (u32 inputs, see
    :func:`as_words`); FieldError when a denominator vanishes."""
    lo, hi = rows
    vals = run(program, [main, preprocessed], main.shape[0], 8 * batches, row_range=(lo, hi))
    out = np.empty((hi - lo, 4 * batches), dtype=np.uint64)
    if not _helpers_kernel(vals, batches, out):
        raise F.FieldError("inverse of zero in the extension field")
    return out


def constraints_hold(
    air: Air,
    main: np.ndarray,
    preprocessed: np.ndarray | None,
    aux: np.ndarray | None,
    public_inputs: Sequence[int],
    challenges: Sequence[Sequence[int]],
    block_rows: int,
) -> bool:
    """True when every constraint is zero on the rows it applies to (u32 inputs).

    Every-row and transition constraints are each folded into one random extension
    combination ``Σ α^i·C_i`` (fresh α per call), so a block's output is 8 columns plus
    the few single-row constraints: a failing row shows up unless α hits a root of a
    nonzero polynomial of degree < #constraints (probability < 2^-110). Checks at least
    the rows :func:`~proofmarket.stark.trace_check.check_trace` checks, so True means
    that checker passes too (up to that probability).
    """
    from proofmarket.stark.air import Kind

    system = air.system
    n = main.shape[0]
    low = _Lowering(public_inputs, challenges)
    alg = low.alg
    alpha = tuple(secrets.randbelow(F.P) for _ in range(4))
    power: Value = 1
    sums: dict[Kind, Value] = {Kind.EVERY_ROW: 0, Kind.TRANSITION: 0}
    singles: list[tuple[Value, int]] = []
    values = low.values([c.expr for c in system.constraints])
    for c, v in zip(system.constraints, values, strict=True):
        if c.kind is Kind.ROW:
            singles.append((v, c.row_index(n)))
            continue
        sums[c.kind] = alg.add(sums[c.kind], alg.mul(power, v))
        power = alg.mul(power, alpha)
    low.store(sums[Kind.EVERY_ROW], ext=True)
    low.store(sums[Kind.TRANSITION], ext=True)
    row_cols: list[tuple[int, int]] = []
    for v, row in singles:
        start = low.width
        low.store(v, ext=isinstance(v, tuple))
        row_cols.extend((col, row) for col in range(start, low.width))
    program = low.program()
    blk = max(1, min(block_rows, n))
    for lo in range(0, n, blk):
        hi = min(n, lo + blk)
        vals = run(program, [main, preprocessed, aux], n, low.width, row_range=(lo, hi))
        if vals[:, :4].any():
            return False
        trans = vals[:, 4:8]
        if (trans[: n - 1 - lo] if hi == n else trans).any():
            return False
        for col, keep in row_cols:
            if lo <= keep < hi and vals[keep - lo, col] != 0:
                return False
    return True
