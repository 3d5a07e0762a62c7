"""A wide synthetic AIR for benchmarking: many degree-3/4 transitions plus a LogUp lookup.

Columns ``0 … width−3`` are a state updated every row by (indices mod k = width − 2)::

    even i:  s'_i = s_i^3 + s_{i+1}·s_{i+2} + c(r)          (degree 3)
    odd i:   s'_i = s_i^2·s_{i+1}^2 + s_{i+2} + i·c(r)       (degree 4)

with a round constant ``c(r)`` in a preprocessed column. Column ``width−2`` holds a byte
derived from the state that is looked up in a preprocessed byte table (LogUp), and column
``width−1`` is that table's multiplicity. Public inputs: the first state word at the first
and the last row.
"""

from __future__ import annotations

import numba
import numpy as np

from proofmarket.stark import field as F
from proofmarket.stark.air import Air, AirBuilder

_PU = np.uint64(F.P)


class BenchAir(Air):
    """Synthetic AIR of a given width (≥ 5)."""

    name = "bench"

    def __init__(self, width: int = 64) -> None:
        if width < 5:
            raise ValueError("bench AIR width must be at least 5")
        super().__init__(main_width=width, preprocessed_width=2, num_public_inputs=2)
        self.width = width

    def min_log_rows(self) -> int:
        return 8

    def params_tag(self) -> bytes:
        return self.width.to_bytes(4, "little")

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        n = 1 << log_n
        out = np.empty((n, 2), dtype=np.uint64)
        out[:, 0] = _round_constants(n)
        out[:, 1] = np.arange(n, dtype=np.uint64) % 256
        return out

    def define(self, b: AirBuilder) -> None:
        k = self.width - 2
        c = b.pre(0)
        s = [b.main(i) for i in range(k)]
        for i in range(k):
            nxt = b.main_next(i)
            a1, a2 = s[(i + 1) % k], s[(i + 2) % k]
            if i % 2 == 0:
                b.assert_transition(nxt - (s[i] ** 3 + a1 * a2 + c), name=f"s{i} (deg 3)")
            else:
                rhs = s[i] * s[i] * a1 * a1 + a2 + c * i
                b.assert_transition(nxt - rhs, name=f"s{i} (deg 4)")
        b.assert_first_row(s[0] - b.public(0), name="s0 first")
        b.assert_last_row(s[0] - b.public(1), name="s0 last")
        b.lookup([b.main(k)], name="byte lookup")
        b.provide([b.pre(1)], b.main(k + 1), name="byte table")


def _round_constants(n: int) -> np.ndarray:
    return ((np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B1)) + np.uint64(7)) % _PU


@numba.njit(cache=True)
def _run_state(state: np.ndarray, rc: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    n, k = out.shape
    cur = state.copy()
    nxt = np.empty_like(cur)
    for r in range(n):
        for i in range(k):
            out[r, i] = cur[i]
        c = rc[r]
        for i in range(k):
            si = cur[i]
            a1 = cur[(i + 1) % k]
            a2 = cur[(i + 2) % k]
            if i % 2 == 0:
                v = (si * si) % _PU
                v = (v * si) % _PU
                v = (v + (a1 * a2) % _PU + c) % _PU
            else:
                v = (si * si) % _PU
                w = (a1 * a1) % _PU
                v = (v * w) % _PU
                v = (v + a2 + (c * np.uint64(i)) % _PU) % _PU
            nxt[i] = v
        for i in range(k):
            cur[i] = nxt[i]


def bench_trace(width: int, log_n: int, seed: int = 1) -> tuple[np.ndarray, list[int]]:
    """A valid trace for :class:`BenchAir` and its public inputs."""
    n = 1 << log_n
    k = width - 2
    rng = np.random.default_rng(seed)
    trace = np.zeros((n, width), dtype=np.uint64)
    states = np.empty((n, k), dtype=np.uint64)
    _run_state(rng.integers(0, F.P, size=k, dtype=np.uint64), _round_constants(n), states)
    trace[:, :k] = states
    byte = states[:, 0] % np.uint64(256)
    trace[:, k] = byte
    counts = np.bincount(byte.astype(np.int64), minlength=256)
    trace[:256, k + 1] = counts.astype(np.uint64)
    return trace, [int(trace[0, 0]), int(trace[-1, 0])]


def bench_air(width: int = 64, log_rows: int = 16) -> tuple[BenchAir, np.ndarray, list[int]]:
    """The benchmark AIR with a valid trace of 2^log_rows rows and its public inputs."""
    trace, pub = bench_trace(width, log_rows)
    return BenchAir(width), trace, pub
