"""A small multi-table machine: a program table, a multiplier chip and a fixed range table.

* :class:`ProgramAir` (``is_real, a, b, c, out``): each real row asks the multiplier for
  ``c = a·b`` over the product bus and range-checks ``a`` and ``b`` in the range table;
  the row marked ``out`` publishes its ``c`` on the result bus, which the statement
  consumes once with the public result (a public bus term the verifier adds itself).
* :class:`MulChipAir` (``mult, a, b, c``): ``c = a·b`` on every row; provides
  ``(a, b, c)`` on the product bus ``mult`` times.
* :class:`RangeTableAir` (fixed column ``0 … 2^bits − 1``, main ``mult``): provides each
  value ``mult`` times on the range bus; its height is exactly 2^bits.

Tables have different heights; an all-zero row is a no-op in each of them (boolean
``is_real``/multiplicity 0), so unused rows and unused tables are zero-padded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder
from proofmarket.stark.machine import Machine, Table

RANGE_BUS = 20
PRODUCT_BUS = 21
RESULT_BUS = 22


class ProgramAir(Air):
    """Rows ``(is_real, a, b, c, out)``: looks ``(a, b, c)`` up in the multiplier chip;
    rows with ``out = 1`` publish ``c`` on the result bus, which the statement consumes."""

    name = "example-program"

    def __init__(self) -> None:
        super().__init__(main_width=5, num_public_inputs=1)

    def define(self, b: AirBuilder) -> None:
        is_real, x, y, z, out = (b.main(i) for i in range(5))
        b.assert_every_row(is_real * (is_real - 1), name="is_real is boolean")
        b.assert_every_row(out * (1 - is_real), name="only real rows are output")
        b.lookup([x, y, z], is_real, bus=PRODUCT_BUS, name="product")
        b.lookup([x], is_real, bus=RANGE_BUS, name="a in range")
        b.lookup([y], is_real, bus=RANGE_BUS, name="b in range")
        b.provide([z], out, bus=RESULT_BUS, name="output")
        b.public_lookup([b.public(0)], 1, bus=RESULT_BUS, name="result (statement)")


class MulChipAir(Air):
    """``c = a·b`` on every row; provides ``(a, b, c)`` ``mult`` times."""

    name = "example-mul-chip"

    def __init__(self) -> None:
        super().__init__(main_width=4)

    def define(self, b: AirBuilder) -> None:
        mult, x, y, z = (b.main(i) for i in range(4))
        b.assert_every_row(z - x * y, name="c = a·b")
        b.provide([x, y, z], mult, bus=PRODUCT_BUS, name="products")


class RangeTableAir(Air):
    """Fixed values ``0 … 2^bits − 1``; provides value r ``mult[r]`` times."""

    name = "example-range-table"

    def __init__(self, bits: int = 8) -> None:
        super().__init__(main_width=1, preprocessed_width=1)
        self.bits = bits

    def params_tag(self) -> bytes:
        return self.bits.to_bytes(4, "little")

    def min_log_rows(self) -> int:
        return self.bits

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        return np.arange(1 << log_n, dtype=np.uint64)[:, None]

    def define(self, b: AirBuilder) -> None:
        b.provide([b.pre(0)], b.main(0), bus=RANGE_BUS, name="range table")


def example_machine(bits: int = 8, max_log_rows: int = 12) -> Machine:
    """Program (2^2 … 2^max rows), multiplier (2^2 … 2^max) and a 2^bits range table."""
    return Machine(
        [
            Table(ProgramAir(), range(2, max_log_rows + 1), name="program"),
            Table(MulChipAir(), range(2, max_log_rows + 1), name="mul"),
            Table(RangeTableAir(bits), bits, name="range"),
        ],
        name="example",
    )


def example_traces(
    pairs: Sequence[tuple[int, int]], bits: int = 8, mul_rows: int | None = None
) -> tuple[list[np.ndarray], list[list[int]]]:
    """Traces (program, mul chip, range table) and public inputs for products of ``pairs``.

    The multiplier holds each distinct pair once (with its count); ``mul_rows`` pads it to
    at least that many rows. Every value must be < 2^bits.
    """
    if not pairs:
        raise ValueError("need at least one pair")
    program = np.array([[1, a, b, (a * b) % F.P, 0] for a, b in pairs], dtype=np.uint64)
    program[0, 4] = 1  # the first product is the public result
    counts: dict[tuple[int, int], int] = {}
    for a, b in pairs:
        counts[(a, b)] = counts.get((a, b), 0) + 1
    mul = np.array([[m, a, b, (a * b) % F.P] for (a, b), m in counts.items()], dtype=np.uint64)
    if mul_rows is not None and mul_rows > mul.shape[0]:
        mul = np.concatenate([mul, np.zeros((mul_rows - mul.shape[0], 4), dtype=np.uint64)])
    table = np.zeros((1 << bits, 1), dtype=np.uint64)
    for a, b in pairs:
        table[a, 0] += 1
        table[b, 0] += 1
    return [program, mul, table], [[int(program[0, 3])], [], []]
