"""LogUp auxiliary trace generation, in row blocks, and a table's claimed LogUp sum.

Helper columns are computed block by block (denominators, their batch inverse and the
multiplicities only ever exist for one block of rows), and the running sum is carried
from block to block, so memory is the aux matrix itself plus a small working set. The
per-row arithmetic runs compiled (:mod:`proofmarket.stark.row_eval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.expr import Algebra, Expr, ExtValue, Value
from proofmarket.stark.logup import LogUpError
from proofmarket.stark.row_eval import as_words, logup_helper_block, logup_program
from proofmarket.stark.trace_check import CHECK_BLOCK_ROWS

if TYPE_CHECKING:
    from proofmarket.stark.air import Air

AUX_BLOCK_ROWS = CHECK_BLOCK_ROWS


def generate_aux_trace(
    air: Air,
    main: np.ndarray,
    preprocessed: np.ndarray | None,
    public_inputs: Sequence[int],
    challenges: Sequence[Sequence[int]],
    block_rows: int = AUX_BLOCK_ROWS,
) -> np.ndarray | None:
    """The LogUp auxiliary trace ``(n, 4·aux_width)`` for challenges ``[β, γ]`` (or None),
    as u32 words (canonical values; half the memory of u64, and what the LDE reads)."""
    layout = air.system.logup
    if layout is None:
        return None
    n = main.shape[0]
    width = 4 * layout.num_aux_columns
    acc_col = 4 * layout.acc_index
    aux = np.empty((n, width), dtype=np.uint32)  # canonical values: u32 words
    carry = np.zeros(4, dtype=np.int64)
    blk = max(1, min(block_rows, n))
    chals = list(challenges)[:2]
    program, _ = logup_program(air, public_inputs, chals)
    main32, pre32 = as_words(main), as_words(preprocessed)
    assert main32 is not None
    batches = len(layout.batches)
    for lo in range(0, n, blk):
        hi = min(n, lo + blk)
        try:
            helpers = logup_helper_block(program, batches, main32, pre32, (lo, hi))
        except F.FieldError as exc:
            raise LogUpError(
                "a LogUp denominator vanished (β collides with a looked-up tuple)"
            ) from exc
        aux[lo:hi, :acc_col] = helpers
        # row sums are < batches·2^31, so the int64 cumsum over a block cannot overflow
        # while batches·rows per block stays below 2^32
        total = helpers.reshape(hi - lo, batches, 4).sum(axis=1, dtype=np.uint64)
        acc = (np.cumsum(total.astype(np.int64), axis=0) + carry) % F.P
        carry = acc[-1].copy()
        aux[lo:hi, acc_col : acc_col + 4] = acc
    return aux


def public_sum_value(
    air: Air, public_inputs: Sequence[int], challenges: Sequence[ExtValue]
) -> Value:
    """The AIR's public bus contributions Σ m/d (recomputed by the verifier too)."""
    layout = air.system.logup
    if layout is None or not layout.public:
        return (0, 0, 0, 0)
    pub = [int(v) for v in public_inputs]

    def leaf(node: Expr) -> Value:
        if node.op == "pub":
            return pub[node.data]
        if node.op == "chal":
            return challenges[node.data]
        raise ValueError(f"public bus terms may not use {node.op}")  # pragma: no cover

    from proofmarket.stark.expr import compile_program

    out: list[Value] = [0]

    def sink(_: int, v: Value) -> None:
        out[0] = v

    compile_program([layout.public_sum()]).evaluate(Algebra(None), leaf, sink)
    return out[0]


def claimed_sum(
    air: Air, aux: np.ndarray, public_inputs: Sequence[int], challenges: Sequence[ExtValue]
) -> ExtValue:
    """``acc[n−1] + Σ public terms``: what this table adds to the global LogUp sum."""
    layout = air.system.logup
    assert layout is not None
    acc_col = 4 * layout.acc_index
    last: ExtValue = tuple(int(v) for v in aux[-1, acc_col : acc_col + 4])  # type: ignore[assignment]
    alg = Algebra(None)
    return alg.to_ext(alg.add(last, public_sum_value(air, public_inputs, challenges)))
