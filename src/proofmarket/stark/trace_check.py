"""Evaluation over trace rows: the row frame, and the trace checker that names failures.

Work is done in row blocks so that checking a 2^20-row, 250-column trace never holds more
than a block's worth of column copies and intermediate values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.expr import (
    NUMPY_OPS,
    Algebra,
    ArrayOps,
    Expr,
    Group,
    Value,
    compile_program,
    to_str,
)

if TYPE_CHECKING:
    from proofmarket.stark.air import Air

CHECK_BLOCK_ROWS = 1 << 14
"""Rows per block when checking constraints or generating LogUp columns."""

CHECK_CHALLENGE_SEED = 0x5EED


class RowFrame:
    """Leaf values over trace rows ``[lo, hi)``: columns as arrays, next rows shifted by one
    (row n−1's next row is row 0)."""

    def __init__(
        self,
        main: np.ndarray,
        preprocessed: np.ndarray | None,
        aux: np.ndarray | None,
        public_inputs: Sequence[int],
        challenges: Sequence[Sequence[int]],
        ops: ArrayOps = NUMPY_OPS,
        rows: tuple[int, int] | None = None,
    ) -> None:
        self.main = main
        self.pre = preprocessed
        self.aux = aux
        self.n = main.shape[0]
        lo, hi = rows if rows is not None else (0, self.n)
        self.lo: int = lo
        self.hi: int = hi
        self.public_inputs = list(public_inputs)
        self.challenges = [tuple(int(c) for c in ch) for ch in challenges]
        self.algebra = Algebra(ops)
        self._cols: dict[tuple[Group, int, bool], Any] = {}

    @property
    def rows(self) -> int:
        return self.hi - self.lo

    def _base_col(self, mat: np.ndarray | None, group: Group, j: int, nxt: bool) -> Any:
        from proofmarket.stark.air import AirError

        key = (group, j, nxt)
        if key not in self._cols:
            if mat is None:
                raise AirError(f"{group.value} column {j} used but no such matrix was given")
            lo, hi = (self.lo + 1, self.hi + 1) if nxt else (self.lo, self.hi)
            if hi <= self.n:
                col = mat[lo:hi, j]
            else:
                col = np.concatenate([mat[lo:, j], mat[: hi - self.n, j]])
            self._cols[key] = np.ascontiguousarray(col, dtype=np.uint64)
        return self._cols[key]

    def leaf(self, node: Expr) -> Value:
        from proofmarket.stark.air import AirError

        if node.op == "col":
            group, j, nxt = node.data
            if group is Group.MAIN:
                return self._base_col(self.main, group, j, nxt)
            if group is Group.PREPROCESSED:
                return self._base_col(self.pre, group, j, nxt)
            return tuple(self._base_col(self.aux, group, 4 * j + k, nxt) for k in range(4))
        if node.op == "pub":
            return self.public_inputs[node.data]
        if node.op == "chal":
            if node.data >= len(self.challenges):
                raise AirError(f"challenge {node.data} used before it was drawn")
            return self.challenges[node.data]
        raise AirError(f"not a leaf: {node.op}")

    def evaluate(self, exprs: Sequence[Expr]) -> list[Value]:
        """Evaluate expressions over the frame's rows (ints when row-invariant)."""
        program = compile_program(list(exprs))
        results: list[Value] = [0] * len(exprs)

        def sink(r: int, v: Value) -> None:
            results[r] = v

        program.evaluate(self.algebra, self.leaf, sink)
        return results

    def evaluate_ext(self, exprs: Sequence[Expr]) -> list[np.ndarray]:
        """Evaluate expressions over the frame's rows as ``(rows, 4)`` extension arrays."""
        out = []
        for v in self.evaluate(exprs):
            comps = v if isinstance(v, tuple) else (v, 0, 0, 0)
            arr = np.empty((self.rows, 4), dtype=np.uint64)
            for k in range(4):
                arr[:, k] = comps[k]
            out.append(arr)
        return out


def check_challenges(air: Air) -> list[tuple[int, ...]]:
    """Fixed pseudo-random β, γ for checking a trace outside a proof."""
    rng = np.random.default_rng(CHECK_CHALLENGE_SEED)
    return [
        tuple(int(c) for c in rng.integers(0, F.P, 4)) for _ in range(air.system.num_challenges)
    ]


def check_trace(
    air: Air,
    main: np.ndarray,
    public_inputs: Sequence[int],
    challenges: Sequence[Sequence[int]] | None = None,
    *,
    aux: np.ndarray | None = None,
    preprocessed: np.ndarray | None = None,
    block_rows: int = CHECK_BLOCK_ROWS,
) -> None:
    """Check every constraint on every row; raise :class:`TraceCheckError` for the earliest
    failing row (the first constraint in definition order when several fail there).

    LogUp constraints are checked with fixed pseudo-random challenges (or the given ones,
    ``[β, γ]`` or ``[β, γ, claimed sum]``; the claimed sum defaults to 0, the single-table
    statement), so an unbalanced lookup shows up as the ``logup: final sum`` constraint
    failing. ``aux`` (an already generated LogUp trace for these challenges) and
    ``preprocessed`` skip recomputing them.
    """
    from proofmarket.stark.air import AirError, Kind, TraceCheckError
    from proofmarket.stark.aux_trace import generate_aux_trace

    sys_ = air.system
    pub = air.check_public_inputs(public_inputs)
    main = as_trace(main, air.main_width, "main trace")
    n = main.shape[0]
    if n < 2 or n & (n - 1):
        raise AirError(f"trace height must be a power of two ≥ 2, got {n}")
    log_n = n.bit_length() - 1
    pre = preprocessed
    if pre is None and air.preprocessed_width:
        pre = air.preprocessed_trace(log_n)
    chals: list[Sequence[int]] = []
    if sys_.num_challenges:
        chals = list(check_challenges(air) if challenges is None else challenges)
        if len(chals) == sys_.num_challenges:
            chals.append((0, 0, 0, 0))
        if aux is None:
            aux = generate_aux_trace(air, main, pre, pub, chals[: sys_.num_challenges])
    from proofmarket.stark.row_eval import as_words, constraints_hold

    main32 = as_words(main)
    assert main32 is not None
    if constraints_hold(air, main32, as_words(pre), as_words(aux), pub, chals, block_rows):
        return
    # something fails: the NumPy evaluation below finds and names it
    exprs = [c.expr for c in sys_.constraints]
    rows_of = {i: c.row_index(n) for i, c in enumerate(sys_.constraints) if c.kind is Kind.ROW}
    first_failure: tuple[int, int] | None = None
    blk = max(1, min(block_rows, n))
    for lo in range(0, n, blk):
        hi = min(n, lo + blk)
        frame = RowFrame(main, pre, aux, pub, chals, rows=(lo, hi))
        values = frame.evaluate(exprs)
        for i, (c, v) in enumerate(zip(sys_.constraints, values, strict=True)):
            bad = np.zeros(hi - lo, dtype=bool)
            for comp in v if isinstance(v, tuple) else (v,):
                bad |= np.broadcast_to(np.asarray(comp) != 0, (hi - lo,))
            if c.kind is Kind.TRANSITION and hi == n:
                bad[n - 1 - lo] = False
            elif c.kind is Kind.ROW:
                keep = rows_of[i]
                mask = np.zeros(hi - lo, dtype=bool)
                if lo <= keep < hi:
                    mask[keep - lo] = True
                bad &= mask
            if bad.any():
                row = lo + int(np.argmax(bad))
                if first_failure is None or row < first_failure[1]:
                    first_failure = (i, row)
        if first_failure is not None:
            break
    if first_failure is not None:
        i, row = first_failure
        c = sys_.constraints[i]
        raise TraceCheckError(c.name, row, f"{to_str(c.expr)[:200]} != 0")


def as_trace(mat: Any, width: int, what: str) -> np.ndarray:
    """A canonical ``(n, width)`` field matrix, or :class:`AirError`."""
    from proofmarket.stark.air import AirError

    arr = np.asarray(mat)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise AirError(f"{what}: expected shape (n, {width}), got {arr.shape}")
    return F.canonical_words(arr, what)
