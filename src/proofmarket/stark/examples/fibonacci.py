"""Fibonacci AIR: two columns (x, y) with (x, y) → (y, x + y); public a, b and the result."""

from __future__ import annotations

import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder


class FibonacciAir(Air):
    """Row i holds (F_i, F_{i+1}) of the sequence starting a, b; the last y is public."""

    name = "fibonacci"

    def __init__(self) -> None:
        super().__init__(main_width=2, num_public_inputs=3)

    def define(self, b: AirBuilder) -> None:
        x, y = b.main(0), b.main(1)
        b.assert_first_row(x - b.public(0), name="x[0] = a")
        b.assert_first_row(y - b.public(1), name="y[0] = b")
        b.assert_transition(b.main_next(0) - y, name="x' = y")
        b.assert_transition(b.main_next(1) - (x + y), name="y' = x + y")
        b.assert_last_row(y - b.public(2), name="y[n-1] = result")


def fibonacci_trace(a: int, b: int, log_n: int) -> tuple[np.ndarray, list[int]]:
    """The trace for 2^log_n rows and its public inputs ``[a, b, result]``."""
    n = 1 << log_n
    trace = np.zeros((n, 2), dtype=np.uint64)
    x, y = a % F.P, b % F.P
    for i in range(n):
        trace[i] = (x, y)
        x, y = y, (x + y) % F.P
    return trace, [a % F.P, b % F.P, int(trace[-1, 1])]
