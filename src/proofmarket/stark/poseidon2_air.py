"""A Poseidon2 permutation chip: an AIR table that other tables call over a LogUp bus.

One row proves one permutation. Columns (``w`` = 16 or 24, ``R_P`` partial rounds):

* ``0 … w−1``: the input state;
* then, for every S-box in evaluation order (8 full rounds × w lanes and one lane per
  partial round), two columns ``(c, y)`` with ``c = x^3`` and ``y = c^2·x = x^7``, where
  ``x`` is that S-box's input — an affine expression of earlier columns;
* last: ``mult``, how many times callers use this row.

So every constraint has degree 3 (within the engine's cap of 4), and the linear layers
cost no columns: the state between S-boxes stays an affine expression. Width 16 has 299
columns, width 24 has 451.

The row provides ``(input ‖ output)`` (2w values) on bus :func:`bus_id` with
multiplicity ``mult``; a caller table does ``lookup([*in, *out], bus=bus_id(w))``. The
optional public *claims* (``num_claims`` input/output pairs in the public inputs) are
looked up by the statement itself, so a single-table proof shows that those claims are
real permutations. Padding rows permute the zero state with ``mult = 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .air import Air, AirBuilder
from .expr import Expr
from .field import P
from .poseidon2 import PARTIAL_ROUNDS, WIDTHS, Poseidon2Error, rounds
from .poseidon2_kernel import check_states

_BUS_BASE = 0x5032_0000


def bus_id(width: int) -> int:
    """The LogUp bus a width-``width`` chip provides (input ‖ output) tuples on."""
    return _BUS_BASE + width


def num_columns(width: int) -> int:
    """Main-trace width of the chip: inputs, two columns per S-box, multiplicity."""
    sboxes = 8 * width + PARTIAL_ROUNDS[width]
    return width + 2 * sboxes + 1


class Poseidon2ChipAir(Air):
    """Proves each row's output is the Poseidon2 permutation of its input (see module doc)."""

    def __init__(self, width: int = 16, num_claims: int = 0) -> None:
        if width not in WIDTHS:
            raise Poseidon2Error(f"Poseidon2 width must be one of {WIDTHS}, got {width}")
        if num_claims < 0:
            raise Poseidon2Error(f"num_claims must be ≥ 0, got {num_claims}")
        self.width = width
        self.num_claims = num_claims
        self.name = f"poseidon2-chip-w{width}"
        super().__init__(main_width=num_columns(width), num_public_inputs=2 * width * num_claims)

    def min_log_rows(self) -> int:
        return 1

    def padding_rows(self, count: int, trace: np.ndarray) -> np.ndarray:
        """Rows permuting the zero state with multiplicity 0 (a zero row is not valid)."""
        return np.tile(_zero_row(self.width), (count, 1))

    def params_tag(self) -> bytes:
        return self.width.to_bytes(4, "little") + self.num_claims.to_bytes(4, "little")

    def define(self, b: AirBuilder) -> None:
        w = self.width
        inputs = [b.main(i) for i in range(w)]
        next_col = iter(range(w, self.main_width - 1))

        def sbox(x: Expr) -> Expr:
            cube, y = b.main(next(next_col)), b.main(next(next_col))
            b.assert_every_row(cube - x * x * x, name="sbox cube")
            b.assert_every_row(y - cube * cube * x, name="sbox x^7")
            return y

        outputs = rounds(inputs, sbox, reduce=_same)
        mult = b.main(self.main_width - 1)
        b.provide([*inputs, *outputs], mult, bus=bus_id(w), name="poseidon2 permutation")
        for k in range(self.num_claims):
            claim = [b.public(2 * w * k + j) for j in range(2 * w)]
            b.public_lookup(claim, 1, bus=bus_id(w), name=f"claim {k}")


def _same(x: Any) -> Any:
    return x


def chip_rows(inputs: Any, multiplicities: Sequence[int] | None = None) -> npt.NDArray[np.uint64]:
    """One chip row per input state of ``inputs`` (k, w), unpadded.

    ``multiplicities[i]`` is how often callers use permutation ``i`` (default 1 each).
    """
    states = check_states(inputs)
    k, w = states.shape
    mults = [1] * k if multiplicities is None else [int(m) for m in multiplicities]
    if len(mults) != k or any(not 0 <= m < P for m in mults):
        raise Poseidon2Error(f"need {k} multiplicities in [0, P), got {len(mults)}")
    cols: list[npt.NDArray[np.uint64]] = [states[:, i] for i in range(w)]

    def sbox(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        cube = x * x % P * x % P
        y = cube * cube % P * x % P
        cols.extend((cube, y))
        return y

    rounds(list(cols), sbox)
    cols.append(np.array(mults, dtype=np.uint64))
    return np.ascontiguousarray(np.stack(cols, axis=1)).reshape(k, num_columns(w))


@cache
def _zero_row(width: int) -> npt.NDArray[np.uint64]:
    return chip_rows(np.zeros((1, width), dtype=np.uint64), [0])[0]


def chip_trace(
    inputs: Any, log_n: int, multiplicities: Sequence[int] | None = None
) -> npt.NDArray[np.uint64]:
    """The chip's trace for ``inputs`` in 2^log_n rows (padding rows permute zero)."""
    rows = chip_rows(inputs, multiplicities)
    k, n = rows.shape[0], 1 << log_n
    if k > n:
        raise Poseidon2Error(f"{k} permutations do not fit in {n} rows")
    pad = np.tile(_zero_row(check_states(inputs).shape[1]), (n - k, 1))
    return np.ascontiguousarray(np.concatenate([rows, pad]))


def chip_outputs(trace: npt.NDArray[np.uint64], width: int) -> npt.NDArray[np.uint64]:
    """The output states of a chip trace's rows (evaluated from the last S-box columns)."""
    cols = [trace[:, i] for i in range(width)]
    it = iter(range(width, trace.shape[1] - 1))

    def sbox(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        next(it)
        return trace[:, next(it)]

    return np.stack(rounds(cols, sbox), axis=1)


def claims_public_inputs(inputs: Any, outputs: Any) -> list[int]:
    """Public inputs for ``num_claims`` claims: each input state then its output state."""
    a, b = check_states(inputs), check_states(outputs)
    if a.shape != b.shape:
        raise Poseidon2Error(f"inputs {a.shape} and outputs {b.shape} differ in shape")
    return [int(v) for v in np.concatenate([a, b], axis=1).reshape(-1)]
