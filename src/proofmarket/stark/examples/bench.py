"""A wide synthetic AIR for benchmarking: many degree-3/4 transitions plus a LogUp lookup.

Columns ``0 … width−3`` are a state updated every row by (indices mod k = width − 2)::

    even i:  s'_i = s_i^3 + s_{i+1}·s_{i+2} + c(r)          (degree 3)
    odd i:   s'_i = s_i^2·s_{i+1}^2 + s_{i+2} + i·c(r)       (degree 4)

with a round constant ``c(r)`` in a preprocessed column. The next ``lookups`` columns
(default 1) hold bytes derived from the state, each looked up on ``bus`` (LogUp); the last
column is the multiplicity of the AIR's own preprocessed byte table, or unused (zero) with
``own_table=False``, when another table of a machine provides the bytes. So the state has
``k = width − lookups − 1`` columns. Public inputs: the first state word at the first and
the last row.
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

    def __init__(
        self, width: int = 64, lookups: int = 1, bus: int = 0, own_table: bool = True
    ) -> None:
        if lookups < 1 or width - lookups - 1 < 3:
            raise ValueError("bench AIR needs ≥ 1 lookup and ≥ 3 state columns")
        super().__init__(main_width=width, preprocessed_width=2, num_public_inputs=2)
        self.width, self.lookups, self.bus, self.own_table = width, lookups, bus, own_table

    def min_log_rows(self) -> int:
        return 8

    def params_tag(self) -> bytes:
        tag = self.width.to_bytes(4, "little")
        if (self.lookups, self.bus, self.own_table) != (1, 0, True):
            tag += bytes([self.lookups, self.bus, int(self.own_table)])
        return tag

    def preprocessed_trace(self, log_n: int) -> np.ndarray:
        n = 1 << log_n
        out = np.empty((n, 2), dtype=np.uint64)
        out[:, 0] = _round_constants(n)
        out[:, 1] = np.arange(n, dtype=np.uint64) % 256
        return out

    def define(self, b: AirBuilder) -> None:
        k = self.width - self.lookups - 1
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
        for j in range(self.lookups):
            b.lookup([b.main(k + j)], bus=self.bus, name=f"byte lookup {j}")
        if self.own_table:
            b.provide([b.pre(1)], b.main(self.width - 1), bus=self.bus, name="byte table")


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


def bench_trace(
    width: int,
    log_n: int,
    seed: int = 1,
    lookups: int = 1,
    own_table: bool = True,
    dtype: type = np.uint64,
) -> tuple[np.ndarray, list[int]]:
    """A valid trace for :class:`BenchAir` and its public inputs (``dtype=np.uint32``
    halves its memory). Without ``own_table`` the byte counts are
    :func:`bench_byte_counts` for the table that provides them."""
    n = 1 << log_n
    k = width - lookups - 1
    rng = np.random.default_rng(seed)
    trace: np.ndarray = np.zeros((n, width), dtype=dtype)
    states = np.empty((n, k), dtype=np.uint64)
    _run_state(rng.integers(0, F.P, size=k, dtype=np.uint64), _round_constants(n), states)
    trace[:, :k] = states
    del states
    for j in range(lookups):
        trace[:, k + j] = trace[:, j % k] % 256
    if own_table:
        counts = bench_byte_counts(trace, lookups)
        trace[:256, width - 1] = counts[:256]
    return trace, [int(trace[0, 0]), int(trace[-1, 0])]


def bench_byte_counts(trace: np.ndarray, lookups: int, size: int = 256) -> np.ndarray:
    """How often each value < ``size`` is looked up by a :class:`BenchAir` trace."""
    k = trace.shape[1] - lookups - 1
    counts = np.zeros(size, dtype=np.int64)
    for j in range(lookups):
        counts += np.bincount(trace[:, k + j].astype(np.int64), minlength=size)
    return counts.astype(np.uint64)


def bench_air(width: int = 64, log_rows: int = 16) -> tuple[BenchAir, np.ndarray, list[int]]:
    """The benchmark AIR with a valid trace of 2^log_rows rows and its public inputs."""
    trace, pub = bench_trace(width, log_rows)
    return BenchAir(width), trace, pub
